"""Messages of the disks area (see api/messages/__init__.py)."""

from __future__ import annotations

from cbslocal.api import errors as e
from cbslocal.api.errors import detail

# --- words the API shows in the caller's language (not errors) -----------------------------------
# The name of a disk, snapshot or policy created without one.
UNNAMED = {e.ZH_CN: "未命名", e.EN_US: "Unnamed"}

# --- the disks a request names --------------------------------------------------------------------
DISK_NOT_FOUND = detail(
    e.INVALID_DISK_ID_NOT_FOUND, "The disk {disk_id} does not exist.", "云硬盘 {disk_id} 不存在。")
IDS_WITH_FILTERS = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` and `Filters` cannot be given together.",
    "参数 `{field}` 与 `Filters` 不能同时指定。")
# A disk in a transitional state (or changing its type), under the code each action answers with.
DISK_BUSY = detail(
    e.RESOURCE_BUSY, "The disk {disk_id} is {state}; try again when it is done.",
    "云硬盘 {disk_id} 处于 {state} 状态，请在操作完成后重试。")
DISK_BUSY_INVALID_DISK = DISK_BUSY.under(e.INVALID_DISK_BUSY)
DISK_BUSY_IN_USE = DISK_BUSY.under(e.RESOURCE_IN_USE)
DISK_CHANGED_MEANWHILE = detail(
    e.RESOURCE_BUSY, "Another operation changed the disk meanwhile.", "云硬盘正在被其他操作修改。")
DISK_SNAPSHOT_BEING_CREATED = detail(
    e.INVALID_DISK_SNAPSHOT_CREATING, "A snapshot of the disk {disk_id} is still being created.",
    "云硬盘 {disk_id} 有快照正在创建中。")
ZONE_STOCK_INSUFFICIENT = detail(
    e.RESOURCE_INSUFFICIENT,
    "The zone {zone} has {left} GiB of {disk_type} left; {asked} GiB asked.",
    "可用区 {zone} 的 {disk_type} 仅剩 {left} GiB，本次请求 {asked} GiB。")
# The prepaid disk has expired, under the code each action answers with.
DISK_EXPIRED = detail(
    e.INVALID_DISK_EXPIRE, "The prepaid disk {disk_id} has expired.", "包年包月云硬盘 {disk_id} 已过期。")
DISK_EXPIRED_NOT_SUPPORTED = DISK_EXPIRED.under(e.INVALID_DISK_NOT_SUPPORTED)
DISK_IN_RECYCLE_BIN = detail(
    e.INVALID_DISK_NOT_SUPPORTED, "The disk {disk_id} is in the recycle bin ({state}).",
    "云硬盘 {disk_id} 已在回收站中（{state}）。")

# --- instances as the disk actions see them -------------------------------------------------------
INSTANCE_NOT_FOUND = detail(
    e.INVALID_INSTANCE_ID_NOT_FOUND, "The instance {instance_id} does not exist.",
    "实例 {instance_id} 不存在。")
INSTANCE_STATE_TAKES_NO_DISKS = detail(
    e.INVALID_INSTANCE_NOT_SUPPORTED,
    "The instance {instance_id} is {state}; disks are attached and detached only in the states "
    "{states}.",
    "实例 {instance_id} 处于 {state} 状态，仅 {states} 状态的实例支持挂载和卸载云硬盘。")
INSTANCE_WITHOUT_CLOUD_DISKS = detail(
    e.INVALID_INSTANCE_NOT_SUPPORTED, "The instance {instance_id} does not support cloud disks.",
    "实例 {instance_id} 不支持云硬盘。")
INSTANCE_DATA_DISKS_FULL = detail(
    e.LIMIT_EXCEEDED_INSTANCE_ATTACHED_DISK,
    "The instance {instance_id} has {attached} data disks; it takes at most {max}.",
    "实例 {instance_id} 已挂载 {attached} 块数据盘，最多可挂载 {max} 块。")
INSTANCE_CHANGED_MEANWHILE = detail(
    e.RESOURCE_BUSY, "Another operation changed the instance {instance_id} meanwhile.",
    "实例 {instance_id} 正在被其他操作修改。")
INSTANCE_RUNNING_NO_ONLINE_RESIZE = detail(
    e.UNSUPPORTED_OPERATION_INSTANCE_NOT_STOPPED,
    "The instance {instance_id} cannot grow disks while running; stop it first.",
    "实例 {instance_id} 不支持在线扩容，请先关机。")

# --- CreateDisks ----------------------------------------------------------------------------------
PREPAID_PERIOD_INVALID = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be 1 to 12, 24 or 36 (months).",
    "参数 `{field}` 的取值应为 1 到 12、24 或 36（单位：月）。")
ZONE_NOT_IN_REGION = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}`: {zone!r} is not a zone of {region}.",
    "参数 `{field}` 的取值 {zone!r} 不是地域 {region} 的可用区。")
