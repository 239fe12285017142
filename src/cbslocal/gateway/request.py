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
from cbslocal.api.call import ApiCall
from cbslocal.api.errors import ApiError
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


@dataclass(frozen=True, slots=True)
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
        raise ApiError(errors.UNSUPPORTED_PROTOCOL, f"Method {raw.method} is not allowed.",
                       f"不支持 {raw.method} 方法。")
    if raw.method == "GET" and len(raw.raw_query) > MAX_GET_QUERY:
        raise too_large("the query string", "查询字符串", MAX_GET_QUERY)
    authorization = raw.headers.get("authorization", "")
    if authorization.lstrip().startswith(signing.TC3_ALGORITHM):
        return _decode_tc3(raw, authorization, resolve_key, wall_now, max_skew)
    if authorization.strip().upper() == "SKIP":
        raise ApiError(errors.AUTH_FAILURE_SIGNATURE_FAILURE,
                       "Anonymous (unsigned) calls are not accepted by CBS.",
                       "CBS 不接受匿名（未签名）调用。")
    if authorization:
        raise ApiError(errors.AUTH_FAILURE_SIGNATURE_FAILURE,
                       "The Authorization header is not a TC3-HMAC-SHA256 authorization.",
                       "Authorization 头不是 TC3-HMAC-SHA256 签名。")
    return _decode_v1(raw, resolve_key, wall_now, max_skew)


# --- TC3 ---------------------------------------------------------------------------------------
def _decode_tc3(raw: RawRequest, authorization: str, resolve_key: KeyResolver,
                wall_now: float, max_skew: float) -> ApiCall:
    content_type = raw.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if raw.method == "POST":
        if len(raw.body) > MAX_TC3_BODY:
            raise too_large("the request body", "请求体", MAX_TC3_BODY)
        if media_type not in ("application/json", "multipart/form-data"):
            raise ApiError(errors.INVALID_PARAMETER,
                           f"Content-Type {content_type!r} is not supported with TC3-HMAC-SHA256; "
                           "use application/json or multipart/form-data.",
                           f"TC3-HMAC-SHA256 不支持 Content-Type {content_type!r}，"
                           "请使用 application/json 或 multipart/form-data。")
    try:
        auth = signing.parse_tc3_authorization(authorization)
    except signing.MalformedAuthorization as bad:
        raise ApiError(errors.AUTH_FAILURE_SIGNATURE_FAILURE,
                       f"The Authorization header is malformed: {bad}.",
                       f"Authorization 头格式错误：{bad}。") from None
    headers = raw.headers
    key = _resolve(auth.secret_id, resolve_key)
    timestamp = _check_timestamp(headers.get("x-tc-timestamp"), "X-TC-Timestamp", wall_now, max_skew)
    if auth.date != signing.utc_date(int(timestamp)):
        raise ApiError(errors.AUTH_FAILURE_SIGNATURE_FAILURE,
                       "The date of the credential scope is not the UTC date of X-TC-Timestamp.",
                       "凭证范围中的日期不是 X-TC-Timestamp 的 UTC 日期。")
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
        raise ApiError(errors.INVALID_PARAMETER, "The request body is not valid JSON.",
                       "请求体不是合法的 JSON。") from None
    if not isinstance(params, dict):
        raise ApiError(errors.INVALID_PARAMETER, "The request body must be a JSON object.",
                       "请求体必须是 JSON 对象。")
    return params


def _multipart(body: bytes, content_type: str) -> dict:
    from cbslocal.gateway.multipart import parse_multipart

    try:
        fields = parse_multipart(body, content_type)
    except ValueError as bad:
        raise ApiError(errors.INVALID_PARAMETER, f"Malformed multipart body: {bad}.",
                       f"multipart 请求体格式错误：{bad}。") from None
    params: dict = {}
    for name, value, part_type in fields:
        if name in params:
            raise ApiError(errors.INVALID_PARAMETER, f"Part {name!r} is given more than once.",
                           f"字段 {name!r} 重复。")
        if part_type.startswith("application/json"):
            try:
                params[name] = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise ApiError(errors.INVALID_PARAMETER,
                               f"Part {name!r} is not valid JSON.",
                               f"字段 {name!r} 不是合法的 JSON。") from None
        else:
            try:
                params[name] = value.decode()
            except UnicodeDecodeError:
                raise ApiError(errors.INVALID_PARAMETER,
                               f"Part {name!r} is not valid UTF-8.",
                               f"字段 {name!r} 不是合法的 UTF-8。") from None
    return params


