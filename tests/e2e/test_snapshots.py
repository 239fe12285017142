"""Snapshots through the official Python SDKs against a real server: CreateSnapshot,
DescribeSnapshots, DeleteSnapshots, ApplySnapshot, ModifySnapshotAttribute, sharing between two
accounts, cross-region copies, the overview, disks made from snapshots, TerminateDisks'
DeleteSnapshot and custom images built on snapshots — each refusal with its exact code
(cbs-behavior.md §3.16-3.24, §4.2, §5.2, §6.5, §6.8, §7).

Two servers: the session's shared instant server (`world`) for tests that only touch their own
resources, and this module's realistic server (`lab`), reset before every test, its clock frozen
so that a state seen mid-flight is seen exactly and time moves only when a test advances it; a
test that changes the configuration does it there (the reset takes the change back).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from tencentcloud.cbs.v20170312 import cbs_client as cbs_sdk
from tencentcloud.cbs.v20170312 import models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models as cvm_models

from tests.e2e.server import (DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, REGION, Server,
                              client_profile, credential)
from tests.e2e.test_lifecycle import OTHER_ZONE, ZONE, World, _wait, code_of, request

DEFAULT_ACCOUNT = "100000000001"
OTHER_REGION, OTHER_REGION_ZONE = "ap-shanghai", "ap-shanghai-2"
CHINA = timezone(timedelta(hours=8))
DAY = 86400
UNNAMED = "未命名"  # the SDK speaks zh-CN unless told otherwise
PROJECT = 1001  # a project the lab adds to the configuration
# Realistic durations (GET /_cbslocal/timing), in seconds.
SNAPSHOT_CREATE, SNAPSHOT_ROLLBACK, SNAPSHOT_COPY, SNAPSHOT_CHECK = 3.0, 3.0, 4.0, 1.0
DISK_CREATE, DISK_ATTACH, DISK_RESIZE = 2.0, 1.5, 2.0
INSTANCE_LAUNCH, INSTANCE_STOP, INSTANCE_START = 3.0, 1.5, 1.5


class SnapWorld(World):
    """World with snapshot helpers and the operator's controls. On the lab (clock frozen) the
    helpers that wait for a move advance the clock by that move's duration first."""

    def __init__(self, server: Server, secret_id: str = DEFAULT_SECRET_ID,
                 secret_key: str = DEFAULT_SECRET_KEY, region: str = REGION, frozen: bool = False):
        super().__init__(server)
        self.frozen = frozen
        self.region = region
        self.secret_id, self.secret_key = secret_id, secret_key
        self.cbs = cbs_sdk.CbsClient(credential(secret_id, secret_key), region, client_profile(server))
        from tencentcloud.cvm.v20170312 import cvm_client as cvm_sdk
        self.cvm = cvm_sdk.CvmClient(credential(secret_id, secret_key), region, client_profile(server))

    def as_account(self, secret_id: str, secret_key: str) -> "SnapWorld":
        return SnapWorld(self.server, secret_id, secret_key, self.region, self.frozen)

    def in_region(self, region: str) -> "SnapWorld":
        """The same account's clients for another region (the SDK takes the region per client)."""
        return SnapWorld(self.server, self.secret_id, self.secret_key, region, self.frozen)

    # --- the operator's controls ------------------------------------------------------------------
    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = self.server.control(method, path, body)
        assert answer.ok, (path, body, answer.text)
        return answer.json()

    def advance(self, seconds: float) -> dict:
        return self.control("POST", "/clock", {"advance": seconds})

    def pass_time(self, seconds: float) -> None:
        """Let a move of `seconds` complete: advance the frozen clock (instant timing: nothing)."""
        if self.frozen and self.realistic:
            self.advance(seconds)

    def now(self) -> float:
        return self.control("GET", "/clock")["now"]

    def limits(self, **limits) -> None:
        self.control("POST", "/config", {"limits": limits})

    def new_account(self, name: str) -> tuple[str, "SnapWorld"]:
        account = self.control("POST", "/accounts", {"name": name})
        return account["AccountId"], self.as_account(account["SecretId"], account["SecretKey"])

    def deadline(self, seconds_from_now: float) -> tuple[str, float]:
        """An ISO-8601 UTC Deadline that many seconds after the emulator's now, and its epoch."""
        at = float(int(self.now() + seconds_from_now))
        return datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="seconds"), at

    # --- instances and disks on a frozen clock ----------------------------------------------------
    def run(self, zone: str = ZONE, count: int = 1, wait: bool = True, **fields) -> list[str]:
        instance_ids = super().run(zone, count, wait=False, **fields)
        if wait:
            self.pass_time(INSTANCE_LAUNCH)
            for instance_id in instance_ids:
                self.wait_instance(instance_id, "RUNNING")
        return instance_ids

    def create(self, zone: str = ZONE, wait: bool = True, **fields) -> str:
        """A disk; from a snapshot (SnapshotId) its size is the snapshot's unless DiskSize says."""
        if "SnapshotId" in fields and fields.get("DiskSize") is None:
            body = {"Placement": {"Zone": zone}, "DiskChargeType": "POSTPAID_BY_HOUR",
                    "DiskType": "CLOUD_PREMIUM"}
            body.update({k: v for k, v in fields.items() if k != "DiskSize"})
            disk_id = self.cbs.CreateDisks(request(models.CreateDisksRequest, **body)).DiskIdSet[0]
        else:
            disk_id = super().create(zone, wait=False, **fields)
        if wait:
            self.pass_time(DISK_CREATE)
            _wait(lambda: self.disk(disk_id), lambda d: d is not None, f"{disk_id} to be listed")
        return disk_id

    def attach(self, instance_id: str, *disk_ids: str, **fields) -> None:
        self.cbs.AttachDisks(request(models.AttachDisksRequest, InstanceId=instance_id,
                                     DiskIds=list(disk_ids), **fields))
        self.pass_time(DISK_ATTACH)
        for disk_id in disk_ids:
            self.wait_disk(disk_id, "ATTACHED")

    def system_disk(self, instance_id: str) -> str:
        return self.system_and_data_disks(instance_id)[0]

    # --- snapshots --------------------------------------------------------------------------------
    def snapshot(self, disk_id: str, wait: bool = True, **fields) -> str:
        snapshot_id = self.cbs.CreateSnapshot(request(models.CreateSnapshotRequest, DiskId=disk_id,
                                                      **fields)).SnapshotId
        if wait:
            self.pass_time(SNAPSHOT_CREATE)
            self.wait_snapshot(snapshot_id, "NORMAL")
        return snapshot_id

    def describe(self, **fields):
        return self.cbs.DescribeSnapshots(request(models.DescribeSnapshotsRequest, **fields))

    def snaps(self, **fields) -> list:
        return self.describe(**fields).SnapshotSet

    def ids(self, **fields) -> list[str]:
        return [s.SnapshotId for s in self.snaps(**fields)]

    def snap(self, snapshot_id: str):
        found = self.snaps(SnapshotIds=[snapshot_id])
        return found[0] if found else None

    def wait_snapshot(self, snapshot_id: str, state: str | None):
        return _wait(lambda: self.snap(snapshot_id),
                     lambda s: (s is None) if state is None else (s is not None and s.SnapshotState == state),
                     f"{snapshot_id} to be {state}")

    def delete(self, *snapshot_ids: str, **fields) -> None:
        self.cbs.DeleteSnapshots(request(models.DeleteSnapshotsRequest, SnapshotIds=list(snapshot_ids),
                                         **fields))

    def apply(self, snapshot_id: str, disk_id: str, **fields) -> None:
        self.cbs.ApplySnapshot(request(models.ApplySnapshotRequest, SnapshotId=snapshot_id,
                                       DiskId=disk_id, **fields))

    def modify(self, snapshot_id: str, **fields) -> None:
        self.cbs.ModifySnapshotAttribute(request(models.ModifySnapshotAttributeRequest,
                                                 SnapshotId=snapshot_id, **fields))

    def share(self, snapshot_ids: list[str], account_ids: list[str], permission: str = "SHARE") -> None:
        self.cbs.ModifySnapshotsSharePermission(request(
            models.ModifySnapshotsSharePermissionRequest, SnapshotIds=snapshot_ids,
            AccountIds=account_ids, Permission=permission))

    def shared_with(self, snapshot_id: str) -> list[str]:
        return [p.AccountId for p in self.cbs.DescribeSnapshotSharePermission(request(
            models.DescribeSnapshotSharePermissionRequest, SnapshotId=snapshot_id)).SharePermissionSet]

    def copy(self, snapshot_id: str | None, regions: list[str], **fields) -> list:
        body = {"DestinationRegions": regions, **fields}
        if snapshot_id is not None:
            body["SnapshotId"] = snapshot_id
        return self.cbs.CopySnapshotCrossRegions(request(
            models.CopySnapshotCrossRegionsRequest, **body)).SnapshotCopyResultSet


