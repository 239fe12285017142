"""Messages of the snapshots area: snapshots, their sharing, cross-region copies and rollback, and
automatic snapshot policies (see api/messages/__init__.py)."""

from __future__ import annotations

from cbslocal.api import errors as e
from cbslocal.api.errors import detail
from cbslocal.api.messages import common

# --- the snapshot named: missing, not the caller's, not in a state that allows the action --------
SNAPSHOT_NOT_FOUND = detail(
    e.INVALID_SNAPSHOT_ID_NOT_FOUND, "The snapshot {snapshot_id} does not exist.",
    "快照 {snapshot_id} 不存在。")
SNAPSHOT_SHARED_TO_YOU = detail(
    e.INVALID_SNAPSHOT_NOT_SUPPORTED,
    "The snapshot {snapshot_id} is shared with you by another account; only its owner can do "
    "this.",
    "快照 {snapshot_id} 是其他账号共享给您的快照，仅快照所有者可执行此操作。")
SNAPSHOT_NOT_NORMAL = detail(
    e.INVALID_SNAPSHOT_NOT_SUPPORTED, "The snapshot {snapshot_id} is {state}, not `NORMAL`.",
    "快照 {snapshot_id} 处于 {state} 状态，而非 `NORMAL` 状态。")
SNAPSHOT_NOT_DATA_DISK = detail(
    e.INVALID_SNAPSHOT_NOT_SUPPORTED,
    "The snapshot {snapshot_id} is not a data-disk snapshot; disks can only be made from "
    "data-disk snapshots.",
    "快照 {snapshot_id} 不是数据盘快照，仅数据盘快照可用于创建云硬盘。")

# --- CreateSnapshot, ModifySnapshotAttribute: the values given -----------------------------------
DISK_BACKUP_NOT_FOUND = detail(
    e.RESOURCE_NOT_FOUND, "The disk backup point {backup_id} does not exist.",
    "云硬盘备份点 {backup_id} 不存在。")
LOCAL_SNAPSHOT_NOT_ALLOWED = detail(
    e.UNSUPPORTED_OPERATION,
    "Local (instant) snapshots (`LocalSnap`) are only for allow-listed accounts.",
    "本地快照（`LocalSnap`）仅对白名单用户开放。")
TIME_NOT_ISO_8601 = detail(
    e.INVALID_PARAMETER_VALUE,
    "`{field}`: {value!r} is not an ISO 8601 time such as `2026-01-08T09:47:55+00:00`.",
    "参数 `{field}` 的取值 {value!r} 不是 ISO 8601 格式的时间（例如 `2026-01-08T09:47:55+00:00`）。")
DEADLINE_TOO_SOON = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be at least one day from now.",
    "参数 `{field}` 指定的时间必须比当前时间晚至少一天。")
DEADLINE_TOO_LATE = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be before {latest}.",
    "参数 `{field}` 指定的时间必须早于 {latest}。")
SNAPSHOT_ATTRIBUTE_NOTHING_GIVEN = detail(
    e.MISSING_PARAMETER, "Give at least one of `IsPermanent`, `SnapshotName`, `Deadline`.",
    "请至少指定 `IsPermanent`、`SnapshotName`、`Deadline` 中的一个参数。")

# --- quotas a new snapshot counts against --------------------------------------------------------
SNAPSHOT_REGION_QUOTA_FULL = detail(
    e.INSUFFICIENT_SNAPSHOT_QUOTA,
    "The account has {count} snapshots in {region}; the quota is {quota}.",
    "账号在地域 {region} 已有 {count} 个快照，配额为 {quota} 个。")
SNAPSHOT_CAPACITY_QUOTA_FULL = detail(
    e.RESOURCE_INSUFFICIENT_OVER_QUOTA,
    "Snapshots of the account in {region} hold {used} GiB; a snapshot of the disk {disk_id} "
    "({size} GiB) would exceed the quota of {quota} GiB.",
    "账号在地域 {region} 的快照已占用 {used} GiB，再为云硬盘 {disk_id}（{size} GiB）创建快照将超出 "
    "{quota} GiB 的配额。")
TOO_MANY_SNAPSHOTS_CREATING = detail(
    e.RESOURCE_UNAVAILABLE_TOO_MANY_CREATING_SNAPSHOT,
    "There are {count} snapshots being created; try again later.",
    "当前有 {count} 个快照正在创建，请稍后重试。")

# --- DescribeSnapshots, DescribeAutoSnapshotPolicies ---------------------------------------------
GIVEN_WITH_FILTERS = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` cannot be given together with `Filters`.",
    "参数 `{field}` 不能与 `Filters` 同时指定。")
FILTER_VALUES_TOO_MANY = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}`: the filter {name} takes at most {max} values.",
    "参数 `{field}` 有误：过滤条件 {name} 最多支持 {max} 个取值。")
