"""Messages any action may answer with: the request's parameters (missing, unknown, of the wrong
type, out of range) and the router's own (action, version, region)."""

from __future__ import annotations

from cbslocal.api import errors as e
from cbslocal.api.errors import detail

# --- parameters: missing, unknown, of the wrong type ---------------------------------------------
PARAMETER_MISSING = detail(
    e.MISSING_PARAMETER, "The parameter `{field}` is missing.", "缺少参数 `{field}`。")
PARAMETER_UNKNOWN = detail(
    e.UNKNOWN_PARAMETER, "The parameter `{field}` is not defined for this action.",
    "该接口没有参数 `{field}`。")
TYPE_INTEGER = detail(
    e.INVALID_PARAMETER, "The parameter `{field}` must be an integer.", "参数 `{field}` 应为整数。")
TYPE_UINT64 = detail(
    e.INVALID_PARAMETER, "The parameter `{field}` must be an integer from 0 to 18446744073709551615.",
    "参数 `{field}` 应为 0 到 18446744073709551615 之间的整数。")
TYPE_INT64 = detail(
    e.INVALID_PARAMETER,
    "The parameter `{field}` must be an integer from -9223372036854775808 to 9223372036854775807.",
    "参数 `{field}` 应为 -9223372036854775808 到 9223372036854775807 之间的整数。")
TYPE_NUMBER = detail(
    e.INVALID_PARAMETER, "The parameter `{field}` must be a number.", "参数 `{field}` 应为数字。")
TYPE_BOOLEAN = detail(
    e.INVALID_PARAMETER, "The parameter `{field}` must be `true` or `false`.",
    "参数 `{field}` 应为布尔值（`true` 或 `false`）。")
TYPE_STRING = detail(
    e.INVALID_PARAMETER, "The parameter `{field}` must be a string.", "参数 `{field}` 应为字符串。")
TYPE_LIST = detail(
    e.INVALID_PARAMETER, "The parameter `{field}` must be a list.", "参数 `{field}` 应为数组。")
TYPE_OBJECT = detail(
    e.INVALID_PARAMETER, "The parameter `{field}` must be an object.", "参数 `{field}` 应为对象。")
TYPE_WRONG = detail(
    e.INVALID_PARAMETER, "The parameter `{field}` has the wrong type.", "参数 `{field}` 的类型错误。")

# --- parameters: values not accepted --------------------------------------------------------------
TIME_MALFORMED = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be a time like 2018-03-30 20:15:03, not {value}.",
    "参数 `{field}` 应为形如 2018-03-30 20:15:03 的时间，而不是 {value}。")
VALUE_INVALID = detail(
    e.INVALID_PARAMETER_VALUE, "The value of `{field}` is not accepted.", "参数 `{field}` 的取值错误。")
VALUE_ONE_OF = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be one of {choices}.",
    "参数 `{field}` 的取值应为以下之一：{choices}。")
VALUE_AT_LEAST = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be at least {min}.", "参数 `{field}` 不能小于 {min}。")
VALUE_ABOVE = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be greater than {min}.", "参数 `{field}` 必须大于 {min}。")
VALUE_AT_MOST = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be at most {max}.", "参数 `{field}` 不能大于 {max}。")
VALUE_BELOW = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be less than {max}.", "参数 `{field}` 必须小于 {max}。")
VALUE_BETWEEN = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be from {min} to {max}.",
    "参数 `{field}` 的取值范围为 {min} 到 {max}。")
TEXT_TOO_SHORT = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be at least {min} characters long.",
    "参数 `{field}` 的长度不能少于 {min} 个字符。")
TEXT_TOO_LONG = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be at most {max} characters long.",
    "参数 `{field}` 的长度不能超过 {max} 个字符。")
TEXT_LENGTH_BETWEEN = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be {min} to {max} characters long.",
    "参数 `{field}` 的长度应为 {min} 到 {max} 个字符。")
LIST_TOO_SHORT = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must have at least {min} items.",
    "参数 `{field}` 至少应有 {min} 项。")
LIST_TOO_LONG = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must have at most {max} items.",
    "参数 `{field}` 最多只能有 {max} 项。")
VALUE_MALFORMED = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}`: {value!r} is not well-formed.",
    "参数 `{field}` 的取值 {value!r} 格式错误。")
VALUE_FORMAT = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` is not in the expected format.", "参数 `{field}` 的格式错误。")
ID_MALFORMED = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}`: {value!r} is not a well-formed ID.",
    "参数 `{field}` 的取值 {value!r} 不是格式正确的 ID。")
VALUE_REPEATED = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}`: {value!r} is given twice.",
    "参数 `{field}` 的取值 {value!r} 重复。")
ITEMS_PER_REQUEST = detail(
    e.INVALID_PARAMETER_VALUE_LIMIT_EXCEEDED, "At most {max} `{field}` per request.",
    "每次请求最多 {max} 个 `{field}`。")
PARAMETERS_EXCLUSIVE = detail(
    e.INVALID_PARAMETER, "`{field}` and `{other}` cannot be given together.",
    "参数 `{field}` 与 `{other}` 不能同时指定。")
PARAMETER_NEEDS = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` needs `{other}` to be given too.",
    "指定参数 `{field}` 时必须同时指定 `{other}`。")

# --- the router ---------------------------------------------------------------------------------
ACTION_UNKNOWN = detail(
    e.INVALID_ACTION, "The action {action!r} does not exist.", "接口 {action!r} 不存在。")
ACTION_NOT_IMPLEMENTED = detail(
    e.UNSUPPORTED_OPERATION, "The action {action} is not implemented by cbslocal yet.",
    "`cbslocal` 尚未实现接口 {action}。")
VERSION_UNKNOWN = detail(
    e.NO_SUCH_VERSION, "{service} has no version {version!r}; use {supported}.",
    "`{service}` 没有版本 {version!r}，请使用 {supported}。")
REGION_UNSUPPORTED = detail(
    e.UNSUPPORTED_REGION, "Region {region!r} is not supported.", "不支持地域 {region!r}。")
RATE_LIMITED = detail(
    e.REQUEST_LIMIT_EXCEEDED,
    "At most {limit} {action} calls per second for one account in one region.",
    "同一账号在同一地域每秒最多调用 {limit} 次 {action}。")
CLIENT_TOKEN_MALFORMED = detail(
    e.INVALID_PARAMETER_VALUE, "`ClientToken` must be 1 to {max} ASCII characters.",
    "参数 `ClientToken` 应为 1 到 {max} 个 ASCII 字符。")
DRY_RUN = detail(
    e.DRY_RUN_OPERATION, "The request would have succeeded (DryRun).", "请求参数通过校验（`DryRun`）。")

# --- words the API shows in the caller's language (not errors) -----------------------------------
DEFAULT_PROJECT_NAME = {e.ZH_CN: "默认项目", e.EN_US: "Default Project"}