def china_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, CHINA).strftime("%Y-%m-%d %H:%M:%S")


def filtered(**filters) -> list[dict]:
    """DescribeSnapshots Filters from keyword arguments: snapshot_state=["NORMAL"] names the
    filter snapshot-state."""
    return [{"Name": name.replace("_", "-"), "Values": values} for name, values in filters.items()]


@pytest.fixture
def world(server):
    """The session's shared instant server."""
    return SnapWorld(server)


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("snapshots-lab") / "data", timing="realistic").start()
    yield srv
    srv.stop()
    assert "Traceback" not in srv.log_text()


@pytest.fixture
def lab(lab_server):
    """The module's realistic server as if fresh (POST /reset: no resources, no other accounts,
    the start-up configuration and timing), its clock frozen; one more project."""
    lab = SnapWorld(lab_server, frozen=True)
    lab.control("POST", "/reset")
    lab.control("POST", "/clock", {"mode": "frozen"})
    lab.control("POST", "/config", {"projects": {"ids": [0, PROJECT]}})
    return lab


# === CreateSnapshot ===============================================================================
def test_create_snapshot_progresses_on_the_clock(lab):
    disk_id = lab.create(DiskSize=50)
    snapshot_id = lab.snapshot(disk_id, wait=False)
    snap = lab.snap(snapshot_id)
    assert (snap.SnapshotState, snap.Percent, snap.DiskId, snap.DiskSize) == ("CREATING", 0, disk_id, 50)
    disk = lab.disk(disk_id)
    assert (disk.SnapshotCount, disk.SnapshotSize) == (1, 0)  # counted at once, sized when done
    lab.advance(SNAPSHOT_CREATE / 2)
    halfway = lab.snap(snapshot_id)
    assert halfway.SnapshotState == "CREATING" and 40 <= halfway.Percent <= 60, halfway.Percent
    lab.advance(SNAPSHOT_CREATE / 2)
    snap = lab.snap(snapshot_id)
    assert (snap.SnapshotState, snap.Percent) == ("NORMAL", 100)
    disk = lab.disk(disk_id)
    assert (disk.SnapshotCount, disk.SnapshotSize) == (1, 50 * 1024)
    lab.advance(60)
    assert lab.snap(snapshot_id).Percent == 100  # stays 100


def test_create_snapshot_fields(world):
    disk_id = world.create(DiskSize=30, DiskType="CLOUD_SSD")
    snapshot_id = world.snapshot(disk_id)
    snap = world.snap(snapshot_id)
    assert snap.SnapshotId.startswith("snap-") and len(snap.SnapshotId) == 13
    assert (snap.SnapshotName, snap.SnapshotState, snap.Percent) == (UNNAMED, "NORMAL", 100)
    assert (snap.DiskId, snap.DiskSize, snap.DiskUsage, snap.Encrypt) == (disk_id, 30, "DATA_DISK", False)
    assert (snap.Placement.Zone, snap.Placement.ProjectId) == (ZONE, 0)
    assert (snap.IsPermanent, snap.DeadlineTime) == (True, "")
    assert (snap.SnapshotType, snap.SnapshotMode) == ("PRIVATE_SNAPSHOT", "STANDARD_SNAPSHOT")
    assert (snap.CopyFromRemote, snap.CopyingToRegions) == (False, [])
    assert (snap.ShareReference, snap.Images, snap.ImageCount) == (0, [], 0)
    datetime.strptime(snap.CreateTime, "%Y-%m-%d %H:%M:%S")
    named = world.snapshot(disk_id, SnapshotName="nightly", Tags=[{"Key": "env", "Value": "prod"}],
                           LocalSnap=False, DiskUsage="DATA_DISK")
    snap = world.snap(named)
    assert snap.SnapshotName == "nightly"
    assert [(t.Key, t.Value) for t in snap.Tags] == [("env", "prod")]
    disk = world.disk(disk_id)
    assert (disk.SnapshotCount, disk.SnapshotSize) == (2, 2 * 30 * 1024)


def test_create_snapshot_with_a_deadline(lab):
    disk_id = lab.create()
    too_soon, _ = lab.deadline(DAY - 60)
    # ... nor past a date the API could show (it once answered InternalError).
    for deadline in (too_soon, "tomorrow", "2020-01-01T00:00:00+00:00",
                     "9999-12-31T23:59:59+00:00"):
        assert code_of(lab.snapshot, disk_id, Deadline=deadline) == "InvalidParameterValue", deadline
    deadline, at = lab.deadline(2 * DAY)
    snapshot_id = lab.snapshot(disk_id, Deadline=deadline)
    snap = lab.snap(snapshot_id)
    assert (snap.IsPermanent, snap.DeadlineTime) == (False, china_time(at))
    keeper = lab.snapshot(disk_id)
    assert lab.disk(disk_id).SnapshotCount == 2
    lab.advance(2 * DAY - 120)
    assert lab.snap(snapshot_id) is not None  # not yet
    lab.advance(240)
    assert lab.snap(snapshot_id) is None  # gone once the clock passed the deadline
    assert lab.snap(keeper) is not None
    disk = lab.disk(disk_id)
    assert (disk.SnapshotCount, disk.SnapshotSize) == (1, 50 * 1024)


def test_create_snapshot_refusals(world):
    disk_id = world.create()
    shareable = world.create(Shareable=True)
    flagged = world.create()
    world.control("POST", f"/disks/{flagged}", {"snapshot_ability": False})
    assert world.disk(flagged).SnapshotAbility is False and world.disk(shareable).SnapshotAbility is False
    recycled = world.create(DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 1})
    world.cbs.TerminateDisks(request(models.TerminateDisksRequest, DiskIds=[recycled]))
    assert world.disk(recycled).DiskState == "TORECYCLE"
    create = world.cbs.CreateSnapshot
    cases = [
        ({}, "MissingParameter"),
        ({"SnapshotName": "x"}, "MissingParameter"),
        ({"DiskId": disk_id, "SnapshotName": "x" * 61}, "InvalidParameterValue"),
        ({"DiskId": disk_id, "DiskUsage": "BOOT_DISK"}, "InvalidParameterValue"),
        ({"DiskId": "disk-00000000"}, "InvalidDiskId.NotFound"),
        ({"DiskId": shareable}, "InvalidDisk.NotSupportSnapshot"),
        ({"DiskId": flagged}, "InvalidDisk.NotSupportSnapshot"),
        ({"DiskId": disk_id, "DiskUsage": "SYSTEM_DISK"}, "InvalidDisk.TypeError"),
        ({"DiskId": recycled}, "InvalidDisk.NotSupported"),
        ({"DiskId": disk_id, "LocalSnap": True}, "UnsupportedOperation"),
        # the order of §3.16: values before the disk, SnapshotAbility before DiskUsage
        ({"DiskId": "disk-00000000", "Deadline": "soon"}, "InvalidParameterValue"),
        ({"DiskId": shareable, "DiskUsage": "SYSTEM_DISK"}, "InvalidDisk.NotSupportSnapshot"),
        ({"DiskId": recycled, "LocalSnap": True}, "InvalidDisk.NotSupported"),
    ]
    for fields, code in cases:
        assert code_of(create, request(models.CreateSnapshotRequest, **fields)) == code, fields
    assert world.snapshot(disk_id, SnapshotName="x" * 60)  # 60 characters are fine
    assert world.disk(disk_id).SnapshotCount == 1
    assert world.disk(shareable).SnapshotCount == 0 and world.disk(flagged).SnapshotCount == 0


