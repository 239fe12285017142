"""CBS objects shared by several requests (tccli api.json), kept apart from the requests because
their fields are named like the objects themselves (`Placement: objects.Placement`)."""

from __future__ import annotations

from typing import Literal

from cbslocal.api.schema import Request, UInt

RenewFlagName = Literal["NOTIFY_AND_AUTO_RENEW", "NOTIFY_AND_MANUAL_RENEW",
                    "DISABLE_NOTIFY_AND_MANUAL_RENEW"]


class Placement(Request):
    Zone: str
    CageId: str | None = None
    CdcId: str | None = None
    CdcName: str | None = None
    DedicatedClusterId: str | None = None
    ProjectId: UInt | None = None
    ProjectName: str | None = None


class Tag(Request):
    Key: str
    Value: str


class Filter(Request):
    Name: str
    Values: list[str]


class DiskChargePrepaid(Request):
    Period: UInt
    RenewFlag: RenewFlagName | None = None
    CurInstanceDeadline: str | None = None


class AutoMountConfiguration(Request):
    InstanceId: list[str]
    MountPoint: list[str] | None = None
    FileSystemType: Literal["ext4", "xfs"] | None = None


class Policy(Request):
    """An automatic snapshot policy's schedule: Hour, and one of DayOfWeek, DayOfMonth,
    IntervalDays."""
    Hour: list[UInt]
    DayOfWeek: list[UInt] | None = None
    DayOfMonth: list[UInt] | None = None
    IntervalDays: UInt | None = None
