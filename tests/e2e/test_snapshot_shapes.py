"""Responses of the snapshot and automatic-snapshot-policy actions, passed through the official
SDK's response models (the method of test_response_shapes.py and test_lifecycle_shapes.py): a
field the SDK does not know, or a field it expects that we omit, fails the test at every level of
nesting (cbs-behavior.md §3.16-3.31, §4.2-4.4).

One server under realistic timing with its clock frozen, moved on by hand (POST /clock advance),
so that every transitional state is seen for certain: snapshots CREATING (Percent 0, then part
way), NORMAL, ROLLBACKING (and their disk), a copy COPYING_FROM_REMOTE then CHECKING_COPIED in the
destination region, a snapshot with a Deadline, one shared as the receiving account sees it, one
made by a policy firing. Durations (realistic): disk.create 2 s, snapshot.create 3 s,
snapshot.rollback 3 s, snapshot.copy 4 s then snapshot.check 1 s, instance.launch 3 s,
disk.attach 1.5 s.

What the SDK models cannot tell is checked by value: Snapshot.Placement has no DedicatedClusterId
key (the real Snapshot output, §4.4; the one gap the shape check allows), DeadlineTime "" for a
permanent snapshot, AutoSnapshotPolicy.AdvancedRetentionPolicy / CopyToAccountUin /
CopyFromAccountUin null, Disk.AutoSnapshotPolicyIds null unless ReturnBindAutoSnapshotPolicy.
And the Policy objects a policy is described with must be accepted back as input, unchanged.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from tencentcloud.cbs.v20170312 import models as cbs_models
from tencentcloud.cvm.v20170312 import models as cvm_models

from tests.e2e.server import REGION, ZONE, Server, cbs_client, cvm_client
from tests.e2e.test_lifecycle_shapes import exact

CHINA = timezone(timedelta(hours=8))
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00")
COPY_REGIONS = ("ap-shanghai", "ap-beijing")
IMAGE_ID, INSTANCE_TYPE = "img-pmqg1cw7", "S5.MEDIUM4"
TAG = {"Key": "snapshot", "Value": "shapes"}
# The real Snapshot output has no Placement.DedicatedClusterId (cbs-behavior.md §4.4), which the
# SDK's shared Placement model has: the only field a response may lack.
SNAPSHOT_PLACEMENT_GAP = re.compile(r"\w+Response\.SnapshotSet\.\d+\.Placement\.DedicatedClusterId: missing")


def shape_problems_of(action: str, response: dict, models_module=cbs_models) -> list[str]:
    problems = exact(getattr(models_module, f"{action}Response"), response, f"{action}Response")
    return [p for p in problems if not SNAPSHOT_PLACEMENT_GAP.fullmatch(p)]


def call(client, action: str, params: dict, models_module=cbs_models) -> dict:
    """Call `action` through the official client; its whole response must match the SDK's
    `<action>Response` model. Every Snapshot in it must lack Placement.DedicatedClusterId."""
    response = client.call_json(action, params)["Response"]
    assert "Error" not in response, (action, response)
    assert shape_problems_of(action, response, models_module) == []
    for snap in response.get("SnapshotSet") or ():
        assert "DedicatedClusterId" not in snap["Placement"], snap["Placement"]
    return response


def test_the_checker_excuses_only_the_snapshot_placement_gap():
    placement = {"Zone": ZONE, "CageId": "", "CdcId": "", "CdcName": "", "ProjectId": 0,
                 "ProjectName": ""}
    snapshot = {name.lstrip("_"): None for name in vars(cbs_models.Snapshot())}
    snapshot.update(Placement=placement, Images=[], Tags=[], CopyingToRegions=[])
    response = {"TotalCount": 1, "SnapshotSet": [snapshot], "RequestId": "r"}
    assert shape_problems_of("DescribeSnapshots", response) == []
    # the same gap anywhere else is a problem
    disk = {"TotalCount": 1, "DiskSet": [], "RequestId": "r"}
    assert shape_problems_of("DescribeDisks", disk) == []
    broken = {**snapshot, "Placement": {k: v for k, v in placement.items() if k != "Zone"},
              "Colour": "blue"}
    problems = shape_problems_of("DescribeSnapshots", {**response, "SnapshotSet": [broken]})
    assert "DescribeSnapshotsResponse.SnapshotSet.0.Colour: unknown to the SDK" in problems
    assert "DescribeSnapshotsResponse.SnapshotSet.0.Placement.Zone: missing" in problems


# --- a realistic server on a frozen clock ----------------------------------------------------------
class Frozen:
    """The server, its clients, and its clock moved by hand."""

    def __init__(self, server: Server):
        self.server = server
        self.cbs = cbs_client(server)
        self.cvm = cvm_client(server)

    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = self.server.control(method, path, body)
        assert answer.status_code == 200, (path, answer.text)
        return answer.json()

    def now(self) -> float:
        return self.control("GET", "/clock")["now"]

    def advance(self, seconds: float) -> None:
        self.control("POST", "/clock", {"advance": seconds})

    def client(self, region: str = REGION, **credentials):
        return cbs_client(self.server, region=region, **credentials)

    # disks
    def create_disk(self, **fields) -> str:
        params = {"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR",
                  "DiskType": "CLOUD_PREMIUM", "DiskSize": 50, **fields}
        (disk_id,) = call(self.cbs, "CreateDisks", params)["DiskIdSet"]
        self.advance(2)  # disk.create
        return disk_id

    def disks(self, disk_ids: list[str], bound: bool) -> dict[str, dict]:
        response = call(self.cbs, "DescribeDisks", {"DiskIds": disk_ids,
                                                    "ReturnBindAutoSnapshotPolicy": bound})
        assert response["TotalCount"] == len(disk_ids)
        return {d["DiskId"]: d for d in response["DiskSet"]}

    def disk(self, disk_id: str, bound: bool = False) -> dict:
        return self.disks([disk_id], bound)[disk_id]

    # snapshots
    def snapshot_of(self, disk_id: str, **fields) -> str:
        snapshot_id = call(self.cbs, "CreateSnapshot", {"DiskId": disk_id, **fields})["SnapshotId"]
        assert re.fullmatch(r"snap-[a-z0-9]{8}", snapshot_id)
        return snapshot_id

    def snapshots(self, snapshot_ids: list[str], client=None) -> dict[str, dict]:
        response = call(client or self.cbs, "DescribeSnapshots", {"SnapshotIds": snapshot_ids})
        assert response["TotalCount"] == len(snapshot_ids)
        return {s["SnapshotId"]: s for s in response["SnapshotSet"]}

    def snapshot(self, snapshot_id: str, client=None) -> dict:
        return self.snapshots([snapshot_id], client)[snapshot_id]

    def normal_snapshot(self, disk_id: str, **fields) -> str:
        snapshot_id = self.snapshot_of(disk_id, **fields)
        self.advance(3)  # snapshot.create
        assert self.snapshot(snapshot_id)["SnapshotState"] == "NORMAL"
        return snapshot_id


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("snapshot-shapes") / "data", timing="realistic").start()
    try:
        frozen = Frozen(server)
        frozen.control("POST", "/clock", {"mode": "frozen"})
        yield frozen
        assert server.alive()
        assert "Traceback" not in server.log_text()
    finally:
        server.stop()


def china_time(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), CHINA).strftime("%Y-%m-%d %H:%M:%S")


# --- CreateSnapshot, DescribeSnapshots through CREATING, NORMAL, ROLLBACKING ------------------------
def test_a_snapshot_from_creating_to_normal_then_rolling_back(world):
    disk_id = world.create_disk(DiskName="shapes-source")
    untouched = world.disk(disk_id)
    assert (untouched["SnapshotCount"], untouched["SnapshotSize"]) == (0, 0)
    assert untouched["AutoSnapshotPolicyIds"] is None
    assert untouched["RollbackPercent"] == 0 and untouched["Rollbacking"] is False

    created_at = world.now()
    snapshot_id = world.snapshot_of(disk_id, SnapshotName="shapes-first", Tags=[TAG])

    snap = world.snapshot(snapshot_id)  # the clock has not moved: nothing done yet
    assert (snap["SnapshotState"], snap["Percent"]) == ("CREATING", 0)
    assert snap["SnapshotName"] == "shapes-first" and snap["Tags"] == [TAG]
    assert (snap["DiskId"], snap["DiskSize"], snap["DiskUsage"]) == (disk_id, 50, "DATA_DISK")
    assert snap["Placement"]["Zone"] == ZONE and snap["Placement"]["ProjectId"] == 0
    assert snap["IsPermanent"] is True and snap["DeadlineTime"] == ""
    assert snap["SnapshotType"] == "PRIVATE_SNAPSHOT" and snap["Encrypt"] is False
    assert snap["CopyFromRemote"] is False and snap["CopyingToRegions"] == []
    assert snap["ShareReference"] == 0 and snap["TimeStartShare"] == ""
    assert snap["Images"] == [] and snap["ImageCount"] == 0
    assert snap["SnapshotMode"] == "STANDARD_SNAPSHOT" and snap["IsLocked"] is False
    assert snap["AutoSnapshotPolicyId"] == ""
    assert snap["CreateTime"] == china_time(created_at)
    assert ISO.fullmatch(snap["LatestModifyTime"]), snap["LatestModifyTime"]
    # the disk counts it at once, its size once it is done
    creating_disk = world.disk(disk_id, bound=True)
    assert (creating_disk["SnapshotCount"], creating_disk["SnapshotSize"]) == (1, 0)
    assert creating_disk["AutoSnapshotPolicyIds"] == []

    world.advance(1.5)
    snap = world.snapshot(snapshot_id)
    assert snap["SnapshotState"] == "CREATING" and 0 < snap["Percent"] < 100, snap["Percent"]

    world.advance(1.5)
    snap = world.snapshot(snapshot_id)
    assert (snap["SnapshotState"], snap["Percent"]) == ("NORMAL", 100)
    done = world.disks([disk_id], bound=False)[disk_id]
    assert (done["SnapshotCount"], done["SnapshotSize"]) == (1, 50 * 1024)
    assert done["AutoSnapshotPolicyIds"] is None

    assert call(world.cbs, "ApplySnapshot", {"SnapshotId": snapshot_id, "DiskId": disk_id}) \
        .keys() == {"RequestId"}
    assert world.snapshot(snapshot_id)["SnapshotState"] == "ROLLBACKING"
    for bound in (True, False):  # the disk rolling back, with and without its policies
        rolling = world.disk(disk_id, bound=bound)
        assert (rolling["DiskState"], rolling["Rollbacking"], rolling["RollbackPercent"]) == (
            "ROLLBACKING", True, 0)
        assert rolling["AutoSnapshotPolicyIds"] == ([] if bound else None)
    world.advance(1.5)
    assert 0 < world.disk(disk_id)["RollbackPercent"] < 100

    world.advance(1.5)
    assert world.snapshot(snapshot_id)["SnapshotState"] == "NORMAL"
    rolled = world.disk(disk_id)
    assert (rolled["DiskState"], rolled["Rollbacking"], rolled["RollbackPercent"]) == (
        "UNATTACHED", False, 100)

    # DescribeSnapshots by filter, a page of several
    listing = call(world.cbs, "DescribeSnapshots", {
        "Filters": [{"Name": "disk-id", "Values": [disk_id]}], "Order": "DESC",
        "OrderField": "CREATE_TIME", "Limit": 10})
    assert [s["SnapshotId"] for s in listing["SnapshotSet"]] == [snapshot_id]


def test_a_snapshot_with_a_deadline_and_modify_snapshot_attribute(world):
    disk_id = world.create_disk()
    deadline = int(world.now()) + 2 * 86400
    iso = datetime.fromtimestamp(deadline, timezone.utc).isoformat()
    snapshot_id = world.snapshot_of(disk_id, Deadline=iso)
    creating = world.snapshot(snapshot_id)
    assert creating["IsPermanent"] is False and creating["DeadlineTime"] == china_time(deadline)
    assert creating["SnapshotName"]  # a default name
    world.advance(3)

    response = call(world.cbs, "ModifySnapshotAttribute", {
        "SnapshotId": snapshot_id, "SnapshotName": "shapes-kept", "IsPermanent": True})
    assert response.keys() == {"RequestId"}
    kept = world.snapshot(snapshot_id)
    assert (kept["SnapshotName"], kept["IsPermanent"], kept["DeadlineTime"]) == (
        "shapes-kept", True, "")

    later = deadline + 86400
    call(world.cbs, "ModifySnapshotAttribute", {
        "SnapshotId": snapshot_id, "IsPermanent": False,
        "Deadline": datetime.fromtimestamp(later, timezone.utc).isoformat()})
    expiring = world.snapshot(snapshot_id)
    assert expiring["IsPermanent"] is False and expiring["DeadlineTime"] == china_time(later)
    assert expiring["SnapshotState"] == "NORMAL"


# --- DeleteSnapshots ---------------------------------------------------------------------------------
def test_delete_snapshots(world):
    disk_id = world.create_disk()
    first = world.normal_snapshot(disk_id)
    second = world.normal_snapshot(disk_id)
    assert world.disk(disk_id)["SnapshotCount"] == 2
    assert call(world.cbs, "DeleteSnapshots", {"SnapshotIds": [first, second],
                                               "DeleteBindImages": False}).keys() == {"RequestId"}
    gone = call(world.cbs, "DescribeSnapshots", {"SnapshotIds": [first, second]})
    assert (gone["TotalCount"], gone["SnapshotSet"]) == (0, [])
    left = world.disk(disk_id)
    assert (left["SnapshotCount"], left["SnapshotSize"]) == (0, 0)


# --- sharing -------------------------------------------------------------------------------------------
def test_a_snapshot_shared_with_another_account(world):
    receiver = world.control("POST", "/accounts", {"name": "snapshot-receiver"})
    theirs = world.client(secret_id=receiver["SecretId"], secret_key=receiver["SecretKey"])
    disk_id = world.create_disk()
    snapshot_id = world.normal_snapshot(disk_id, SnapshotName="shapes-shared")

    unshared = call(world.cbs, "DescribeSnapshotSharePermission", {"SnapshotId": snapshot_id})
    assert unshared["SharePermissionSet"] == []

    shared_at = world.now()
    assert call(world.cbs, "ModifySnapshotsSharePermission", {
        "SnapshotIds": [snapshot_id], "AccountIds": [receiver["AccountId"]],
        "Permission": "SHARE"}).keys() == {"RequestId"}
    permissions = call(world.cbs, "DescribeSnapshotSharePermission", {"SnapshotId": snapshot_id})
    assert permissions["SharePermissionSet"] == [
        {"AccountId": receiver["AccountId"], "CreatedTime": china_time(shared_at)}]

    mine = world.snapshot(snapshot_id)
    assert mine["ShareReference"] == 1 and mine["SnapshotType"] == "PRIVATE_SNAPSHOT"
    assert TIME.fullmatch(mine["TimeStartShare"]) or re.fullmatch(r"\d{4}-\d\d-\d\d",
                                                                  mine["TimeStartShare"])

    seen = world.snapshot(snapshot_id, client=theirs)  # as the receiving account sees it
    assert seen["SnapshotType"] == "SHARED_SNAPSHOT"
    assert (seen["SnapshotName"], seen["DiskId"], seen["SnapshotState"]) == (
        "shapes-shared", disk_id, "NORMAL")
    listed = call(theirs, "DescribeSnapshots", {
        "Filters": [{"Name": "snapshot-type", "Values": ["SHARED_SNAPSHOT"]}]})
    assert [s["SnapshotId"] for s in listed["SnapshotSet"]] == [snapshot_id]
    assert listed["SnapshotSet"][0]["SnapshotType"] == "SHARED_SNAPSHOT"

    call(world.cbs, "ModifySnapshotsSharePermission", {
        "SnapshotIds": [snapshot_id], "AccountIds": [receiver["AccountId"]], "Permission": "CANCEL"})
    assert world.snapshot(snapshot_id)["ShareReference"] == 0
    assert call(theirs, "DescribeSnapshots", {"SnapshotIds": [snapshot_id]})["TotalCount"] == 0


# --- CopySnapshotCrossRegions -------------------------------------------------------------------------
def test_a_copy_in_another_region_through_its_states(world):
    disk_id = world.create_disk()
    source_id = world.normal_snapshot(disk_id, SnapshotName="shapes-copied")
    result = call(world.cbs, "CopySnapshotCrossRegions", {
        "SnapshotId": source_id, "DestinationRegions": list(COPY_REGIONS)})["SnapshotCopyResultSet"]
    assert [(r["DestinationRegion"], r["Code"], r["Message"]) for r in result] == [
        (region, "Success", "") for region in COPY_REGIONS]
    copies = {r["DestinationRegion"]: r["SnapshotId"] for r in result}
    assert all(re.fullmatch(r"snap-[a-z0-9]{8}", c) for c in copies.values())

    source = world.snapshot(source_id)
    assert sorted(source["CopyingToRegions"]) == sorted(COPY_REGIONS)
    assert source["SnapshotState"] == "NORMAL"
    shanghai = world.client("ap-shanghai")
    copy_id = copies["ap-shanghai"]

    copy = world.snapshot(copy_id, client=shanghai)
    assert copy["SnapshotState"] == "COPYING_FROM_REMOTE" and copy["Percent"] == 0
    assert copy["CopyFromRemote"] is True and copy["DiskId"] == ""
    assert copy["SnapshotName"] == f"Copied {source_id} from {REGION}"
    assert (copy["DiskSize"], copy["DiskUsage"]) == (50, "DATA_DISK")
    assert copy["Placement"]["Zone"].startswith("ap-shanghai-")
    assert copy["SnapshotType"] == "PRIVATE_SNAPSHOT" and copy["CopyingToRegions"] == []
    # only in its own region
    assert call(world.cbs, "DescribeSnapshots", {"SnapshotIds": [copy_id]})["TotalCount"] == 0

    world.advance(4)  # snapshot.copy
    copy = world.snapshot(copy_id, client=shanghai)
    assert copy["SnapshotState"] == "CHECKING_COPIED" and copy["Percent"] < 100
    assert world.snapshot(source_id)["CopyingToRegions"] == []

    world.advance(1)  # snapshot.check
    copy = world.snapshot(copy_id, client=shanghai)
    assert (copy["SnapshotState"], copy["Percent"]) == ("NORMAL", 100)
    beijing = world.snapshot(copies["ap-beijing"], client=world.client("ap-beijing"))
    assert beijing["SnapshotState"] == "NORMAL"


def test_a_copy_refused_in_one_region_is_reported_in_its_row(world):
    """Per-region failure is a row of the result (Code, Message), not the request's error."""
    disk_id = world.create_disk()
    source_id = world.normal_snapshot(disk_id)
    chengdu = world.client("ap-chengdu")
    assert call(chengdu, "DescribeSnapshots", {})["TotalCount"] == 0
    quota = world.control("GET", "/config")["config"]["limits"]["snapshots_per_region"]
    world.control("POST", "/config", {"limits": {"snapshots_per_region": 1}})
    try:
        call(world.cbs, "CopySnapshotCrossRegions", {"SnapshotId": source_id,
                                                     "DestinationRegions": ["ap-chengdu"]})
        world.advance(5)  # copied and checked: ap-chengdu holds its one snapshot
        result = call(world.cbs, "CopySnapshotCrossRegions", {
            "SnapshotId": source_id, "DestinationRegions": ["ap-chengdu", "ap-nanjing"]})
    finally:
        world.control("POST", "/config", {"limits": {"snapshots_per_region": quota}})
    rows = {r["DestinationRegion"]: r for r in result["SnapshotCopyResultSet"]}
    assert rows.keys() == {"ap-chengdu", "ap-nanjing"}
    assert rows["ap-chengdu"]["Code"] == "InsufficientSnapshotQuota"
    assert rows["ap-chengdu"]["SnapshotId"] == "" and rows["ap-chengdu"]["Message"]
    assert (rows["ap-nanjing"]["Code"], rows["ap-nanjing"]["Message"]) == ("Success", "")
    world.advance(5)
    assert world.snapshot(rows["ap-nanjing"]["SnapshotId"],
                          client=world.client("ap-nanjing"))["SnapshotState"] == "NORMAL"


