"""The operator's control plane under /_cbslocal/: plain JSON over HTTP, not Tencent's protocol.

Errors are 4xx with `{"error": "..."}` naming what was wrong.
"""

from __future__ import annotations

import re

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cbslocal import __version__
from cbslocal.api.dispatch import Runtime
from cbslocal.iam import accounts

PREFIX = "/_cbslocal"
MAX_BODY = 64 * 1024


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class ControlPlane:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.routes = [
            ("GET", re.compile(r"/health"), self.health),
            ("GET", re.compile(r"/metrics"), self.metrics),
            ("GET", re.compile(r"/accounts"), self.list_accounts),
            ("POST", re.compile(r"/accounts"), self.create_account),
            ("POST", re.compile(r"/accounts/(?P<account_id>[0-9]+)/keys"), self.create_key),
        ]

    async def __call__(self, scope, receive, send) -> None:
        path = scope["path"][len(PREFIX):].rstrip("/") or "/"
        try:
            body = await _read_json(receive)
            handler, params = self._route(scope["method"], path)
            result = handler(body, **params)
        except ControlError as failure:
            await _reply(send, failure.status, {"error": str(failure)})
            return
        if isinstance(result, tuple):  # (content type, raw bytes)
            await _reply_raw(send, 200, *result)
        else:
            await _reply(send, 200, result)

    def _route(self, method: str, path: str):
        allowed = False
        for verb, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match:
                if verb == method:
                    return handler, match.groupdict()
                allowed = True
        if allowed:
            raise ControlError(405, f"{method} is not allowed on {PREFIX}{path}")
        raise ControlError(404, f"no control endpoint {PREFIX}{path}")

    # --- endpoints ---------------------------------------------------------------------------
    def health(self, _body: dict) -> dict:
        with self.runtime.store.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    def metrics(self, _body: dict):
        return CONTENT_TYPE_LATEST, generate_latest()

    def list_accounts(self, _body: dict) -> dict:
        with self.runtime.store.read() as conn:
            return {"accounts": accounts.list_accounts(conn)}

    def create_account(self, body: dict) -> dict:
        _only_keys(body, {"name"})
        name = body.get("name", "")
        if not isinstance(name, str) or len(name) > 128:
            raise ControlError(400, "`name` must be a string of at most 128 characters")
        with self.runtime.store.write() as conn:
            return accounts.create_account(conn, self.runtime.clock.now(), name).as_json()

    def create_key(self, body: dict, account_id: str) -> dict:
        _only_keys(body, {"ttl"})
        ttl = body.get("ttl")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, (int, float))
                                or not 0 < ttl <= 366 * 86400):
            raise ControlError(400, "`ttl` must be a number of seconds between 0 and 31622400")
        with self.runtime.store.write() as conn:
            try:
                return accounts.create_key(conn, account_id, self.runtime.clock.now(), ttl).as_json()
            except LookupError:
                raise ControlError(404, f"account {account_id} does not exist") from None


def _only_keys(body: dict, allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ControlError(400, f"unknown key {unknown[0]!r}; allowed: {sorted(allowed)}")


async def _read_json(receive) -> dict:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ControlError(413, f"the body exceeds {MAX_BODY} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ControlError(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


async def _reply(send, status: int, body: dict) -> None:
    await _reply_raw(send, status, "application/json", orjson.dumps(body))


async def _reply_raw(send, status: int, content_type: str, payload: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type.encode()), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