SNAPSHOT_TYPE_UNKNOWN = detail(
    e.INVALID_PARAMETER_VALUE,
    "`{field}`: {value!r} is not `PRIVATE_SNAPSHOT` or `SHARED_SNAPSHOT`.",
    "参数 `{field}` 的取值 {value!r} 不是 `PRIVATE_SNAPSHOT` 或 `SHARED_SNAPSHOT`。")

# --- ModifySnapshotsSharePermission (its list has InvalidParameter, not InvalidParameterValue) ---
SHARE_PERMISSION_INVALID = detail(
    e.INVALID_PARAMETER, "`Permission` must be `SHARE` or `CANCEL`.",
    "参数 `Permission` 的取值应为 `SHARE` 或 `CANCEL`。")
SHARE_ACCOUNT_ID_MALFORMED = detail(
    e.INVALID_PARAMETER, "`{field}`: {value!r} is not an account ID.",
    "参数 `{field}` 的取值 {value!r} 不是账号 ID。")
SHARE_WITH_OWNER = detail(
    e.INVALID_PARAMETER, "`{field}`: a snapshot cannot be shared with its owner.",
    "参数 `{field}` 有误：快照不能共享给其所有者。")
SYSTEM_SNAPSHOT_NOT_SHAREABLE = detail(
    e.INVALID_SNAPSHOT_NOT_SUPPORTED,
    "The snapshot {snapshot_id} is a system-disk snapshot and cannot be shared.",
    "快照 {snapshot_id} 是系统盘快照，不支持共享。")
ENCRYPTED_SNAPSHOT_NOT_SHAREABLE = detail(
    e.INVALID_SNAPSHOT_NOT_SUPPORTED,
    "The snapshot {snapshot_id} is encrypted and cannot be shared.",
    "快照 {snapshot_id} 是加密快照，不支持共享。")
SHARE_ACCOUNTS_FULL = detail(
    e.RESOURCE_INSUFFICIENT_OVER_QUOTA,
    "The snapshot {snapshot_id} is shared with {count} accounts; it can be shared with at most "
    "{max}.",
    "快照 {snapshot_id} 已共享给 {count} 个账号，最多可共享给 {max} 个账号。")

# --- DeleteSnapshots -----------------------------------------------------------------------------
SNAPSHOT_SHARED_WITH_OTHERS = detail(
    e.INVALID_SNAPSHOT_NOT_SUPPORTED,
    "The snapshot {snapshot_id} is shared with other accounts; cancel the sharing first.",
    "快照 {snapshot_id} 已共享给其他账号，请先取消共享。")

# --- CopySnapshotCrossRegions --------------------------------------------------------------------
ENCRYPTED_SNAPSHOT_NOT_COPYABLE = detail(
    e.INVALID_SNAPSHOT_NOT_SUPPORTED,
    "The snapshot {snapshot_id} is encrypted and cannot be copied to another region.",
    "快照 {snapshot_id} 是加密快照，不支持跨地域复制。")