PROJECT_NOT_FOUND = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}`: the project {project_id} does not exist.",
    "参数 `{field}` 指定的项目 {project_id} 不存在。")
TEXT_TOO_MANY_BYTES = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be at most {max} bytes long.",
    "参数 `{field}` 的长度不能超过 {max} 个字节。")
SHAREABLE_DISK_ENCRYPTED = detail(
    e.INVALID_PARAMETER_VALUE,
    "A shareable disk cannot be encrypted: `Shareable` and `Encrypt` cannot be given together.",
    "共享云硬盘不支持加密：参数 `Shareable` 与 `Encrypt` 不能同时指定。")
SHAREABLE_FROM_ENCRYPTED_SNAPSHOT = detail(
    e.INVALID_PARAMETER_VALUE,
    "A disk made from the encrypted snapshot {snapshot_id} is encrypted, and a shareable disk "
    "cannot be (`Shareable`).",
    "由加密快照 {snapshot_id} 创建的云硬盘是加密的，而共享云硬盘不支持加密（`Shareable`）。")
ENCRYPTED_DISK_NO_AUTO_MOUNT = detail(
    e.UNSUPPORTED_OPERATION_DISK_ENCRYPT,
    "An encrypted disk cannot be mounted automatically (`AutoMountConfiguration`).",
    "加密云硬盘不支持自动挂载（`AutoMountConfiguration`）。")
DISK_SIZE_OUT_OF_RANGE = detail(
    e.INVALID_PARAMETER_VALUE,
    "`DiskSize`: {disk_type} disks are {min} to {max} GiB, in steps of {step} GiB.",
    "{disk_type} 云硬盘的大小（参数 `DiskSize`）应为 {min} 到 {max} GiB，且为 {step} GiB 的整数倍。")
DISK_SMALLER_THAN_SNAPSHOT = detail(
    e.INVALID_PARAMETER_DISK_SIZE_NOT_MATCH,
    "The snapshot {snapshot_id} holds {snapshot_size} GiB; the disk must be at least that large, "
    "not {size} GiB.",
    "快照 {snapshot_id} 的大小为 {snapshot_size} GiB，云硬盘不能小于该大小（请求为 {size} GiB）。")
ELASTIC_DISK_QUOTA = detail(
    e.LIMIT_EXCEEDED, "The account has {have} elastic disks in {region}; the quota is {quota}.",
    "账号在地域 {region} 已有 {have} 块弹性云硬盘，配额为 {quota} 块。")
PERFORMANCE_NEEDS_TYPE = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` is only available for disks of the types {types}.",
    "仅类型为 {types} 的云硬盘支持参数 `{field}`。")
THROUGHPUT_NEEDS_LARGER_DISK = detail(
    e.INVALID_PARAMETER_VALUE, "`ThroughputPerformance` needs a disk larger than {min} GiB.",
    "参数 `ThroughputPerformance` 仅适用于大于 {min} GiB 的云硬盘。")
THROUGHPUT_ABOVE_RANGE = detail(
    e.INVALID_PARAMETER_VALUE,
    "`ThroughputPerformance` of a {disk_type} disk must be from 0 to {max} MiB/s.",
    "{disk_type} 云硬盘的参数 `ThroughputPerformance` 取值范围为 0 到 {max}（单位：`MiB/s`）。")