# --- DescribeSnapshotOverview / GetSnapOverview ----------------------------------------------------
def test_the_overview_both_ways(world):
    disk_id = world.create_disk(DiskSize=100)
    world.normal_snapshot(disk_id)
    own = call(world.cbs, "DescribeSnapshots", {
        "Filters": [{"Name": "snapshot-type", "Values": ["PRIVATE_SNAPSHOT"]}], "Limit": 100})
    size = sum(s["DiskSize"] for s in own["SnapshotSet"])
    overview = call(world.cbs, "DescribeSnapshotOverview", {})
    legacy = call(world.cbs, "GetSnapOverview", {})
    for answer in (overview, legacy):
        assert answer["TotalNums"] == own["TotalCount"] >= 1
        assert answer["TotalSize"] == pytest.approx(size)
        assert answer["FreeQuota"] == pytest.approx(50)
        assert answer["RealTradeSize"] == pytest.approx(max(0, size - 50))
    assert {k: v for k, v in overview.items() if k != "RequestId"} == {
        k: v for k, v in legacy.items() if k != "RequestId"}


# --- automatic snapshot policies -----------------------------------------------------------------
def policies(world, policy_ids: list[str]) -> dict[str, dict]:
    response = call(world.cbs, "DescribeAutoSnapshotPolicies", {"AutoSnapshotPolicyIds": policy_ids})
    assert response["TotalCount"] == len(policy_ids)
    return {p["AutoSnapshotPolicyId"]: p for p in response["AutoSnapshotPolicySet"]}