COPY_REGION_UNKNOWN = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}`: {value!r} is not a region with snapshots.",
    "参数 `{field}` 的取值 {value!r} 不是支持快照的地域。")
COPY_REGION_IS_SOURCE = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must differ from the snapshot's own region {region}.",
    "参数 `{field}` 不能是快照所在的地域 {region}。")

# --- ApplySnapshot -------------------------------------------------------------------------------
AUTO_START_NEEDS_AUTO_STOP = detail(
    e.INVALID_PARAMETER_VALUE, "`AutoStartInstance` needs `AutoStopInstance` to be `true`.",
    "指定 `AutoStartInstance` 时，`AutoStopInstance` 必须为 `true`。")
AUTO_STOP_NEEDS_ATTACHED_DISK = detail(
    e.INVALID_PARAMETER_VALUE,
    "`AutoStopInstance` is only for a disk attached to an instance; the disk {disk_id} is not "
    "attached.",
    "`AutoStopInstance` 仅适用于已挂载到实例的云硬盘，云硬盘 {disk_id} 未挂载。")
SNAPSHOT_LARGER_THAN_DISK = detail(
    e.INVALID_PARAMETER_DISK_SIZE_NOT_MATCH,
    "The snapshot {snapshot_id} holds {snapshot_size} GiB, more than the {disk_size} GiB of the "
    "disk {disk_id}.",
    "快照 {snapshot_id} 的大小 {snapshot_size} GiB 大于云硬盘 {disk_id} 的大小 {disk_size} GiB。")
SNAPSHOT_OF_ANOTHER_DISK = detail(
    e.INVALID_SNAPSHOT_NOT_SUPPORTED,
    "The snapshot {snapshot_id} was taken of the disk {source_disk_id}; a disk can only be "
    "rolled back to its own snapshots.",
    "快照 {snapshot_id} 创建自云硬盘 {source_disk_id}，云硬盘只能回滚到自身的快照。")
SNAPSHOT_FROM_ANOTHER_REGION = detail(
    e.INVALID_SNAPSHOT_NOT_SUPPORTED,
    "The snapshot {snapshot_id} was taken of a disk of another region; a disk can only be "
    "rolled back to its own snapshots.",
    "快照 {snapshot_id} 创建自其他地域的云硬盘，云硬盘只能回滚到自身的快照。")
ROLLBACK_INSTANCE_STATE = detail(
    e.INVALID_INSTANCE_NOT_SUPPORTED,
    "The instance {instance_id} is {state}, neither `RUNNING` nor `STOPPED`.",
    "实例 {instance_id} 处于 {state} 状态，既不是 `RUNNING` 也不是 `STOPPED` 状态。")
ROLLBACK_INSTANCE_NOT_STOPPED = detail(
    e.UNSUPPORTED_OPERATION_INSTANCE_NOT_STOPPED,
    "Stop the instance {instance_id} first, or set `AutoStopInstance`.",
    "请先关闭实例 {instance_id}，或指定 `AutoStopInstance`。")

# --- automatic snapshot policies -----------------------------------------------------------------
POLICY_NOT_FOUND = detail(
    e.INVALID_AUTO_SNAPSHOT_POLICY_ID_NOT_FOUND,
    "The automatic snapshot policy {policy_id} does not exist.", "定期快照策略 {policy_id} 不存在。")
POLICY_LIST_TOO_LONG = common.LIST_TOO_LONG.under(e.INVALID_PARAMETER_VALUE_LIMIT_EXCEEDED)
SCHEDULE_VALUE_OUTSIDE_RANGE = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}`: {value} is not from {min} to {max}.",
    "参数 `{field}` 的取值 {value} 不在 {min} 到 {max} 的范围内。")
RETENTION_DAYS_WITH_PERMANENT = detail(
    e.INVALID_PARAMETER_VALUE,
    "`RetentionDays` cannot be given for a permanent policy (`IsPermanent` is `true`).",
    "永久保留的策略（`IsPermanent` 为 `true`）不能指定参数 `RetentionDays`。")
POLICY_NAME_TOO_LONG = detail(
    e.INVALID_PARAMETER_VALUE, "`AutoSnapshotPolicyName` must be at most {max} bytes.",
    "参数 `AutoSnapshotPolicyName` 的长度不能超过 {max} 字节。")
POLICY_QUOTA_FULL = detail(
    e.AUTO_SNAPSHOT_POLICY_OUT_OF_QUOTA,
    "The account has {count} automatic snapshot policies in {region}; the quota is {quota}.",
    "账号在地域 {region} 已有 {count} 个定期快照策略，配额为 {quota} 个。")
POLICY_NOT_CHANGEABLE = detail(
    e.UNSUPPORTED_OPERATION_STATE_ERROR,
    "The automatic snapshot policy {policy_id} is {state} and cannot be changed.",
    "定期快照策略 {policy_id} 处于 {state} 状态，不能修改。")
BIND_DISKS_PER_REQUEST = detail(
    e.INVALID_PARAMETER_VALUE_BIND_DISK_LIMIT_EXCEEDED,
    "At most {max} disks can be bound per request (`DiskIds`).",
    "每次请求最多绑定 {max} 块云硬盘（`DiskIds`）。")
POLICY_DISKS_FULL = detail(
    e.INVALID_PARAMETER_VALUE_LIMIT_EXCEEDED,
    "The automatic snapshot policy {policy_id} is bound to {count} disks; it takes at most {max}.",
    "定期快照策略 {policy_id} 已绑定 {count} 块云硬盘，最多可绑定 {max} 块。")

# --- the same sentences under InvalidParameter: the lists of ModifySnapshotsSharePermission and
# ModifyAutoSnapshotPolicyAttribute have it where the other actions have InvalidParameterValue ---
ID_MALFORMED_AS_INVALID_PARAMETER = common.ID_MALFORMED.under(e.INVALID_PARAMETER)
VALUE_BETWEEN_AS_INVALID_PARAMETER = common.VALUE_BETWEEN.under(e.INVALID_PARAMETER)
SCHEDULE_VALUE_OUTSIDE_RANGE_AS_INVALID_PARAMETER = SCHEDULE_VALUE_OUTSIDE_RANGE.under(e.INVALID_PARAMETER)
RETENTION_DAYS_WITH_PERMANENT_AS_INVALID_PARAMETER = RETENTION_DAYS_WITH_PERMANENT.under(e.INVALID_PARAMETER)
POLICY_NAME_TOO_LONG_AS_INVALID_PARAMETER = POLICY_NAME_TOO_LONG.under(e.INVALID_PARAMETER)