BURST_NEEDS_DISK_SIZE = detail(
    e.INVALID_PARAMETER_VALUE, "`BurstPerformance` needs a disk of at least {min} GiB.",
    "参数 `BurstPerformance` 仅适用于不小于 {min} GiB 的云硬盘。")
NO_DEDICATED_CLUSTER = detail(
    e.INVALID_PARAMETER_DISK_CONFIG_NOT_SUPPORTED,
    "No dedicated cluster (CDC) exists in this region.", "当前地域没有专用集群（`CDC`）。")
DISK_TYPE_NOT_SOLD_IN_REGION = detail(
    e.INVALID_PARAMETER_VALUE, "`DiskType`: no zone of {region} sells {disk_type} disks.",
    "参数 `DiskType`：地域 {region} 没有可用区售卖 {disk_type} 云硬盘。")
ZONE_SOLD_OUT = detail(
    e.INVALID_PARAMETER_DISK_CONFIG_NOT_SUPPORTED, "The zone {zone} is sold out.", "可用区 {zone} 已售罄。")
ZONE_DOES_NOT_SELL_TYPE = detail(
    e.INVALID_PARAMETER_DISK_CONFIG_NOT_SUPPORTED, "The zone {zone} does not sell {disk_type} disks.",
    "可用区 {zone} 不售卖 {disk_type} 云硬盘。")
DISK_TYPE_ONLY_WITH_INSTANCES = detail(
    e.INVALID_PARAMETER_DISK_CONFIG_NOT_SUPPORTED,
    "The zone {zone} sells {disk_type} disks only together with certain instance types.",
    "可用区 {zone} 的 {disk_type} 云硬盘仅随特定机型的实例一同售卖。")
MOUNT_SEVERAL_NEEDS_SHAREABLE = detail(
    e.INVALID_PARAMETER_VALUE,
    "`{field}` may name several instances only for a shareable disk (`Shareable`).",
    "仅共享云硬盘（`Shareable`）可在参数 `{field}` 中指定多个实例。")
INSTANCE_IN_OTHER_ZONE = detail(
    e.ZONE_NOT_MATCH, "The instance {instance_id} is in {instance_zone}, not {zone}.",
    "实例 {instance_id} 位于 {instance_zone}，而非 {zone}。")

# --- ResizeDisk, ModifyDiskAttributes -------------------------------------------------------------
SYSTEM_DISK_REFUSED = detail(
    e.INVALID_DISK_NOT_SUPPORTED,
    "The disk {disk_id} is a system disk; only elastic data disks can do this.",
    "云硬盘 {disk_id} 是系统盘，仅弹性数据盘支持该操作。")
NON_ELASTIC_DISK_REFUSED = detail(
    e.INVALID_DISK_NOT_SUPPORTED,
    "The disk {disk_id} is not elastic; only elastic data disks can do this.",
    "云硬盘 {disk_id} 不是弹性云硬盘，仅弹性数据盘支持该操作。")
DISK_SIZE_NOT_LARGER = detail(
    e.INVALID_PARAMETER_VALUE,
    "`DiskSize` must be larger than the current {size} GiB and a multiple of {step} GiB.",
    "参数 `DiskSize` 须大于当前大小 {size} GiB，且为 {step} GiB 的整数倍。")
DISK_SIZE_ABOVE_TYPE_MAX = detail(
    e.INVALID_PARAMETER_DISK_CONFIG_NOT_SUPPORTED, "{disk_type} disks are at most {max} GiB.",
    "{disk_type} 云硬盘最大为 {max} GiB。")
ATTRIBUTE_TO_MODIFY_MISSING = detail(
    e.MISSING_PARAMETER, "Give at least one attribute to change: {fields}.",
    "请至少指定一个要修改的属性：{fields}。")
PORTABLE_ONLY_TRUE = detail(
    e.INVALID_PARAMETER_VALUE, "`Portable` can only be `true`: a disk cannot stop being elastic.",
    "参数 `Portable` 只能为 `true`：弹性云硬盘不能转为非弹性云硬盘。")
