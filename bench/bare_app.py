"""Reference app 1: the bare server stack. Plain ASGI, reads the request body and returns a fixed
JSON reply: the ceiling of uvicorn + uvloop + httptools on this machine.

Run: python bench/bare_app.py [PORT]
"""

from __future__ import annotations

BODY = b'{"Response":{"TotalCount":0,"DiskSet":[],"RequestId":"00000000-0000-0000-0000-000000000000"}}'
START = {"type": "http.response.start", "status": 200,
         "headers": [(b"content-type", b"application/json"),
                     (b"content-length", str(len(BODY)).encode())]}
REPLY = {"type": "http.response.body", "body": BODY}


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body", False):
        pass
    await send(START)
    await send(REPLY)


if __name__ == "__main__":
    from _launch import port_arg, serve

    serve(app, name="bare", port=port_arg())