def check_policy_defaults(policy: dict) -> None:
    assert policy["AdvancedRetentionPolicy"] is None
    assert policy["CopyToAccountUin"] is None and policy["CopyFromAccountUin"] is None
    assert (policy["IsCopyToRemote"], policy["RetentionMonths"], policy["RetentionAmount"]) == (0, 0, 0)
    assert policy["InstanceIdSet"] == [] and policy["Tags"] == []
    assert TIME.fullmatch(policy["CreateTime"]) and TIME.fullmatch(policy["NextTriggerTime"])


def test_policy_actions(world):
    schedule = [{"DayOfWeek": [1, 3, 5], "Hour": [2, 14]}]
    dry = call(world.cbs, "CreateAutoSnapshotPolicy", {"Policy": schedule, "DryRun": True})
    assert dry["AutoSnapshotPolicyId"] == "" and TIME.fullmatch(dry["NextTriggerTime"])

    created = call(world.cbs, "CreateAutoSnapshotPolicy", {
        "Policy": schedule, "AutoSnapshotPolicyName": "shapes-policy", "RetentionDays": 3})
    policy_id = created["AutoSnapshotPolicyId"]
    assert re.fullmatch(r"asp-[a-z0-9]{8}", policy_id)
    assert created["NextTriggerTime"] == dry["NextTriggerTime"]
    by_month = call(world.cbs, "CreateAutoSnapshotPolicy", {
        "Policy": [{"DayOfMonth": [1, 15], "Hour": [0]}, {"IntervalDays": 3, "Hour": [23]}],
        "IsPermanent": True, "IsActivated": False})["AutoSnapshotPolicyId"]

    found = policies(world, [policy_id, by_month])
    policy = found[policy_id]
    check_policy_defaults(policy)
    assert (policy["AutoSnapshotPolicyName"], policy["AutoSnapshotPolicyState"]) == (
        "shapes-policy", "NORMAL")
    assert (policy["IsActivated"], policy["IsPermanent"], policy["RetentionDays"]) == (True, False, 3)
    assert policy["DiskIdSet"] == []
    assert policy["NextTriggerTime"] == created["NextTriggerTime"]
    assert [(p["DayOfWeek"], p["Hour"]) for p in policy["Policy"]] == [([1, 3, 5], [2, 14])]
    other = found[by_month]
    check_policy_defaults(other)
    assert (other["IsActivated"], other["IsPermanent"]) == (False, True)
    assert [(p["DayOfMonth"], p["IntervalDays"]) for p in other["Policy"]] == [([1, 15], 0), ([], 3)]

    disk_a, disk_b = world.create_disk(), world.create_disk()
    assert call(world.cbs, "BindAutoSnapshotPolicy", {
        "AutoSnapshotPolicyId": policy_id, "DiskIds": [disk_a, disk_b]}).keys() == {"RequestId"}
    assert sorted(policies(world, [policy_id])[policy_id]["DiskIdSet"]) == sorted([disk_a, disk_b])

    associated = call(world.cbs, "DescribeDiskAssociatedAutoSnapshotPolicy", {"DiskId": disk_a})
    assert associated["TotalCount"] == 1
    [seen] = associated["AutoSnapshotPolicySet"]
    assert seen["AutoSnapshotPolicyId"] == policy_id and seen["DiskIdSet"] == []
    check_policy_defaults(seen)
    none = call(world.cbs, "DescribeDiskAssociatedAutoSnapshotPolicy", {
        "DiskId": world.create_disk()})
    assert (none["TotalCount"], none["AutoSnapshotPolicySet"]) == (0, [])

    # DescribeDisks: the policies only when asked for
    bound = world.disks([disk_a, disk_b], bound=True)
    assert [bound[d]["AutoSnapshotPolicyIds"] for d in (disk_a, disk_b)] == [[policy_id]] * 2
    plain = world.disks([disk_a, disk_b], bound=False)
    assert [plain[d]["AutoSnapshotPolicyIds"] for d in (disk_a, disk_b)] == [None, None]

    assert call(world.cbs, "ModifyAutoSnapshotPolicyAttribute", {
        "AutoSnapshotPolicyId": policy_id, "AutoSnapshotPolicyName": "shapes-renamed",
        "Policy": [{"DayOfWeek": [0], "Hour": [8]}], "IsPermanent": True,
        "IsActivated": False}).keys() == {"RequestId"}
    policy = policies(world, [policy_id])[policy_id]
    check_policy_defaults(policy)
    assert (policy["AutoSnapshotPolicyName"], policy["IsPermanent"], policy["IsActivated"]) == (
        "shapes-renamed", True, False)
    assert [(p["DayOfWeek"], p["Hour"]) for p in policy["Policy"]] == [([0], [8])]
    assert datetime.strptime(policy["NextTriggerTime"], "%Y-%m-%d %H:%M:%S").isoweekday() == 7

    # an ISOLATED policy (the control plane) looks the same
    world.control("POST", f"/policies/{by_month}", {"state": "ISOLATED"})
    isolated = call(world.cbs, "DescribeAutoSnapshotPolicies", {
        "Filters": [{"Name": "auto-snapshot-policy-state", "Values": ["ISOLATED"]}]})
    assert [p["AutoSnapshotPolicyId"] for p in isolated["AutoSnapshotPolicySet"]] == [by_month]
    assert isolated["AutoSnapshotPolicySet"][0]["AutoSnapshotPolicyState"] == "ISOLATED"

    assert call(world.cbs, "UnbindAutoSnapshotPolicy", {
        "AutoSnapshotPolicyId": policy_id, "DiskIds": [disk_a]}).keys() == {"RequestId"}
    assert policies(world, [policy_id])[policy_id]["DiskIdSet"] == [disk_b]
    assert world.disk(disk_a, bound=True)["AutoSnapshotPolicyIds"] == []

    assert call(world.cbs, "DeleteAutoSnapshotPolicies", {
        "AutoSnapshotPolicyIds": [policy_id, by_month]}).keys() == {"RequestId"}
    gone = call(world.cbs, "DescribeAutoSnapshotPolicies", {"AutoSnapshotPolicyIds": [policy_id]})
    assert (gone["TotalCount"], gone["AutoSnapshotPolicySet"]) == (0, [])
    assert world.disk(disk_b, bound=True)["AutoSnapshotPolicyIds"] == []


