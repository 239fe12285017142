"""The Tencent Cloud API endpoint as an ASGI app: bytes in, envelope out.

Nothing a client sends can produce an HTTP 500 or a traceback: every failure below the API level
that is still a request (too large, malformed) is an error envelope; an unexpected exception is
logged and answered with InternalError.
"""

from __future__ import annotations

import asyncio

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cbslocal import ids
from cbslocal.api import errors
from cbslocal.api import messages as msg
from cbslocal.api.call import ApiCall
from cbslocal.api.errors import ApiError
from cbslocal.gateway import envelope
from cbslocal.gateway.request import MAX_TC3_BODY, KeyResolver, RawRequest, decode

log = logging.getLogger("cbslocal.gateway")


@dataclass(slots=True)
class CallRecord:
    """What the observers (request log, metrics, recent calls) learn of one call."""
    request_id: str
    service: str
    action: str
    account_id: str
    region: str
    code: str  # "" on success
    latency: float
    client: str
    at: float = 0.0  # wall-clock time the call arrived
    injected: bool = False  # the answer came from a fault rule


Handler = Callable[[ApiCall, str, str], Awaitable[dict]]


class ApiEndpoint:
    def __init__(self, *, resolve_key: KeyResolver, handle: Handler, wall: Callable[[], float],
                 max_skew: float, default_language: str,
                 observe: Callable[[CallRecord], None] = lambda record: None):
        self.resolve_key = resolve_key
        self.handle = handle
        self.wall = wall
        self.max_skew = max_skew
        self.default_language = default_language
        self.observe = observe

    async def __call__(self, scope, receive, send) -> None:
        started = time.perf_counter()
        arrived = self.wall()
        request_id = ids.request_id()
        # ASGI servers lower-case header names.
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        read = await _read_body(receive, MAX_TC3_BODY)
        if read is None:  # the client went away (or was cut off) before its body was complete
            return
        body, complete = read
        raw = RawRequest(method=scope["method"],
                         raw_query=scope["query_string"].decode("utf-8", "replace"),
                         headers=headers, body=body, client=_client(scope))
        language = _language(headers.get("x-tc-language"), self.default_language)
        call = None
        injected = False
        try:
            if not complete:
                raise msg.BODY_TOO_LARGE(limit=MAX_TC3_BODY)
            call = decode(raw, self.resolve_key, self.wall(), self.max_skew)
            language = _language(call.language, self.default_language)
            payload = envelope.success_body(await self.handle(call, request_id, language), request_id)
            code = ""
        except ApiError as failure:
            code, injected = failure.code, failure.injected
            payload = envelope.error_body(code, failure.message(language), request_id)
        except errors.CloseConnection:  # an injected fault: no answer at all
            self._record(call, headers, raw, request_id, "(connection closed)", started, arrived,
                         injected=True)
            await _drop_connection(receive)
            return
        except Exception:  # a bug of ours: log it, answer like the real service would
            log.exception("unexpected failure handling request %s", request_id)
            code = errors.INTERNAL_ERROR.code
            payload = envelope.error_body(code, errors.ApiError(errors.INTERNAL_ERROR)
                                          .message(language), request_id)
        response_headers = [*envelope.JSON_HEADERS,
                            (b"content-length", str(len(payload)).encode()),
                            (b"x-tc-requestid", request_id.encode())]
        trace_id = headers.get("x-tc-traceid")
        if trace_id and trace_id.isascii() and len(trace_id) <= 128:
            response_headers.append((b"x-tc-traceid", trace_id.encode()))
        if not complete:
            response_headers.append((b"connection", b"close"))
        # Recorded before the reply leaves: whoever sees the reply finds the call in the log.
        self._record(call, headers, raw, request_id, code, started, arrived, injected=injected)
        await send({"type": "http.response.start", "status": 200, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})


    def _record(self, call, headers: dict, raw: RawRequest, request_id: str, code: str,
                started: float, arrived: float, *, injected: bool = False) -> None:
        self.observe(CallRecord(
            request_id=request_id, service=call.service if call else "",
            action=(call.action or "") if call else headers.get("x-tc-action", ""),
            account_id=call.account_id if call else "", region=(call.region or "") if call else "",
            code=code, latency=time.perf_counter() - started, client=raw.client, at=arrived,
            injected=injected))


async def _drop_connection(receive) -> None:
    """Close the client's connection without a response. ASGI has no message for that; uvicorn's
    `receive` belongs to the request cycle that holds the transport."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("cannot close the connection under this server")
    transport.close()
    for _ in range(100):  # until the server has seen the connection go (no error to log)
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0)


async def _read_body(receive, limit: int) -> tuple[bytes, bool] | None:
    """The body, or (what was read, False) once it grows past `limit`: the rest is not read.
    None if the connection closed first: a truncated body is never taken for the whole."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _language(requested: str | None, default: str) -> str:
    return requested if requested in errors.LANGUAGES else default


def _client(scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else ""
