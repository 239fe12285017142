"""Assembles cbslocal: the store, the clock, the Tencent endpoint at `/`, the control plane under
`/_cbslocal/`, and the engine loop that applies due transitions in the background."""

from __future__ import annotations

import asyncio
import gc
import logging

from cbslocal.api.dispatch import Runtime, dispatch
from cbslocal.api.services import build_registry
from cbslocal.config import Settings
from cbslocal.control.http import PREFIX, ControlPlane
from cbslocal.engine import transitions
from cbslocal.engine.clock import Clock
from cbslocal.gateway.http import ApiEndpoint
from cbslocal.iam import accounts
from cbslocal.observe import RecentCalls, make_observer
from cbslocal.store.db import Store, sqlite_url

log = logging.getLogger("cbslocal.app")


def build_runtime(settings: Settings) -> Runtime:
    """Open (creating or migrating) the store and load the clock: ready to serve."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.database_url or sqlite_url(settings.data_dir))
    store.lock_data_dir()
    store.migrate()
    clock = Clock()
    with store.write() as conn:
        saved = transitions.load_clock(conn)
        if saved is None:
            transitions.save_clock(conn, clock.state)
        else:
            clock.state = saved
        accounts.ensure_default_account(conn, clock.now())
    return Runtime(store=store, clock=clock, settings=settings, registry=build_registry())


class App:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        settings = runtime.settings
        self.recent = RecentCalls()
        observe = make_observer(settings.log_requests, self.recent)

        self.api = ApiEndpoint(
            resolve_key=lambda secret_id: accounts.find_key(runtime.store, secret_id),
            handle=lambda call, request_id, language: dispatch(call, runtime, request_id, language),
            wall=runtime.clock.wall, max_skew=settings.signature_max_skew,
            default_language=settings.default_language,
            observe=observe)
        self.control = ControlPlane(runtime, self.recent)
        self._engine_task: asyncio.Task | None = None

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"].startswith(PREFIX + "/") or scope["path"] == PREFIX:
                await self.control(scope, receive, send)
            else:
                await self.api(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.runtime.store.pin_connection()
                # Everything built so far lives as long as the server: keep the cyclic garbage
                # collector from walking it again and again under load.
                gc.freeze()
                self._engine_task = asyncio.create_task(self._engine_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._engine_task:
                    self._engine_task.cancel()
                self.runtime.store.dispose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _engine_loop(self) -> None:
        """Apply due transitions even when nobody asks, so "later" happens on time."""
        interval = self.runtime.settings.engine_interval
        while True:
            await asyncio.sleep(interval)
            try:
                if not self.runtime.store.is_sqlite:  # another process may have changed them
                    self.runtime.reload_clock()
                    self.runtime.faults.reload()
                now = self.runtime.clock.now()
                with self.runtime.store.read() as conn:
                    due = transitions.may_be_due(conn, now)
                if due:
                    self.runtime.settle(now)
            except Exception:
                log.exception("engine loop iteration failed")


def make_server(settings: Settings, *, log_level: str = "warning"):
    """The uvicorn server of cbslocal (uvloop, httptools) and its listening socket, bound before
    anything is served: a client may connect as soon as this returns, and is queued. Signal
    handlers are installed only when run in the main thread."""
    import socket

    import uvicorn

    runtime = build_runtime(settings)
    host = settings.host
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, settings.port))
    sock.listen(2048)
    from cbslocal.gateway.protocol import protocol_from_environment, raise_open_file_limit

    raise_open_file_limit()  # every connection holds a file descriptor
    # httptools with limits on the head's size and on slow clients (gateway/protocol.py). No
    # WebSocket: the API has none, and no upgrade may hand a connection to an unlimited protocol.
    config = uvicorn.Config(App(runtime), log_level=log_level, access_log=False, loop="uvloop",
                            http=protocol_from_environment(), ws="none", lifespan="on",
                            server_header=False)
    return uvicorn.Server(config), sock
