"""The one error catalog: every code of the seed document, with its zh-CN and en-US message.

Nobody else writes an error code as a string. The zh-CN texts are the seed's own words
(shared/reference/seed-error-codes.md); tests hold this catalog against that document.
"""

from __future__ import annotations

from dataclasses import dataclass

ZH_CN = "zh-CN"
EN_US = "en-US"
LANGUAGES = (ZH_CN, EN_US)


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str
    zh: str
    en: str

    def __str__(self) -> str:
        return self.code


_CATALOG: dict[str, ErrorCode] = {}


def _code(code: str, zh: str, en: str, catalog: dict[str, ErrorCode] = _CATALOG) -> ErrorCode:
    entry = ErrorCode(code, zh, en)
    catalog[code] = entry
    return entry


# --- public codes -------------------------------------------------------------------------------
AUTH_FAILURE_INVALID_SECRET_ID = _code(
    "AuthFailure.InvalidSecretId", "密钥非法（不是云 API 密钥类型）。",
    "Invalid key (not a TencentCloud API key).")
AUTH_FAILURE_MFA_FAILURE = _code("AuthFailure.MFAFailure", "MFA 错误。", "MFA failure.")
AUTH_FAILURE_SECRET_ID_NOT_FOUND = _code(
    "AuthFailure.SecretIdNotFound",
    "密钥不存在。 请在控制台检查密钥是否已被删除或者禁用，如状态正常，请检查密钥是否填写正确，注意前后不得有空格。",
    "The SecretId does not exist. Check in the console whether the key was deleted or disabled; "
    "if it is active, check that it is filled in correctly, without leading or trailing spaces.")
AUTH_FAILURE_SIGNATURE_EXPIRE = _code(
    "AuthFailure.SignatureExpire",
    "签名过期。Timestamp 和服务器时间相差不得超过五分钟，请检查本地时间是否和标准时间同步。",
    "The signature has expired. Timestamp must be within five minutes of the server time; "
    "check that the local clock is synchronised with standard time.")
AUTH_FAILURE_SIGNATURE_FAILURE = _code(
    "AuthFailure.SignatureFailure",
    "签名错误。 签名计算错误，请对照调用方式中的接口鉴权文档检查签名计算过程。",
    "The provided credentials could not be validated. Please check your signature is correct.")
AUTH_FAILURE_TOKEN_FAILURE = _code("AuthFailure.TokenFailure", "token 错误。", "Token failure.")
AUTH_FAILURE_UNAUTHORIZED_OPERATION = _code(
    "AuthFailure.UnauthorizedOperation",
    "请求未授权。请参考 [CAM](https://intl.cloud.tencent.com/document/product/598) 文档对鉴权的说明。",
    "The request is not authorized. See the CAM documentation on authorization.")
DRY_RUN_OPERATION = _code(
    "DryRunOperation", "DryRun 操作，代表请求将会是成功的，只是多传了 DryRun 参数。",
    "DryRun operation: the request would have succeeded, but the DryRun parameter was passed.")
FAILED_OPERATION = _code("FailedOperation", "操作失败。", "Operation failed.")
INTERNAL_ERROR = _code("InternalError", "内部错误。", "Internal error.")
INVALID_ACTION = _code("InvalidAction", "接口不存在。", "The action does not exist.")
INVALID_PARAMETER = _code("InvalidParameter", "参数错误。", "Invalid parameter.")
INVALID_PARAMETER_VALUE = _code(
    "InvalidParameterValue", "参数取值错误。", "Invalid parameter value.")
LIMIT_EXCEEDED = _code("LimitExceeded", "超过配额限制。", "Quota limit exceeded.")
MISSING_PARAMETER = _code("MissingParameter", "缺少参数错误。", "Missing parameter.")
NO_SUCH_VERSION = _code("NoSuchVersion", "接口版本不存在。", "The API version does not exist.")
REQUEST_LIMIT_EXCEEDED = _code(
    "RequestLimitExceeded", "请求的次数超过了频率限制。",
    "The number of requests exceeds the frequency limit.")
