"""The main snapshot flow driven through tccli (3.1.189.1) as a user would, on a server under
realistic timing (snapshot.create 3 s, snapshot.rollback 3 s, snapshot.copy 4 s + snapshot.check
1 s, disk.create 2 s; tccli starts in ~0.4 s):

    cbs CreateDisks → DescribeDisks --waiter (UNATTACHED)
    cbs CreateSnapshot → DescribeSnapshots shows CREATING → --waiter SnapshotState NORMAL
    cbs CopySnapshotCrossRegions, ApplySnapshot → DescribeDisks shows ROLLBACKING →
        --waiter DiskState UNATTACHED; DescribeSnapshots --region ap-shanghai --waiter NORMAL
    cbs ModifySnapshotAttribute (rename, a deadline, permanent again)
    cbs CreateAutoSnapshotPolicy (DryRun, then for real) → BindAutoSnapshotPolicy →
        DescribeAutoSnapshotPolicies, DescribeDisks --ReturnBindAutoSnapshotPolicy true
    cbs DeleteSnapshots → gone

plus the exact error codes tccli prints: DeleteSnapshots of a snapshot that does not exist
(InvalidSnapshotId.NotFound), a second CreateSnapshot while one is CREATING
(InvalidDisk.SnapshotCreating), DeleteSnapshots of a CREATING snapshot
(InvalidSnapshot.NotSupported), CreateSnapshot of a disk ROLLBACKING (ResourceInUse) and
DeleteSnapshots of the snapshot it rolls back to (ResourceBusy), BindAutoSnapshotPolicy of a disk
bound already (InvalidDisk.AlreadyBound).

tccli's generated `doDescribeSnapshots` reads `--waiter` with eval(), so the Python-literal form a
user types (`"{'expr':'SnapshotSet[0].SnapshotState','to':'NORMAL','timeout':60,'interval':1}"`)
and JSON both work; it re-sends the call until the JMESPath `expr` equals `to` and prints the last
response. tccli prints every field of its SDK models (Snapshot.Placement.DedicatedClusterId
included, null), so the field sets are those of the models.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.server import REGION, ZONE, Server
from tests.e2e.test_tccli_lifecycle import Tccli, error_code, finish, ok_json

COPY_REGION = "ap-shanghai"
MISSING_SNAPSHOT = "snap-00000000"
SNAPSHOT_ID = re.compile(r"snap-[a-z0-9]{8}")
CHINA = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def realistic_server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("tccli-snapshots") / "data", timing="realistic").start()
    yield srv
    srv.stop()


def sdk_fields(model: str) -> set[str]:
    from tencentcloud.cbs.v20170312 import models
    return {name.lstrip("_") for name in vars(getattr(models, model)())}


def clock(server: Server, mode: str) -> None:
    """Stop the emulator's clock (`frozen`), or let it run on at rate 1 (`running`)."""
    answer = server.control("POST", "/clock", {"mode": mode})
    assert answer.status_code == 200, answer.text


def literal_waiter(expr: str, to: str, timeout: int = 30, interval: float = 0.5) -> list[str]:
    """--waiter as a user types it: a Python dict literal in single quotes."""
    return ["--waiter", f"{{'expr':'{expr}','to':'{to}','timeout':{timeout},'interval':{interval}}}"]


