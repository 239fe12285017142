"""An independent, test-side signer for raw Tencent Cloud API 3.0 requests (protocol.md §4–§6).

It shares no code with `cbslocal.gateway`: it is written from protocol.md alone, so that a bug in
the server's verifier cannot hide behind the same bug here. It builds requests the official clients
would send — and lets a test deviate from them anywhere (a garbled body, a raw query string, an odd
Content-Type, a wrong scope) while still signing correctly, so that the request gets past
authentication and exercises what lies behind it.

API (everything returns a `Signed`, i.e. `(method, path, headers, body)`):

- `tc3(secret_id, secret_key, host=..., action=..., ...)` — TC3-HMAC-SHA256: POST JSON (from
  `params` or raw `body` bytes), POST multipart (`multipart=True`), GET with a query built from
  `params` or given verbatim as `raw_query`, `unsigned_payload=True`, any Content-Type.
- `v1(secret_id, secret_key, host=..., action=..., method="GET"|"POST", sign_method=...)` —
  signature v1 (HmacSHA1 / HmacSHA256), everything in the query (GET) or a form body (POST).
- building blocks: `json_body`, `flatten`, `urlencode`, `multipart_body`, and the pure signature
  functions `tc3_canonical_request`, `tc3_string_to_sign`, `tc3_signature`, `v1_string_to_sign`,
  `v1_signature`.
- `send(base_url, signed)` — send it byte-exactly with http.client (one keep-alive connection per
  base URL and thread), returning a `Reply`.

`Signed` is ready for `requests` too: `requests.request(s.method, base_url + s.path,
headers=s.headers, data=s.body)`. Beware that `requests`/urllib3 re-quote the URL: a raw query that
is not canonically percent-encoded (lower-case `%2f`, a bare `%`, `%41` for `A`) is rewritten and no
longer matches its TC3 signature. Use `send()` for such queries; queries built by this module are
canonical and safe with either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import quote_plus, urlsplit

TC3_ALGORITHM = "TC3-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
CBS_VERSION = "2017-03-12"
PY_SDK_CLIENT = "SDK_PYTHON_3.1.175"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Omit a common header/parameter by passing OMIT (None means "use the default" for some of them).
OMIT = object()


class Signed(NamedTuple):
    method: str
    path: str  # "/" or "/?<raw query>"
    headers: dict[str, str]
    body: bytes


class Reply(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


# --- serialisation, as the Python SDK does it (protocol.md §6, §7) ------------------------------
def json_body(params: Any) -> bytes:
    """`json.dumps` with the Python SDK's defaults (`", "`/`": "` separators, ASCII escapes)."""
    return json.dumps(params).encode()