DISK_TYPE_CHANGE_ALONE = detail(
    e.INVALID_PARAMETER_VALUE,
    "`DiskType` changes one disk at a time, and nothing else in the same request.",
    "参数 `DiskType` 每次只能修改一块云硬盘，且不能在同一请求中修改其他属性。")
DISK_FOLLOWS_INSTANCE_PROJECT = detail(
    e.INVALID_DISK_NOT_SUPPORTED,
    "The disk {disk_id} was bought with an instance and follows the instance's project.",
    "云硬盘 {disk_id} 随实例购买，跟随实例所属项目。")
SYSTEM_DISK_CANNOT_BE_ELASTIC = detail(
    e.INVALID_DISK_NOT_SUPPORTED, "The disk {disk_id} is a system disk and cannot become elastic.",
    "云硬盘 {disk_id} 是系统盘，不能转为弹性云硬盘。")
DELETE_WITH_INSTANCE_POSTPAID_DATA_ONLY = detail(
    e.INVALID_DISK_NOT_SUPPORTED,
    "The disk {disk_id} cannot be set to go with its instance: only pay-as-you-go data disks can.",
    "云硬盘 {disk_id} 不支持随实例销毁：仅按量计费的数据盘支持。")
BURST_NEEDS_TYPE_AND_SIZE = detail(
    e.INVALID_DISK_NOT_SUPPORTED,
    "The disk {disk_id} cannot have burst performance: only disks of the types {types} and of at "
    "least {min} GiB can.",
    "云硬盘 {disk_id} 不支持突发性能：仅类型为 {types} 且不小于 {min} GiB 的云硬盘支持。")
DISK_TYPE_ONLY_UPGRADE = detail(
    e.INVALID_DISK_NOT_SUPPORTED,
    "The disk {disk_id} is {disk_type}; it can only change to a higher type, not {target}.",
    "云硬盘 {disk_id} 的类型为 {disk_type}，只能升级到更高性能的类型，不能变更为 {target}。")
DISK_TYPE_NOT_SOLD_FOR_SIZE = detail(
    e.INVALID_PARAMETER_DISK_CONFIG_NOT_SUPPORTED,
    "The zone {zone} does not sell {target} disks of {size} GiB.",
    "可用区 {zone} 不售卖 {size} GiB 的 {target} 云硬盘。")

# --- InitializeDisks, TerminateDisks --------------------------------------------------------------
DETACH_BEFORE_INITIALIZE = detail(
    e.INVALID_DISK_ATTACHED, "The disk {disk_id} is attached; detach it before initializing it.",
    "云硬盘 {disk_id} 已挂载，请先卸载再初始化。")
SHAREABLE_DISK_NO_INITIALIZE = detail(
    e.INVALID_DISK_NOT_SUPPORTED, "The disk {disk_id} is shareable; a shareable disk cannot be "
    "initialized.", "云硬盘 {disk_id} 是共享云硬盘，共享云硬盘不支持初始化。")
SOURCE_SNAPSHOT_DELETED = detail(
    e.INVALID_DISK_NOT_SUPPORTED,
    "The source snapshot {snapshot_id} of the disk {disk_id} has been deleted.",
    "云硬盘 {disk_id} 的源快照 {snapshot_id} 已删除。")
SYSTEM_DISK_NOT_RETURNABLE = detail(
    e.INVALID_DISK_NOT_SUPPORT_REFUND,
    "The disk {disk_id} is a system disk; only elastic data disks can be returned.",
    "云硬盘 {disk_id} 是系统盘，仅弹性数据盘支持退还。")
NON_ELASTIC_DISK_NOT_RETURNABLE = detail(
    e.INVALID_DISK_NOT_SUPPORT_REFUND,
    "The disk {disk_id} is not elastic; only elastic data disks can be returned.",
    "云硬盘 {disk_id} 不是弹性云硬盘，仅弹性数据盘支持退还。")
DETACH_BEFORE_RETURN = detail(
    e.INVALID_DISK_ATTACHED, "The disk {disk_id} is attached; detach it before returning it.",
    "云硬盘 {disk_id} 已挂载，请先卸载再退还。")
