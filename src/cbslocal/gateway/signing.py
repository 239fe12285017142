"""TC3-HMAC-SHA256 and v1 (HmacSHA1 / HmacSHA256) signature verification, as protocol.md §4–§5
describe the official clients' real behaviour. Pure functions: no I/O, no knowledge of keys' owners.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from cbslocal.api import messages as msg
from cbslocal.api.errors import Refusal

TC3_ALGORITHM = "TC3-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_UNSIGNED_SHA256 = hashlib.sha256(UNSIGNED_PAYLOAD.encode()).hexdigest()


class MalformedAuthorization(Refusal):
    """The Authorization header does not have the TC3 shape."""


@dataclass(slots=True)  # (not frozen: a frozen init costs thrice as much, per request)
class Tc3Authorization:
    secret_id: str
    date: str
    service: str
    signed_headers: str
    signature: str


def parse_tc3_authorization(value: str) -> Tc3Authorization:
    """`TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=hex`,
    parsed leniently: items separated by commas with optional spaces, in any order.

    Linear in the length of the header, whatever it holds: no backtracking regex (one with lazy
    groups before ` *` took minutes on a million spaces, blocking every other client)."""
    value = value.strip()
    credential, signed_headers, signature = _sdk_order(value) or _items(value)
    scope = credential.split("/")
    if len(scope) < 4 or scope[-1] != "tc3_request" or not scope[0]:
        raise MalformedAuthorization(msg.AUTHORIZATION_CREDENTIAL)
    # The service is whatever the client signed (Node signs `127` or `localhost:PORT`).
    service = "/".join(scope[2:-1])
    headers = signed_headers.lower().split(";")
    if "content-type" not in headers or "host" not in headers:
        raise MalformedAuthorization(msg.AUTHORIZATION_SIGNED_HEADERS)
    return Tc3Authorization(scope[0], scope[1], service, signed_headers, signature.lower())


# Each value runs to the next comma ([^,]* cannot backtrack into a separator), so the match is
# linear in the header's length, whatever it holds.
_SDK_ORDER = re.compile(TC3_ALGORITHM + r" +Credential=([^,]*), *SignedHeaders=([^,]*), *"
                        r"Signature=([^,]*)")


def _sdk_order(value: str) -> tuple[str, str, str] | None:
    """The three values when the items come in the order every SDK writes them: one or more
    spaces after the algorithm, any spaces around the two commas. A value loses its trailing
    spaces and keeps its leading ones (what the former regex did). None for any other shape."""
    match = _SDK_ORDER.fullmatch(value)
    if match is None:
        return None
    credential, signed_headers, signature = match.groups()
    return credential.rstrip(" "), signed_headers.rstrip(" "), signature.rstrip(" ")


def _items(value: str) -> tuple[str, str, str]:
    """Items in any order, each stripped of surrounding whitespace; the last of a repeated one."""
    algorithm, _, rest = value.partition(" ")
    if algorithm != TC3_ALGORITHM or not rest:
        raise MalformedAuthorization(msg.AUTHORIZATION_ALGORITHM)
    items: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            raise MalformedAuthorization(msg.AUTHORIZATION_ITEM, item=part.strip())
        items[key] = item.strip()
    try:
        return items["Credential"], items["SignedHeaders"], items["Signature"]
    except KeyError as missing:
        raise MalformedAuthorization(msg.AUTHORIZATION_MISSING_ITEM,
                                     item=missing.args[0]) from None


def utc_date(timestamp: int) -> str:
    return _utc_day(timestamp // 86400)


@lru_cache(maxsize=64)
def _utc_day(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, timezone.utc).strftime("%Y-%m-%d")


@lru_cache(maxsize=4096)
def tc3_signing_key(secret_key: str, date: str, service: str) -> bytes:
    k_date = _hmac(("TC3" + secret_key).encode(), date)
    k_service = _hmac(k_date, service)
    return _hmac(k_service, "tc3_request")


def _hmac(key: bytes, msg: str) -> bytes:
    # hmac.digest: OpenSSL's one-shot HMAC, without building a Python HMAC object per call.
    return hmac.digest(key, msg.encode(), "sha256")


def payload_hash(method: str, body: bytes, unsigned_payload: bool) -> str:
    if unsigned_payload:
        return _UNSIGNED_SHA256
    if method == "GET" and not body:
        return _EMPTY_SHA256
    return hashlib.sha256(body).hexdigest()


def host_candidates(host: str) -> list[str]:
    """The Host header verbatim (Python, tccli, Go), then without the port (Node)."""
    candidates = [host]
    head, sep, port = host.rpartition(":")
    if sep and port.isdigit() and head:
        candidates.append(head)
    return candidates


def tc3_signature(secret_key: str, auth: Tc3Authorization, *, method: str, raw_query: str,
                  header_values: list[str], hashed_payload: str, timestamp: str) -> str:
    """The signature the client must have computed, given the values of the signed headers (in
    the order of SignedHeaders) as this candidate reading of them."""
    names = auth.signed_headers.split(";")
    canonical_headers = "".join(f"{n.lower()}:{v}\n" for n, v in zip(names, header_values))
    canonical_request = "\n".join((
        method, "/", raw_query if method == "GET" else "", canonical_headers,
        auth.signed_headers, hashed_payload))
    string_to_sign = "\n".join((
        TC3_ALGORITHM, timestamp, f"{auth.date}/{auth.service}/tc3_request",
        hashlib.sha256(canonical_request.encode()).hexdigest()))
    return _hmac(tc3_signing_key(secret_key, auth.date, auth.service), string_to_sign).hex()


def verify_tc3(secret_key: str, auth: Tc3Authorization, *, method: str, raw_query: str,
               headers: dict[str, str], body: bytes, timestamp: str) -> bool:
    """True if any reading of the headers that a real client could have signed matches."""
    unsigned = headers.get("x-tc-content-sha256", "").strip() == UNSIGNED_PAYLOAD
    hashed = payload_hash(method, body, unsigned)
    names = [n.lower() for n in auth.signed_headers.split(";")]
    for reading in _header_readings(names, headers):
        expected = tc3_signature(secret_key, auth, method=method, raw_query=raw_query,
                                 header_values=reading, hashed_payload=hashed, timestamp=timestamp)
        if same_signature(expected, auth.signature):
            return True
    return False


def same_signature(expected: str, given: str) -> bool:
    """A constant-time comparison. A signature holding non-ASCII characters (a header's latin-1
    bytes, a percent-encoded v1 parameter) simply does not match: compare_digest raises on them."""
    return given.isascii() and hmac.compare_digest(expected, given)


def _header_readings(names: list[str], headers: dict[str, str]):
    verbatim = [headers.get(n, "").strip() for n in names]
    yield verbatim  # what the Python SDK, tccli and Go sign
    host_index = names.index("host")
    seen = {tuple(verbatim)}
    for host in host_candidates(verbatim[host_index]):
        values = list(verbatim)
        values[host_index] = host
        # Node signs the host without its port; the docs say values are lower-cased.
        for reading in (values, [v.lower() for v in values]):
            key = tuple(reading)
            if key not in seen:
                seen.add(key)
                yield reading


# --- v1 ----------------------------------------------------------------------------------------
V1_METHODS = {"HmacSHA1": hashlib.sha1, "HmacSHA256": hashlib.sha256}


def v1_string_to_sign(method: str, host: str, params: dict[str, str], *, skip_empty: bool) -> str:
    pairs = sorted((k.replace("_", "."), v) for k, v in params.items()
                   if k != "Signature" and not (skip_empty and v == ""))
    return f"{method}{host}/?" + "&".join(f"{k}={v}" for k, v in pairs)


def v1_signature(secret_key: str, string_to_sign: str, signature_method: str) -> str:
    digest = hmac.new(secret_key.encode(), string_to_sign.encode(),
                      V1_METHODS[signature_method]).digest()
    return base64.b64encode(digest).decode()


def verify_v1(secret_key: str, *, method: str, host: str, params: dict[str, str],
              signature: str, signature_method: str) -> bool:
    """Python and Node sign empty values as `k=`; Go skips them: try both when any is empty."""
    variants = [False, True] if any(v == "" for v in params.values()) else [False]
    for candidate_host in host_candidates(host):
        for skip_empty in variants:
            text = v1_string_to_sign(method, candidate_host, params, skip_empty=skip_empty)
            if same_signature(v1_signature(secret_key, text, signature_method), signature):
                return True
    return False
