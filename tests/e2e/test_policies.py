"""Automatic snapshot policies through the official Python SDK against a real server: every
policy action and the exact code of every refusal (cbs-behavior.md §3.25-3.31, §4.3, §5.3, §7),
and the policies firing on the emulator's clock — which snapshots exist after days of virtual
time, made when, named how, kept how long.

The clock is frozen and set to START first (the clock only moves forward; the present is
2026-12), so every time below is exact. Times are China time, as the API shows them.
2027-03-01 is a Monday."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tencentcloud.cbs.v20170312 import models
from tencentcloud.cvm.v20170312 import models as cvm_models

from tests.e2e.server import Server, cbs_client
from tests.e2e.test_lifecycle import World, code_of, request

START = "2027-03-01 12:00:00"
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]
DAILY_AT_2 = {"Hour": [2], "DayOfWeek": EVERY_DAY}
FORMAT = "%Y-%m-%d %H:%M:%S"


def plus(time: str, **delta) -> str:
    return (datetime.strptime(time, FORMAT) + timedelta(**delta)).strftime(FORMAT)


def snap_name(time: str) -> str:
    moment = datetime.strptime(time, FORMAT)
    return moment.strftime("snap_%Y%m%d_%H")


class PolicyWorld(World):
    """A server with its clock frozen at START, the official clients, and policy helpers."""

    def __init__(self, server: Server, cbs=None):
        super().__init__(server)
        if cbs is not None:
            self.cbs = cbs

    # the control plane
    def clock(self, **body) -> dict:
        answer = self.server.control("POST", "/clock", body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def advance(self, duration: str) -> dict:
        return self.clock(advance=duration)

    def set_clock(self, time: str) -> dict:
        return self.clock(set=time)

    def now(self) -> str:
        return self.server.control("GET", "/clock").json()["time"]

    def limits(self, **limits) -> None:
        answer = self.server.control("POST", "/config", {"limits": limits})
        assert answer.status_code == 200, answer.text

    def isolate(self, policy_id: str, state: str = "ISOLATED") -> None:
        answer = self.server.control("POST", f"/policies/{policy_id}", {"state": state})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"policy_id": policy_id, "state": state}

    # policies
    def create_policy(self, *entries: dict, **fields):
        return self.cbs.CreateAutoSnapshotPolicy(request(
            models.CreateAutoSnapshotPolicyRequest, Policy=list(entries or [DAILY_AT_2]), **fields))

    def new_policy(self, *entries: dict, **fields) -> str:
        return self.create_policy(*entries, **fields).AutoSnapshotPolicyId

    def policies(self, **fields):
        return self.cbs.DescribeAutoSnapshotPolicies(request(
            models.DescribeAutoSnapshotPoliciesRequest, **fields))

    def policy(self, policy_id: str):
        found = self.policies(AutoSnapshotPolicyIds=[policy_id]).AutoSnapshotPolicySet
        return found[0] if found else None

    def modify(self, policy_id: str, **fields):
        return self.cbs.ModifyAutoSnapshotPolicyAttribute(request(
            models.ModifyAutoSnapshotPolicyAttributeRequest, AutoSnapshotPolicyId=policy_id, **fields))

    def bind(self, policy_id: str, *disk_ids: str):
        return self.cbs.BindAutoSnapshotPolicy(request(
            models.BindAutoSnapshotPolicyRequest, AutoSnapshotPolicyId=policy_id, DiskIds=list(disk_ids)))

    def unbind(self, policy_id: str, **fields):
        return self.cbs.UnbindAutoSnapshotPolicy(request(
            models.UnbindAutoSnapshotPolicyRequest, AutoSnapshotPolicyId=policy_id, **fields))

    def delete(self, *policy_ids: str):
        return self.cbs.DeleteAutoSnapshotPolicies(request(
            models.DeleteAutoSnapshotPoliciesRequest, AutoSnapshotPolicyIds=list(policy_ids)))

    def associated(self, disk_id: str):
        return self.cbs.DescribeDiskAssociatedAutoSnapshotPolicy(request(
            models.DescribeDiskAssociatedAutoSnapshotPolicyRequest, DiskId=disk_id))

    def bound_policies(self, disk_id: str):
        return self.disks(DiskIds=[disk_id], ReturnBindAutoSnapshotPolicy=True)[0].AutoSnapshotPolicyIds

    # snapshots
    def snapshots(self, *disk_ids: str) -> list:
        filters = [{"Name": "disk-id", "Values": list(disk_ids)}] if disk_ids else []
        found, offset = [], 0
        while True:
            page = self.cbs.DescribeSnapshots(request(
                models.DescribeSnapshotsRequest, Filters=filters, Limit=100, Offset=offset) if filters
                else request(models.DescribeSnapshotsRequest, Limit=100, Offset=offset))
            found += page.SnapshotSet
            offset += len(page.SnapshotSet)
            if offset >= page.TotalCount or not page.SnapshotSet:
                return found

    def snapshot_times(self, disk_id: str) -> list[str]:
        return sorted(s.CreateTime for s in self.snapshots(disk_id))

    # disks in use
    def attached_disks(self, count: int, instance_id: str | None = None) -> tuple[str, list[str]]:
        instance_id = instance_id or self.run()[0]
        disk_ids = [self.create() for _ in range(count)]
        self.attach(instance_id, *disk_ids)
        return instance_id, disk_ids


def start_world(server: Server) -> PolicyWorld:
    world = PolicyWorld(server)
    world.clock(mode="frozen")
    assert world.set_clock(START)["time"] == START
    return world


@pytest.fixture
def world(fresh_server):
    """A fresh instant-timing server of the test's own, its clock frozen at START."""
    yield start_world(fresh_server)
    assert "Traceback" not in fresh_server.log_text()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One instant-timing server for the tests that only add their own policies and disks and
    change neither the clock nor the limits."""
    server = Server(tmp_path_factory.mktemp("policies") / "data").start()
    yield start_world(server)
    server.stop()
    assert "Traceback" not in server.log_text()


def assert_policy_snapshot(snap, *, disk_id: str, policy_id: str, created: str,
                           retention_days: int | None, disk_size: int = 50,
                           usage: str = "DATA_DISK") -> None:
    """One snapshot made by a policy at `created` (retention_days None: a permanent policy)."""
    assert snap.DiskId == disk_id
    assert snap.AutoSnapshotPolicyId == policy_id
    assert snap.CreateTime == created
    assert snap.SnapshotName == snap_name(created)
    assert snap.SnapshotState == "NORMAL" and snap.Percent == 100
    assert (snap.DiskSize, snap.DiskUsage, snap.SnapshotType) == (disk_size, usage, "PRIVATE_SNAPSHOT")
    if retention_days is None:
        assert (snap.IsPermanent, snap.DeadlineTime) == (True, "")
    else:
        assert (snap.IsPermanent, snap.DeadlineTime) == (False, plus(created, days=retention_days))


# =================================================================================================
# The schedule: which snapshots the policies make on the clock (acceptance of the issue)
# =================================================================================================
@pytest.mark.parametrize("rule", [{"IntervalDays": 1}, {"DayOfWeek": EVERY_DAY}],
                         ids=["IntervalDays-1", "DayOfWeek-every-day"])
def test_daily_policy_keeps_the_last_three_days(world, rule):
    ins, (disk_a, disk_b) = world.attached_disks(2)
    spare = world.create()  # bound but never attached: no snapshots
    created = world.create_policy({"Hour": [2], **rule}, RetentionDays=3,
                                  AutoSnapshotPolicyName="daily")
    policy_id = created.AutoSnapshotPolicyId
    assert created.NextTriggerTime == "2027-03-02 02:00:00"
    world.bind(policy_id, disk_a, disk_b, spare)

    # the first night
    assert world.advance("1d")["time"] == "2027-03-02 12:00:00"
    first = world.snapshots(disk_a, disk_b)
    assert sorted((s.DiskId, s.CreateTime) for s in first) == sorted(
        [(disk_a, "2027-03-02 02:00:00"), (disk_b, "2027-03-02 02:00:00")])
    assert all(s.DeadlineTime == "2027-03-05 02:00:00" for s in first)

    # ten days after START: the snapshots of 03-02 … 03-08 have passed their deadline
    assert world.advance("9d")["time"] == "2027-03-11 12:00:00"
    expected_times = ["2027-03-09 02:00:00", "2027-03-10 02:00:00", "2027-03-11 02:00:00"]
    everything = world.snapshots()
    assert len(everything) == 6
    for disk_id in (disk_a, disk_b):
        mine = sorted((s for s in everything if s.DiskId == disk_id), key=lambda s: s.CreateTime)
        assert [s.CreateTime for s in mine] == expected_times
        for snap, when in zip(mine, expected_times):
            assert_policy_snapshot(snap, disk_id=disk_id, policy_id=policy_id, created=when,
                                   retention_days=3)
        assert world.disk(disk_id).SnapshotCount == 3  # the expired ones count no more
    assert world.snapshots(spare) == []
    assert len({s.SnapshotId for s in everything}) == 6

    policy = world.policy(policy_id)
    assert policy.NextTriggerTime == "2027-03-12 02:00:00"
    assert (policy.RetentionDays, policy.IsPermanent, policy.IsActivated) == (3, False, True)
    assert sorted(policy.DiskIdSet) == sorted([disk_a, disk_b, spare])

    # one more day: the oldest goes at its deadline as the newest comes
    world.advance("1d")
    assert world.snapshot_times(disk_a) == expected_times[1:] + ["2027-03-12 02:00:00"]
    assert world.policy(policy_id).NextTriggerTime == "2027-03-13 02:00:00"


@pytest.mark.parametrize("how", ["no-disk", "unattached-disk", "deactivated", "permanent"])
def test_every_firing_schedules_the_next_one(world, how):
    """A firing that makes no snapshot (nothing in use, not activated) or one that schedules no
    deletion (a permanent policy) must still leave the next firing scheduled."""
    fields = {"IsActivated": False} if how == "deactivated" else {}
    if how == "permanent":
        fields["IsPermanent"] = True
    policy_id = world.new_policy(DAILY_AT_2, **fields)
    if how == "unattached-disk":
        world.bind(policy_id, world.create())
    elif how == "permanent":
        world.bind(policy_id, world.attached_disks(1)[1][0])
    for day, next_time in [(2, "2027-03-03 02:00:00"), (3, "2027-03-04 02:00:00"),
                           (4, "2027-03-05 02:00:00")]:
        world.advance("1d")
        assert world.policy(policy_id).NextTriggerTime == next_time, f"after 2027-03-0{day} 02:00"
    if how == "permanent":
        assert len(world.snapshots()) == 3


@pytest.mark.parametrize("entries", [
    [{"Hour": [1, 13], "DayOfWeek": [1, 4]}],
    [{"Hour": [13, 1], "DayOfWeek": [1]}, {"Hour": [1, 13], "DayOfWeek": [4]}],
], ids=["one-entry", "two-entries"])
def test_day_of_week_policy_over_two_weeks(world, entries):
    _, (disk,) = world.attached_disks(1)
    created = world.create_policy(*entries, IsPermanent=True)
    assert created.NextTriggerTime == "2027-03-01 13:00:00"  # Monday: 01:00 has passed, 13:00 not
    world.bind(created.AutoSnapshotPolicyId, disk)
    world.advance("14d")  # to Monday 2027-03-15 12:00
    expected = ["2027-03-01 13:00:00", "2027-03-04 01:00:00", "2027-03-04 13:00:00",
                "2027-03-08 01:00:00", "2027-03-08 13:00:00", "2027-03-11 01:00:00",
                "2027-03-11 13:00:00", "2027-03-15 01:00:00"]
    found = sorted(world.snapshots(disk), key=lambda s: s.CreateTime)
    assert [s.CreateTime for s in found] == expected
    for snap, when in zip(found, expected):
        assert_policy_snapshot(snap, disk_id=disk, policy_id=created.AutoSnapshotPolicyId,
                               created=when, retention_days=None)
    policy = world.policy(created.AutoSnapshotPolicyId)
    assert policy.NextTriggerTime == "2027-03-15 13:00:00"
    assert (policy.IsPermanent, policy.RetentionDays) == (True, 0)


def test_sunday_is_day_zero(world):
    _, (disk,) = world.attached_disks(1)
    policy_id = world.new_policy({"Hour": [9], "DayOfWeek": [0]}, RetentionDays=30)
    assert world.policy(policy_id).NextTriggerTime == "2027-03-07 09:00:00"
    world.bind(policy_id, disk)
    world.advance("12d")  # to Saturday 2027-03-13 12:00
    assert world.snapshot_times(disk) == ["2027-03-07 09:00:00"]
    world.advance("1d")
    assert world.snapshot_times(disk) == ["2027-03-07 09:00:00", "2027-03-14 09:00:00"]


def test_interval_days_policies_first_run_on_the_day_or_the_next_cycle(world):
    ins, (same_day_disk, next_cycle_disk) = world.attached_disks(2)
    # Created at 12:00, before 23:00: the first run is the same day.
    same_day = world.create_policy({"Hour": [23], "IntervalDays": 3}, RetentionDays=30)
    assert same_day.NextTriggerTime == "2027-03-01 23:00:00"
    world.bind(same_day.AutoSnapshotPolicyId, same_day_disk)
    # Created at 23:30 the next day, after 23:00: the first run is the next cycle.
    world.set_clock("2027-03-02 23:30:00")
    next_cycle = world.create_policy({"Hour": [23], "IntervalDays": 3}, RetentionDays=30)
    assert next_cycle.NextTriggerTime == "2027-03-05 23:00:00"
    world.bind(next_cycle.AutoSnapshotPolicyId, next_cycle_disk)

    world.set_clock("2027-03-12 12:00:00")
    assert world.snapshot_times(same_day_disk) == [
        "2027-03-01 23:00:00", "2027-03-04 23:00:00", "2027-03-07 23:00:00", "2027-03-10 23:00:00"]
    assert world.snapshot_times(next_cycle_disk) == [
        "2027-03-05 23:00:00", "2027-03-08 23:00:00", "2027-03-11 23:00:00"]
    for snap in world.snapshots(same_day_disk):
        assert_policy_snapshot(snap, disk_id=same_day_disk, policy_id=same_day.AutoSnapshotPolicyId,
                               created=snap.CreateTime, retention_days=30)
    assert world.policy(same_day.AutoSnapshotPolicyId).NextTriggerTime == "2027-03-13 23:00:00"
    assert world.policy(next_cycle.AutoSnapshotPolicyId).NextTriggerTime == "2027-03-14 23:00:00"


def test_day_of_month_policy_skips_months_without_the_day(world):
    _, (disk,) = world.attached_disks(1)
    policy_id = world.new_policy({"Hour": [3], "DayOfMonth": [31]}, RetentionDays=365)
    assert world.policy(policy_id).NextTriggerTime == "2027-03-31 03:00:00"
    world.bind(policy_id, disk)
    world.set_clock("2027-08-01 00:00:00")
    assert world.snapshot_times(disk) == ["2027-03-31 03:00:00", "2027-05-31 03:00:00",
                                          "2027-07-31 03:00:00"]
    assert world.policy(policy_id).NextTriggerTime == "2027-08-31 03:00:00"


def test_day_of_week_wins_over_the_other_rules(world):
    policy = world.create_policy({"Hour": [4], "DayOfWeek": [0], "DayOfMonth": [2], "IntervalDays": 1})
    assert policy.NextTriggerTime == "2027-03-07 04:00:00"
    policy = world.create_policy({"Hour": [4], "DayOfMonth": [20], "IntervalDays": 1})
    assert policy.NextTriggerTime == "2027-03-20 04:00:00"


def test_deactivated_policy_makes_no_snapshots_until_activated(world):
    _, (disk,) = world.attached_disks(1)
    policy_id = world.new_policy(DAILY_AT_2, IsActivated=False)
    assert world.policy(policy_id).IsActivated is False
    world.bind(policy_id, disk)
    world.advance("3d")
    assert world.snapshots(disk) == []
    world.modify(policy_id, IsActivated=True)
    world.advance("2d")  # to 2027-03-06 12:00
    assert world.snapshot_times(disk) == ["2027-03-05 02:00:00", "2027-03-06 02:00:00"]
    world.modify(policy_id, IsActivated=False)
    world.advance("2d")
    assert world.snapshot_times(disk) == ["2027-03-05 02:00:00", "2027-03-06 02:00:00"]


def test_isolated_policy_makes_no_snapshots_and_cannot_be_modified(world):
    _, (disk,) = world.attached_disks(1)
    policy_id = world.new_policy(DAILY_AT_2, RetentionDays=30)
    world.bind(policy_id, disk)
    world.isolate(policy_id)
    assert world.policy(policy_id).AutoSnapshotPolicyState == "ISOLATED"
    world.advance("3d")
    assert world.snapshots(disk) == []
    assert code_of(world.modify, policy_id, IsActivated=False) == "UnsupportedOperation.StateError"
    assert code_of(world.modify, policy_id, AutoSnapshotPolicyName="x") == "UnsupportedOperation.StateError"
    assert world.policy(policy_id).IsActivated is True  # the refused call changed nothing
    world.isolate(policy_id, "NORMAL")
    world.advance("1d")  # to 2027-03-05 12:00
    assert world.snapshot_times(disk) == ["2027-03-05 02:00:00"]
    world.modify(policy_id, IsActivated=False)  # NORMAL again: modifiable


def test_only_disks_in_use_get_snapshots(world):
    ins = world.run()[0]
    attached, later, detached = world.create(), world.create(), world.create()
    world.attach(ins, attached, detached)
    policy_id = world.new_policy(DAILY_AT_2, RetentionDays=30)
    world.bind(policy_id, attached, later, detached)
    world.detach(detached)
    world.wait_disk(detached, "UNATTACHED")
    world.advance("1d")  # 03-02 02:00: only `attached`
    assert [s.DiskId for s in world.snapshots()] == [attached]
    world.attach(ins, later)
    world.advance("1d")  # 03-03 02:00: `attached` and `later`
    assert world.snapshot_times(attached) == ["2027-03-02 02:00:00", "2027-03-03 02:00:00"]
    assert world.snapshot_times(later) == ["2027-03-03 02:00:00"]
    assert world.snapshots(detached) == []


def test_disks_bought_with_an_instance_get_snapshots_while_it_runs(world):
    ins = world.run(DataDisks=[{"DiskSize": 20}])[0]
    system, (bundled,) = world.system_and_data_disks(ins)
    policy_id = world.new_policy(DAILY_AT_2, RetentionDays=30)
    world.bind(policy_id, system, bundled)
    world.advance("1d")
    snaps = {s.DiskId: s for s in world.snapshots(system, bundled)}
    assert set(snaps) == {system, bundled}
    assert snaps[system].DiskUsage == "SYSTEM_DISK" and snaps[bundled].DiskUsage == "DATA_DISK"
    assert snaps[bundled].DiskSize == 20
    world.cvm.StopInstances(request(cvm_models.StopInstancesRequest, InstanceIds=[ins]))
    world.wait_instance(ins, "STOPPED")
    world.advance("1d")  # the instance is stopped: its disks are not in use
    assert world.snapshot_times(system) == ["2027-03-02 02:00:00"]
    assert world.snapshot_times(bundled) == ["2027-03-02 02:00:00"]


def test_several_hours_a_day_and_the_snapshot_names(world):
    _, (disk,) = world.attached_disks(1)
    policy_id = world.new_policy({"Hour": [0, 6, 18], "IntervalDays": 1}, RetentionDays=1)
    world.bind(policy_id, disk)
    world.advance("1d")  # to 03-02 12:00; those of 03-01 18:00 and later are within a day
    found = sorted(world.snapshots(disk), key=lambda s: s.CreateTime)
    assert [(s.CreateTime, s.SnapshotName, s.DeadlineTime) for s in found] == [
        ("2027-03-01 18:00:00", "snap_20270301_18", "2027-03-02 18:00:00"),
        ("2027-03-02 00:00:00", "snap_20270302_00", "2027-03-03 00:00:00"),
        ("2027-03-02 06:00:00", "snap_20270302_06", "2027-03-03 06:00:00")]
    assert world.policy(policy_id).NextTriggerTime == "2027-03-02 18:00:00"


def test_a_new_schedule_recomputes_the_next_trigger_and_is_followed(world):
    _, (disk,) = world.attached_disks(1)
    policy_id = world.new_policy(DAILY_AT_2, RetentionDays=30)
    world.bind(policy_id, disk)
    world.set_clock("2027-03-01 20:00:00")
    world.modify(policy_id, Policy=[{"Hour": [22], "IntervalDays": 2}])
    policy = world.policy(policy_id)
    assert policy.NextTriggerTime == "2027-03-01 22:00:00"  # the new anchor day, hour not passed
    assert [(p.Hour, p.IntervalDays) for p in policy.Policy] == [([22], 2)]
    world.set_clock("2027-03-06 12:00:00")
    assert world.snapshot_times(disk) == ["2027-03-01 22:00:00", "2027-03-03 22:00:00",
                                          "2027-03-05 22:00:00"]  # nothing at 02:00 any more
    assert world.policy(policy_id).NextTriggerTime == "2027-03-07 22:00:00"
    # the anchor moves with the schedule: changed at 23:00, after the hour → the next cycle
    world.set_clock("2027-03-06 23:00:00")
    world.modify(policy_id, Policy=[{"Hour": [22], "IntervalDays": 2}])
    assert world.policy(policy_id).NextTriggerTime == "2027-03-08 22:00:00"


def test_a_change_of_retention_applies_to_later_snapshots(world):
    _, (disk,) = world.attached_disks(1)
    policy_id = world.new_policy(DAILY_AT_2, RetentionDays=2)
    world.bind(policy_id, disk)
    world.advance("1d")
    world.modify(policy_id, IsPermanent=True)
    world.advance("1d")
    world.modify(policy_id, IsPermanent=False, RetentionDays=5)
    world.advance("1d")  # to 2027-03-04 12:00; the first went at 03-04 02:00
    found = {s.CreateTime: (s.IsPermanent, s.DeadlineTime) for s in world.snapshots(disk)}
    assert found == {"2027-03-03 02:00:00": (True, ""),
                     "2027-03-04 02:00:00": (False, "2027-03-09 02:00:00")}


def test_policies_of_several_disks_and_of_several_policies_per_disk(world):
    world.limits(policies_per_disk=2)
    _, (disk,) = world.attached_disks(1)
    daily = world.new_policy(DAILY_AT_2, RetentionDays=30)
    weekly = world.new_policy({"Hour": [2, 14], "DayOfWeek": [2]}, IsPermanent=True)
    world.bind(daily, disk)
    world.bind(weekly, disk)
    assert sorted(world.bound_policies(disk)) == sorted([daily, weekly])
    world.advance("2d")  # to 03-03 12:00; Tuesday 03-02 02:00 both fire, 14:00 only `weekly`
    found = sorted((s.CreateTime, s.AutoSnapshotPolicyId) for s in world.snapshots(disk))
    assert found == sorted([("2027-03-02 02:00:00", daily), ("2027-03-02 02:00:00", weekly),
                            ("2027-03-02 14:00:00", weekly), ("2027-03-03 02:00:00", daily)])


def test_deleted_policy_stops_but_its_snapshots_stay(world):
    _, (disk,) = world.attached_disks(1)
    policy_id = world.new_policy(DAILY_AT_2, RetentionDays=2)
    world.bind(policy_id, disk)
    world.advance("1d")
    world.delete(policy_id)
    assert world.policy(policy_id) is None
    assert world.bound_policies(disk) == []
    world.advance("1d")  # no new snapshot; the old one lives until its deadline
    (kept,) = world.snapshots(disk)
    assert (kept.CreateTime, kept.AutoSnapshotPolicyId) == ("2027-03-02 02:00:00", policy_id)
    world.advance("1d")
    assert world.snapshots(disk) == []  # deleted at 03-04 02:00, its deadline
    # the disk is free for another policy (policies_per_disk is 1)
    other = world.new_policy(DAILY_AT_2)
    world.bind(other, disk)
    assert world.bound_policies(disk) == [other]


def test_policies_and_their_schedule_survive_a_restart(world):
    _, (disk,) = world.attached_disks(1)
    policy_id = world.new_policy({"Hour": [14], "IntervalDays": 2}, RetentionDays=30)
    world.bind(policy_id, disk)
    world.advance("1d")
    world.server.stop()
    world = PolicyWorld(world.server.start())  # a new port: new clients
    assert world.now() == "2027-03-02 12:00:00"  # the frozen clock is kept in the store
    policy = world.policy(policy_id)
    assert (policy.NextTriggerTime, policy.DiskIdSet) == ("2027-03-03 14:00:00", [disk])
    assert world.snapshot_times(disk) == ["2027-03-01 14:00:00"]
    world.advance("4d")
    assert world.snapshot_times(disk) == ["2027-03-01 14:00:00", "2027-03-03 14:00:00",
                                          "2027-03-05 14:00:00"]


def test_terminated_disk_is_unbound(world):
    kept, gone = world.create(), world.create()
    policy_id = world.new_policy()
    world.bind(policy_id, kept, gone)
    world.cbs.TerminateDisks(request(models.TerminateDisksRequest, DiskIds=[gone]))
    world.wait_disk(gone, None)
    assert world.policy(policy_id).DiskIdSet == [kept]
    world.advance("2d")  # firing with a destroyed disk once bound is harmless
    assert world.policy(policy_id).NextTriggerTime == "2027-03-04 02:00:00"


def test_terminating_an_instance_unbinds_the_disks_it_takes_along(world):
    ins = world.run()[0]
    system, _ = world.system_and_data_disks(ins)
    policy_id = world.new_policy()
    world.bind(policy_id, system)
    world.cvm.TerminateInstances(request(cvm_models.TerminateInstancesRequest, InstanceIds=[ins]))
    world.wait_instance(ins, None)
    world.wait_disk(system, None)
    assert world.policy(policy_id).DiskIdSet == []
    world.advance("1d")
    assert world.snapshots() == []


# =================================================================================================
# CreateAutoSnapshotPolicy (§3.25)
# =================================================================================================
def test_create_answers_and_the_policy_it_makes(shared):
    created = shared.create_policy({"Hour": [5, 1, 5], "DayOfWeek": [3, 1]})
    assert created.AutoSnapshotPolicyId.startswith("asp-") and len(created.AutoSnapshotPolicyId) == 12
    assert created.NextTriggerTime == "2027-03-03 01:00:00"  # Wednesday
    policy = shared.policy(created.AutoSnapshotPolicyId)
    assert policy.AutoSnapshotPolicyId == created.AutoSnapshotPolicyId
    assert policy.AutoSnapshotPolicyName == "未命名"
    assert (policy.AutoSnapshotPolicyState, policy.IsActivated, policy.IsPermanent) == ("NORMAL", True, False)
    assert (policy.RetentionDays, policy.RetentionMonths, policy.RetentionAmount) == (7, 0, 0)
    assert policy.AdvancedRetentionPolicy is None
    assert (policy.NextTriggerTime, policy.CreateTime) == ("2027-03-03 01:00:00", START)
    assert (policy.DiskIdSet, policy.InstanceIdSet, policy.Tags) == ([], [], [])
    assert (policy.IsCopyToRemote, policy.CopyToAccountUin, policy.CopyFromAccountUin) == (0, None, None)
    [entry] = policy.Policy
    assert (entry.Hour, entry.DayOfWeek) == ([1, 5], [1, 3])


def test_create_with_every_option(shared):
    name = "每日快照-" + "x" * 45  # 60 bytes, the maximum
    created = shared.create_policy({"Hour": [23], "DayOfMonth": [1, 15]}, AutoSnapshotPolicyName=name,
                                   IsActivated=False, RetentionDays=90)
    policy = shared.policy(created.AutoSnapshotPolicyId)
    assert (policy.AutoSnapshotPolicyName, policy.IsActivated, policy.RetentionDays) == (name, False, 90)
    assert policy.NextTriggerTime == "2027-03-01 23:00:00"  # the 1st, 23:00 has not passed
    permanent = shared.policy(shared.new_policy(IsPermanent=True, IsActivated=True))
    assert (permanent.IsPermanent, permanent.RetentionDays, permanent.IsActivated) == (True, 0, True)


def test_dry_run_creates_nothing(shared):
    name = "dry-run-only"
    answer = shared.create_policy({"Hour": [23], "IntervalDays": 7}, DryRun=True,
                                  AutoSnapshotPolicyName=name)
    assert (answer.AutoSnapshotPolicyId, answer.NextTriggerTime) == ("", "2027-03-01 23:00:00")
    assert shared.policies(Filters=[{"Name": "auto-snapshot-policy-name", "Values": [name]}]).TotalCount == 0
    assert shared.create_policy(DryRun=True).NextTriggerTime == "2027-03-02 02:00:00"
    # DryRun validates all the same
    assert code_of(shared.create_policy, {"Hour": [24], "IntervalDays": 1},
                   DryRun=True) == "InvalidParameterValue"


@pytest.mark.parametrize("fields, code", [
    ({}, "MissingParameter"),
    ({"Policy": []}, "MissingParameter"),
    ({"Policy": [{"Hour": [], "DayOfWeek": [1]}]}, "MissingParameter"),
    ({"Policy": [{"DayOfWeek": [1]}]}, "MissingParameter"),
    ({"Policy": [{"Hour": [1]}]}, "MissingParameter"),
    ({"Policy": [{"Hour": [1], "DayOfWeek": [], "DayOfMonth": []}]}, "MissingParameter"),
    ({"Policy": [{"Hour": [24], "DayOfWeek": [1]}]}, "InvalidParameterValue"),
    ({"Policy": [{"Hour": [1], "DayOfWeek": [7]}]}, "InvalidParameterValue"),
    ({"Policy": [{"Hour": [1], "DayOfMonth": [0]}]}, "InvalidParameterValue"),
    ({"Policy": [{"Hour": [1], "DayOfMonth": [32]}]}, "InvalidParameterValue"),
    # IntervalDays 0 is "no interval" (a described policy shows it so, and must be accepted back):
    # alone it leaves the entry without a day rule.
    ({"Policy": [{"Hour": [1], "IntervalDays": 0}]}, "MissingParameter"),
    ({"Policy": [{"Hour": [1], "IntervalDays": 366}]}, "InvalidParameterValue"),
    ({"Policy": [DAILY_AT_2, {"Hour": [25], "IntervalDays": 1}]}, "InvalidParameterValue"),
    ({"Policy": [DAILY_AT_2], "IsPermanent": True, "RetentionDays": 7}, "InvalidParameterValue"),
    ({"Policy": [DAILY_AT_2], "RetentionDays": 0}, "InvalidParameterValue"),
    # [inf] at most 65535 days: deadlines stay dates the API can show (once InternalError)
    ({"Policy": [DAILY_AT_2], "RetentionDays": 65536}, "InvalidParameterValue"),
    ({"Policy": [DAILY_AT_2], "RetentionDays": 2**63}, "InvalidParameterValue"),
    ({"Policy": [DAILY_AT_2], "AutoSnapshotPolicyName": "x" * 61}, "InvalidParameterValue"),
    ({"Policy": [DAILY_AT_2], "AutoSnapshotPolicyName": "快" * 21}, "InvalidParameterValue"),
    ({"Policy": [{"Hour": list(range(24)) + [0], "DayOfWeek": [1]}], "DryRun": True},
     "InvalidParameterValue.LimitExceeded"),
    ({"Policy": [{"Hour": list(range(24)) + [12], "IntervalDays": 1}]},
     "InvalidParameterValue.LimitExceeded"),
], ids=lambda value: "" if isinstance(value, str) else None)
def test_create_refusals(shared, fields, code):
    before = shared.policies().TotalCount
    assert code_of(shared.cbs.CreateAutoSnapshotPolicy,
                   request(models.CreateAutoSnapshotPolicyRequest, **fields)) == code
    assert shared.policies().TotalCount == before


def test_twenty_four_hours_are_allowed(shared):
    answer = shared.create_policy({"Hour": list(range(24)), "IntervalDays": 1}, DryRun=True)
    assert answer.NextTriggerTime == "2027-03-01 13:00:00"


def test_policy_quota_per_account_and_region(world):
    world.limits(auto_snapshot_policies_per_region=2)
    first, _ = world.new_policy(), world.new_policy()
    assert code_of(world.create_policy) == "AutoSnapshotPolicyOutOfQuota"
    assert world.create_policy(DryRun=True).NextTriggerTime == "2027-03-02 02:00:00"  # DryRun skips it
    assert world.policies().TotalCount == 2
    # another account has its own quota, and another region too
    account = world.server.control("POST", "/accounts", {"name": "other"}).json()
    other = PolicyWorld(world.server, cbs_client(world.server, account["SecretId"], account["SecretKey"]))
    other.new_policy()
    shanghai = PolicyWorld(world.server, cbs_client(world.server, region="ap-shanghai"))
    shanghai.new_policy()
    assert code_of(world.create_policy) == "AutoSnapshotPolicyOutOfQuota"
    world.delete(first)
    world.new_policy()
    # raised at run time
    world.limits(auto_snapshot_policies_per_region=3)
    world.new_policy()
    assert world.policies().TotalCount == 3


# =================================================================================================
# DescribeAutoSnapshotPolicies (§3.26)
# =================================================================================================
def test_describe_filters_pages_and_order(world):
    made = []
    for name in ("alpha", "beta", "gamma", "beta"):
        made.append(world.new_policy(AutoSnapshotPolicyName=name))
        world.advance("1h")
    world.isolate(made[2])

    def ids(**fields):
        answer = world.policies(**fields)
        return answer.TotalCount, [p.AutoSnapshotPolicyId for p in answer.AutoSnapshotPolicySet]

    assert ids() == (4, made)
    assert ids(Order="DESC") == (4, made[::-1])
    assert ids(Order="ASC", OrderField="CREATE_TIME") == (4, made)
    assert ids(Order="DESC", OrderField="CREATETIME") == (4, made[::-1])
    assert ids(Limit=2) == (4, made[:2])
    assert ids(Limit=2, Offset=3) == (4, made[3:])
    assert ids(Offset=10) == (4, [])
    assert ids(AutoSnapshotPolicyIds=[made[1], "asp-00000000"]) == (1, [made[1]])
    assert ids(Filters=[{"Name": "auto-snapshot-policy-name", "Values": ["beta"]}]) == (2, [made[1], made[3]])
    assert ids(Filters=[{"Name": "auto-snapshot-policy-id", "Values": [made[0], made[2]]}]) == (
        2, [made[0], made[2]])
    assert ids(Filters=[{"Name": "auto-snapshot-policy-state", "Values": ["ISOLATED"]}]) == (1, [made[2]])
    assert ids(Filters=[{"Name": "auto-snapshot-policy-state", "Values": ["NORMAL"]},
                        {"Name": "auto-snapshot-policy-name", "Values": ["gamma", "alpha"]}]) == (
        1, [made[0]])
    times = [p.CreateTime for p in world.policies().AutoSnapshotPolicySet]
    assert times == [START, "2027-03-01 13:00:00", "2027-03-01 14:00:00", "2027-03-01 15:00:00"]


@pytest.mark.parametrize("fields, code", [
    ({"Filters": [{"Name": "color", "Values": ["red"]}]}, "InvalidFilter"),
    ({"Filters": [{"Name": "disk-id", "Values": ["disk-00000000"]}]}, "InvalidFilter"),
    ({"Filters": [{"Name": "auto-snapshot-policy-state", "Values": ["BOGUS"]}]}, "InvalidParameterValue"),
    ({"AutoSnapshotPolicyIds": ["asp-00000000"],
      "Filters": [{"Name": "auto-snapshot-policy-name", "Values": ["x"]}]}, "InvalidParameterValue"),
    ({"AutoSnapshotPolicyIds": ["policy-1"]}, "InvalidParameterValue"),
    ({"Limit": 101}, "InvalidParameterValue"),
    ({"Order": "SIDEWAYS"}, "InvalidParameterValue"),
])
def test_describe_refusals(shared, fields, code):
    assert code_of(shared.policies, **fields) == code


# =================================================================================================
# ModifyAutoSnapshotPolicyAttribute (§3.27)
# =================================================================================================
def test_modify_changes_the_attributes(shared):
    policy_id = shared.new_policy(AutoSnapshotPolicyName="before", RetentionDays=3)
    shared.modify(policy_id, AutoSnapshotPolicyName="after", IsActivated=False, RetentionDays=10)
    policy = shared.policy(policy_id)
    assert (policy.AutoSnapshotPolicyName, policy.IsActivated, policy.RetentionDays,
            policy.IsPermanent) == ("after", False, 10, False)
    assert policy.NextTriggerTime == "2027-03-02 02:00:00"  # the schedule did not change
    shared.modify(policy_id, IsPermanent=True)
    assert (shared.policy(policy_id).IsPermanent, shared.policy(policy_id).RetentionDays) == (True, 0)
    shared.modify(policy_id, IsPermanent=False, RetentionDays=4)
    policy = shared.policy(policy_id)
    assert (policy.IsPermanent, policy.RetentionDays) == (False, 4)
    shared.modify(policy_id, Policy=[{"Hour": [7], "DayOfMonth": [10]}])
    policy = shared.policy(policy_id)
    assert policy.NextTriggerTime == "2027-03-10 07:00:00"
    assert [(p.Hour, p.DayOfMonth) for p in policy.Policy] == [([7], [10])]
    shared.modify(policy_id)  # nothing to change is fine
    assert shared.policy(policy_id).AutoSnapshotPolicyName == "after"


@pytest.mark.parametrize("fields, code", [
    ({"Policy": [{"Hour": [24], "DayOfWeek": [1]}]}, "InvalidParameter"),
    ({"Policy": [{"Hour": [1], "DayOfWeek": [7]}]}, "InvalidParameter"),
    ({"Policy": [{"Hour": [1], "DayOfMonth": [32]}]}, "InvalidParameter"),
    ({"Policy": [{"Hour": [1], "IntervalDays": 0}]}, "MissingParameter"),  # 0: no interval
    ({"IsPermanent": True, "RetentionDays": 3}, "InvalidParameter"),
    ({"RetentionDays": 0}, "InvalidParameter"),
    ({"AutoSnapshotPolicyName": "x" * 61}, "InvalidParameter"),
    ({"Policy": [{"Hour": [1]}]}, "MissingParameter"),
    ({"Policy": [{"Hour": list(range(24)) + [3], "DayOfWeek": [1]}]}, "InvalidParameterValue.LimitExceeded"),
])
def test_modify_refusals_change_nothing(shared, fields, code):
    policy_id = shared.new_policy(AutoSnapshotPolicyName="unchanged", RetentionDays=3)
    before = shared.policy(policy_id)
    assert code_of(shared.modify, policy_id, **fields) == code
    after = shared.policy(policy_id)
    assert after.to_json_string() == before.to_json_string()


def test_modify_refusals_by_the_policy(shared):
    permanent = shared.new_policy(IsPermanent=True)
    assert code_of(shared.modify, permanent, RetentionDays=3) == "InvalidParameter"
    assert shared.policy(permanent).IsPermanent is True
    assert code_of(shared.modify, "asp-00000000", IsActivated=False) == "InvalidAutoSnapshotPolicyId.NotFound"
    assert code_of(shared.modify, "asp-1", IsActivated=False) == "InvalidParameter"
    # validation comes before the policy is looked up
    assert code_of(shared.modify, "asp-00000000", RetentionDays=0) == "InvalidParameter"
    assert code_of(shared.cbs.ModifyAutoSnapshotPolicyAttribute, request(
        models.ModifyAutoSnapshotPolicyAttributeRequest, IsActivated=False)) == "MissingParameter"


def test_modify_of_an_isolated_policy(world):
    policy_id = world.new_policy(AutoSnapshotPolicyName="isolated")
    world.isolate(policy_id)
    for fields in ({"IsActivated": False}, {"Policy": [{"Hour": [3], "IntervalDays": 1}]},
                   {"RetentionDays": 9}):
        assert code_of(world.modify, policy_id, **fields) == "UnsupportedOperation.StateError"
    policy = world.policy(policy_id)
    assert (policy.IsActivated, policy.RetentionDays, policy.NextTriggerTime) == (
        True, 7, "2027-03-02 02:00:00")
    # invalid values still come first
    assert code_of(world.modify, policy_id, RetentionDays=0) == "InvalidParameter"


# =================================================================================================
# DeleteAutoSnapshotPolicies (§3.28)
# =================================================================================================
def test_delete_policies(world):
    a, b, c = world.new_policy(), world.new_policy(), world.new_policy()
    disk = world.create()
    world.bind(a, disk)
    assert code_of(world.delete, a, "asp-00000000") == "InvalidAutoSnapshotPolicyId.NotFound"
    assert world.policies().TotalCount == 3  # all or nothing
    assert code_of(world.delete, "asp-1") == "InvalidParameterValue"
    assert code_of(world.delete) == "MissingParameter"
    world.limits(delete_policies_max_count=2)
    assert code_of(world.delete, a, b, c) == "InvalidParameterValue.LimitExceeded"
    world.delete(a, b)
    assert [p.AutoSnapshotPolicyId for p in world.policies().AutoSnapshotPolicySet] == [c]
    assert world.bound_policies(disk) == []
    assert world.associated(disk).TotalCount == 0
    assert code_of(world.delete, a) == "InvalidAutoSnapshotPolicyId.NotFound"
    assert code_of(world.bind, a, disk) == "InvalidAutoSnapshotPolicyId.NotFound"


def test_delete_max_count_is_100_by_default(shared):
    fake = [f"asp-{i:08d}" for i in range(101)]
    assert code_of(shared.delete, *fake) == "InvalidParameterValue.LimitExceeded"
    assert code_of(shared.delete, *fake[:100]) == "InvalidAutoSnapshotPolicyId.NotFound"


# =================================================================================================
# BindAutoSnapshotPolicy / UnbindAutoSnapshotPolicy (§3.29, §3.30)
# =================================================================================================
def test_bind_and_unbind(shared):
    policy_id = shared.new_policy()
    ins, (on_a, on_b) = shared.attached_disks(2)
    loose = shared.create()
    shared.bind(policy_id, on_a, loose)
    shared.bind(policy_id, on_b)
    assert sorted(shared.policy(policy_id).DiskIdSet) == sorted([on_a, loose, on_b])
    assert shared.bound_policies(loose) == [policy_id]
    assert shared.disk(loose).AutoSnapshotPolicyIds is None  # only when asked for
    shared.unbind(policy_id, DiskIds=[loose, shared.create()])  # an unbound disk is skipped
    assert sorted(shared.policy(policy_id).DiskIdSet) == sorted([on_a, on_b])
    assert shared.bound_policies(loose) == []
    shared.unbind(policy_id, InstanceIds=[ins])  # the disks on the instance
    assert shared.policy(policy_id).DiskIdSet == []
    shared.unbind(policy_id, DiskIds=[on_a])  # nothing bound any more: still fine
    shared.bind(policy_id, on_a)  # and bound again
    assert shared.policy(policy_id).DiskIdSet == [on_a]


def test_bind_refusals(shared):
    policy_id, other = shared.new_policy(), shared.new_policy()
    disk, free = shared.create(), shared.create()
    shared.bind(policy_id, disk)
    bind = shared.bind
    cases = [
        ((policy_id, *[f"disk-{i:08d}" for i in range(81)]), "InvalidParameterValue.BindDiskLimitExceeded"),
        ((policy_id, disk), "InvalidDisk.AlreadyBound"),
        ((other, disk), "InvalidDisk.AlreadyBound"),  # policies_per_disk is 1
        ((other, free, disk), "InvalidDisk.AlreadyBound"),
        (("asp-00000000", free), "InvalidAutoSnapshotPolicyId.NotFound"),
        ((policy_id, "disk-00000000"), "InvalidDiskId.NotFound"),
        ((other, free, "disk-00000000"), "InvalidDiskId.NotFound"),
        ((policy_id,), "MissingParameter"),
        ((policy_id, free, free), "InvalidParameterValue"),
        ((policy_id, "disk-1"), "InvalidParameterValue"),
        (("asp-1", free), "InvalidParameterValue"),
    ]
    for args, code in cases:
        assert code_of(bind, *args) == code, args
    assert code_of(shared.cbs.BindAutoSnapshotPolicy, request(
        models.BindAutoSnapshotPolicyRequest, DiskIds=[free])) == "MissingParameter"
    # nothing of a refused batch happened
    assert shared.policy(policy_id).DiskIdSet == [disk]
    assert shared.policy(other).DiskIdSet == []
    assert shared.bound_policies(free) == []


def test_bind_eighty_disks_at_once(shared):
    policy_id = shared.new_policy()
    disk_ids = shared.cbs.CreateDisks(request(
        models.CreateDisksRequest, Placement={"Zone": "ap-guangzhou-3"}, DiskChargeType="POSTPAID_BY_HOUR",
        DiskType="CLOUD_PREMIUM", DiskSize=20, DiskCount=50)).DiskIdSet
    disk_ids += shared.cbs.CreateDisks(request(
        models.CreateDisksRequest, Placement={"Zone": "ap-guangzhou-3"}, DiskChargeType="POSTPAID_BY_HOUR",
        DiskType="CLOUD_PREMIUM", DiskSize=20, DiskCount=30)).DiskIdSet
    for disk_id in disk_ids:
        shared.wait_disk(disk_id, "UNATTACHED")
    shared.bind(policy_id, *disk_ids)
    assert sorted(shared.policy(policy_id).DiskIdSet) == sorted(disk_ids)


def test_bind_refuses_a_disk_that_cannot_take_snapshots(world):
    policy_id = world.new_policy()
    disk = world.create()
    assert world.server.control("POST", f"/disks/{disk}", {"snapshot_ability": False}).status_code == 200
    assert code_of(world.bind, policy_id, disk) == "InvalidDisk.NotSupported"
    shareable = world.create(Shareable=True)
    assert code_of(world.bind, policy_id, shareable) == "InvalidDisk.NotSupported"
    prepaid = world.create(DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 1})
    world.cbs.TerminateDisks(request(models.TerminateDisksRequest, DiskIds=[prepaid]))
    world.wait_disk(prepaid, "TORECYCLE")
    assert code_of(world.bind, policy_id, prepaid) == "InvalidDisk.NotSupported"
    assert world.policy(policy_id).DiskIdSet == []


def test_bind_limits_set_at_run_time(world):
    p1, p2, p3 = world.new_policy(), world.new_policy(), world.new_policy()
    disks = [world.create() for _ in range(4)]
    world.limits(disks_per_policy=2)
    assert code_of(world.bind, p1, *disks[:3]) == "InvalidParameterValue.LimitExceeded"
    world.bind(p1, disks[0])
    world.bind(p1, disks[1])
    assert code_of(world.bind, p1, disks[2]) == "InvalidParameterValue.LimitExceeded"
    assert sorted(world.policy(p1).DiskIdSet) == sorted(disks[:2])
    world.limits(bind_disks_max_count=2)
    assert code_of(world.bind, p2, *disks[1:4]) == "InvalidParameterValue.BindDiskLimitExceeded"
    world.limits(policies_per_disk=2, disks_per_policy=0)
    world.bind(p2, disks[0], disks[2])
    assert sorted(world.bound_policies(disks[0])) == sorted([p1, p2])
    assert code_of(world.bind, p3, disks[0]) == "InvalidDisk.AlreadyBound"  # its third policy
    world.bind(p3, disks[3])
    associated = world.associated(disks[0]).AutoSnapshotPolicySet
    assert [p.AutoSnapshotPolicyId for p in associated] == [p1, p2]  # in order of creation


def test_unbind_refusals(shared):
    policy_id = shared.new_policy()
    disk = shared.create()
    shared.bind(policy_id, disk)
    for fields, code in [
        ({}, "MissingParameter"),
        ({"DiskIds": []}, "MissingParameter"),
        ({"DiskIds": ["disk-00000000"]}, "InvalidDiskId.NotFound"),
        ({"DiskIds": [disk, "disk-00000000"]}, "InvalidDiskId.NotFound"),
        ({"InstanceIds": ["ins-00000000"]}, "InvalidInstanceId.NotFound"),
        ({"DiskIds": ["disk-1"]}, "InvalidParameterValue"),
    ]:
        assert code_of(shared.unbind, policy_id, **fields) == code, fields
    assert code_of(shared.unbind, "asp-00000000", DiskIds=[disk]) == "InvalidAutoSnapshotPolicyId.NotFound"
    assert shared.policy(policy_id).DiskIdSet == [disk]


# =================================================================================================
# DescribeDiskAssociatedAutoSnapshotPolicy and DescribeDisks (§3.31, §3.2)
# =================================================================================================
def test_describe_disk_associated_policy(shared):
    policy_id = shared.new_policy(AutoSnapshotPolicyName="associated", RetentionDays=5)
    disk, other, loose = shared.create(), shared.create(), shared.create()
    shared.bind(policy_id, disk, other)
    answer = shared.associated(disk)
    assert answer.TotalCount == 1
    [policy] = answer.AutoSnapshotPolicySet
    assert policy.AutoSnapshotPolicyId == policy_id
    assert policy.DiskIdSet == []  # always empty in this action
    assert (policy.AutoSnapshotPolicyName, policy.RetentionDays, policy.NextTriggerTime) == (
        "associated", 5, "2027-03-02 02:00:00")
    assert sorted(shared.policy(policy_id).DiskIdSet) == sorted([disk, other])
    empty = shared.associated(loose)
    assert (empty.TotalCount, empty.AutoSnapshotPolicySet) == (0, [])
    assert code_of(shared.associated, "disk-00000000") == "InvalidDiskId.NotFound"
    assert code_of(shared.associated, "disk-1") == "InvalidParameterValue"
    assert code_of(shared.cbs.DescribeDiskAssociatedAutoSnapshotPolicy, request(
        models.DescribeDiskAssociatedAutoSnapshotPolicyRequest)) == "MissingParameter"


def test_describe_disks_returns_bound_policies_only_when_asked(shared):
    policy_id = shared.new_policy()
    bound, loose = shared.create(), shared.create()
    shared.bind(policy_id, bound)
    asked = {d.DiskId: d.AutoSnapshotPolicyIds for d in shared.disks(
        DiskIds=[bound, loose], ReturnBindAutoSnapshotPolicy=True)}
    assert asked == {bound: [policy_id], loose: []}
    plain = {d.DiskId: d.AutoSnapshotPolicyIds for d in shared.disks(DiskIds=[bound, loose])}
    assert plain == {bound: None, loose: None}


# =================================================================================================
# Accounts
# =================================================================================================
def test_policies_belong_to_their_account(world):
    mine = world.new_policy()
    _, (my_disk,) = world.attached_disks(1)
    world.bind(mine, my_disk)
    account = world.server.control("POST", "/accounts", {"name": "neighbour"}).json()
    other = PolicyWorld(world.server, cbs_client(world.server, account["SecretId"], account["SecretKey"]))
    theirs = other.new_policy()
    their_disk = other.create()
    assert [p.AutoSnapshotPolicyId for p in other.policies().AutoSnapshotPolicySet] == [theirs]
    assert other.policy(mine) is None
    assert code_of(other.bind, mine, their_disk) == "InvalidAutoSnapshotPolicyId.NotFound"
    assert code_of(other.bind, theirs, my_disk) == "InvalidDiskId.NotFound"
    assert code_of(other.modify, mine, IsActivated=False) == "InvalidAutoSnapshotPolicyId.NotFound"
    assert code_of(other.delete, mine) == "InvalidAutoSnapshotPolicyId.NotFound"
    assert code_of(other.unbind, mine, DiskIds=[their_disk]) == "InvalidAutoSnapshotPolicyId.NotFound"
    assert code_of(other.associated, my_disk) == "InvalidDiskId.NotFound"
    world.advance("1d")
    assert [s.DiskId for s in world.snapshots()] == [my_disk]
    assert other.snapshots() == []