PREPAID_DISK_NOT_RETURNABLE = detail(
    e.INVALID_DISK_NOT_SUPPORT_REFUND, "The prepaid disk {disk_id} cannot be returned.",
    "包年包月云硬盘 {disk_id} 不支持退还。")
DISK_RETURNED_BEFORE = detail(
    e.INVALID_DISK_REPEAT_REFUND, "The disk {disk_id} was returned once already.",
    "云硬盘 {disk_id} 已退还过一次。")

# --- AttachDisks, DetachDisks ---------------------------------------------------------------------
SYSTEM_DISK_NOT_ATTACHABLE = detail(
    e.INVALID_DISK_TYPE_ERROR,
    "The disk {disk_id} is a system disk; a system disk cannot be attached or detached.",
    "云硬盘 {disk_id} 是系统盘，系统盘不支持挂载或卸载。")
DISK_BOUGHT_WITH_INSTANCE = detail(
    e.INVALID_DISK_NOT_PORTABLE,
    "The disk {disk_id} was bought with its instance and is not elastic.",
    "云硬盘 {disk_id} 随实例购买，不是弹性云硬盘。")
DISK_ALREADY_ATTACHED = detail(
    e.INVALID_DISK_ATTACHED, "The disk {disk_id} is already attached to {instance_ids}.",
    "云硬盘 {disk_id} 已挂载到 {instance_ids}。")
DISK_AND_INSTANCE_ZONES_DIFFER = detail(
    e.ZONE_NOT_MATCH,
    "The disk {disk_id} is in {disk_zone}, the instance {instance_id} in {instance_zone}.",
    "云硬盘 {disk_id} 位于 {disk_zone}，实例 {instance_id} 位于 {instance_zone}。")
SHAREABLE_DISK_INSTANCES_FULL = detail(
    e.INVALID_PARAMETER_VALUE_LIMIT_EXCEEDED,
    "The shareable disk {disk_id} is already attached to {max} instances.",
    "共享云硬盘 {disk_id} 已挂载到 {max} 个实例。")
DISK_NOT_ATTACHED = detail(
    e.INVALID_DISK_NOT_SUPPORTED, "The disk {disk_id} is {state}: it is not attached.",
    "云硬盘 {disk_id} 处于 {state} 状态，未挂载。")
DISK_NOT_ON_INSTANCE = detail(
    e.INVALID_PARAMETER_VALUE,
    "The disk {disk_id} is not attached to the instance {instance_id} (`InstanceId`).",
    "云硬盘 {disk_id} 未挂载到实例 {instance_id}（`InstanceId`）。")
DISKS_ON_DIFFERENT_INSTANCES = detail(
    e.INVALID_PARAMETER_VALUE,
    "`DiskIds` names disks attached to different instances; detach the disks of one instance "
    "per request.",
    "参数 `DiskIds` 中的云硬盘挂载在不同实例上，每次请求只能卸载同一实例的云硬盘。")

# --- DescribeDisks filters (also those of snapshots and policies) ---------------------------------
FILTER_VALUES_EMPTY = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` of the filter {name!r} must not be empty.",
    "过滤条件 {name!r} 的 `{field}` 不能为空。")
FILTER_TOO_MANY_VALUES = detail(
    e.INVALID_PARAMETER_VALUE_LIMIT_EXCEEDED, "`{field}` has more than {max} values.",
    "参数 `{field}` 的取值超过 {max} 个。")
FILTER_UNSUPPORTED = detail(
    e.INVALID_FILTER, "The filter {name!r} is not supported by {action}.",
    "接口 {action} 不支持过滤条件 {name!r}。")
FILTER_VALUE_INVALID = detail(
    e.INVALID_PARAMETER_VALUE, "{value!r} is not a valid value of the filter {name!r} (`{field}`).",
    "{value!r} 不是过滤条件 {name!r} 的有效取值（`{field}`）。")

# --- tags ---------------------------------------------------------------------------------------
TAGS_PER_RESOURCE = detail(
    e.INVALID_PARAMETER_VALUE_LIMIT_EXCEEDED, "At most {max} tags per resource.",
    "每个资源最多 {max} 个标签。")

# --- DescribeDiskConfigQuota ----------------------------------------------------------------------
DEDICATED_CLUSTER_NOT_FOUND = detail(
    e.INVALID_PARAMETER_VALUE,
    "`DedicatedClusterId`: the dedicated cluster {value!r} does not exist.",
    "参数 `DedicatedClusterId` 指定的专用集群 {value!r} 不存在。")
INSTANCE_FAMILY_UNKNOWN = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}`: {value!r} is not an instance family.",
    "参数 `{field}` 的取值 {value!r} 不是有效的实例机型系列。")

