"""The CBS 2017-03-12 contract: its actions, request models with the exact Tencent field names
(tccli's api.json), and the response objects with exactly the fields the official SDK models know.
"""

from __future__ import annotations

from typing import Literal

import orjson

from cbslocal.api import cbs_objects as objects
from cbslocal.api.schema import Bool, Request, UInt, int_choice
from cbslocal.engine.clock import format_time

CBS_VERSION = "2017-03-12"

# All 61 actions of CBS 2017-03-12 (tccli api.json).
CBS_ACTIONS = frozenset("""
ApplyDiskBackup ApplySnapshot ApplySnapshotGroup AttachDisks AttachRemoteDisks BindAutoSnapshotPolicy
CopyAutoSnapshotPolicyCrossAccount CopySnapshotCrossRegions CreateAutoSnapshotPolicy CreateDiskBackup
CreateDisks CreateRemoteDisks CreateSnapshot CreateSnapshotGroup DeleteAutoSnapshotPolicies
DeleteDiskBackups DeleteSnapshotGroup DeleteSnapshots DescribeAutoSnapshotPolicies
DescribeDedicatedClusterDiskStatistics DescribeDiskAssociatedAutoSnapshotPolicy DescribeDiskBackups
DescribeDiskConfigQuota DescribeDiskStoragePool DescribeDisks DescribeInstancesDiskNum
DescribeRemoteDiskConfigQuota DescribeRemoteDisks DescribeRemoteDisksDeniedActions
DescribeSnapshotGroups DescribeSnapshotOverview DescribeSnapshotSharePermission DescribeSnapshots
DetachDisks DetachRemoteDisks GetSnapOverview InitializeDisks InquirePriceCreateRemoteDisks
InquirePriceModifyDiskBackupQuota InquirePriceModifyDiskExtraPerformance InquirePriceRenewRemoteDisks
InquiryPriceCreateDisks InquiryPriceRenewDisks InquiryPriceResizeDisk ModifyAutoSnapshotPolicyAttribute
ModifyDiskAttributes ModifyDiskBackupQuota ModifyDiskExtraPerformance ModifyDisksChargeType
ModifyDisksRenewFlag ModifyRemoteDiskAttributes ModifySnapshotAttribute ModifySnapshotsSharePermission
RenewDisk RenewRemoteDisk ResizeDisk SwitchParameterCreateRemoteDisks SwitchParameterRenewRemoteDisks
TerminateDisks TerminateRemoteDisks UnbindAutoSnapshotPolicy
""".split())

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


# --- responses -----------------------------------------------------------------------------------
_PROJECT_NAMES = {"zh-CN": "默认项目", "en-US": "Default Project"}


def disk_json(disk, *, now: float, language: str, policy_ids: list[str] | None) -> dict:
    """The complete Disk object (44 fields of the SDK model), from a `disks` row."""
    prepaid = disk.charge_type == "PREPAID"
    elastic_data = bool(disk.portable) and disk.disk_usage == "DATA_DISK"
    attached_ids = [disk.instance_id] if disk.instance_id else []
    return {
        "DiskId": disk.disk_id,
        "DiskUsage": disk.disk_usage,
        "DiskChargeType": disk.charge_type,
        "Portable": bool(disk.portable),
        "Placement": {
            "Zone": disk.zone, "CageId": "", "CdcId": "", "CdcName": "",
            "DedicatedClusterId": None, "ProjectId": disk.project_id,
            "ProjectName": _PROJECT_NAMES.get(language, "") if disk.project_id == 0 else "",
        },
        "SnapshotAbility": bool(disk.snapshot_ability),
        "DiskName": disk.disk_name,
        "DiskSize": disk.disk_size,
        "DiskState": disk.disk_state,
        "DiskType": disk.disk_type,
        "Attached": bool(disk.instance_id),
        "InstanceId": disk.instance_id,
        "InstanceIdList": attached_ids,
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
        "IsReturnable": prepaid and elastic_data,
        "ReturnFailCode": 0 if prepaid and elastic_data else 10,
        "Rollbacking": False,
        "RollbackPercent": 0,
        "Migrating": False,
        "MigratePercent": 0,
        "Encrypt": bool(disk.encrypt),
        "EncryptType": disk.encrypt_type,
        "KmsKeyId": disk.kms_key_id,
        "Shareable": bool(disk.shareable),
        "SnapshotCount": 0,
        "SnapshotSize": 0,
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