def test_snapshot_flow(realistic_server, tmp_path):
    assert realistic_server.control("GET", "/timing").json()["profile"] == "realistic"
    cli = Tccli(realistic_server, tmp_path / "home")
    began = time.monotonic()

    # --- a disk -----------------------------------------------------------------------------------
    [disk_id] = cli.ok("cbs", "CreateDisks", "--Placement", {"Zone": ZONE},
                       "--DiskChargeType", "POSTPAID_BY_HOUR", "--DiskType", "CLOUD_PREMIUM",
                       "--DiskSize", "50", "--DiskName", "tccli-snapshots")["DiskIdSet"]
    out = cli.ok("cbs", "DescribeDisks", "--DiskIds", [disk_id],
                 waiter={"expr": "DiskSet[0].DiskState", "to": "UNATTACHED"})
    assert out["DiskSet"][0]["SnapshotCount"] == 0

    # --- CreateSnapshot: CREATING, then the waiter until NORMAL ------------------------------------
    # The clock stands still while the refusals are checked (on two busy CPUs a few tccli
    # processes can take longer than the 3 s creation), then runs again under the waiter.
    clock(realistic_server, "frozen")
    out = cli.ok("cbs", "CreateSnapshot", "--DiskId", disk_id, "--SnapshotName", "tccli-first")
    snapshot_id = out["SnapshotId"]
    assert SNAPSHOT_ID.fullmatch(snapshot_id), out
    # while it is being created, concurrently: how it looks, and what it refuses
    looking = cli.start("cbs", "DescribeSnapshots", "--SnapshotIds", [snapshot_id])
    second = cli.start("cbs", "CreateSnapshot", "--DiskId", disk_id)
    deleting = cli.start("cbs", "DeleteSnapshots", "--SnapshotIds", [snapshot_id])
    out = ok_json(looking)
    assert out["TotalCount"] == 1
    [snap] = out["SnapshotSet"]
    assert (snap["SnapshotState"], snap["Percent"]) == ("CREATING", 0), snap
    assert error_code(second) == "InvalidDisk.SnapshotCreating"
    assert error_code(deleting) == "InvalidSnapshot.NotSupported"

    waiting = cli.start("cbs", "DescribeSnapshots", "--SnapshotIds", [snapshot_id],
                        *literal_waiter("SnapshotSet[0].SnapshotState", "NORMAL"))
    time.sleep(1.5)
    assert waiting.poll() is None, finish(waiting)  # still polling: the snapshot is CREATING
    resumed = time.monotonic()
    clock(realistic_server, "running")
    out = ok_json(waiting)
    assert time.monotonic() - resumed >= 2.9  # the waiter waited for the 3 s creation
    assert out["TotalCount"] == 1
    [snap] = out["SnapshotSet"]
    assert set(snap) == sdk_fields("Snapshot")
    assert set(snap["Placement"]) == sdk_fields("Placement")
    assert snap["Placement"]["DedicatedClusterId"] is None  # tccli fills in what we leave out
    assert (snap["SnapshotId"], snap["SnapshotName"], snap["SnapshotState"], snap["Percent"]) == (
        snapshot_id, "tccli-first", "NORMAL", 100)
    assert (snap["DiskId"], snap["DiskSize"], snap["DiskUsage"]) == (disk_id, 50, "DATA_DISK")
    assert (snap["IsPermanent"], snap["DeadlineTime"]) == (True, "")
    assert snap["SnapshotType"] == "PRIVATE_SNAPSHOT" and snap["CopyFromRemote"] is False
    assert snap["Placement"]["Zone"] == ZONE
    out = cli.ok("cbs", "DescribeDisks", "--DiskIds", [disk_id])
    assert (out["DiskSet"][0]["SnapshotCount"], out["DiskSet"][0]["SnapshotSize"]) == (1, 50 * 1024)

    # --- a copy to another region and a rollback, at the same time ---------------------------------
    clock(realistic_server, "frozen")  # again while the refusals are checked
    out = cli.ok("cbs", "CopySnapshotCrossRegions", "--SnapshotId", snapshot_id,
                 "--DestinationRegions", [COPY_REGION])
    [result] = out["SnapshotCopyResultSet"]
    assert (result["DestinationRegion"], result["Code"], result["Message"]) == (
        COPY_REGION, "Success", "")
    copy_id = result["SnapshotId"]
    assert SNAPSHOT_ID.fullmatch(copy_id)

    assert set(cli.ok("cbs", "ApplySnapshot", "--SnapshotId", snapshot_id, "--DiskId", disk_id)) == {
        "RequestId"}
    looking = cli.start("cbs", "DescribeDisks", "--DiskIds", [disk_id])
    snapshotting = cli.start("cbs", "CreateSnapshot", "--DiskId", disk_id)
    deleting = cli.start("cbs", "DeleteSnapshots", "--SnapshotIds", [snapshot_id])
    copy_looking = cli.start("cbs", "DescribeSnapshots", "--SnapshotIds", [copy_id],
                             "--region", COPY_REGION)
    [disk] = ok_json(looking)["DiskSet"]
    assert (disk["DiskState"], disk["Rollbacking"], disk["RollbackPercent"]) == (
        "ROLLBACKING", True, 0), disk
    assert error_code(snapshotting) == "ResourceInUse"
    assert error_code(deleting) == "ResourceBusy"
    [copy] = ok_json(copy_looking)["SnapshotSet"]
    assert (copy["SnapshotState"], copy["Percent"]) == ("COPYING_FROM_REMOTE", 0), copy
    assert copy["CopyFromRemote"] is True and copy["DiskId"] == ""

    rolled = cli.start("cbs", "DescribeDisks", "--DiskIds", [disk_id],
                       waiter={"expr": "DiskSet[0].DiskState", "to": "UNATTACHED"})
    copied = cli.start("cbs", "DescribeSnapshots", "--SnapshotIds", [copy_id],
                       "--region", COPY_REGION,
                       waiter={"expr": "SnapshotSet[0].SnapshotState", "to": "NORMAL"})
    resumed = time.monotonic()
    clock(realistic_server, "running")
    [disk] = ok_json(rolled)["DiskSet"]
    assert time.monotonic() - resumed >= 2.9
    assert (disk["DiskState"], disk["Rollbacking"], disk["RollbackPercent"]) == (
        "UNATTACHED", False, 100)
    [copy] = ok_json(copied)["SnapshotSet"]
    assert (copy["SnapshotState"], copy["Percent"]) == ("NORMAL", 100)
    assert copy["SnapshotName"] == f"Copied {snapshot_id} from {REGION}"
    assert copy["Placement"]["Zone"].startswith(COPY_REGION + "-")
    [snap] = cli.ok("cbs", "DescribeSnapshots", "--SnapshotIds", [snapshot_id])["SnapshotSet"]
    assert (snap["SnapshotState"], snap["CopyingToRegions"]) == ("NORMAL", [])

    # --- ModifySnapshotAttribute ---------------------------------------------------------------------
    now = realistic_server.control("GET", "/clock").json()["now"]
    deadline = int(now) + 3 * 86400
    cli.ok("cbs", "ModifySnapshotAttribute", "--SnapshotId", snapshot_id,
           "--SnapshotName", "tccli-renamed", "--IsPermanent", "false",
           "--Deadline", datetime.fromtimestamp(deadline, timezone.utc).isoformat())
    [snap] = cli.ok("cbs", "DescribeSnapshots", "--SnapshotIds", [snapshot_id])["SnapshotSet"]
    assert (snap["SnapshotName"], snap["IsPermanent"]) == ("tccli-renamed", False)
    assert snap["DeadlineTime"] == datetime.fromtimestamp(deadline, CHINA).strftime(
        "%Y-%m-%d %H:%M:%S")
    cli.ok("cbs", "ModifySnapshotAttribute", "--SnapshotId", snapshot_id, "--IsPermanent", "true")
    [snap] = cli.ok("cbs", "DescribeSnapshots", "--Filters",
                    [{"Name": "snapshot-name", "Values": ["tccli-renamed"]}])["SnapshotSet"]
    assert (snap["SnapshotId"], snap["IsPermanent"], snap["DeadlineTime"]) == (snapshot_id, True, "")

    # --- an automatic snapshot policy ----------------------------------------------------------------
    schedule = [{"DayOfWeek": [1, 5], "Hour": [2]}]
    dry = cli.ok("cbs", "CreateAutoSnapshotPolicy", "--Policy", schedule, "--DryRun", "true")
    assert dry["AutoSnapshotPolicyId"] == ""
    out = cli.ok("cbs", "CreateAutoSnapshotPolicy", "--Policy", schedule,
                 "--AutoSnapshotPolicyName", "tccli-policy", "--RetentionDays", "5")
    policy_id = out["AutoSnapshotPolicyId"]
    assert re.fullmatch(r"asp-[a-z0-9]{8}", policy_id), out
    assert out["NextTriggerTime"] == dry["NextTriggerTime"]
    next_run = datetime.strptime(out["NextTriggerTime"], "%Y-%m-%d %H:%M:%S")
    assert next_run.isoweekday() in (1, 5) and (next_run.hour, next_run.minute) == (2, 0)

    cli.ok("cbs", "BindAutoSnapshotPolicy", "--AutoSnapshotPolicyId", policy_id,
           "--DiskIds", [disk_id])
    listing = cli.start("cbs", "DescribeAutoSnapshotPolicies", "--AutoSnapshotPolicyIds", [policy_id])
    with_policies = cli.start("cbs", "DescribeDisks", "--DiskIds", [disk_id],
                              "--ReturnBindAutoSnapshotPolicy", "true")
    associated = cli.start("cbs", "DescribeDiskAssociatedAutoSnapshotPolicy", "--DiskId", disk_id)
    again = cli.start("cbs", "BindAutoSnapshotPolicy", "--AutoSnapshotPolicyId", policy_id,
                      "--DiskIds", [disk_id])
    out = ok_json(listing)
    assert out["TotalCount"] == 1
    [policy] = out["AutoSnapshotPolicySet"]
    assert set(policy) == sdk_fields("AutoSnapshotPolicy")
    assert (policy["AutoSnapshotPolicyId"], policy["AutoSnapshotPolicyName"],
            policy["AutoSnapshotPolicyState"]) == (policy_id, "tccli-policy", "NORMAL")
    assert (policy["IsActivated"], policy["IsPermanent"], policy["RetentionDays"]) == (True, False, 5)
    assert policy["DiskIdSet"] == [disk_id]
    assert [(p["DayOfWeek"], p["Hour"]) for p in policy["Policy"]] == [([1, 5], [2])]
    assert policy["AdvancedRetentionPolicy"] is None
    assert ok_json(with_policies)["DiskSet"][0]["AutoSnapshotPolicyIds"] == [policy_id]
    out = ok_json(associated)
    assert [p["AutoSnapshotPolicyId"] for p in out["AutoSnapshotPolicySet"]] == [policy_id]
    assert error_code(again) == "InvalidDisk.AlreadyBound"

    # --- DeleteSnapshots, and the error tccli prints for one that does not exist ---------------------
    missing = cli.start("cbs", "DeleteSnapshots", "--SnapshotIds", [MISSING_SNAPSHOT])
    unbinding = cli.start("cbs", "UnbindAutoSnapshotPolicy", "--AutoSnapshotPolicyId", policy_id,
                          "--DiskIds", [disk_id])
    copy_gone = cli.start("cbs", "DeleteSnapshots", "--SnapshotIds", [copy_id], "--region", COPY_REGION)
    proc = finish(missing)
    assert error_code(proc) == "InvalidSnapshotId.NotFound"
    assert MISSING_SNAPSHOT in proc.stderr
    ok_json(unbinding)
    ok_json(copy_gone)
    assert set(cli.ok("cbs", "DeleteSnapshots", "--SnapshotIds", [snapshot_id])) == {"RequestId"}
    gone = cli.start("cbs", "DescribeSnapshots", "--SnapshotIds", [snapshot_id])
    copy_listed = cli.start("cbs", "DescribeSnapshots", "--region", COPY_REGION)
    disk_after = cli.start("cbs", "DescribeDisks", "--DiskIds", [disk_id],
                           "--ReturnBindAutoSnapshotPolicy", "true")
    dropped = cli.start("cbs", "DeleteAutoSnapshotPolicies", "--AutoSnapshotPolicyIds", [policy_id])
    assert ok_json(gone) | {"RequestId": None} == {"TotalCount": 0, "SnapshotSet": [],
                                                    "RequestId": None}
    assert ok_json(copy_listed)["TotalCount"] == 0
    [disk] = ok_json(disk_after)["DiskSet"]
    assert (disk["SnapshotCount"], disk["SnapshotSize"], disk["AutoSnapshotPolicyIds"]) == (0, 0, [])
    ok_json(dropped)
    assert cli.ok("cbs", "DescribeAutoSnapshotPolicies")["TotalCount"] == 0

    assert realistic_server.alive(), realistic_server.log_text()
    assert "Traceback" not in realistic_server.log_text()
    elapsed = time.monotonic() - began
    assert elapsed < 75, f"the tccli snapshot flow took {elapsed:.1f} s"
