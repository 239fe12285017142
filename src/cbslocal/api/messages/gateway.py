"""Messages of the gateway: the request's shape, size and signature (protocol.md §2, §8, §9)."""

from __future__ import annotations

from cbslocal.api import errors as e
from cbslocal.api.errors import detail

# --- the request's shape and size ----------------------------------------------------------------
METHOD_NOT_ALLOWED = detail(
    e.UNSUPPORTED_PROTOCOL, "Method {method} is not allowed.", "不支持 {method} 方法。")
QUERY_TOO_LARGE = detail(
    e.REQUEST_SIZE_LIMIT_EXCEEDED, "The query string exceeds {limit} bytes.",
    "查询字符串超过 {limit} 字节。")
BODY_TOO_LARGE = detail(
    e.REQUEST_SIZE_LIMIT_EXCEEDED, "The request body exceeds {limit} bytes.",
    "请求体超过 {limit} 字节。")
CONTENT_TYPE_UNSUPPORTED = detail(
    e.INVALID_PARAMETER,
    "Content-Type {content_type!r} is not supported with TC3-HMAC-SHA256; use application/json "
    "or multipart/form-data.",
    "`TC3-HMAC-SHA256` 签名的请求不支持 `Content-Type` {content_type!r}，请使用 "
    "`application/json` 或 `multipart/form-data`。")
BODY_NOT_JSON = detail(
    e.INVALID_PARAMETER, "The request body is not valid JSON.", "请求体不是合法的 `JSON`。")
BODY_NOT_OBJECT = detail(
    e.INVALID_PARAMETER, "The request body must be a JSON object.", "请求体必须是 `JSON` 对象。")
BODY_NOT_UTF8 = detail(
    e.INVALID_PARAMETER, "The request body is not valid UTF-8.", "请求体不是合法的 `UTF-8` 文本。")
MULTIPART_NO_BOUNDARY = detail(
    e.INVALID_PARAMETER, "Malformed multipart body: no boundary in Content-Type.",
    "`multipart` 请求体格式错误：`Content-Type` 中没有分隔符。")
MULTIPART_UNCLOSED = detail(
    e.INVALID_PARAMETER, "Malformed multipart body: it does not end with its closing boundary.",
    "`multipart` 请求体格式错误：请求体没有以结束分隔符结尾。")
MULTIPART_TOO_MANY_PARTS = detail(
    e.INVALID_PARAMETER, "Malformed multipart body: more than {limit} parts.",
    "`multipart` 请求体格式错误：字段超过 {limit} 个。")
MULTIPART_UNPARSABLE = detail(
    e.INVALID_PARAMETER, "Malformed multipart body: it cannot be parsed.",
    "`multipart` 请求体格式错误：无法解析。")
MULTIPART_UNNAMED_PART = detail(
    e.INVALID_PARAMETER, "Malformed multipart body: a part has no field name.",
    "`multipart` 请求体格式错误：有字段没有名称。")
PART_REPEATED = detail(
    e.INVALID_PARAMETER, "Part {name!r} is given more than once.", "字段 {name!r} 重复。")
PART_NOT_JSON = detail(
    e.INVALID_PARAMETER, "Part {name!r} is not valid JSON.", "字段 {name!r} 不是合法的 `JSON`。")
PART_NOT_UTF8 = detail(
    e.INVALID_PARAMETER, "Part {name!r} is not valid UTF-8.", "字段 {name!r} 不是合法的 `UTF-8` 文本。")
PARAMETER_GIVEN_TWICE = detail(
    e.INVALID_PARAMETER, "A parameter is given more than once.", "有参数重复出现。")

# --- flattened parameter names (Filters.0.Values.1=x) --------------------------------------------
NAME_MALFORMED = detail(
    e.INVALID_PARAMETER, "Malformed parameter name {key!r}.", "参数名 {key!r} 格式错误。")
NAME_STARTS_WITH_INDEX = detail(
    e.INVALID_PARAMETER, "The parameter name {key!r} must start with a field name.",
    "参数名 {key!r} 必须以字段名开头。")
NAME_UNDER_PLAIN_VALUE = detail(
    e.INVALID_PARAMETER, "The parameter {key!r} conflicts with a plain value.",
    "参数 {key!r} 与一个普通取值冲突。")
NAME_REPEATED = detail(
    e.INVALID_PARAMETER,
    "The parameter {key!r} is given more than once or conflicts with a nested one.",
    "参数 {key!r} 重复出现，或与嵌套参数冲突。")
LIST_INDEX_TOO_LARGE = detail(
    e.INVALID_PARAMETER, "A list index is too large in {path!r} (at most {limit}).",
    "{path!r} 中的列表下标过大（最大为 {limit}）。")