def test_system_disk_snapshots(world):
    ins = world.run()[0]
    system = world.system_disk(ins)
    own = world.snap(world.snapshot(system))
    assert (own.DiskId, own.DiskUsage) == (system, "SYSTEM_DISK")
    as_data = world.snap(world.snapshot(system, DiskUsage="DATA_DISK"))  # §3.16: the override
    assert as_data.DiskUsage == "DATA_DISK"


def test_second_snapshot_while_the_first_is_creating(lab):
    disk_id = lab.create()
    done = lab.snapshot(disk_id)
    creating = lab.snapshot(disk_id, wait=False)
    assert code_of(lab.snapshot, disk_id, wait=False) == "InvalidDisk.SnapshotCreating"
    assert code_of(lab.apply, done, disk_id) == "InvalidDisk.SnapshotCreating"
    # the snapshot itself cannot be used before it is NORMAL
    assert code_of(lab.delete, creating) == "InvalidSnapshot.NotSupported"
    assert code_of(lab.modify, creating, SnapshotName="x") == "InvalidSnapshot.NotSupported"
    assert code_of(lab.share, [creating], ["100000000002"]) == "InvalidSnapshot.NotSupported"
    assert code_of(lab.copy, creating, [OTHER_REGION]) == "InvalidSnapshot.NotSupported"
    assert code_of(lab.create, wait=False, SnapshotId=creating) == "InvalidSnapshot.NotSupported"
    assert lab.disk(disk_id).SnapshotCount == 2
    lab.advance(SNAPSHOT_CREATE)
    assert lab.snap(creating).SnapshotState == "NORMAL"
    lab.snapshot(disk_id)  # and now a third one can start


def test_create_snapshot_of_a_busy_disk(lab):
    disk_id = lab.create(DiskSize=50)
    snapshot_id = lab.snapshot(disk_id)
    lab.cbs.ResizeDisk(request(models.ResizeDiskRequest, DiskId=disk_id, DiskSize=100))
    assert lab.disk(disk_id).DiskState == "EXPANDING"
    assert code_of(lab.snapshot, disk_id, wait=False) == "InvalidDisk.Busy"
    assert code_of(lab.apply, snapshot_id, disk_id) == "InvalidDisk.Busy"
    lab.advance(DISK_RESIZE)
    lab.wait_disk(disk_id, "UNATTACHED", DiskSize=100)
    lab.apply(snapshot_id, disk_id)  # a 50 GiB snapshot onto its own disk, now 100 GiB
    assert lab.disk(disk_id).DiskState == "ROLLBACKING"
    assert code_of(lab.snapshot, disk_id, wait=False) == "ResourceInUse"
    lab.advance(SNAPSHOT_ROLLBACK)
    lab.snapshot(disk_id)


def test_create_snapshot_of_an_encrypted_disk(lab):
    encrypted = lab.create(Encrypt="ENCRYPT")
    assert lab.disk(encrypted).Encrypt is True
    snap = lab.snap(lab.snapshot(encrypted))
    assert snap.Encrypt is True
    lab.snapshot(encrypted, wait=False)
    lab.limits(encrypted_snapshots=False)
    # §3.16: a snapshot being created (step 8) is named before the encryption (step 9)
    assert code_of(lab.snapshot, encrypted, wait=False) == "InvalidDisk.SnapshotCreating"
    lab.advance(SNAPSHOT_CREATE)
    assert code_of(lab.snapshot, encrypted, wait=False) == "UnsupportedOperation.DiskEncrypt"
    lab.snapshot(lab.create())  # plain disks are not concerned


def test_snapshots_per_disk_quota(lab):
    lab.limits(snapshots_per_disk=2)
    disk_id, other = lab.create(), lab.create()
    first = lab.snapshot(disk_id)
    lab.snapshot(disk_id)
    assert code_of(lab.snapshot, disk_id, wait=False) == "InsufficientSnapshotQuota"
    assert code_of(lab.snapshot, disk_id, wait=False, LocalSnap=True) == "InsufficientSnapshotQuota"
    assert lab.disk(disk_id).SnapshotCount == 2
    lab.snapshot(other)  # the quota is per disk
    lab.delete(first)
    lab.snapshot(disk_id)


def test_snapshots_per_region_quota(lab):
    lab.limits(snapshots_per_region=2)
    a, b = lab.create(), lab.create()
    lab.snapshot(a)
    lab.snapshot(b)
    assert code_of(lab.snapshot, a, wait=False) == "InsufficientSnapshotQuota"


def test_snapshot_capacity_quota(lab):
    lab.limits(snapshot_capacity_gib=120)
    big, small = lab.create(DiskSize=100), lab.create(DiskSize=20)
    lab.snapshot(big)
    assert code_of(lab.snapshot, big, wait=False) == "ResourceInsufficient.OverQuota"
    lab.snapshot(small)  # 100 + 20 fits exactly
    assert code_of(lab.snapshot, small, wait=False) == "ResourceInsufficient.OverQuota"


def test_too_many_creating_snapshots(lab):
    lab.limits(creating_snapshots_max=1)
    a, b = lab.create(), lab.create()
    lab.snapshot(a, wait=False)
    assert code_of(lab.snapshot, b, wait=False) == "ResourceUnavailable.TooManyCreatingSnapshot"
    lab.advance(SNAPSHOT_CREATE)
    lab.snapshot(b)