RESOURCE_IN_USE = _code("ResourceInUse", "资源被占用。", "The resource is in use.")
RESOURCE_INSUFFICIENT = _code("ResourceInsufficient", "资源不足。", "Insufficient resources.")
RESOURCE_NOT_FOUND = _code("ResourceNotFound", "资源不存在。", "The resource does not exist.")
RESOURCE_UNAVAILABLE = _code("ResourceUnavailable", "资源不可用。", "The resource is unavailable.")
UNAUTHORIZED_OPERATION = _code("UnauthorizedOperation", "未授权操作。", "Unauthorized operation.")
UNKNOWN_PARAMETER = _code("UnknownParameter", "未知参数错误。", "Unknown parameter.")
UNSUPPORTED_OPERATION = _code("UnsupportedOperation", "操作不支持。", "Unsupported operation.")
UNSUPPORTED_PROTOCOL = _code(
    "UnsupportedProtocol", "HTTP(S)请求协议错误，只支持 GET 和 POST 请求。",
    "HTTP(S) request protocol error: only GET and POST requests are supported.")
UNSUPPORTED_REGION = _code(
    "UnsupportedRegion", "接口不支持所传地域。", "The action does not support this region.")

# --- business codes -----------------------------------------------------------------------------
AUTO_SNAPSHOT_POLICY_OUT_OF_QUOTA = _code(
    "AutoSnapshotPolicyOutOfQuota", "定期快照策略数量已达到上限。",
    "The number of scheduled snapshot policies has reached the limit.")
INSUFFICIENT_REFUND_QUOTA = _code(
    "InsufficientRefundQuota", "云盘退还数量已达上限，不能再退还。",
    "The number of returned cloud disks has reached the limit; no more can be returned.")
INSUFFICIENT_SNAPSHOT_QUOTA = _code(
    "InsufficientSnapshotQuota", "快照配额不足。", "Insufficient snapshot quota.")
INTERNAL_ERROR_COMPONENT_ERROR = _code(
    "InternalError.ComponentError", "依赖组件请求失败，请联系客服人员解决。",
    "A request to a dependent component failed. Please contact customer service.")
INTERNAL_ERROR_FAIL_QUERY_RESOURCE = _code(
    "InternalError.FailQueryResource", "查询资源失败。", "Failed to query the resource.")
INTERNAL_ERROR_RESOURCE_OP_FAILED = _code(
    "InternalError.ResourceOpFailed",
    "对资源的操作失败，具体错误信息请查看错误描述 Message 字段，稍后重试或者联系客服人员帮忙解决。",
    "The operation on the resource failed; see the Message field for details, retry later or "
    "contact customer service.")
INVALID_ACCOUNT_INSUFFICIENT_BALANCE = _code(
    "InvalidAccount.InsufficientBalance", "账户余额不足。", "Insufficient account balance.")
INVALID_AUTO_SNAPSHOT_POLICY_ID_NOT_FOUND = _code(
    "InvalidAutoSnapshotPolicyId.NotFound", "输入的`AutoSnapshotPolicyId`不存在。",
    "The `AutoSnapshotPolicyId` entered does not exist.")
INVALID_DISK_ALREADY_BOUND = _code(
    "InvalidDisk.AlreadyBound", "云盘已绑定定期快照策略。",
    "The cloud disk is already bound to a scheduled snapshot policy.")
INVALID_DISK_ATTACHED = _code(
    "InvalidDisk.Attached", "云硬盘已挂载。", "The cloud disk is already attached.")
INVALID_DISK_BUSY = _code(
    "InvalidDisk.Busy", "云硬盘忙，请稍后重试。", "The cloud disk is busy. Please retry later.")
INVALID_DISK_EXPIRE = _code("InvalidDisk.Expire", "云盘已过期。", "The cloud disk has expired.")
INVALID_DISK_NOT_PORTABLE = _code(
    "InvalidDisk.NotPortable", "不支持非弹性云盘", "Non-elastic cloud disks are not supported.")
INVALID_DISK_NOT_SUPPORT_REFUND = _code(
    "InvalidDisk.NotSupportRefund", "云盘不支持退还。", "The cloud disk cannot be returned.")
INVALID_DISK_NOT_SUPPORT_SNAPSHOT = _code(
    "InvalidDisk.NotSupportSnapshot", "云硬盘没有快照能力。",
    "The cloud disk has no snapshot capability.")
INVALID_DISK_NOT_SUPPORTED = _code(
    "InvalidDisk.NotSupported", "云硬盘不支持该操作。",
    "The cloud disk does not support this operation.")
INVALID_DISK_REPEAT_REFUND = _code(
    "InvalidDisk.RepeatRefund", "云盘已退还过，不能重复退还。",
    "The cloud disk has already been returned and cannot be returned again.")