LIST_INDICES_GAPPED = detail(
    e.INVALID_PARAMETER, "The list {path!r} has missing or repeated indices.",
    "列表 {path!r} 的下标有缺失或重复。")
LIST_MIXED = detail(
    e.INVALID_PARAMETER, "{path!r} mixes list indices and field names.",
    "{path!r} 中混用了列表下标和字段名。")

# --- the signature -------------------------------------------------------------------------------
ANONYMOUS_CALL = detail(
    e.AUTH_FAILURE_SIGNATURE_FAILURE, "Anonymous (unsigned) calls are not accepted by CBS.",
    "云硬盘不接受匿名（未签名）调用。")
AUTHORIZATION_NOT_TC3 = detail(
    e.AUTH_FAILURE_SIGNATURE_FAILURE,
    "The Authorization header is not a TC3-HMAC-SHA256 authorization.",
    "请求头 `Authorization` 不是 `TC3-HMAC-SHA256` 签名。")
AUTHORIZATION_ALGORITHM = detail(
    e.AUTH_FAILURE_SIGNATURE_FAILURE,
    "The Authorization header is malformed: the algorithm must be TC3-HMAC-SHA256.",
    "请求头 `Authorization` 格式错误：签名算法必须是 `TC3-HMAC-SHA256`。")
AUTHORIZATION_ITEM = detail(
    e.AUTH_FAILURE_SIGNATURE_FAILURE, "The Authorization header is malformed: item {item!r}.",
    "请求头 `Authorization` 格式错误：无法识别 {item!r}。")
AUTHORIZATION_MISSING_ITEM = detail(
    e.AUTH_FAILURE_SIGNATURE_FAILURE, "The Authorization header is malformed: {item} is missing.",
    "请求头 `Authorization` 格式错误：缺少 `{item}`。")
AUTHORIZATION_CREDENTIAL = detail(
    e.AUTH_FAILURE_SIGNATURE_FAILURE,
    "The Authorization header is malformed: Credential must be "
    "SecretId/Date/Service/tc3_request.",
    "请求头 `Authorization` 格式错误：`Credential` 应为 `SecretId/Date/Service/tc3_request`。")
AUTHORIZATION_SIGNED_HEADERS = detail(
    e.AUTH_FAILURE_SIGNATURE_FAILURE,
    "The Authorization header is malformed: SignedHeaders must include content-type and host.",
    "请求头 `Authorization` 格式错误：`SignedHeaders` 必须包含 `content-type` 和 `host`。")
SCOPE_DATE_MISMATCH = detail(
    e.AUTH_FAILURE_SIGNATURE_FAILURE,
    "The date of the credential scope is not the UTC date of X-TC-Timestamp.",
    "凭证范围中的日期不是 `X-TC-Timestamp` 对应的 UTC 日期。")
V1_NOT_FORM = detail(
    e.AUTH_FAILURE_SIGNATURE_FAILURE,
    "The request carries no TC3-HMAC-SHA256 Authorization header, and a signature v1 request "
    "must be form-urlencoded.",
    "请求没有 `TC3-HMAC-SHA256` 签名的 `Authorization` 头，而 `v1` 签名的请求必须是 "
    "`application/x-www-form-urlencoded`。")
UNSIGNED = detail(
    e.AUTH_FAILURE_SIGNATURE_FAILURE,
    "The request is not signed: no TC3 Authorization header and no Signature.",
    "请求未签名：既没有 `TC3` 签名的 `Authorization` 头，也没有 `Signature` 参数。")
NONCE_MALFORMED = detail(
    e.INVALID_PARAMETER, "`Nonce` must be a positive decimal integer.",
    "参数 `Nonce` 必须是十进制正整数。")
SIGNATURE_METHOD_UNKNOWN = detail(
    e.AUTH_FAILURE_SIGNATURE_FAILURE, "SignatureMethod {method!r} is not HmacSHA1 or HmacSHA256.",
    "`SignatureMethod` 的取值 {method!r} 不是 `HmacSHA1` 或 `HmacSHA256`。")
TIMESTAMP_MALFORMED = detail(
    e.INVALID_PARAMETER, "`{name}` must be Unix seconds as a decimal integer.",
    "`{name}` 必须是十进制整数形式的 Unix 时间戳（秒）。")
TOKEN_WITH_PERMANENT_KEY = detail(
    e.AUTH_FAILURE_TOKEN_FAILURE, "A token was given with a permanent key.",
    "永久密钥不应携带 `Token`。")
TOKEN_MISMATCH = detail(
    e.AUTH_FAILURE_TOKEN_FAILURE, "The temporary key needs its own token.",
    "临时密钥需要与之匹配的 `Token`。")
TOKEN_EXPIRED = detail(
    e.AUTH_FAILURE_TOKEN_FAILURE, "The temporary credentials have expired.", "临时凭证已过期。")
