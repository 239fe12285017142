"""Client side of the benchmark: TC3-HMAC-SHA256 signing (protocol.md §4) and a tiny keep-alive
client. Standard library only, so the signer is independent of the server's own code.

`python bench/tc3.py` checks the signer against the test vector of protocol.md §4.6.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from datetime import datetime, timezone

ALGORITHM = "TC3-HMAC-SHA256"
VERSION = "2017-03-12"
SERVICE = "cbs"
CONTENT_TYPE = "application/json"

DEFAULT_SECRET_ID = "AKIDcbslocalDefault00000000000000000"
DEFAULT_SECRET_KEY = "cbslocalDefaultSecretKey00000000"
DEFAULT_REGION = "ap-guangzhou"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signature(secret_key: str, *, host: str, body: bytes, timestamp: int,
              service: str = SERVICE, content_type: str = CONTENT_TYPE) -> tuple[str, str]:
    """(date, signature) of a POST / with SignedHeaders=content-type;host."""
    date = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
    canonical = "\n".join(("POST", "/", "", f"content-type:{content_type}\nhost:{host}\n",
                           "content-type;host", hashlib.sha256(body).hexdigest()))
    to_sign = "\n".join((ALGORITHM, str(timestamp), f"{date}/{service}/tc3_request",
                         hashlib.sha256(canonical.encode()).hexdigest()))
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return date, hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def signed_headers(action: str, body: bytes, *, host: str, timestamp: int | None = None,
                   secret_id: str = DEFAULT_SECRET_ID, secret_key: str = DEFAULT_SECRET_KEY,
                   region: str = DEFAULT_REGION, service: str = SERVICE) -> dict[str, str]:
    """The headers of a signed TC3 POST, as the official SDKs send them (minus the trace id)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    date, sig = signature(secret_key, host=host, body=body, timestamp=timestamp, service=service)
    return {
        "Content-Type": CONTENT_TYPE,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": VERSION,
        "X-TC-Region": region,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Language": "en-US",
        "X-TC-RequestClient": "cbslocal-bench",
        "Authorization": (f"{ALGORITHM} Credential={secret_id}/{date}/{service}/tc3_request, "
                          f"SignedHeaders=content-type;host, Signature={sig}"),
    }


def encode(params: dict) -> bytes:
    return json.dumps(params, separators=(",", ":")).encode()


class ApiFailure(RuntimeError):
    pass


class Client:
    """One keep-alive connection; every call is freshly signed."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 60.0):
        self.host_header = f"{host}:{port}"
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def raw(self, action: str, body: bytes, headers: dict[str, str] | None = None,
            service: str = SERVICE) -> tuple[int, dict]:
        headers = headers or signed_headers(action, body, host=self.host_header, service=service)
        self.conn.request("POST", "/", body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, json.loads(data)

    def call(self, action: str, params: dict, service: str = SERVICE) -> dict:
        status, payload = self.raw(action, encode(params), service=service)
        answer = payload.get("Response", {})
        if status != 200 or "Error" in answer:
            raise ApiFailure(f"{action} -> HTTP {status}: {answer.get('Error', payload)}")
        return answer

    def close(self) -> None:
        self.conn.close()


def _self_test() -> None:
    """protocol.md §4.6 (request R1)."""
    body = (b'{"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}, {"Name": "disk-usage", '
            b'"Values": ["DATA_DISK"]}], "Limit": 20, "Offset": 0, "ReturnBindAutoSnapshotPolicy": '
            b'true, "DiskIds": ["disk-abc12345", "disk-def67890"]}')
    assert len(body) == 221, len(body)
    date, sig = signature("protoCheckSecretKey0000000000000000", host="127.0.0.1:18080",
                          body=body, timestamp=1795835105)
    assert date == "2026-11-28", date
    assert sig == "e13dec538df14823eece747126e03c5378d6b6c0df35c7e54b1c655fe3b980da", sig


if __name__ == "__main__":
    _self_test()
    print("tc3 signer matches protocol.md §4.6")
