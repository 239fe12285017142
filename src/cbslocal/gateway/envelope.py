"""The reply envelope: HTTP 200, `Content-Type: application/json` exactly (with a charset the
Python SDK silently ignores errors), `{"Response": {..., "RequestId"}}`."""

from __future__ import annotations

import orjson

JSON_HEADERS = [(b"content-type", b"application/json")]


def success_body(result: dict, request_id: str) -> bytes:
    result["RequestId"] = request_id
    return orjson.dumps({"Response": result})


def error_body(code: str, message: str, request_id: str) -> bytes:
    return orjson.dumps({"Response": {"Error": {"Code": code, "Message": message},
                                      "RequestId": request_id}})