INVALID_DISK_SNAPSHOT_CREATING = _code(
    "InvalidDisk.SnapshotCreating", "云硬盘正在创建快照，请稍后重试。",
    "A snapshot of the cloud disk is being created. Please retry later.")
INVALID_DISK_TYPE_ERROR = _code(
    "InvalidDisk.TypeError", "云硬盘类型错误。", "Wrong cloud disk type.")
INVALID_DISK_ID_NOT_FOUND = _code(
    "InvalidDiskId.NotFound", "输入的`DiskId`不存在。", "The `DiskId` entered does not exist.")
INVALID_FILTER = _code("InvalidFilter", "指定的Filter不被支持。", "The specified filter is not supported.")
INVALID_INSTANCE_NOT_SUPPORTED = _code(
    "InvalidInstance.NotSupported", "云服务器不支持挂载云盘。",
    "The instance does not support attaching cloud disks.")
INVALID_INSTANCE_ID_NOT_FOUND = _code(
    "InvalidInstanceId.NotFound", "输入实例的`InstanceId`不存在。",
    "The `InstanceId` entered does not exist.")
INVALID_PARAMETER_DISK_CONFIG_NOT_SUPPORTED = _code(
    "InvalidParameter.DiskConfigNotSupported", "当前地域不支持当前配置的云盘。",
    "The current region does not support a cloud disk of this configuration.")
INVALID_PARAMETER_DISK_SIZE_NOT_MATCH = _code(
    "InvalidParameter.DiskSizeNotMatch", "云硬盘大小与快照大小不匹配。",
    "The cloud disk size does not match the snapshot size.")
INVALID_PARAMETER_VALUE_BIND_DISK_LIMIT_EXCEEDED = _code(
    "InvalidParameterValue.BindDiskLimitExceeded", "标签绑定云盘超过限制。",
    "The number of cloud disks bound exceeds the limit.")
INVALID_PARAMETER_VALUE_LIMIT_EXCEEDED = _code(
    "InvalidParameterValue.LimitExceeded", "参数值数量超过限制。",
    "The number of parameter values exceeds the limit.")
INVALID_SNAPSHOT_NOT_SUPPORTED = _code(
    "InvalidSnapshot.NotSupported", "快照不支持该操作。",
    "The snapshot does not support this operation.")
INVALID_SNAPSHOT_ID_NOT_FOUND = _code(
    "InvalidSnapshotId.NotFound", "输入的`SnapshotId`不存在。",
    "The `SnapshotId` entered does not exist.")
LIMIT_EXCEEDED_INSTANCE_ATTACHED_DISK = _code(
    "LimitExceeded.InstanceAttachedDisk", "实例挂载云盘数量超过限制。",
    "The number of cloud disks attached to the instance exceeds the limit.")
RESOURCE_BUSY = _code("ResourceBusy", "资源繁忙，请稍后重试。", "The resource is busy. Please retry later.")
RESOURCE_INSUFFICIENT_OVER_QUOTA = _code(
    "ResourceInsufficient.OverQuota", "配额不足。", "Insufficient quota.")
RESOURCE_UNAVAILABLE_TOO_MANY_CREATING_SNAPSHOT = _code(
    "ResourceUnavailable.TooManyCreatingSnapshot", "全网正在创建的快照数量过多。",
    "Too many snapshots are being created across the platform.")
TRADE_DEAL_CONFLICT = _code("TradeDealConflict", "订单冲突。", "Order conflict.")
UNSUPPORTED_OPERATION_DISK_ENCRYPT = _code(
    "UnsupportedOperation.DiskEncrypt", "磁盘已加密。", "The disk is encrypted.")
UNSUPPORTED_OPERATION_INSTANCE_NOT_STOPPED = _code(
    "UnsupportedOperation.InstanceNotStopped", "云盘挂载的实例未关机。",
    "The instance the cloud disk is attached to is not shut down.")
UNSUPPORTED_OPERATION_SNAPSHOT_HAS_BINDED_IMAGE = _code(
    "UnsupportedOperation.SnapshotHasBindedImage", "该快照创建了自定义快照，请先删除对应镜像。",
    "A custom image was created from this snapshot. Delete the image first.")
UNSUPPORTED_OPERATION_STATE_ERROR = _code(
    "UnsupportedOperation.StateError", "资源当前状态不支持该操作。",
    "The current state of the resource does not support this operation.")