# === DescribeSnapshots ============================================================================
def test_describe_snapshots_filters(lab):
    ins = lab.run()
    system = lab.system_disk(ins[0])
    plain = lab.create(DiskSize=20)
    elsewhere = lab.create(zone=OTHER_ZONE, DiskSize=30)
    encrypted = lab.create(DiskSize=40, Encrypt="ENCRYPT")
    projected = lab.create(DiskSize=60, Placement={"Zone": ZONE, "ProjectId": PROJECT})
    s_system = lab.snapshot(system, SnapshotName="sys")
    s_plain = lab.snapshot(plain, SnapshotName="plain")
    s_elsewhere = lab.snapshot(elsewhere, SnapshotName="elsewhere")
    s_encrypted = lab.snapshot(encrypted, SnapshotName="secret")
    s_projected = lab.snapshot(projected, SnapshotName="project")
    s_creating = lab.snapshot(plain, wait=False, SnapshotName="plain")
    everything = {s_system, s_plain, s_elsewhere, s_encrypted, s_projected, s_creating}
    listed = lab.describe(Limit=100)
    assert listed.TotalCount == 6 and set(s.SnapshotId for s in listed.SnapshotSet) == everything
    assert lab.snap(s_projected).Placement.ProjectId == PROJECT
    assert lab.snap(s_elsewhere).Placement.Zone == OTHER_ZONE

    def found(**filters) -> set[str]:
        return set(lab.ids(Filters=filtered(**filters), Limit=100))

    assert found(snapshot_id=[s_plain, s_encrypted, "snap-00000000"]) == {s_plain, s_encrypted}
    assert found(snapshot_name=["plain"]) == {s_plain, s_creating}
    assert found(snapshot_name=["sys", "secret"]) == {s_system, s_encrypted}
    assert found(snapshot_state=["CREATING"]) == {s_creating}
    assert found(snapshot_state=["NORMAL"]) == everything - {s_creating}
    assert found(disk_usage=["SYSTEM_DISK"]) == {s_system}
    assert found(disk_usage=["DATA_DISK"]) == everything - {s_system}
    assert found(project_id=[str(PROJECT)]) == {s_projected}
    assert found(disk_id=[plain]) == {s_plain, s_creating}
    assert found(disk_id=[system, elsewhere]) == {s_system, s_elsewhere}
    assert found(zone=[OTHER_ZONE]) == {s_elsewhere}
    assert found(zone=[ZONE]) == everything - {s_elsewhere}
    assert found(encrypt=["TRUE"]) == {s_encrypted}
    assert found(encrypt=["FALSE"]) == everything - {s_encrypted}
    assert found(snapshot_type=["PRIVATE_SNAPSHOT"]) == everything
    assert found(snapshot_type=["SHARED_SNAPSHOT"]) == set()
    # AND between filters, OR between values
    assert found(disk_id=[plain, encrypted], snapshot_state=["NORMAL"]) == {s_plain, s_encrypted}
    assert found(zone=[ZONE], disk_usage=["DATA_DISK"], encrypt=["FALSE"]) == {
        s_plain, s_projected, s_creating}
    # SnapshotIds instead of filters; an unknown ID is simply no row
    assert set(lab.ids(SnapshotIds=[s_system, "snap-00000000"])) == {s_system}
    describe = lab.describe
    cases = [
        ({"Filters": filtered(color=["red"])}, "InvalidFilter"),
        ({"Filters": filtered(disk_id=[plain] * 11)}, "InvalidParameterValue"),
        ({"SnapshotIds": [s_plain], "Filters": filtered(zone=[ZONE])}, "InvalidParameterValue"),
        ({"Filters": filtered(snapshot_state=["BROKEN"])}, "InvalidParameterValue"),
        ({"Filters": filtered(snapshot_type=["MINE"])}, "InvalidParameterValue"),
        ({"Filters": filtered(zone=[])}, "InvalidParameterValue"),
        ({"SnapshotIds": ["snap-1"]}, "InvalidParameterValue"),
        ({"Limit": 101}, "InvalidParameterValue"),
        ({"Order": "UP"}, "InvalidParameterValue"),
        ({"OrderField": "SIZE"}, "InvalidParameterValue"),
    ]
    for fields, code in cases:
        assert code_of(describe, **fields) == code, fields
    assert found(disk_id=[plain] * 10) == {s_plain, s_creating}  # ten values are fine


def test_describe_snapshots_pages_and_order(lab):
    disk_id = lab.create()
    made = []
    for _ in range(5):
        made.append(lab.snapshot(disk_id))
        lab.advance(10)  # each a little later than the one before
    times = [lab.snap(s).CreateTime for s in made]
    assert times == sorted(times) and len(set(times)) == 5
    assert lab.ids(Order="ASC", OrderField="CREATE_TIME") == made
    assert lab.ids(Order="DESC", OrderField="CREATE_TIME") == made[::-1]
    assert lab.ids(Order="DESC") == made[::-1]
    assert lab.ids(Order="DESC", OrderField="CREATETIME") == made[::-1]  # the older spelling
    assert lab.ids() == made  # oldest first by default
    page = lab.describe(Offset=1, Limit=2, Order="ASC", OrderField="CREATE_TIME")
    assert page.TotalCount == 5 and [s.SnapshotId for s in page.SnapshotSet] == made[1:3]
    page = lab.describe(Offset=4, Limit=2, Order="DESC")
    assert page.TotalCount == 5 and [s.SnapshotId for s in page.SnapshotSet] == [made[0]]
    past = lab.describe(Offset=20, Limit=5)
    assert (past.TotalCount, past.SnapshotSet) == (5, [])
    page = lab.describe(Limit=2, Filters=filtered(disk_id=[disk_id]))
    assert page.TotalCount == 5 and len(page.SnapshotSet) == 2
    # nothing is shared with this account: past the (empty) first page the count stays 0
    for offset in (0, 1, 3):
        none = lab.describe(Offset=offset, Filters=filtered(snapshot_type=["SHARED_SNAPSHOT"]))
        assert (none.TotalCount, none.SnapshotSet) == (0, []), offset


# === DeleteSnapshots ==============================================================================
def test_delete_snapshots(world):
    disk_id = world.create(DiskSize=40)
    first, second, third = (world.snapshot(disk_id) for _ in range(3))
    assert world.disk(disk_id).SnapshotSize == 3 * 40 * 1024
    delete = world.delete
    cases = [
        ((), "MissingParameter"),
        (("snap-00000000",), "InvalidSnapshotId.NotFound"),
        ((first, "snap-00000000"), "InvalidSnapshotId.NotFound"),
        ((first, first), "InvalidParameterValue"),
        (("snapshot-1",), "InvalidParameterValue"),
    ]
    for snapshot_ids, code in cases:
        assert code_of(delete, *snapshot_ids) == code, snapshot_ids
    assert world.snap(first) is not None  # nothing of a refused batch happened
    delete(first, second)
    assert world.snap(first) is None and world.snap(second) is None
    disk = world.disk(disk_id)
    assert (disk.SnapshotCount, disk.SnapshotSize) == (1, 40 * 1024)
    assert code_of(delete, first) == "InvalidSnapshotId.NotFound"
    delete(third)
    disk = world.disk(disk_id)
    assert (disk.SnapshotCount, disk.SnapshotSize) == (0, 0)


# === ApplySnapshot ================================================================================
def test_apply_snapshot_to_an_unattached_disk(lab):
    disk_id = lab.create(DiskSize=50)
    snapshot_id = lab.snapshot(disk_id)
    other_snapshot = lab.snapshot(disk_id)
    before = lab.disk(disk_id)
    assert (before.Rollbacking, before.RollbackPercent) == (False, 0)
    lab.apply(snapshot_id, disk_id)
    disk = lab.disk(disk_id)
    assert (disk.DiskState, disk.Rollbacking, disk.RollbackPercent) == ("ROLLBACKING", True, 0)
    assert lab.snap(snapshot_id).SnapshotState == "ROLLBACKING"
    assert lab.snap(other_snapshot).SnapshotState == "NORMAL"
    assert code_of(lab.delete, snapshot_id) == "ResourceBusy"
    assert code_of(lab.apply, snapshot_id, disk_id) == "InvalidSnapshot.NotSupported"
    assert code_of(lab.apply, other_snapshot, disk_id) == "InvalidDisk.Busy"
    assert code_of(lab.snapshot, disk_id, wait=False) == "ResourceInUse"
    lab.advance(SNAPSHOT_ROLLBACK / 2)
    disk = lab.disk(disk_id)
    assert disk.DiskState == "ROLLBACKING" and 40 <= disk.RollbackPercent <= 60, disk.RollbackPercent
    lab.advance(SNAPSHOT_ROLLBACK / 2)
    disk = lab.disk(disk_id)
    assert (disk.DiskState, disk.Rollbacking, disk.RollbackPercent) == ("UNATTACHED", False, 100)
    assert lab.snap(snapshot_id).SnapshotState == "NORMAL"
    lab.delete(snapshot_id)  # usable again