def test_a_described_policy_is_accepted_back(world):
    """The Policy objects DescribeAutoSnapshotPolicies shows go back into
    ModifyAutoSnapshotPolicyAttribute and CreateAutoSnapshotPolicy as they are (a client copying
    or re-saving a schedule): every field the output fills in must be valid input."""
    policy_id = call(world.cbs, "CreateAutoSnapshotPolicy", {
        "Policy": [{"DayOfWeek": [2], "Hour": [4]}], "IsActivated": False})["AutoSnapshotPolicyId"]
    try:
        described = policies(world, [policy_id])[policy_id]["Policy"]
        assert [(p["DayOfWeek"], p["Hour"]) for p in described] == [([2], [4])]
        dry = call(world.cbs, "CreateAutoSnapshotPolicy", {"Policy": described, "DryRun": True})
        assert TIME.fullmatch(dry["NextTriggerTime"])
        call(world.cbs, "ModifyAutoSnapshotPolicyAttribute", {
            "AutoSnapshotPolicyId": policy_id, "Policy": described})
        assert policies(world, [policy_id])[policy_id]["Policy"] == described
    finally:
        call(world.cbs, "DeleteAutoSnapshotPolicies", {"AutoSnapshotPolicyIds": [policy_id]})


def test_a_snapshot_made_by_a_policy(world):
    """A policy firing every hour, bound to an elastic disk attached to a running instance: its
    snapshot names the policy and expires after RetentionDays."""
    (instance_id,) = call(world.cvm, "RunInstances", {
        "Placement": {"Zone": ZONE}, "ImageId": IMAGE_ID, "InstanceType": INSTANCE_TYPE},
        cvm_models)["InstanceIdSet"]
    disk_id = world.create_disk()
    world.advance(3)  # instance.launch
    call(world.cbs, "AttachDisks", {"DiskIds": [disk_id], "InstanceId": instance_id})
    world.advance(1.5)  # disk.attach
    assert world.disk(disk_id)["DiskState"] == "ATTACHED"

    created = call(world.cbs, "CreateAutoSnapshotPolicy", {
        "Policy": [{"DayOfWeek": list(range(7)), "Hour": list(range(24))}], "RetentionDays": 2})
    policy_id = created["AutoSnapshotPolicyId"]
    call(world.cbs, "BindAutoSnapshotPolicy", {"AutoSnapshotPolicyId": policy_id,
                                               "DiskIds": [disk_id]})
    world.control("POST", "/clock", {"set": created["NextTriggerTime"]})
    fired_at = world.now()

    response = call(world.cbs, "DescribeSnapshots", {
        "Filters": [{"Name": "disk-id", "Values": [disk_id]}]})
    assert response["TotalCount"] == 1
    [snap] = response["SnapshotSet"]
    assert snap["SnapshotState"] == "CREATING"
    assert snap["AutoSnapshotPolicyId"] == policy_id
    assert snap["IsPermanent"] is False
    assert snap["DeadlineTime"] == china_time(fired_at + 2 * 86400)
    world.advance(3)
    assert world.snapshot(snap["SnapshotId"])["SnapshotState"] == "NORMAL"
    policy = policies(world, [policy_id])[policy_id]
    assert policy["NextTriggerTime"] > created["NextTriggerTime"]
    assert policy["DiskIdSet"] == [disk_id]
    call(world.cbs, "DeleteAutoSnapshotPolicies", {"AutoSnapshotPolicyIds": [policy_id]})