ZONE_NOT_MATCH = _code(
    "ZoneNotMatch", "云硬盘与实例不在同一可用区。",
    "The cloud disk and the instance are not in the same availability zone.")


# --- CVM codes ----------------------------------------------------------------------------------
# The seed document is about CBS. The minimal CVM service cbslocal serves answers its own
# actions with the CVM codes of the official CVM SDK (tencentcloud/cvm/v20170312/errorcodes.py);
# they are kept apart so that the CBS catalog stays exactly the seed's.
_CVM_CATALOG: dict[str, ErrorCode] = {}


def _cvm_code(code: str, zh: str, en: str) -> ErrorCode:
    return _code(code, zh, en, _CVM_CATALOG)


CVM_INVALID_INSTANCE_ID_MALFORMED = _cvm_code(
    "InvalidInstanceId.Malformed", "无效实例`ID`。指定的实例`ID`格式错误。",
    "Invalid instance ID. The instance ID is malformed.")
CVM_INVALID_ZONE_MISMATCH_REGION = _cvm_code(
    "InvalidZone.MismatchRegion", "指定的`zone`不存在。", "The specified zone does not exist.")
CVM_INSTANCE_TYPE_NOT_FOUND = _cvm_code(
    "InvalidParameterValue.InstanceTypeNotFound", "指定机型不存在。",
    "The specified instance type does not exist.")
CVM_INVALID_IMAGE_ID_NOT_FOUND = _cvm_code(
    "InvalidImageId.NotFound", "无效的镜像ID，指定的镜像不存在。",
    "The image does not exist.")
CVM_INVALID_IMAGE_ID_MALFORMED = _cvm_code(
    "InvalidImageId.Malformed", "镜像ID格式错误。", "The image ID is malformed.")
CVM_INSTANCE_NAME_TOO_LONG = _cvm_code(
    "InvalidInstanceName.TooLong", "实例名称超过了最大长度限制。", "The instance name is too long.")
CVM_INVALID_PERIOD = _cvm_code(
    "InvalidPeriod", "无效时长。目前只支持时长：[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36, 48, 60]。",
    "Invalid period: 1-12, 24, 36, 48 or 60 months.")
CVM_INSTANCE_OPERATION_IN_PROGRESS = _cvm_code(
    "OperationDenied.InstanceOperationInProgress", "实例正在执行其他操作，请稍后再试。",
    "An operation is in progress on the instance. Please try again later.")
CVM_INVALID_IMAGE_NAME_DUPLICATE = _cvm_code(
    "InvalidImageName.Duplicate", "镜像名称与原有镜像重复。", "The image name duplicates an existing one.")
CVM_INVALID_IMAGE_ID_INCORRECT_STATE = _cvm_code(
    "InvalidImageId.IncorrectState", "镜像状态不合法。", "The image is not in a state that allows this.")
CVM_IMAGE_NOT_BELONG_TO_ACCOUNT = _cvm_code(
    "UnauthorizedOperation.ImageNotBelongToAccount", "请确认镜像是否属于当前账号。",
    "The image does not belong to this account.")
CVM_SNAPSHOT_ID_MALFORMED = _cvm_code(
    "InvalidParameterValue.SnapshotIdMalformed", "快照ID格式错误。", "The snapshot ID is malformed.")
CVM_SNAPSHOT_NOT_FOUND = _cvm_code(
    "InvalidParameter.SnapshotNotFound", "指定的快照不存在。", "The specified snapshot does not exist.")
CVM_SYSTEM_SNAPSHOT_NOT_FOUND = _cvm_code(
    "InvalidParameter.SystemSnapshotNotFound", "缺少系统盘快照。",
    "The snapshots include no system-disk snapshot.")
CVM_DUPLICATE_SYSTEM_SNAPSHOTS = _cvm_code(
    "InvalidParameter.DuplicateSystemSnapshots", "系统盘快照重复。",
    "The snapshots include more than one system-disk snapshot.")
CVM_SNAPSHOT_CREATING = _cvm_code(
    "ResourceUnavailable.SnapshotCreating", "快照正在创建中。", "The snapshot is being created.")
CVM_IMAGE_IDS_AND_FILTERS = _cvm_code(
    "InvalidParameter.InvalidParameterCoexistImageIdsFilters", "ImageIds和Filters不能同时指定。",
    "ImageIds and Filters cannot be given together.")
