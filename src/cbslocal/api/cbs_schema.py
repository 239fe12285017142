"""The request models of the CBS disk actions cbslocal implements, narrowing the types of the
contract (api/contract/cbs.json: every action, generated from tccli's api.json) with exactly its
members, and the response objects with exactly the fields the official SDK models know.
"""

from __future__ import annotations

from typing import Literal

import orjson

from cbslocal.api import cbs_objects as objects
from cbslocal.api import messages as msg
from cbslocal.api.schema import Bool, Request, RequiredList, UInt, int_choice
from cbslocal.engine.clock import format_time

DiskTypeName = Literal["CLOUD_BASIC", "CLOUD_PREMIUM", "CLOUD_BSSD", "CLOUD_SSD", "CLOUD_HSSD",
                       "CLOUD_TSSD"]
ChargeType = Literal["PREPAID", "POSTPAID_BY_HOUR", "CDCPAID"]
DISK_STATES = ("UNATTACHED", "ATTACHING", "ATTACHED", "DETACHING", "EXPANDING", "ROLLBACKING",
               "TORECYCLE", "DUMPING")


# --- requests --------------------------------------------------------------------------------------
class CreateDisksRequest(Request):
    Placement: objects.Placement
    DiskChargeType: ChargeType
    DiskType: DiskTypeName
    DiskName: str | None = None
    Tags: list[objects.Tag] | None = None
    SnapshotId: str | None = None
    DiskCount: UInt | None = None
    ThroughputPerformance: UInt | None = None
    KmsKeyId: str | None = None
    DiskSize: UInt | None = None
    Shareable: Bool | None = None
    ClientToken: str | None = None
    Encrypt: Literal["ENCRYPT"] | None = None
    DiskChargePrepaid: objects.DiskChargePrepaid | None = None
    DeleteSnapshot: int_choice(0, 1) | None = None
    AutoMountConfiguration: objects.AutoMountConfiguration | None = None
    DiskBackupQuota: UInt | None = None
    BurstPerformance: Bool | None = None
    EncryptType: Literal["ENCRYPT_V1", "ENCRYPT_V2"] | None = None


class DescribeDisksRequest(Request):
    Filters: list[objects.Filter] | None = None
    Limit: UInt | None = None
    OrderField: Literal["CREATE_TIME", "CREATETIME", "DEADLINE"] | None = None
    Offset: UInt | None = None
    ReturnBindAutoSnapshotPolicy: Bool | None = None
    DiskIds: list[str] | None = None
    Order: Literal["ASC", "DESC"] | None = None


class AttachDisksRequest(Request):
    InstanceId: str
    DiskIds: RequiredList
    DeleteWithInstance: Bool | None = None
    AttachMode: Literal["PF", "VF"] | None = None


class DetachDisksRequest(Request):
    DiskIds: RequiredList
    InstanceId: str | None = None


class TerminateDisksRequest(Request):
    DiskIds: RequiredList
    DeleteSnapshot: int_choice(0, 1) | None = None


class ModifyDiskAttributesRequest(Request):
    DiskIds: RequiredList
    DiskName: str | None = None
    Portable: Bool | None = None
    ProjectId: UInt | None = None
    DeleteWithInstance: Bool | None = None
    DiskType: str | None = None
    BurstPerformanceOperation: Literal["CREATE", "CANCEL"] | None = None


class ResizeDiskRequest(Request):
    DiskSize: UInt
    DiskId: str | None = None


class InitializeDisksRequest(Request):
    DiskIds: RequiredList


class DescribeInstancesDiskNumRequest(Request):
    InstanceIds: RequiredList


class DescribeDiskConfigQuotaRequest(Request):
    InquiryType: Literal["INQUIRY_CBS_CONFIG", "INQUIRY_CVM_CONFIG"]
    DiskChargeType: Literal["PREPAID", "POSTPAID_BY_HOUR"] | None = None
    InstanceFamilies: list[str] | None = None
    DiskTypes: list[DiskTypeName] | None = None
    Zones: list[str] | None = None
    Memory: UInt | None = None
    DiskUsage: Literal["SYSTEM_DISK", "DATA_DISK"] | None = None
    CPU: UInt | None = None
    DedicatedClusterId: str | None = None


class ModifyDisksRenewFlagRequest(Request):
    DiskIds: RequiredList
    RenewFlag: objects.RenewFlagName
    AutoRenewPeriod: UInt | None = None


class InquiryPriceRenewDisksRequest(Request):
    DiskIds: RequiredList
    DiskChargePrepaids: list[objects.DiskChargePrepaid] | None = None
    NewDeadline: str | None = None
    ProjectId: UInt | None = None


class InquiryPriceResizeDiskRequest(Request):
    DiskSize: UInt
    DiskId: str | None = None
    DiskIds: list[str] | None = None
    ProjectId: UInt | None = None


class ModifyDisksChargeTypeRequest(Request):
    DiskIds: RequiredList
    DiskChargePrepaid: objects.DiskChargePrepaid | None = None
    DiskChargePostpaid: Bool | None = None


class ModifyDiskExtraPerformanceRequest(Request):
    DiskId: str
    ThroughputPerformance: UInt


class InquirePriceModifyDiskExtraPerformanceRequest(ModifyDiskExtraPerformanceRequest):
    pass