def test_apply_snapshot_to_a_disk_on_a_running_instance(lab):
    ins = lab.run()[0]
    disk_id = lab.create()
    lab.attach(ins, disk_id)
    snapshot_id = lab.snapshot(disk_id)
    assert code_of(lab.apply, snapshot_id, disk_id) == "UnsupportedOperation.InstanceNotStopped"
    assert code_of(lab.apply, snapshot_id, disk_id,
                   AutoStartInstance=True) == "InvalidParameterValue"
    assert lab.disk(disk_id).DiskState == "ATTACHED" and lab.instance(ins).InstanceState == "RUNNING"
    lab.apply(snapshot_id, disk_id, AutoStopInstance=True, AutoStartInstance=True)
    assert lab.instance(ins).InstanceState == "STOPPING"
    assert lab.disk(disk_id).DiskState == "ROLLBACKING"
    lab.advance(INSTANCE_STOP)
    assert lab.instance(ins).InstanceState == "STOPPED"
    assert lab.disk(disk_id).DiskState == "ROLLBACKING"
    lab.advance(SNAPSHOT_ROLLBACK)
    disk = lab.disk(disk_id)
    assert (disk.DiskState, disk.Rollbacking, disk.RollbackPercent, disk.InstanceId) == (
        "ATTACHED", False, 100, ins)
    assert lab.snap(snapshot_id).SnapshotState == "NORMAL"
    assert lab.instance(ins).InstanceState in ("STARTING", "RUNNING")
    lab.advance(INSTANCE_START)
    assert lab.instance(ins).InstanceState == "RUNNING"


def test_apply_snapshot_auto_stop_without_auto_start(lab):
    ins = lab.run()[0]
    disk_id = lab.create()
    lab.attach(ins, disk_id)
    snapshot_id = lab.snapshot(disk_id)
    lab.apply(snapshot_id, disk_id, AutoStopInstance=True)
    lab.advance(INSTANCE_STOP + SNAPSHOT_ROLLBACK + INSTANCE_START)
    assert lab.disk(disk_id).DiskState == "ATTACHED"
    assert lab.instance(ins).InstanceState == "STOPPED"  # stays stopped
    lab.apply(snapshot_id, disk_id)  # its instance is stopped: no AutoStopInstance needed
    assert lab.disk(disk_id).DiskState == "ROLLBACKING"
    lab.advance(SNAPSHOT_ROLLBACK)
    assert lab.disk(disk_id).DiskState == "ATTACHED"


def test_apply_snapshot_to_a_system_disk(lab):
    ins = lab.run()[0]
    system = lab.system_disk(ins)
    snapshot_id = lab.snapshot(system)
    assert code_of(lab.apply, snapshot_id, system) == "UnsupportedOperation.InstanceNotStopped"
    lab.cvm.StopInstances(request(cvm_models.StopInstancesRequest, InstanceIds=[ins]))
    # §7: an instance neither RUNNING nor STOPPED (here STOPPING) → InvalidInstance.NotSupported
    assert code_of(lab.apply, snapshot_id, system) == "InvalidInstance.NotSupported"
    lab.advance(INSTANCE_STOP)
    lab.apply(snapshot_id, system)
    disk = lab.disk(system)
    assert (disk.DiskState, disk.Rollbacking) == ("ROLLBACKING", True)
    lab.advance(SNAPSHOT_ROLLBACK)
    disk = lab.disk(system)
    assert (disk.DiskState, disk.Rollbacking, disk.RollbackPercent) == ("ATTACHED", False, 100)


def test_apply_snapshot_refusals(world):
    big = world.create(DiskSize=100)
    small = world.create(DiskSize=50)
    same_size = world.create(DiskSize=100)
    big_snapshot = world.snapshot(big)
    small_snapshot = world.snapshot(small)
    recycled = world.create(DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 1})
    recycled_snapshot = world.snapshot(recycled)
    world.cbs.TerminateDisks(request(models.TerminateDisksRequest, DiskIds=[recycled]))
    ins = world.run()[0]
    held = world.create()
    world.attach(ins, held)
    held_snapshot = world.snapshot(held)
    world.control("POST", f"/instances/{ins}", {"state": "SHUTDOWN"})
    apply = world.cbs.ApplySnapshot
    cases = [
        ({"DiskId": big}, "MissingParameter"),
        ({"SnapshotId": big_snapshot}, "MissingParameter"),
        ({"SnapshotId": "snap-00000000", "DiskId": big}, "InvalidSnapshotId.NotFound"),
        ({"SnapshotId": big_snapshot, "DiskId": "disk-00000000"}, "InvalidDiskId.NotFound"),
        ({"SnapshotId": big_snapshot, "DiskId": big, "AutoStartInstance": True}, "InvalidParameterValue"),
        ({"SnapshotId": big_snapshot, "DiskId": big, "AutoStopInstance": True}, "InvalidParameterValue"),
        # size is checked before ownership (§3.19 step 4)
        ({"SnapshotId": big_snapshot, "DiskId": small}, "InvalidParameter.DiskSizeNotMatch"),
        ({"SnapshotId": big_snapshot, "DiskId": same_size}, "InvalidSnapshot.NotSupported"),
        ({"SnapshotId": small_snapshot, "DiskId": big}, "InvalidSnapshot.NotSupported"),
        ({"SnapshotId": recycled_snapshot, "DiskId": recycled}, "InvalidDisk.NotSupported"),
        # an instance that cannot be stopped (§3.19 step 7)
        ({"SnapshotId": held_snapshot, "DiskId": held}, "InvalidInstance.NotSupported"),
        ({"SnapshotId": held_snapshot, "DiskId": held, "AutoStopInstance": True},
         "InvalidInstance.NotSupported"),
    ]
    for fields, code in cases:
        assert code_of(apply, request(models.ApplySnapshotRequest, **fields)) == code, fields
    for disk_id in (big, small, same_size):
        assert world.disk(disk_id).DiskState == "UNATTACHED"
    world.apply(big_snapshot, big)


# === ModifySnapshotAttribute ======================================================================
def test_modify_snapshot_attribute(lab):
    disk_id = lab.create()
    snapshot_id = lab.snapshot(disk_id)
    lab.modify(snapshot_id, SnapshotName="renamed")
    assert lab.snap(snapshot_id).SnapshotName == "renamed"
    deadline, at = lab.deadline(3 * DAY)
    lab.modify(snapshot_id, IsPermanent=False, Deadline=deadline)
    snap = lab.snap(snapshot_id)
    assert (snap.IsPermanent, snap.DeadlineTime, snap.SnapshotName) == (False, china_time(at), "renamed")
    lab.modify(snapshot_id, IsPermanent=True)
    snap = lab.snap(snapshot_id)
    assert (snap.IsPermanent, snap.DeadlineTime) == (True, "")
    lab.advance(4 * DAY)
    assert lab.snap(snapshot_id) is not None  # permanent now: the old deadline deletes nothing
    # a Deadline beside IsPermanent=true is ignored (§3.20)
    later, _ = lab.deadline(2 * DAY)
    lab.modify(snapshot_id, IsPermanent=True, Deadline=later)
    assert lab.snap(snapshot_id).IsPermanent is True
    # a deadline moved later keeps the snapshot until then
    soon, _ = lab.deadline(DAY + 60)
    lab.modify(snapshot_id, IsPermanent=False, Deadline=soon)
    farther, farther_at = lab.deadline(5 * DAY)
    lab.modify(snapshot_id, IsPermanent=False, Deadline=farther)
    assert lab.snap(snapshot_id).DeadlineTime == china_time(farther_at)
    lab.advance(2 * DAY)
    assert lab.snap(snapshot_id) is not None
    lab.advance(3 * DAY + 60)
    assert lab.snap(snapshot_id) is None