def test_describe_disks_with_a_policy_snapshots_and_a_rollback_at_once(world):
    """One DescribeDisks page: a disk bound to a policy, one with snapshots (one of them of the
    system disk of an instance, as a SYSTEM_DISK snapshot), one rolling back."""
    (instance_id,) = call(world.cvm, "RunInstances", {
        "Placement": {"Zone": ZONE}, "ImageId": IMAGE_ID, "InstanceType": INSTANCE_TYPE},
        cvm_models)["InstanceIdSet"]
    world.advance(3)  # instance.launch
    [system_disk] = call(world.cbs, "DescribeDisks", {"Filters": [
        {"Name": "instance-id", "Values": [instance_id]}]})["DiskSet"]
    assert system_disk["DiskUsage"] == "SYSTEM_DISK"
    system_snapshot = world.normal_snapshot(system_disk["DiskId"])
    assert world.snapshot(system_snapshot)["DiskUsage"] == "SYSTEM_DISK"

    bound_disk, snapped_disk, rolling_disk = (world.create_disk() for _ in range(3))
    policy_id = call(world.cbs, "CreateAutoSnapshotPolicy", {
        "Policy": [{"DayOfWeek": [6], "Hour": [3]}]})["AutoSnapshotPolicyId"]
    call(world.cbs, "BindAutoSnapshotPolicy", {"AutoSnapshotPolicyId": policy_id,
                                               "DiskIds": [bound_disk]})
    world.normal_snapshot(snapped_disk)
    world.normal_snapshot(snapped_disk)
    rollback_to = world.normal_snapshot(rolling_disk)
    call(world.cbs, "ApplySnapshot", {"SnapshotId": rollback_to, "DiskId": rolling_disk})

    every = [system_disk["DiskId"], bound_disk, snapped_disk, rolling_disk]
    with_policies = world.disks(every, bound=True)
    without = world.disks(every, bound=False)
    assert [with_policies[d]["AutoSnapshotPolicyIds"] for d in every] == [[], [policy_id], [], []]
    assert [without[d]["AutoSnapshotPolicyIds"] for d in every] == [None] * 4
    for disks in (with_policies, without):
        assert (disks[snapped_disk]["SnapshotCount"], disks[snapped_disk]["SnapshotSize"]) == (
            2, 2 * 50 * 1024)
        assert disks[system_disk["DiskId"]]["SnapshotCount"] == 1
        rolling = disks[rolling_disk]
        assert (rolling["DiskState"], rolling["Rollbacking"]) == ("ROLLBACKING", True)
    world.advance(3)  # snapshot.rollback
    assert world.disk(rolling_disk)["DiskState"] == "UNATTACHED"
    call(world.cbs, "DeleteAutoSnapshotPolicies", {"AutoSnapshotPolicyIds": [policy_id]})


