"""Serve an ASGI app the way `cbslocal serve` does: uvicorn, uvloop + httptools, one worker,
log level warning, no access log, on an already-bound socket (port 0 picks a free one). Prints a
JSON "ready" line with the port on stderr, like cbslocal."""

from __future__ import annotations

import json
import socket
import sys


def serve(app, *, name: str, host: str = "127.0.0.1", port: int = 0) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    print(json.dumps({"event": "ready", "app": name, "port": sock.getsockname()[1]}),
          file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, loop="uvloop",
                            http="httptools", lifespan="off", server_header=False)
    uvicorn.Server(config).run(sockets=[sock])


def port_arg() -> int:
    return int(sys.argv[1]) if len(sys.argv) > 1 else 0