class RenewDiskRequest(Request):
    DiskChargePrepaid: objects.DiskChargePrepaid
    DiskId: str


class InquiryPriceCreateDisksRequest(Request):
    DiskChargeType: Literal["PREPAID", "POSTPAID_BY_HOUR"]
    DiskType: DiskTypeName
    DiskSize: UInt
    ProjectId: UInt | None = None
    DiskCount: UInt | None = None
    ThroughputPerformance: UInt | None = None
    DiskChargePrepaid: objects.DiskChargePrepaid | None = None
    DiskBackupQuota: UInt | None = None


# --- responses -----------------------------------------------------------------------------------
def disk_json(disk, *, now: float, language: str, policy_ids: list[str] | None) -> dict:
    """The complete Disk object (44 fields of the SDK model), from a `disks` row."""
    prepaid = disk.charge_type == "PREPAID"
    return_fail_code = refund_refusal(disk)
    migrating = disk.migrate_to is not None
    rollbacking = disk.disk_state == "ROLLBACKING"
    return {
        "DiskId": disk.disk_id,
        "DiskUsage": disk.disk_usage,
        "DiskChargeType": disk.charge_type,
        "Portable": bool(disk.portable),
        "Placement": {
            "Zone": disk.zone, "CageId": "", "CdcId": "", "CdcName": "",
            "DedicatedClusterId": None, "ProjectId": disk.project_id,
            "ProjectName": msg.DEFAULT_PROJECT_NAME.get(language, "") if disk.project_id == 0 else "",
        },
        "SnapshotAbility": bool(disk.snapshot_ability),
        "DiskName": disk.disk_name,
        "DiskSize": disk.disk_size,
        "DiskState": disk.disk_state,
        "DiskType": disk.disk_type,
        "Attached": disk.instance_ids != "[]",
        "InstanceId": disk.instance_id,
        "InstanceIdList": orjson.Fragment(disk.instance_ids),
        "InstanceType": disk.instance_type,
        "LastAttachInsId": disk.last_attach_ins_id,
        "AttachMode": disk.attach_mode,
        "CreateTime": format_time(disk.created_at),
        "DeadlineTime": format_time(disk.deadline_at) if prepaid else "",
        "DifferDaysOfDeadline": (int((disk.deadline_at - now) // 86400)
                                 if prepaid and disk.deadline_at is not None else None),
        "RenewFlag": disk.renew_flag if prepaid else "",
        "AutoRenewFlagError": False,
        "DeadlineError": False,
        "IsReturnable": return_fail_code == 0,
        "ReturnFailCode": return_fail_code,
        "Rollbacking": rollbacking,
        # 0 before any rollback, running during one, 100 after (cbs-behavior.md §4.1).
        "RollbackPercent": (progress(disk.op_started_at, disk.op_due_at, now) if rollbacking
                            else 100 if disk.rolled_back else 0),
        "Migrating": migrating,
        "MigratePercent": progress(disk.op_started_at, disk.op_due_at, now) if migrating else 0,
        "Encrypt": bool(disk.encrypt),
        "EncryptType": disk.encrypt_type,
        "KmsKeyId": disk.kms_key_id,
        "Shareable": bool(disk.shareable),
        "SnapshotCount": disk.snapshot_count,
        "SnapshotSize": disk.snapshot_size,
        "AutoSnapshotPolicyIds": policy_ids,
        "DeleteWithInstance": bool(disk.delete_with_instance),
        "DeleteSnapshot": disk.delete_snapshot,
        "BackupDisk": False,
        "ThroughputPerformance": disk.throughput_performance,
        "BurstPerformance": bool(disk.burst_performance),
        "DiskBackupQuota": disk.disk_backup_quota,
        "DiskBackupCount": 0,
        "ErrorPrompt": disk.error_prompt,
        "Tags": orjson.Fragment(disk.tags),  # stored as the API shows it
    }


def disk_json_timeless(disk) -> bool:
    """disk_json gives the same object whatever `now` is: no day count to a deadline, no
    percentage running (so its JSON may be kept: api/rendered.py)."""
    return not ((disk.charge_type == "PREPAID" and disk.deadline_at is not None)
                or disk.disk_state == "ROLLBACKING" or disk.migrate_to is not None)


# Why a disk cannot be returned (Disk.ReturnFailCode, cbs-behavior.md §6.9); 0: it can.
RETURN_OK, RETURN_REFUNDED, RETURN_EXPIRED, RETURN_NOT_SUPPORTED, RETURN_NOT_ELASTIC = 0, 1, 2, 3, 10


def refund_refusal(disk) -> int:
    if disk.charge_type != "PREPAID" or not disk.portable or disk.disk_usage != "DATA_DISK":
        return RETURN_NOT_ELASTIC
    if disk.recycle_reason == "EXPIRED":
        return RETURN_EXPIRED
    if disk.recycle_reason == "RETURNED" or disk.refunded_before:
        return RETURN_REFUNDED
    if not disk.returnable:
        return RETURN_NOT_SUPPORTED
    return RETURN_OK


def progress(started_at: float | None, due_at: float | None, now: float) -> int:
    """How far (0-100) an operation running from `started_at` to `due_at` has come at `now`."""
    if started_at is None or due_at is None or due_at <= started_at:
        return 100
    return max(0, min(100, int((now - started_at) * 100 // (due_at - started_at))))