# --- v1 ----------------------------------------------------------------------------------------
def _decode_v1(raw: RawRequest, resolve_key: KeyResolver, wall_now: float,
               max_skew: float) -> ApiCall:
    if raw.method == "POST":
        if len(raw.body) > MAX_V1_BODY:
            raise too_large("the request body", "请求体", MAX_V1_BODY)
        media_type = raw.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/x-www-form-urlencoded":
            raise ApiError(errors.AUTH_FAILURE_SIGNATURE_FAILURE,
                           "The request carries no TC3-HMAC-SHA256 Authorization header, and a "
                           "signature v1 request must be form-urlencoded.",
                           "请求没有 TC3-HMAC-SHA256 Authorization 头，而 v1 签名请求必须是 "
                           "application/x-www-form-urlencoded。")
        try:
            encoded = raw.body.decode()
        except UnicodeDecodeError:
            raise ApiError(errors.INVALID_PARAMETER, "The request body is not valid UTF-8.",
                           "请求体不是合法的 UTF-8。") from None
    else:
        encoded = raw.raw_query
    pairs = parse_qsl(encoded, keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs):
        raise ApiError(errors.INVALID_PARAMETER, "A parameter is given more than once.",
                       "参数重复。")
    if "Signature" not in params:
        raise ApiError(errors.AUTH_FAILURE_SIGNATURE_FAILURE,
                       "The request is not signed: no TC3 Authorization header and no Signature.",
                       "请求未签名：既没有 TC3 Authorization 头，也没有 Signature 参数。")
    for required in ("SecretId", "Timestamp", "Nonce"):
        if not params.get(required):
            raise errors.missing_parameter(required)
    if not (params["Nonce"].isascii() and params["Nonce"].isdigit()) or len(params["Nonce"]) > 20:
        raise ApiError(errors.INVALID_PARAMETER, "`Nonce` must be a positive decimal integer.",
                       "`Nonce` 必须是十进制正整数。")
    method = params.get("SignatureMethod", "HmacSHA1")
    if method not in signing.V1_METHODS:
        raise ApiError(errors.AUTH_FAILURE_SIGNATURE_FAILURE,
                       f"SignatureMethod {method!r} is not HmacSHA1 or HmacSHA256.",
                       f"SignatureMethod {method!r} 不是 HmacSHA1 或 HmacSHA256。")
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
        raise errors.missing_parameter(name)
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise ApiError(errors.INVALID_PARAMETER,
                       f"`{name}` must be Unix seconds as a decimal integer.",
                       f"`{name}` 必须是十进制整数形式的 Unix 秒数。")
    if abs(wall_now - int(value)) > max_skew:
        raise ApiError(errors.AUTH_FAILURE_SIGNATURE_EXPIRE)
    return value


def _check_token(key: KeyRecord, token: str | None, wall_now: float) -> None:
    if key.token is None:
        if token:
            raise ApiError(errors.AUTH_FAILURE_TOKEN_FAILURE,
                           "A token was given with a permanent key.", "永久密钥不应携带 Token。")
        return
    if not token or token != key.token:
        raise ApiError(errors.AUTH_FAILURE_TOKEN_FAILURE,
                       "The temporary key needs its own token.", "临时密钥需要与之匹配的 Token。")
    if key.expires_at is not None and wall_now >= key.expires_at:
        raise ApiError(errors.AUTH_FAILURE_TOKEN_FAILURE, "The temporary credentials have expired.",
                       "临时凭证已过期。")


def _flattened(pairs: list[tuple[str, str]]) -> dict:
    try:
        return unflatten(pairs)
    except FlattenError as bad:
        raise ApiError(errors.INVALID_PARAMETER, f"{bad}.", f"参数名格式错误：{bad}。") from None


def too_large(what: str, what_zh: str, limit: int) -> ApiError:
    """Tencent's common code for a request over protocol.md §2's limits (not a parameter error)."""
    return ApiError(errors.REQUEST_SIZE_LIMIT_EXCEEDED,
                    f"{what.capitalize()} exceeds {limit} bytes.", f"{what_zh}超过 {limit} 字节。")
