"""Decoding the request shapes of protocol.md §2 into one ApiCall, signature verified.

The order of checks follows protocol.md §9: method and Content-Type, Authorization format,
SecretId, timestamp, signature; then the common parameters. What an action means is not known
here: that is the dispatcher's business.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

import orjson

from cbslocal.api import errors
from cbslocal.api import messages as msg
from cbslocal.api.call import ApiCall
from cbslocal.api.errors import ApiError, Refusal
from cbslocal.gateway import signing
from cbslocal.gateway.flatten import FlattenError, unflatten
from cbslocal.iam.model import KeyRecord

# protocol.md §2: GET ≤ 32 KB; POST with v1 ≤ 1 MB; POST with v3 ≤ 10 MB.
MAX_GET_QUERY = 32 * 1024
MAX_V1_BODY = 1024 * 1024
MAX_TC3_BODY = 10 * 1024 * 1024

V1_COMMON = ("Action", "Version", "Region", "Timestamp", "Nonce", "SecretId", "Signature",
             "SignatureMethod", "Token", "Language", "RequestClient")
_SECRET_ID = re.compile(r"AKID[0-9A-Za-z]{32,124}")


@dataclass(slots=True)  # (not frozen: a frozen init costs thrice as much, per request)
class RawRequest:
    method: str
    raw_query: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    client: str = ""


KeyResolver = Callable[[str], "KeyRecord | None"]


def decode(raw: RawRequest, resolve_key: KeyResolver, wall_now: float,
           max_skew: float) -> ApiCall:
    if raw.method not in ("GET", "POST"):
        raise msg.METHOD_NOT_ALLOWED(method=raw.method)
    if raw.method == "GET" and len(raw.raw_query) > MAX_GET_QUERY:
        raise msg.QUERY_TOO_LARGE(limit=MAX_GET_QUERY)
    authorization = raw.headers.get("authorization", "")
    if authorization.lstrip().startswith(signing.TC3_ALGORITHM):
        return _decode_tc3(raw, authorization, resolve_key, wall_now, max_skew)
    if authorization.strip().upper() == "SKIP":
        raise msg.ANONYMOUS_CALL()
    if authorization:
        raise msg.AUTHORIZATION_NOT_TC3()
    return _decode_v1(raw, resolve_key, wall_now, max_skew)


# --- TC3 ---------------------------------------------------------------------------------------
def _decode_tc3(raw: RawRequest, authorization: str, resolve_key: KeyResolver,
                wall_now: float, max_skew: float) -> ApiCall:
    content_type = raw.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if raw.method == "POST":
        if len(raw.body) > MAX_TC3_BODY:
            raise msg.BODY_TOO_LARGE(limit=MAX_TC3_BODY)
        if media_type not in ("application/json", "multipart/form-data"):
            raise msg.CONTENT_TYPE_UNSUPPORTED(content_type=content_type)
    try:
        auth = signing.parse_tc3_authorization(authorization)
    except signing.MalformedAuthorization as bad:
        raise bad.api_error() from None
    headers = raw.headers
    key = _resolve(auth.secret_id, resolve_key)
    timestamp = _check_timestamp(headers.get("x-tc-timestamp"), "X-TC-Timestamp", wall_now, max_skew)
    if auth.date != signing.utc_date(int(timestamp)):
        raise msg.SCOPE_DATE_MISMATCH()
    if not signing.verify_tc3(key.secret_key, auth, method=raw.method, raw_query=raw.raw_query,
                              headers=headers, body=raw.body, timestamp=timestamp):
        raise ApiError(errors.AUTH_FAILURE_SIGNATURE_FAILURE)
    _check_token(key, headers.get("x-tc-token"), wall_now)
    if raw.method == "GET":
        params = _flattened(parse_qsl(raw.raw_query, keep_blank_values=True))
    elif media_type == "multipart/form-data":
        params = _multipart(raw.body, content_type)
    else:
        params = _json_object(raw.body)
    return ApiCall(
        scope_service=auth.service, version=headers.get("x-tc-version"),
        action=headers.get("x-tc-action"), region=headers.get("x-tc-region") or None,
        params=params, secret_id=key.secret_id, account_id=key.account_id,
        language=headers.get("x-tc-language"), signature_method=signing.TC3_ALGORITHM)


def _json_object(body: bytes) -> dict:
    if not body.strip(b" \t\r\n"):  # JSON's own whitespace, nothing else
        return {}
    try:
        params = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise msg.BODY_NOT_JSON() from None
    if not isinstance(params, dict):
        raise msg.BODY_NOT_OBJECT()
    return params


def _multipart(body: bytes, content_type: str) -> dict:
    from cbslocal.gateway.multipart import parse_multipart

    try:
        fields = parse_multipart(body, content_type)
    except Refusal as bad:
        raise bad.api_error() from None
    params: dict = {}
    for name, value, part_type in fields:
        if name in params:
            raise msg.PART_REPEATED(name=name)
        if part_type.startswith("application/json"):
            try:
                params[name] = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise msg.PART_NOT_JSON(name=name) from None
        else:
            try:
                params[name] = value.decode()
            except UnicodeDecodeError:
                raise msg.PART_NOT_UTF8(name=name) from None
    return params


# --- v1 ----------------------------------------------------------------------------------------
def _decode_v1(raw: RawRequest, resolve_key: KeyResolver, wall_now: float,
               max_skew: float) -> ApiCall:
    if raw.method == "POST":
        if len(raw.body) > MAX_V1_BODY:
            raise msg.BODY_TOO_LARGE(limit=MAX_V1_BODY)
        media_type = raw.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/x-www-form-urlencoded":
            raise msg.V1_NOT_FORM()
        try:
            encoded = raw.body.decode()
        except UnicodeDecodeError:
            raise msg.BODY_NOT_UTF8() from None
    else:
        encoded = raw.raw_query
    pairs = parse_qsl(encoded, keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs):
        raise msg.PARAMETER_GIVEN_TWICE()
    if "Signature" not in params:
        raise msg.UNSIGNED()
    for required in ("SecretId", "Timestamp", "Nonce"):
        if not params.get(required):
            raise msg.PARAMETER_MISSING(field=required)
    if not (params["Nonce"].isascii() and params["Nonce"].isdigit()) or len(params["Nonce"]) > 20:
        raise msg.NONCE_MALFORMED()
    method = params.get("SignatureMethod", "HmacSHA1")
    if method not in signing.V1_METHODS:
        raise msg.SIGNATURE_METHOD_UNKNOWN(method=method)
    key = _resolve(params["SecretId"], resolve_key)
    _check_timestamp(params["Timestamp"], "Timestamp", wall_now, max_skew)
    if not signing.verify_v1(key.secret_key, method=raw.method, host=raw.headers.get("host", ""),
                             params=params, signature=params["Signature"], signature_method=method):
        raise ApiError(errors.AUTH_FAILURE_SIGNATURE_FAILURE)
    _check_token(key, params.get("Token"), wall_now)
    business = [(k, v) for k, v in pairs if k not in V1_COMMON]
    return ApiCall(
        scope_service="", version=params.get("Version"), action=params.get("Action"),
        region=params.get("Region") or None, params=_flattened(business),
        secret_id=key.secret_id, account_id=key.account_id, language=params.get("Language"),
        signature_method=method)


# --- shared checks -------------------------------------------------------------------------------
def _resolve(secret_id: str, resolve_key: KeyResolver) -> KeyRecord:
    if not _SECRET_ID.fullmatch(secret_id):
        raise ApiError(errors.AUTH_FAILURE_INVALID_SECRET_ID)
    key = resolve_key(secret_id)
    if key is None or not key.enabled:
        raise ApiError(errors.AUTH_FAILURE_SECRET_ID_NOT_FOUND)
    return key


def _check_timestamp(value: str | None, name: str, wall_now: float, max_skew: float) -> str:
    if not value:
        raise msg.PARAMETER_MISSING(field=name)
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise msg.TIMESTAMP_MALFORMED(name=name)
    if abs(wall_now - int(value)) > max_skew:
        raise ApiError(errors.AUTH_FAILURE_SIGNATURE_EXPIRE)
    return value


def _check_token(key: KeyRecord, token: str | None, wall_now: float) -> None:
    if key.token is None:
        if token:
            raise msg.TOKEN_WITH_PERMANENT_KEY()
        return
    if not token or token != key.token:
        raise msg.TOKEN_MISMATCH()
    if key.expires_at is not None and wall_now >= key.expires_at:
        raise msg.TOKEN_EXPIRED()


def _flattened(pairs: list[tuple[str, str]]) -> dict:
    try:
        return unflatten(pairs)
    except FlattenError as bad:
        raise bad.api_error() from None