# --- what other areas ask of disks and their snapshots (snapshots, policies, rollback) ------------
DISK_CANNOT_SNAPSHOT = detail(
    e.INVALID_DISK_NOT_SUPPORT_SNAPSHOT,
    "The disk {disk_id} cannot take snapshots (a shareable disk, or flagged so).",
    "云硬盘 {disk_id} 不支持快照（共享云硬盘，或已被标记为不支持）。")
DATA_DISK_NO_SYSTEM_SNAPSHOT = detail(
    e.INVALID_DISK_TYPE_ERROR,
    "The disk {disk_id} is a data disk and cannot make a system-disk snapshot (`DiskUsage`).",
    "云硬盘 {disk_id} 是数据盘，不能创建系统盘快照（`DiskUsage`）。")
ENCRYPTED_DISK_NO_SNAPSHOT = detail(
    e.UNSUPPORTED_OPERATION_DISK_ENCRYPT,
    "Snapshots of the encrypted disk {disk_id} are not supported here.",
    "不支持为加密云硬盘 {disk_id} 创建快照。")
DISK_SNAPSHOTS_FULL = detail(
    e.INSUFFICIENT_SNAPSHOT_QUOTA, "The disk {disk_id} has {count} snapshots, its maximum.",
    "云硬盘 {disk_id} 已有 {count} 个快照，达到上限。")
SNAPSHOT_ROLLING_BACK = detail(
    e.RESOURCE_BUSY, "The snapshot {snapshot_id} is rolling a disk back.",
    "快照 {snapshot_id} 正在用于回滚云硬盘。")
SNAPSHOT_BEING_COPIED = detail(
    e.RESOURCE_BUSY, "The snapshot {snapshot_id} is being copied.", "快照 {snapshot_id} 正在复制中。")
SNAPSHOT_HAS_IMAGES = detail(
    e.UNSUPPORTED_OPERATION_SNAPSHOT_HAS_BINDED_IMAGE,
    "Custom images are built on the snapshot {snapshot_id}; delete them first or set "
    "`DeleteBindImages`.",
    "快照 {snapshot_id} 已关联自定义镜像，请先删除镜像或指定参数 `DeleteBindImages`。")
SNAPSHOT_ALREADY_COPYING_TO = detail(
    e.RESOURCE_IN_USE, "The snapshot {snapshot_id} is already being copied to {region}.",
    "快照 {snapshot_id} 正在复制到 {region}。")
DISK_IN_RECYCLE_BIN_NO_POLICY = detail(
    e.INVALID_DISK_NOT_SUPPORTED,
    "The disk {disk_id} is in the recycle bin and cannot be bound to a scheduled snapshot policy.",
    "云硬盘 {disk_id} 已在回收站中，不支持绑定定期快照策略。")
DISK_CANNOT_SNAPSHOT_NO_POLICY = detail(
    e.INVALID_DISK_NOT_SUPPORTED,
    "The disk {disk_id} cannot take snapshots and cannot be bound to a scheduled snapshot policy.",
    "云硬盘 {disk_id} 不支持快照，不能绑定定期快照策略。")
DISK_ALREADY_BOUND_TO_POLICY = detail(
    e.INVALID_DISK_ALREADY_BOUND, "The disk {disk_id} is already bound to {policy_id}.",
    "云硬盘 {disk_id} 已绑定定期快照策略 {policy_id}。")
DISK_POLICIES_FULL = detail(
    e.INVALID_DISK_ALREADY_BOUND,
    "The disk {disk_id} is already bound to {policy_ids}; unbind it first.",
    "云硬盘 {disk_id} 已绑定 {policy_ids}，请先解绑。")
