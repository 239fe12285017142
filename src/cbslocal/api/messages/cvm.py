"""Messages of the cvm area (see api/messages/__init__.py)."""

from __future__ import annotations

from cbslocal.api import errors as e
from cbslocal.api.errors import detail
from cbslocal.api.messages import common, disks, snapshots

# --- RunInstances --------------------------------------------------------------------------------
LAUNCH_TEMPLATE_UNSUPPORTED = detail(
    e.UNSUPPORTED_OPERATION, "Launch templates (`LaunchTemplate`) are not supported by cbslocal.",
    "`cbslocal` 不支持启动模板（`LaunchTemplate`）。")
INSTANCE_ZONE_NOT_IN_REGION = disks.ZONE_NOT_IN_REGION.under(e.CVM_INVALID_ZONE_MISMATCH_REGION)
INSTANCE_TYPE_NOT_SOLD = detail(
    e.CVM_INSTANCE_TYPE_NOT_FOUND, "The instance type {instance_type!r} is not on sale.",
    "机型 {instance_type!r} 不在售卖范围内。")
INSTANCE_NAME_TOO_LONG = detail(
    e.CVM_INSTANCE_NAME_TOO_LONG, "`InstanceName` must be at most {max} characters long.",
    "参数 `InstanceName` 的长度不能超过 {max} 个字符。")
INSTANCE_DISK_TYPE_UNKNOWN = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}`: {disk_type!r} is not a disk type.",
    "参数 `{field}` 的取值 {disk_type!r} 不是云硬盘类型。")
INSTANCE_DISK_TYPE_NOT_SOLD = detail(
    e.INVALID_PARAMETER_DISK_CONFIG_NOT_SUPPORTED,
    "`{field}`: {disk_type} disks are not sold with this instance type in {zone}.",
    "参数 `{field}`：可用区 {zone} 的该机型不支持 {disk_type} 类型的云硬盘。")
SYSTEM_DISK_SIZE_OUT_OF_RANGE = detail(
    e.INVALID_PARAMETER_VALUE,
    "`SystemDisk.DiskSize`: system disks are {min} to {max} GiB, in steps of {step} GiB.",
    "参数 `SystemDisk.DiskSize`：系统盘的大小为 {min} 到 {max} GiB，且须为 {step} GiB "
    "的整数倍。")
DATA_DISKS_PER_INSTANCE = detail(
    e.INVALID_PARAMETER_VALUE_LIMIT_EXCEEDED, "At most {max} `DataDisks` per instance.",
    "每个实例最多 {max} 块数据盘（`DataDisks`）。")
DATA_DISK_SIZE_OUT_OF_RANGE = detail(
    e.INVALID_PARAMETER_VALUE,
    "`{field}`: {disk_type} disks are {min} to {max} GiB, in steps of {step} GiB.",
    "参数 `{field}`：{disk_type} 云硬盘的大小为 {min} 到 {max} GiB，且须为 {step} GiB "
    "的整数倍。")
DATA_DISK_SOURCE_UNSUPPORTED = detail(
    e.INVALID_PARAMETER_VALUE,
    "`{field}`: cbslocal cannot make a data disk from a snapshot (`SnapshotId`) or take an "
    "existing disk (`DiskId`) yet.",
    "参数 `{field}`：`cbslocal` 暂不支持由快照（`SnapshotId`）创建数据盘，也不支持使用已有云硬盘（`DiskId`）。")

# --- instances: IDs, states ----------------------------------------------------------------------
INSTANCE_ID_MALFORMED = detail(
    e.CVM_INVALID_INSTANCE_ID_MALFORMED, "{instance_id!r} is not a well-formed instance ID.",
    "{instance_id!r} 不是格式正确的实例 ID。")
# The instance is in a state the action does not take, per state (one code each).
INSTANCE_STATE_REFUSALS = {state: detail(
    code, "The instance {instance_id} is {state}.", "实例 {instance_id} 处于 {state} 状态。")
    for state, code in e.CVM_INSTANCE_STATE_CODES.items()}
INSTANCE_TERMINATION_PROTECTED = detail(
    e.UNSUPPORTED_OPERATION,
    "The instance {instance_id} has termination protection (`DisableApiTermination`).",
    "实例 {instance_id} 开启了销毁保护（`DisableApiTermination`）。")

# --- DescribeInstances ---------------------------------------------------------------------------
INSTANCE_FILTER_PROJECT_IDS = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}` must be project IDs.", "参数 `{field}` 的取值应为项目 ID。")

# --- images --------------------------------------------------------------------------------------
IMAGE_ID_MALFORMED = detail(
    e.CVM_INVALID_IMAGE_ID_MALFORMED, "{image_id!r} is not a well-formed image ID.",
    "{image_id!r} 不是格式正确的镜像 ID。")
IMAGE_NOT_FOUND = detail(
    e.CVM_INVALID_IMAGE_ID_NOT_FOUND, "The image {image_id} does not exist.", "镜像 {image_id} 不存在。")
IMAGE_IS_PUBLIC = detail(
    e.CVM_IMAGE_NOT_BELONG_TO_ACCOUNT, "The image {image_id} is a public image.",
    "镜像 {image_id} 是公共镜像。")
IMAGE_STATE_INCORRECT = detail(
    e.CVM_INVALID_IMAGE_ID_INCORRECT_STATE, "The image {image_id} is {state}.",
    "镜像 {image_id} 处于 {state} 状态。")
IMAGE_NAME_TAKEN = detail(
    e.CVM_INVALID_IMAGE_NAME_DUPLICATE, "An image named {image_name!r} already exists.",
    "已存在名为 {image_name!r} 的镜像。")
IMAGE_SOURCES_EXCLUSIVE = common.PARAMETERS_EXCLUSIVE.under(e.INVALID_PARAMETER_VALUE)
IMAGE_SNAPSHOT_ID_MALFORMED = detail(
    e.CVM_SNAPSHOT_ID_MALFORMED, "{snapshot_id!r} is not a well-formed snapshot ID.",
    "{snapshot_id!r} 不是格式正确的快照 ID。")
IMAGE_SNAPSHOT_NOT_FOUND = snapshots.SNAPSHOT_NOT_FOUND.under(e.CVM_SNAPSHOT_NOT_FOUND)
IMAGE_SNAPSHOT_NOT_READY = detail(
    e.CVM_SNAPSHOT_CREATING, "The snapshot {snapshot_id} is {state}.",
    "快照 {snapshot_id} 处于 {state} 状态。")
IMAGE_DATA_DISK_NOT_OF_INSTANCE = detail(
    e.INVALID_PARAMETER_VALUE, "`{field}`: {disk_id} is not a data disk of {instance_id}.",
    "参数 `{field}`：云硬盘 {disk_id} 不是实例 {instance_id} 的数据盘。")