def test_modify_snapshot_attribute_refusals(world):
    snapshot_id = world.snapshot(world.create())
    modify = world.cbs.ModifySnapshotAttribute
    too_soon, _ = world.deadline(DAY - 60)
    cases = [
        ({"SnapshotId": snapshot_id}, "MissingParameter"),
        ({"SnapshotName": "x"}, "MissingParameter"),
        ({"SnapshotId": snapshot_id, "SnapshotName": "x" * 61}, "InvalidParameterValue"),
        ({"SnapshotId": snapshot_id, "IsPermanent": False, "Deadline": too_soon}, "InvalidParameterValue"),
        ({"SnapshotId": snapshot_id, "IsPermanent": False, "Deadline": "soon"}, "InvalidParameterValue"),
        ({"SnapshotId": "snap-00000000", "SnapshotName": "x"}, "InvalidSnapshotId.NotFound"),
    ]
    for fields, code in cases:
        assert code_of(modify, request(models.ModifySnapshotAttributeRequest, **fields)) == code, fields
    snap = world.snap(snapshot_id)
    assert (snap.SnapshotName, snap.IsPermanent) == (UNNAMED, True)


# === sharing ======================================================================================
def test_share_a_snapshot_with_another_account(lab):
    disk_id = lab.create(DiskSize=70)
    snapshot_id = lab.snapshot(disk_id, SnapshotName="golden")
    other_id, other = lab.new_account("receiver")
    assert other.snaps() == []
    lab.share([snapshot_id], [other_id])
    assert lab.shared_with(snapshot_id) == [other_id]
    mine = lab.snap(snapshot_id)
    assert (mine.ShareReference, mine.SnapshotType) == (1, "PRIVATE_SNAPSHOT")
    assert mine.TimeStartShare != ""
    # the receiver sees it as shared to it
    theirs = other.snap(snapshot_id)
    assert (theirs.SnapshotType, theirs.SnapshotName, theirs.DiskSize) == ("SHARED_SNAPSHOT", "golden", 70)
    assert other.ids(Filters=filtered(snapshot_type=["SHARED_SNAPSHOT"])) == [snapshot_id]
    assert other.ids(Filters=filtered(snapshot_type=["PRIVATE_SNAPSHOT"])) == []
    assert other.describe().TotalCount == 1
    assert lab.ids(Filters=filtered(snapshot_type=["SHARED_SNAPSHOT"])) == []  # not to its owner
    # the receiver may make disks of it, and nothing else
    made = other.create(SnapshotId=snapshot_id)
    assert other.disk(made).DiskSize == 70
    assert code_of(other.delete, snapshot_id) == "InvalidSnapshot.NotSupported"
    assert code_of(other.modify, snapshot_id, SnapshotName="mine") == "InvalidSnapshot.NotSupported"
    assert code_of(other.share, [snapshot_id], [DEFAULT_ACCOUNT]) == "InvalidSnapshot.NotSupported"
    assert code_of(other.apply, snapshot_id, made) == "InvalidSnapshot.NotSupported"
    assert code_of(other.copy, snapshot_id, [OTHER_REGION]) == "InvalidSnapshot.NotSupported"
    assert code_of(other.shared_with, snapshot_id) == "InvalidSnapshotId.NotFound"  # the owner's to see
    # the owner cannot delete a snapshot it shares
    assert code_of(lab.delete, snapshot_id) == "InvalidSnapshot.NotSupported"
    lab.share([snapshot_id], [other_id], "CANCEL")
    assert lab.shared_with(snapshot_id) == []
    assert lab.snap(snapshot_id).ShareReference == 0
    assert other.snap(snapshot_id) is None and other.snaps() == []
    assert code_of(other.create, wait=False, SnapshotId=snapshot_id) == "InvalidSnapshotId.NotFound"
    assert other.disk(made) is not None  # its disk stays
    lab.share([snapshot_id], [other_id], "CANCEL")  # cancelling what is not shared changes nothing
    lab.delete(snapshot_id)


def test_share_refusals(lab):
    snapshot_id = lab.snapshot(lab.create())
    system_snapshot = lab.snapshot(lab.system_disk(lab.run()[0]))
    encrypted_snapshot = lab.snapshot(lab.create(Encrypt="ENCRYPT"))
    share = lab.cbs.ModifySnapshotsSharePermission
    someone = "100000000002"
    cases = [
        ({"AccountIds": [someone], "Permission": "SHARE"}, "MissingParameter"),
        ({"SnapshotIds": [snapshot_id], "Permission": "SHARE"}, "MissingParameter"),
        ({"SnapshotIds": [snapshot_id], "AccountIds": [someone]}, "MissingParameter"),
        ({"SnapshotIds": [snapshot_id], "AccountIds": [someone], "Permission": "X"}, "InvalidParameter"),
        ({"SnapshotIds": [snapshot_id], "AccountIds": [DEFAULT_ACCOUNT], "Permission": "SHARE"},
         "InvalidParameter"),
        ({"SnapshotIds": [snapshot_id], "AccountIds": ["bob"], "Permission": "SHARE"}, "InvalidParameter"),
        ({"SnapshotIds": ["snap-00000000"], "AccountIds": [someone], "Permission": "SHARE"},
         "InvalidSnapshotId.NotFound"),
        ({"SnapshotIds": [system_snapshot], "AccountIds": [someone], "Permission": "SHARE"},
         "InvalidSnapshot.NotSupported"),
        ({"SnapshotIds": [encrypted_snapshot], "AccountIds": [someone], "Permission": "SHARE"},
         "InvalidSnapshot.NotSupported"),
    ]
    for fields, code in cases:
        assert code_of(share, request(models.ModifySnapshotsSharePermissionRequest, **fields)) == code, fields
    assert lab.shared_with(snapshot_id) == [] and lab.snap(snapshot_id).ShareReference == 0
    assert code_of(lab.cbs.DescribeSnapshotSharePermission, request(
        models.DescribeSnapshotSharePermissionRequest,
        SnapshotId="snap-00000000")) == "InvalidSnapshotId.NotFound"


def test_share_with_too_many_accounts(lab):
    lab.limits(snapshot_share_accounts_max=2)
    snapshot_id = lab.snapshot(lab.create())
    accounts = ["100000000011", "100000000012", "100000000013"]
    assert code_of(lab.share, [snapshot_id], accounts) == "ResourceInsufficient.OverQuota"
    assert lab.shared_with(snapshot_id) == []
    lab.share([snapshot_id], accounts[:2])
    lab.share([snapshot_id], accounts[:2])  # sharing again with the same accounts adds nothing
    assert code_of(lab.share, [snapshot_id], accounts[2:]) == "ResourceInsufficient.OverQuota"
    assert sorted(lab.shared_with(snapshot_id)) == accounts[:2]
    assert lab.snap(snapshot_id).ShareReference == 2