def flatten(params: dict, prefix: str = "") -> list[tuple[str, str]]:
    """`{"A": [{"B": 1}], "C": True}` → `[("A.0.B", "1"), ("C", "True")]`, insertion order, as the
    Python SDK's `_format_params` does (booleans as `True`/`False`, `None` dropped)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}{key}"
        if value is None:
            continue
        if isinstance(value, dict):
            pairs += flatten(value, name + ".")
        elif isinstance(value, (list, tuple)):
            pairs += flatten({str(i): v for i, v in enumerate(value)}, name + ".")
        else:
            pairs.append((name, str(value)))
    return pairs


def urlencode(pairs: list[tuple[str, str]]) -> str:
    """Python-SDK style: `urllib.parse.urlencode` (space → `+`), order kept."""
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in pairs)


def multipart_body(fields: dict[str, Any], boundary: str | None = None) -> tuple[bytes, str]:
    """(body, Content-Type) as the Python SDK's multipart: one part per field; dicts and lists as
    JSON parts with `Content-Type: application/json`; bytes verbatim; anything else as str."""
    boundary = boundary or uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n".encode()
        if isinstance(value, (dict, list)):
            out += b"Content-Type: application/json\r\n\r\n" + json.dumps(value).encode()
        else:
            out += b"\r\n" + (value if isinstance(value, bytes) else str(value).encode())
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


# --- TC3-HMAC-SHA256 (protocol.md §4) ----------------------------------------------------------
def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def utc_date(timestamp: int | str) -> str:
    return datetime.fromtimestamp(int(timestamp), timezone.utc).strftime("%Y-%m-%d")


def tc3_canonical_request(*, method: str, raw_query: str, signed_headers: list[tuple[str, str]],
                          payload_hash: str) -> str:
    """`signed_headers`: (name, value) in SignedHeaders order, values exactly as signed."""
    canonical_headers = "".join(f"{n.lower()}:{v.strip()}\n" for n, v in signed_headers)
    names = ";".join(n.lower() for n, _ in signed_headers)
    return "\n".join((method, "/", raw_query, canonical_headers, names, payload_hash))


def tc3_string_to_sign(*, timestamp: int | str, date: str, service: str,
                       canonical_request: str) -> str:
    return "\n".join((TC3_ALGORITHM, str(timestamp), f"{date}/{service}/tc3_request",
                      sha256_hex(canonical_request)))


def tc3_signature(secret_key: str, *, date: str, service: str, string_to_sign: str) -> str:
    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    key = mac(mac(mac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def tc3(secret_id: str, secret_key: str, *, host: str, action: Any = None,
        params: dict | None = None, body: bytes | None = None, method: str = "POST",
        raw_query: str | None = None, multipart: bool = False, boundary: str | None = None,
        content_type: Any = None, region: Any = "ap-guangzhou", version: Any = CBS_VERSION,
        timestamp: Any = None, service: str = "cbs", date: str | None = None,
        signed_host: str | None = None, unsigned_payload: bool = False, token: str | None = None,
        language: str | None = None, extra_headers: dict[str, str] | None = None,
        signed_header_names: tuple[str, ...] = ("content-type", "host"),
        sign_method: str | None = None) -> Signed:
    """A TC3-signed request.

    - Body (POST): `body` verbatim if given; else `multipart_body(params)` if `multipart`; else
      `json_body(params or {})`. GET sends no body; its query is `raw_query` verbatim if given,
      else `urlencode(flatten(params or {}))`. `sign_method` overrides the HTTP method that is
      signed (to sign e.g. PUT requests; defaults to `method`).
    - Content-Type: `content_type` if given (sent and signed as is; `OMIT`: none), else the
      client default for the shape: application/json, multipart/form-data; boundary=…, or
      x-www-form-urlencoded.
    - `action`, `region`, `version`, `timestamp`: the X-TC-* headers; pass `OMIT` to leave one
      out. `timestamp` defaults to now; `date` (the credential-scope date) defaults to its UTC
      date (today's if the timestamp is not a plausible one).
    - `signed_host` is the host put in the canonical headers (Node signs it without the port);
      default `host`. `extra_headers` are added before signing; list one in
      `signed_header_names` to sign it.
    """
    timestamp = int(time.time()) if timestamp is None else timestamp
    ts_text = "" if timestamp is OMIT else str(timestamp)
    if method == "GET" and body is None:
        query = raw_query if raw_query is not None else urlencode(flatten(params or {}))
        payload = b""
        default_type = FORM
    else:
        query = raw_query or ""
        if body is not None:
            payload, default_type = body, JSON
        elif multipart:
            payload, default_type = multipart_body(params or {}, boundary)
        else:
            payload, default_type = json_body(params or {}), JSON
    headers: dict[str, str] = {"Host": host}
    if content_type is None:
        headers["Content-Type"] = default_type
    elif content_type is not OMIT:
        headers["Content-Type"] = content_type
    for name, value in (("X-TC-Action", action), ("X-TC-Timestamp", timestamp),
                        ("X-TC-Version", version), ("X-TC-Region", region),
                        ("X-TC-Language", language), ("X-TC-Token", token)):
        if value is not None and value is not OMIT:
            headers[name] = str(value)
    headers["X-TC-RequestClient"] = PY_SDK_CLIENT
    if unsigned_payload:
        headers["X-TC-Content-SHA256"] = UNSIGNED_PAYLOAD
    headers.update(extra_headers or {})
    lower = {k.lower(): v for k, v in headers.items()}
    lower["host"] = signed_host if signed_host is not None else host
    signed = [(n, lower.get(n.lower(), "")) for n in signed_header_names]
    signing_method = sign_method or method
    if unsigned_payload:
        payload_hash = sha256_hex(UNSIGNED_PAYLOAD)
    else:
        payload_hash = sha256_hex(payload)
    canonical = tc3_canonical_request(method=signing_method,
                                      raw_query=query if signing_method == "GET" else "",
                                      signed_headers=signed, payload_hash=payload_hash)
    if date is None:
        valid = ts_text.isascii() and ts_text.isdigit() and len(ts_text) <= 12
        date = utc_date(ts_text if valid else int(time.time()))
    sts = tc3_string_to_sign(timestamp=ts_text, date=date, service=service,
                             canonical_request=canonical)
    signature = tc3_signature(secret_key, date=date, service=service, string_to_sign=sts)
    headers["Authorization"] = (
        f"{TC3_ALGORITHM} Credential={secret_id}/{date}/{service}/tc3_request, "
        f"SignedHeaders={';'.join(n.lower() for n in signed_header_names)}, Signature={signature}")
    return Signed(method, "/?" + query if query else "/", headers, payload)


# --- signature v1 (protocol.md §5) -------------------------------------------------------------
V1_DIGESTS = {"HmacSHA1": hashlib.sha1, "HmacSHA256": hashlib.sha256}


def v1_string_to_sign(method: str, host: str, params: dict[str, str]) -> str:
    """`METHOD host /? k=v&…` over every parameter but Signature, sorted by key, values decoded;
    `_` in a key becomes `.` (as the Python SDK does)."""
    pairs = sorted((k.replace("_", "."), str(v)) for k, v in params.items() if k != "Signature")
    return f"{method}{host}/?" + "&".join(f"{k}={v}" for k, v in pairs)


def v1_signature(secret_key: str, string_to_sign: str, sign_method: str = "HmacSHA256") -> str:
    digest = hmac.new(secret_key.encode(), string_to_sign.encode(), V1_DIGESTS[sign_method])
    return base64.b64encode(digest.digest()).decode()


def v1(secret_id: str, secret_key: str, *, host: str, action: Any = None,
       params: dict | None = None, pairs: list[tuple[str, str]] | None = None,
       method: str = "GET", sign_method: Any = "HmacSHA256", region: Any = "ap-guangzhou",
       version: Any = CBS_VERSION, timestamp: Any = None, nonce: Any = None,
       token: str | None = None, language: str | None = None, content_type: Any = None,
       signed_host: str | None = None, digest_method: str | None = None) -> Signed:
    """A v1-signed request: business parameters (`flatten(params)`, or raw `pairs`) followed by
    the common ones in the Python SDK's order, then Signature; in the query (GET) or an
    x-www-form-urlencoded body (POST). Pass `OMIT` to leave out a common parameter (omitting
    SignatureMethod signs with HmacSHA1, as the docs define). `content_type`: default form for
    both methods, `OMIT` for none (Node's GET). `digest_method` forces the HMAC used (to sign with
    a method other than the one announced)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = 2614390577465035474 if nonce is None else nonce
    business = list(pairs) if pairs is not None else flatten(params or {})
    common = [("Action", action), ("RequestClient", PY_SDK_CLIENT), ("Nonce", nonce),
              ("Timestamp", timestamp), ("Version", version), ("Region", region),
              ("SecretId", secret_id), ("SignatureMethod", sign_method), ("Language", language),
              ("Token", token)]
    all_pairs = business + [(k, str(v)) for k, v in common if v is not None and v is not OMIT]
    digest = digest_method or (sign_method if sign_method in V1_DIGESTS else "HmacSHA1")
    sts = v1_string_to_sign(method, signed_host or host, dict(all_pairs))
    all_pairs.append(("Signature", v1_signature(secret_key, sts, digest)))
    encoded = urlencode(all_pairs)
    headers = {"Host": host}
    if content_type is None:
        headers["Content-Type"] = FORM
    elif content_type is not OMIT:
        headers["Content-Type"] = content_type
    if method == "GET":
        return Signed(method, "/?" + encoded, headers, b"")
    return Signed(method, "/", headers, encoded.encode())


# --- sending -----------------------------------------------------------------------------------
_local = threading.local()


def send(base_url: str, signed: Signed, *, timeout: float = 30.0) -> Reply:
    """Send `signed` byte-exactly (no URL re-quoting, no added headers but Content-Length for a
    body) on a keep-alive connection to `base_url` (`http://host:port`); reconnects once if the
    server had closed the connection."""
    parts = urlsplit(base_url)
    key = (parts.hostname, parts.port)
    pool = _local.__dict__.setdefault("connections", {})
    for attempt in (0, 1):
        conn = pool.get(key)
        if conn is None:
            conn = pool[key] = http.client.HTTPConnection(parts.hostname, parts.port,
                                                         timeout=timeout)
        try:
            conn.putrequest(signed.method, signed.path, skip_host=True,
                            skip_accept_encoding=True)
            for name, value in signed.headers.items():
                conn.putheader(name, value)
            if signed.body or signed.method not in ("GET", "HEAD"):
                conn.putheader("Content-Length", str(len(signed.body)))
            conn.endheaders(signed.body or None)
            response = conn.getresponse()
            body = response.read()
            if response.will_close:
                conn.close()
                pool.pop(key, None)
            return Reply(response.status, response.headers, body)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            pool.pop(key, None)
            if attempt:
                raise
    raise AssertionError("unreachable")


def close_connections() -> None:
    for conn in _local.__dict__.pop("connections", {}).values():
        conn.close()