# "The request does not support instances in state X", per state.
CVM_INSTANCE_STATE_CODES = {state: _cvm_code(
    f"UnsupportedOperation.InstanceState{name}", f"请求不支持{zh}状态的实例。",
    f"The request does not support instances in the {state} state.")
    for state, name, zh in (
        ("PENDING", "Pending", "创建中"), ("LAUNCH_FAILED", "LaunchFailed", "创建失败"),
        ("RUNNING", "Running", "开机"), ("STOPPED", "Stopped", "关机"),
        ("STARTING", "Starting", "开机中"), ("STOPPING", "Stopping", "关机中"),
        ("REBOOTING", "Rebooting", "重启中"), ("SHUTDOWN", "Shutdown", "待销毁"),
        ("TERMINATING", "Terminating", "销毁中"))}


# --- common codes beyond the seed --------------------------------------------------------------
# Codes of Tencent Cloud's common error-code page (protocol.md §9) that the gateway answers with
# and the seed document does not list. Kept apart, like the CVM codes, so that the CBS catalog
# stays exactly the seed's.
_COMMON_CATALOG: dict[str, ErrorCode] = {}


def _common_code(code: str, zh: str, en: str) -> ErrorCode:
    return _code(code, zh, en, _COMMON_CATALOG)


REQUEST_SIZE_LIMIT_EXCEEDED = _common_code(
    "RequestSizeLimitExceeded", "请求包超过限制大小。", "The request size exceeds the upper limit.")


def all_codes() -> dict[str, ErrorCode]:
    """Every code of the CBS catalog (the seed's), by its name."""
    return dict(_CATALOG)


def cvm_codes() -> dict[str, ErrorCode]:
    """The CVM-only codes of the CVM actions cbslocal serves."""
    return dict(_CVM_CATALOG)


def common_codes() -> dict[str, ErrorCode]:
    """The common framework codes beyond the seed (the gateway's own)."""
    return dict(_COMMON_CATALOG)


@dataclass(frozen=True, slots=True)
class Detail:
    """What exactly was wrong, in both languages: templates with named parameters (str.format),
    written out in full in each language. Only what the caller sent (parameter names, values,
    IDs) and numbers are filled in. Every Detail lives in api/messages/; `raise
    msg.DISK_NOT_FOUND(disk_id=…)` builds the ApiError."""
    error: ErrorCode
    en: str
    zh: str

    def __call__(self, **values) -> "ApiError":
        return ApiError(self, **values)

    def render(self, language: str, values: dict) -> str:
        return (self.zh if language == ZH_CN else self.en).format(**values)

    def under(self, error: ErrorCode) -> "Detail":
        """The same sentence under another code (an action that answers it with its own)."""
        return detail(error, self.en, self.zh)


_DETAILS: list[Detail] = []


def detail(error: ErrorCode, en: str, zh: str) -> Detail:
    entry = Detail(error, en, zh)
    _DETAILS.append(entry)
    return entry


def all_details() -> list[Detail]:
    """Every message template of the catalog (api/messages/ registers them on import)."""
    return list(_DETAILS)


class ApiError(Exception):
    """An API-level failure: becomes the `{"Error": {"Code", "Message"}}` envelope.

    Its message is the code's catalog text followed by the Detail, rendered in the caller's
    language; `message` replaces both (an operator's fault rule says what to answer).
    """

    def __init__(self, error: ErrorCode | Detail, *, message: str | None = None, **values):
        self.detail = error if isinstance(error, Detail) else None
        self.error = error.error if isinstance(error, Detail) else error
        self.values = values
        self.injected = False  # True when a fault rule answered with it
        self.override = message
        super().__init__(f"{self.error.code}: {self.message('en-US')}")

    @property
    def code(self) -> str:
        return self.error.code

    def message(self, language: str) -> str:
        if self.override is not None:
            return self.override
        base = self.error.zh if language == ZH_CN else self.error.en
        if self.detail is None:
            return base
        return f"{base} {self.detail.render(language, self.values)}"


class Refusal(ValueError):
    """A refusal found below the handlers (parsing a header, a body, a parameter name), with the
    Detail the caller is answered with."""

    def __init__(self, detail: Detail, **values):
        super().__init__(detail.render(EN_US, values))
        self.detail = detail
        self.values = values

    def api_error(self) -> ApiError:
        return ApiError(self.detail, **self.values)


class CloseConnection(Exception):
    """An injected fault: drop the connection without an answer (the gateway does it)."""