# === CopySnapshotCrossRegions =====================================================================
def test_copy_snapshot_cross_regions(lab):
    disk_id = lab.create(DiskSize=80)
    snapshot_id = lab.snapshot(disk_id)
    there = lab.in_region(OTHER_REGION)
    (result,) = lab.copy(snapshot_id, [OTHER_REGION])
    assert (result.DestinationRegion, result.Code, result.Message) == (OTHER_REGION, "Success", "")
    copy_id = result.SnapshotId
    assert copy_id.startswith("snap-") and copy_id != snapshot_id
    source = lab.snap(snapshot_id)
    assert (source.SnapshotState, source.CopyingToRegions) == ("NORMAL", [OTHER_REGION])
    assert code_of(lab.copy, snapshot_id, [OTHER_REGION]) == "ResourceInUse"
    assert code_of(lab.delete, snapshot_id) == "ResourceBusy"
    assert lab.snap(copy_id) is None  # the copy lives in the other region only
    assert there.snap(snapshot_id) is None
    copy = there.snap(copy_id)
    assert (copy.SnapshotState, copy.CopyFromRemote, copy.DiskId) == ("COPYING_FROM_REMOTE", True, "")
    assert copy.Percent < 100
    assert code_of(there.delete, copy_id) == "InvalidSnapshot.NotSupported"  # not NORMAL yet
    assert there.ids(Filters=filtered(snapshot_state=["COPYING_FROM_REMOTE"])) == [copy_id]
    lab.advance(SNAPSHOT_COPY)
    assert there.snap(copy_id).SnapshotState == "CHECKING_COPIED"
    assert lab.snap(snapshot_id).CopyingToRegions == []
    lab.advance(SNAPSHOT_CHECK)
    copy = there.snap(copy_id)
    assert (copy.SnapshotState, copy.Percent, copy.DiskId, copy.CopyFromRemote) == ("NORMAL", 100, "", True)
    assert copy.SnapshotName == f"Copied {snapshot_id} from {REGION}"
    assert (copy.DiskSize, copy.DiskUsage, copy.Encrypt) == (80, "DATA_DISK", False)
    assert copy.Placement.Zone.startswith(OTHER_REGION + "-")
    # a disk can be made of the copy in its region
    made = there.create(zone=OTHER_REGION_ZONE, SnapshotId=copy_id)
    assert there.disk(made).DiskSize == 80
    # and copying again, with a name, works once the first copy is done
    (again,) = lab.copy(snapshot_id, [OTHER_REGION], SnapshotName="backup")
    lab.advance(SNAPSHOT_COPY + SNAPSHOT_CHECK)
    assert there.snap(again.SnapshotId).SnapshotName == "backup"
    lab.delete(snapshot_id)
    assert there.snap(copy_id) is not None  # copies outlive their source


def test_copy_snapshot_refusals(world):
    snapshot_id = world.snapshot(world.create())
    encrypted = world.snapshot(world.create(Encrypt="ENCRYPT"))
    copy = world.cbs.CopySnapshotCrossRegions
    cases = [
        ({"DestinationRegions": [OTHER_REGION]}, "MissingParameter"),
        ({"SnapshotId": snapshot_id}, "MissingParameter"),
        ({"SnapshotId": snapshot_id, "DestinationRegions": [REGION]}, "InvalidParameterValue"),
        ({"SnapshotId": snapshot_id, "DestinationRegions": ["ap-nowhere"]}, "InvalidParameterValue"),
        ({"SnapshotId": snapshot_id, "DestinationRegions": [OTHER_REGION, "ap-nowhere"]},
         "InvalidParameterValue"),
        ({"SnapshotId": "snap-00000000", "DestinationRegions": [OTHER_REGION]}, "InvalidSnapshotId.NotFound"),
        ({"SnapshotId": encrypted, "DestinationRegions": [OTHER_REGION]}, "InvalidSnapshot.NotSupported"),
    ]
    for fields, code in cases:
        assert code_of(copy, request(models.CopySnapshotCrossRegionsRequest, **fields)) == code, fields
    assert world.snap(snapshot_id).CopyingToRegions == []


def test_copy_snapshot_destination_quota(lab):
    """A destination over its snapshot quota fails in its result row, not the request (§3.23)."""
    lab.limits(snapshots_per_region=1)
    disk_id = lab.create()
    snapshot_id = lab.snapshot(disk_id)
    assert code_of(lab.snapshot, disk_id, wait=False) == "InsufficientSnapshotQuota"
    (first,) = lab.copy(snapshot_id, [OTHER_REGION])
    assert first.Code == "Success"
    lab.advance(SNAPSHOT_COPY + SNAPSHOT_CHECK)
    results = {r.DestinationRegion: r for r in lab.copy(snapshot_id, [OTHER_REGION, "ap-beijing"])}
    full, fine = results[OTHER_REGION], results["ap-beijing"]
    assert (full.Code, full.SnapshotId) == ("InsufficientSnapshotQuota", "") and full.Message
    assert (fine.Code, fine.Message) == ("Success", "") and fine.SnapshotId.startswith("snap-")
    assert lab.snap(snapshot_id).CopyingToRegions == ["ap-beijing"]
    assert len(lab.in_region(OTHER_REGION).snaps()) == 1


# === DescribeSnapshotOverview / GetSnapOverview ===================================================
def test_snapshot_overview(lab):
    def overviews():
        a = lab.cbs.DescribeSnapshotOverview(models.DescribeSnapshotOverviewRequest())
        b = lab.cbs.GetSnapOverview(models.GetSnapOverviewRequest())
        shown = [(o.TotalNums, o.TotalSize, o.FreeQuota, o.RealTradeSize) for o in (a, b)]
        assert shown[0] == shown[1], shown
        return shown[0]

    assert overviews() == (0, 0, 50, 0)
    lab.snapshot(lab.create(DiskSize=20))
    assert overviews() == (1, 20, 50, 0)
    big = lab.create(DiskSize=40)
    lab.snapshot(big)
    lab.snapshot(big)
    assert overviews() == (3, 100, 50, 50)
    lab.limits(snapshot_free_quota_gib=120)
    assert overviews() == (3, 100, 120, 0)
    # another region's snapshots count there, not here
    lab.copy(lab.ids()[0], [OTHER_REGION])
    lab.advance(SNAPSHOT_COPY + SNAPSHOT_CHECK)
    assert overviews() == (3, 100, 120, 0)
    there = lab.in_region(OTHER_REGION)
    there_overview = there.cbs.DescribeSnapshotOverview(models.DescribeSnapshotOverviewRequest())
    assert (there_overview.TotalNums, there_overview.TotalSize) == (1, 20)


# === disks from snapshots =========================================================================
def test_create_disks_from_a_snapshot(world):
    source = world.create(DiskSize=100, DiskType="CLOUD_SSD")
    snapshot_id = world.snapshot(source)
    same = world.create(SnapshotId=snapshot_id)
    disk = world.disk(same)
    assert (disk.DiskSize, disk.DiskType, disk.DiskState) == (100, "CLOUD_PREMIUM", "UNATTACHED")
    larger = world.create(SnapshotId=snapshot_id, DiskSize=200)
    assert world.disk(larger).DiskSize == 200
    several = world.cbs.CreateDisks(request(
        models.CreateDisksRequest, Placement={"Zone": OTHER_ZONE}, DiskChargeType="POSTPAID_BY_HOUR",
        DiskType="CLOUD_PREMIUM", SnapshotId=snapshot_id, DiskCount=2)).DiskIdSet
    assert len(several) == 2
    _wait(lambda: world.disks(DiskIds=several), lambda found: len(found) == 2, "two disks")
    assert {d.DiskSize for d in world.disks(DiskIds=several)} == {100}
    system_snapshot = world.snapshot(world.system_disk(world.run()[0]))
    for fields, code in [({"SnapshotId": snapshot_id, "DiskSize": 50}, "InvalidParameter.DiskSizeNotMatch"),
                         ({"SnapshotId": "snap-00000000"}, "InvalidSnapshotId.NotFound"),
                         ({"SnapshotId": "snap-1"}, "InvalidParameterValue"),
                         ({"SnapshotId": system_snapshot}, "InvalidSnapshot.NotSupported")]:
        assert code_of(world.create, wait=False, **fields) == code, fields


def test_create_disks_from_an_encrypted_snapshot(world):
    snapshot_id = world.snapshot(world.create(Encrypt="ENCRYPT"))
    made = world.create(SnapshotId=snapshot_id)
    assert world.disk(made).Encrypt is True


