"""The control plane's client: one HTTP call to /_cbslocal/…, the admin token sent, no proxy
(loopback traffic must not go to one). `cbslocal admin` and the testing package both use it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

TIMEOUT = 600.0  # a state import or a long clock advance takes minutes


class ControlFailed(RuntimeError):
    """The control plane refused a request (its message says why)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class ControlUnreachable(RuntimeError):
    """Nothing answered at the endpoint."""


def call(url: str, token: str | None, method: str, path: str, body: dict | None = None) -> dict:
    """The JSON answer of `method /_cbslocal{path}` at `url` (http://host:port)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{url}/_cbslocal{path}", data=data, method=method,
                                     headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as failure:
        raise ControlFailed(failure.code, _error_of(failure)) from None
    except urllib.error.URLError as failure:
        raise ControlUnreachable(f"cannot reach cbslocal at {url}: {failure.reason}") from None


def _error_of(failure: urllib.error.HTTPError) -> str:
    text = failure.read().decode("utf-8", "replace")
    try:
        answer = json.loads(text)
    except ValueError:
        return text or str(failure.reason)
    return answer.get("error", text) if isinstance(answer, dict) else text