# --- custom images on snapshots (CVM CreateImage / DescribeImages / DeleteImages) --------------------
def test_images_built_on_snapshots(world):
    run = {"Placement": {"Zone": ZONE}, "ImageId": IMAGE_ID, "InstanceType": INSTANCE_TYPE}
    (instance_id,) = call(world.cvm, "RunInstances", run, cvm_models)["InstanceIdSet"]
    world.advance(3)  # instance.launch
    disks = call(world.cbs, "DescribeDisks", {"Filters": [
        {"Name": "instance-id", "Values": [instance_id]}]})["DiskSet"]
    system_disk = next(d["DiskId"] for d in disks if d["DiskUsage"] == "SYSTEM_DISK")
    snapshot_id = world.normal_snapshot(system_disk)

    created = call(world.cvm, "CreateImage", {"ImageName": "shapes-image",
                                              "SnapshotIds": [snapshot_id]}, cvm_models)
    image_id = created["ImageId"]
    assert re.fullmatch(r"img-[a-z0-9]{8}", image_id)
    creating = call(world.cvm, "DescribeImages", {"ImageIds": [image_id]}, cvm_models)
    assert creating["ImageSet"][0]["ImageState"] == "CREATING"
    world.advance(3)  # image.create
    image = call(world.cvm, "DescribeImages", {"ImageIds": [image_id]}, cvm_models)["ImageSet"][0]
    assert (image["ImageState"], image["ImageType"], image["OsName"]) == (
        "NORMAL", "PRIVATE_IMAGE", "TencentOS Server 3.1 (TK4)")
    assert image["SnapshotSet"] == [{"SnapshotId": snapshot_id, "DiskUsage": "SYSTEM_DISK",
                                     "DiskSize": 50}]
    public = call(world.cvm, "DescribeImages", {"Filters": [
        {"Name": "image-type", "Values": ["PUBLIC_IMAGE"]}]}, cvm_models)
    assert public["TotalCount"] >= 1 and all(i["ImageType"] == "PUBLIC_IMAGE"
                                             for i in public["ImageSet"])

    snap = world.snapshot(snapshot_id)
    assert (snap["Images"], snap["ImageCount"]) == (
        [{"ImageId": image_id, "ImageName": "shapes-image"}], 1)
    assert call(world.cvm, "DeleteImages", {"ImageIds": [image_id]}, cvm_models).keys() == {"RequestId"}
    assert (world.snapshot(snapshot_id)["Images"], world.snapshot(snapshot_id)["ImageCount"]) == ([], 0)