# === TerminateDisks DeleteSnapshot ================================================================
def test_terminate_disks_with_delete_snapshot(world):
    deadline, _ = world.deadline(3 * DAY)
    goes, stays = world.create(), world.create()
    permanent = world.snapshot(goes)
    temporary = world.snapshot(goes, Deadline=deadline)
    kept_temporary = world.snapshot(stays, Deadline=deadline)
    world.cbs.TerminateDisks(request(models.TerminateDisksRequest, DiskIds=[goes], DeleteSnapshot=1))
    assert world.disk(goes) is None
    assert world.snap(temporary) is None
    survivor = world.snap(permanent)
    assert survivor is not None and survivor.DiskId == goes  # it still names its source
    world.cbs.TerminateDisks(request(models.TerminateDisksRequest, DiskIds=[stays]))
    assert world.snap(kept_temporary) is not None  # without DeleteSnapshot every snapshot stays
    # a disk created with DeleteSnapshot=1 takes its non-permanent snapshots along by itself
    flagged = world.create(DeleteSnapshot=1)
    assert world.disk(flagged).DeleteSnapshot == 1
    flagged_temporary = world.snapshot(flagged, Deadline=deadline)
    flagged_permanent = world.snapshot(flagged)
    world.cbs.TerminateDisks(request(models.TerminateDisksRequest, DiskIds=[flagged]))
    assert world.snap(flagged_temporary) is None and world.snap(flagged_permanent) is not None
    # a snapshot whose disk is gone can still make disks and be deleted
    made = world.create(SnapshotId=permanent)
    assert world.disk(made).DiskSize == 50
    world.delete(permanent, kept_temporary, flagged_permanent)


# === custom images built on snapshots (CVM CreateImage / DescribeImages / DeleteImages) ==========
def _image_listed(world: SnapWorld, image_id: str) -> bool:
    try:
        found = world.cvm.DescribeImages(request(cvm_models.DescribeImagesRequest, ImageIds=[image_id]))
    except TencentCloudSDKException as failure:
        assert failure.code == "InvalidImageId.NotFound", failure
        return False
    return image_id in [i.ImageId for i in found.ImageSet]


def test_snapshot_with_a_bound_image(world):
    system_snapshot = world.snapshot(world.system_disk(world.run()[0]))
    image_id = world.cvm.CreateImage(request(cvm_models.CreateImageRequest, ImageName="golden-image",
                                             SnapshotIds=[system_snapshot])).ImageId
    assert image_id.startswith("img-")
    assert _image_listed(world, image_id)
    snap = world.snap(system_snapshot)
    assert snap.ImageCount == 1
    assert [(i.ImageId, i.ImageName) for i in snap.Images] == [(image_id, "golden-image")]
    assert code_of(world.delete, system_snapshot) == "UnsupportedOperation.SnapshotHasBindedImage"
    assert code_of(world.delete, system_snapshot,
                   DeleteBindImages=False) == "UnsupportedOperation.SnapshotHasBindedImage"
    assert world.snap(system_snapshot) is not None and _image_listed(world, image_id)
    world.delete(system_snapshot, DeleteBindImages=True)
    assert world.snap(system_snapshot) is None
    assert not _image_listed(world, image_id)
    # an image deleted on its own frees its snapshot
    other = world.snapshot(world.system_disk(world.run()[0]))
    second = world.cvm.CreateImage(request(cvm_models.CreateImageRequest, ImageName="second",
                                           SnapshotIds=[other])).ImageId
    world.cvm.DeleteImages(request(cvm_models.DeleteImagesRequest, ImageIds=[second]))
    assert world.snap(other).ImageCount == 0
    # and DeleteImages with DeleteBindedSnap takes the snapshot along
    third = world.cvm.CreateImage(request(cvm_models.CreateImageRequest, ImageName="third",
                                          SnapshotIds=[other])).ImageId
    world.cvm.DeleteImages(request(cvm_models.DeleteImagesRequest, ImageIds=[third],
                                   DeleteBindedSnap=True))
    assert world.snap(other) is None and not _image_listed(world, third)


def test_a_snapshot_outlives_its_deadline_while_an_image_needs_it(lab):
    instance_id = lab.run()[0]
    deadline, at = lab.deadline(2 * 86400)
    snapshot_id = lab.snapshot(lab.system_disk(instance_id), Deadline=deadline)
    image_id = lab.cvm.CreateImage(request(cvm_models.CreateImageRequest, ImageName="kept-image",
                                           SnapshotIds=[snapshot_id])).ImageId
    lab.advance(at - lab.now() + 3600)  # an hour past the deadline
    assert lab.snap(snapshot_id) is not None  # the image still needs it [inf]
    lab.cvm.DeleteImages(request(cvm_models.DeleteImagesRequest, ImageIds=[image_id]))
    assert lab.snap(snapshot_id) is None  # overdue: it goes with the last image


# === where the server departs from cbs-behavior.md (these fail until it is fixed) ================
def test_time_start_share_is_a_date(lab):
    """§2 rule 9 and §4.2: Snapshot.TimeStartShare is a date, `YYYY-MM-DD`."""
    snapshot_id = lab.snapshot(lab.create())
    assert lab.snap(snapshot_id).TimeStartShare == ""  # never shared
    lab.share([snapshot_id], ["100000000002"])
    today = datetime.fromtimestamp(lab.now(), CHINA).strftime("%Y-%m-%d")
    assert lab.snap(snapshot_id).TimeStartShare == today


def test_resize_disk_while_a_snapshot_is_creating(lab):
    """§3.6 step 5: a snapshot of the disk still CREATING → InvalidDisk.SnapshotCreating."""
    disk_id = lab.create(DiskSize=50)
    lab.snapshot(disk_id, wait=False)
    assert code_of(lab.cbs.ResizeDisk, request(models.ResizeDiskRequest, DiskId=disk_id,
                                               DiskSize=100)) == "InvalidDisk.SnapshotCreating"
    assert lab.disk(disk_id).DiskState == "UNATTACHED"


def test_a_shareable_disk_is_never_encrypted(world):
    """§3.1: Shareable cannot be combined with encryption (shareable disks are never encrypted),
    and a disk made from an encrypted snapshot is encrypted: Shareable with such a snapshot is the
    refused combination (InvalidParameterValue, step 2), not a shareable encrypted disk."""
    snapshot_id = world.snapshot(world.create(Encrypt="ENCRYPT"))
    assert code_of(world.create, wait=False, SnapshotId=snapshot_id,
                   Shareable=True) == "InvalidParameterValue"


def test_create_disks_checks_the_size_before_the_snapshot(world):
    """§3.1: DiskSize outside the type's range or off its step (step 5) comes before an unknown
    SnapshotId (step 6)."""
    for size in (5, 55):
        assert code_of(world.create, wait=False, SnapshotId="snap-00000000",
                       DiskSize=size) == "InvalidParameterValue", size


def test_delete_a_shared_snapshot_while_it_rolls_back(lab):
    """§3.18: a snapshot shared out is InvalidSnapshot.NotSupported (step 3) before a snapshot
    in use by a rollback is ResourceBusy (step 4)."""
    disk_id = lab.create()
    snapshot_id = lab.snapshot(disk_id)
    lab.share([snapshot_id], ["100000000002"])
    lab.apply(snapshot_id, disk_id)
    assert lab.snap(snapshot_id).SnapshotState == "ROLLBACKING"
    assert code_of(lab.delete, snapshot_id) == "InvalidSnapshot.NotSupported"


def test_resetting_the_destination_region_ends_a_copy(lab):
    """POST /_cbslocal/reset {"region"} removes that region's resources and pending moves: a copy
    on its way there is gone, so its source is no longer being copied there (CopyingToRegions
    empty; it can be deleted, or copied there again)."""
    snapshot_id = lab.snapshot(lab.create())
    lab.copy(snapshot_id, [OTHER_REGION])
    lab.control("POST", "/reset", {"region": OTHER_REGION})
    assert lab.in_region(OTHER_REGION).snaps() == []
    lab.advance(SNAPSHOT_COPY + SNAPSHOT_CHECK)
    assert lab.snap(snapshot_id).CopyingToRegions == []
    (again,) = lab.copy(snapshot_id, [OTHER_REGION])
    assert again.Code == "Success"
