"""The contract of the snapshot and automatic-snapshot-policy actions (tccli api.json), and their
response objects with exactly the fields of the official SDK models (cbs-behavior.md §4.2-4.4)."""

from __future__ import annotations

from typing import Literal

import orjson

from cbslocal.api import cbs_objects as objects
from cbslocal.api.schema import Bool, Request, RequiredList, UInt
from cbslocal.engine.clock import format_iso, format_time

SNAPSHOT_STATES = ("NORMAL", "CREATING", "ROLLBACKING", "COPYING_FROM_REMOTE", "CHECKING_COPIED",
                   "TORECYCLE")
OrderFieldName = Literal["CREATE_TIME", "CREATETIME"]


# --- snapshots -------------------------------------------------------------------------------------
class CreateSnapshotRequest(Request):
    DiskId: str | None = None
    SnapshotName: str | None = None
    Deadline: str | None = None
    DiskBackupId: str | None = None
    Tags: list[objects.Tag] | None = None
    LocalSnap: Bool | None = None
    DiskUsage: Literal["SYSTEM_DISK", "DATA_DISK"] | None = None


class DescribeSnapshotsRequest(Request):
    SnapshotIds: list[str] | None = None
    Filters: list[objects.Filter] | None = None
    Limit: UInt | None = None
    OrderField: OrderFieldName | None = None
    Offset: UInt | None = None
    Order: Literal["ASC", "DESC"] | None = None


class DeleteSnapshotsRequest(Request):
    SnapshotIds: RequiredList
    DeleteBindImages: Bool | None = None


class ApplySnapshotRequest(Request):
    SnapshotId: str
    DiskId: str
    AutoStopInstance: Bool | None = None
    AutoStartInstance: Bool | None = None


class ModifySnapshotAttributeRequest(Request):
    SnapshotId: str
    IsPermanent: Bool | None = None
    SnapshotName: str | None = None
    Deadline: str | None = None


class ModifySnapshotsSharePermissionRequest(Request):
    SnapshotIds: RequiredList
    AccountIds: RequiredList
    Permission: str


class DescribeSnapshotSharePermissionRequest(Request):
    SnapshotId: str


class CopySnapshotCrossRegionsRequest(Request):
    DestinationRegions: RequiredList
    SnapshotId: str | None = None
    SnapshotName: str | None = None


class NoParametersRequest(Request):
    pass


# --- automatic snapshot policies -------------------------------------------------------------------
class CreateAutoSnapshotPolicyRequest(Request):
    Policy: list[objects.Policy]
    DryRun: Bool | None = None
    IsActivated: Bool | None = None
    AutoSnapshotPolicyName: str | None = None
    IsPermanent: Bool | None = None
    RetentionDays: UInt | None = None


class DescribeAutoSnapshotPoliciesRequest(Request):
    AutoSnapshotPolicyIds: list[str] | None = None
    Filters: list[objects.Filter] | None = None
    Limit: UInt | None = None
    Offset: UInt | None = None
    Order: Literal["ASC", "DESC"] | None = None
    OrderField: OrderFieldName | None = None


class ModifyAutoSnapshotPolicyAttributeRequest(Request):
    AutoSnapshotPolicyId: str
    IsActivated: Bool | None = None
    IsPermanent: Bool | None = None
    AutoSnapshotPolicyName: str | None = None
    Policy: list[objects.Policy] | None = None
    RetentionDays: UInt | None = None


class DeleteAutoSnapshotPoliciesRequest(Request):
    AutoSnapshotPolicyIds: RequiredList


class BindAutoSnapshotPolicyRequest(Request):
    AutoSnapshotPolicyId: str
    DiskIds: list[str] | None = None


class UnbindAutoSnapshotPolicyRequest(Request):
    AutoSnapshotPolicyId: str
    DiskIds: list[str] | None = None
    InstanceIds: list[str] | None = None


class DescribeDiskAssociatedAutoSnapshotPolicyRequest(Request):
    DiskId: str


# --- responses -------------------------------------------------------------------------------------
def snapshot_json(snap, *, viewer: str, percent: int) -> dict:
    """The complete Snapshot object (24 fields of the SDK model), from a `snapshots` row, as the
    account `viewer` sees it (its own, or shared to it)."""
    return {
        "SnapshotId": snap.snapshot_id,
        "Placement": {"Zone": snap.zone, "CageId": "", "CdcId": "", "CdcName": "",
                      "ProjectId": snap.project_id, "ProjectName": ""},
        "CopyFromRemote": bool(snap.copy_from_remote),
        "SnapshotState": snap.snapshot_state,
        "IsPermanent": snap.deadline_at is None,
        "SnapshotName": snap.snapshot_name,
        "DeadlineTime": "" if snap.deadline_at is None else format_time(snap.deadline_at),
        "Percent": percent,
        "Images": orjson.Fragment(snap.images),
        "ShareReference": snap.share_reference,
        "SnapshotType": "PRIVATE_SNAPSHOT" if snap.account_id == viewer else "SHARED_SNAPSHOT",
        "DiskSize": snap.disk_size,
        "DiskId": snap.disk_id,
        "CopyingToRegions": orjson.Fragment(snap.copying_to_regions),
        "Encrypt": bool(snap.encrypt),
        "CreateTime": format_time(snap.created_at),
        "ImageCount": len(orjson.loads(snap.images)) if snap.images != "[]" else 0,
        "DiskUsage": snap.disk_usage,
        "TimeStartShare": "" if snap.time_start_share is None else format_time(snap.time_start_share)[:10],
        "Tags": orjson.Fragment(snap.tags),
        "IsLocked": False,
        "LatestModifyTime": format_iso(snap.modified_at),
        "AutoSnapshotPolicyId": snap.auto_snapshot_policy_id or "",
        "SnapshotMode": snap.snapshot_mode,
    }


def policy_json(policy, *, disk_ids: list[str], next_trigger: str) -> dict:
    """The complete AutoSnapshotPolicy object (18 fields of the SDK model)."""
    return {
        "AutoSnapshotPolicyId": policy.policy_id,
        "AutoSnapshotPolicyName": policy.policy_name,
        "AutoSnapshotPolicyState": policy.policy_state,
        "IsActivated": bool(policy.is_activated),
        "IsPermanent": bool(policy.is_permanent),
        "RetentionDays": 0 if policy.is_permanent else policy.retention_days,
        "RetentionMonths": 0,
        "RetentionAmount": 0,
        "AdvancedRetentionPolicy": None,
        "Policy": orjson.Fragment(policy.schedule),
        "NextTriggerTime": next_trigger,
        "CreateTime": format_time(policy.created_at),
        "DiskIdSet": disk_ids,
        "InstanceIdSet": [],
        "IsCopyToRemote": 0,
        "CopyToAccountUin": None,
        "CopyFromAccountUin": None,
        "Tags": [],
    }
