"""The operator's control plane (/_cbslocal/) and its `cbslocal admin` mirror: settle, the clock,
timing profiles, recent calls and the pokes for states no API call reaches — each with the API
behaviour it drives, seen through the official SDKs, and bad input to each."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from tencentcloud.cbs.v20170312 import models
from tencentcloud.cvm.v20170312 import models as cvm_models

from tests.e2e.server import Server, cbs_client, clean_env
from tests.e2e.test_lifecycle import World, code_of, request

DAY = 86400


@pytest.fixture
def world(tmp_path):
    server = Server(tmp_path / "data", timing="instant").start()
    yield World(server)
    server.stop()


def control(world: World, method: str, path: str, body: dict | None = None):
    response = world.server.control(method, path, body)
    return response.status_code, response.json()


def ok(world: World, method: str, path: str, body: dict | None = None) -> dict:
    status, answer = control(world, method, path, body)
    assert status == 200, answer
    return answer


def refused(world: World, method: str, path: str, body: dict | None, status: int, *words: str) -> str:
    got, answer = control(world, method, path, body)
    assert got == status, answer
    for word in words:
        assert word in answer["error"], answer
    return answer["error"]


def admin(world: World, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cbslocal", "admin", "--endpoint",
                           world.server.url, *args], capture_output=True, text=True,
                          env=clean_env(), timeout=60)


# --- the clock -------------------------------------------------------------------------------------
def test_clock_advance_set_and_modes(world):
    before = ok(world, "GET", "/clock")
    assert before["mode"] == "real" and before["rate"] == 1.0
    moved = ok(world, "POST", "/clock", {"advance": "1d12h"})
    assert moved["now"] - before["now"] == pytest.approx(1.5 * DAY, abs=5)
    assert moved["mode"] == "offset"
    target = "2031-06-01 08:00:00"
    assert ok(world, "POST", "/clock", {"set": target})["time"] == target
    frozen = ok(world, "POST", "/clock", {"mode": "frozen"})
    time.sleep(0.3)
    assert ok(world, "GET", "/clock")["now"] == frozen["now"]
    scaled = ok(world, "POST", "/clock", {"mode": "scaled", "rate": 3600})
    time.sleep(0.5)
    assert ok(world, "GET", "/clock")["now"] - scaled["now"] >= 1000
    assert ok(world, "POST", "/clock", {"mode": "running"})["rate"] == 1.0
    refused(world, "POST", "/clock", {"mode": "real"}, 400, "ahead of the wall clock")


@pytest.mark.parametrize("body, words", [
    ({}, ["exactly one"]),
    ({"advance": "1d", "set": "2030-01-01 00:00:00"}, ["exactly one"]),
    ({"advance": "-5s"}, ["advance"]),
    ({"advance": 0}, ["positive"]),
    ({"advance": "tomorrow"}, ["advance"]),
    ({"set": "2001-01-01 00:00:00"}, ["past"]),
    ({"set": "soon"}, ["set"]),
    ({"mode": "backwards"}, ["mode"]),
    ({"mode": "scaled"}, ["rate"]),
    ({"mode": "scaled", "rate": -1}, ["rate"]),
    ({"mode": "frozen", "rate": 2}, ["rate"]),
    ({"speed": 2}, ["speed"]),
])
def test_clock_bad_input(world, body, words):
    refused(world, "POST", "/clock", body, 400, *words)


def test_the_api_lives_on_the_emulators_clock(world):
    prepaid = world.create(DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 1})
    days_left = world.disk(prepaid).DifferDaysOfDeadline
    ok(world, "POST", "/clock", {"advance": "10d"})
    assert world.disk(prepaid).DifferDaysOfDeadline == days_left - 10
    ok(world, "POST", "/clock", {"set": "2031-06-01 08:00:00"})
    later = world.disk(world.create())
    assert later.CreateTime.startswith("2031-06-01 08:00")


def test_pending_moves_wait_for_the_clock(tmp_path):
    server = Server(tmp_path / "data", timing="realistic").start()
    try:
        world = World(server)
        ok(world, "POST", "/clock", {"mode": "frozen"})
        disk_id = world.create(wait=False)
        time.sleep(2.5)  # longer than a disk takes to be made, on the wall clock
        assert world.disk(disk_id) is None and ok(world, "POST", "/settle") == {"applied": 0}
        assert ok(world, "POST", "/clock", {"advance": 3})["applied"] == 1
        assert world.disk(disk_id).DiskState == "UNATTACHED"
    finally:
        server.stop()


def test_the_clock_survives_a_restart(tmp_path):
    server = Server(tmp_path / "data").start()
    world = World(server)
    moved = ok(world, "POST", "/clock", {"advance": "30d"})
    server.stop()
    server.start()
    try:
        assert ok(world, "GET", "/clock")["now"] >= moved["now"]
    finally:
        server.stop()


# --- the clock's range: every time the API derives from it must format as YYYY-MM-DD HH:MM:SS ---------
RANGE_END = "9000-01-01 00:00:00"


@pytest.mark.parametrize("body, words", [
    ({"set": 1e300}, ["set", RANGE_END]),
    ({"set": 99999999999999999999999}, ["set", RANGE_END]),
    ({"set": "9000-01-01 00:00:01"}, ["set", RANGE_END]),
    ({"set": "9999-12-31T23:59:59-23:59"}, ["set", RANGE_END]),
    ({"set": "0001-01-01T00:00:00+23:59"}, ["set"]),
])
def test_the_clock_cannot_be_set_beyond_its_range(world, body, words):
    refused(world, "POST", "/clock", body, 400, *words)
    assert ok(world, "GET", "/clock")["mode"] == "real"  # nothing saved


def test_at_the_end_of_its_range_the_clock_stops_and_the_api_still_answers(world):
    assert ok(world, "POST", "/clock", {"set": RANGE_END})["time"] == RANGE_END
    for body in ({"advance": "1d"}, {"advance": 1}, {"set": "9000-01-01 00:00:01"}):
        refused(world, "POST", "/clock", body, 400, RANGE_END)
    assert ok(world, "GET", "/clock")["time"] == RANGE_END
    policy = world.cbs.CreateAutoSnapshotPolicy(request(
        models.CreateAutoSnapshotPolicyRequest, Policy=[{"Hour": [2], "IntervalDays": 1}],
        RetentionDays=7))
    assert policy.NextTriggerTime == "9000-01-01 02:00:00"
    prepaid = world.disk(world.create(DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 36}))
    assert prepaid.CreateTime == RANGE_END and prepaid.DeadlineTime == "9003-01-01 00:00:00"


def test_a_scaled_clock_stops_at_the_end_of_its_range(world):
    ok(world, "POST", "/clock", {"set": "8999-12-31 23:59:00"})
    ok(world, "POST", "/clock", {"mode": "scaled", "rate": 100000})
    time.sleep(0.2)  # 20,000 virtual seconds: far past the end
    assert ok(world, "GET", "/clock")["time"] == RANGE_END
    refused(world, "POST", "/clock", {"advance": 1}, 400, RANGE_END)
    assert world.disk(world.create()).CreateTime == RANGE_END


def test_a_stored_clock_beyond_the_range_loads_clamped(tmp_path):
    """A data dir whose clock was saved far beyond the range (before it was enforced)."""
    import sqlite3

    server = Server(tmp_path / "data").start()
    server.stop()
    with sqlite3.connect(tmp_path / "data" / "cbslocal.db") as db:
        db.execute("UPDATE clock SET anchor_virtual = 1e300, rate = 1.0")
    server.start()
    try:
        world = World(server)
        assert ok(world, "GET", "/clock")["time"] == RANGE_END
        assert world.disk(world.create()).CreateTime == RANGE_END
        assert ok(world, "POST", "/reset")["removed"]["disks"] == 1
        assert ok(world, "GET", "/clock")["mode"] == "real"
    finally:
        server.stop()


@pytest.mark.parametrize("path", ["/faults/99999999999999999999999", "/faults/9223372036854775808",
                                  "/faults/" + "9" * 5000])
def test_a_fault_rule_beyond_the_integer_range_does_not_exist(world, path):
    refused(world, "DELETE", path, None, 404, "does not exist")


@pytest.mark.parametrize("path, body, status, words", [
    ("/instances/ins%00nul", {"state": "RUNNING"}, 404, ["does not exist"]),
    ("/disks/" + "d" * 5000, {"dumping": True}, 404, ["does not exist"]),
    ("/policies/asp-%ff%fe", {"state": "NORMAL"}, 404, ["does not exist"]),
    ("/instances/{ins}", {"state": ["RUNNING"]}, 400, ["state"]),
    ("/policies/asp-00000000", {"state": {"NORMAL": 1}}, 400, ["state"]),
    ("/accounts/" + "9" * 40 + "/keys", {}, 404, ["does not exist"]),
])
def test_ids_and_values_of_any_shape_are_refused(world, path, body, status, words):
    ins = world.run()[0]
    refused(world, "POST", path.format(ins=ins), body, status, *words)


@pytest.mark.parametrize("method, path, body, words", [
    ("POST", "/reset", {"region": ["ap-guangzhou"]}, ["region"]),
    ("POST", "/reset", {"account": "1\u0000"}, ["account"]),
    ("POST", "/faults", {"service": {"cbs": 1}, "code": "InternalError"}, ["service"]),
    ("POST", "/faults", {"action": ["DescribeDisks"], "code": "InternalError"}, ["action"]),
    ("POST", "/faults", {"region": ["ap-guangzhou"], "code": "InternalError"}, ["region"]),
    ("POST", "/faults", {"account": "\u0661\u0662", "code": "InternalError"}, ["account"]),
    ("POST", "/faults", {"account": "1" * 40, "code": "InternalError"}, ["account"]),
    ("POST", "/faults", {"code": "InternalError", "message": "a\u0000b"}, ["message"]),
    ("POST", "/accounts", {"name": "a\u0000b"}, ["name"]),
    ("POST", "/timing", {"profile": ["instant"]}, ["profile"]),
    ("POST", "/clock", {"mode": ["frozen"]}, ["mode"]),
    ("GET", "/calls?limit=%C2%B2", None, ["limit"]),
    ("GET", "/calls?limit=" + "1" * 5000, None, ["limit"]),
    ("GET", "/faults/firings?limit=99999999999999999999", None, ["limit"]),
    ("GET", "/state?account=%00", None, ["account"]),
    ("GET", "/accounts?colour=red", None, ["colour"]),
])
def test_values_of_any_type_are_refused(world, method, path, body, words):
    status, answer = control(world, method, path, body)
    assert 400 <= status < 500 and all(w in answer["error"] for w in words), (status, answer)


# --- timing ------------------------------------------------------------------------------------------
def test_timing_profiles_switch_at_run_time(tmp_path):
    server = Server(tmp_path / "data", timing="realistic").start()
    try:
        world = World(server)
        assert ok(world, "GET", "/timing")["profile"] == "realistic"
        ins = world.run()[0]
        disk_id = world.create()
        ok(world, "POST", "/timing", {"profile": "instant"})
        world.cbs.AttachDisks(request(models.AttachDisksRequest, InstanceId=ins, DiskIds=[disk_id]))
        assert world.disk(disk_id).DiskState == "ATTACHED"  # no ATTACHING any more
        custom = ok(world, "POST", "/timing", {"durations": {"disk.detach": 30}})
        assert custom["profile"] == "custom" and custom["durations"]["disk.detach"] == 30
        world.detach(disk_id)
        assert world.disk(disk_id).DiskState == "DETACHING"
        assert ok(world, "POST", "/clock", {"advance": 31})["applied"] == 1
        assert world.disk(disk_id).DiskState == "UNATTACHED"
    finally:
        server.stop()


@pytest.mark.parametrize("body, words", [
    ({}, ["profile"]),
    ({"profile": "glacial"}, ["glacial"]),
    ({"durations": {"disk.teleport": 1}}, ["disk.teleport"]),
    ({"durations": {"disk.attach": -1}}, ["disk.attach"]),
    ({"durations": {"disk.attach": "fast"}}, ["disk.attach"]),
    ({"durations": [1]}, ["durations"]),
    ({"speed": 1}, ["speed"]),
])
def test_timing_bad_input(world, body, words):
    refused(world, "POST", "/timing", body, 400, *words)


# --- recent calls --------------------------------------------------------------------------------
def test_a_forwarded_for_header_does_not_rename_the_caller(world):
    """cbslocal is reached directly: the recorded client is the connection's peer, whatever an
    X-Forwarded-For header claims."""
    from tests.e2e import rawsign
    from tests.e2e.test_gateway_limits import tc3_describe

    reply = rawsign.send(world.server.url, tc3_describe(
        world.server, extra_headers={"X-Forwarded-For": "203.0.113.9"}))
    assert reply.status == 200
    client = ok(world, "GET", "/calls?limit=1")["calls"][0]["client"]
    assert client.startswith("127.0.0.1:"), client


def test_recent_calls(world):
    disk_id = world.create()
    failure = code_of(world.cbs.AttachDisks, request(models.AttachDisksRequest,
                                                     InstanceId="ins-00000000", DiskIds=[disk_id]))
    assert failure == "InvalidInstanceId.NotFound"
    calls = ok(world, "GET", "/calls?limit=2")["calls"]
    assert [c["action"] for c in calls] == ["DescribeDisks", "AttachDisks"]
    assert calls[1]["code"] == "InvalidInstanceId.NotFound" and calls[0]["code"] == "OK"
    assert calls[1]["account"] == "100000000001" and calls[1]["region"] == "ap-guangzhou"
    assert calls[1]["service"] == "cbs" and calls[1]["latency_ms"] > 0
    assert len(calls[1]["request_id"]) == 36 and calls[1]["time"].endswith("+00:00")
    for query in ("limit=0", "limit=abc", "limit=5000", "lemit=3"):
        refused(world, "GET", f"/calls?{query}", None, 400)


# --- pokes -----------------------------------------------------------------------------------------
def test_instance_pokes_reach_the_seed_codes(world):
    ins = world.run()[0]
    free, attached = world.create(), world.create()
    world.attach(ins, attached)
    answer = ok(world, "POST", f"/instances/{ins}", {"state": "SHUTDOWN"})
    assert answer["state"] == "SHUTDOWN"
    assert world.instance(ins).InstanceState == "SHUTDOWN"
    assert code_of(world.cbs.AttachDisks, request(models.AttachDisksRequest, InstanceId=ins,
                                                  DiskIds=[free])) == "InvalidInstance.NotSupported"
    ok(world, "POST", f"/instances/{ins}", {"state": "RUNNING", "supports_cbs": False})
    assert code_of(world.cbs.AttachDisks, request(models.AttachDisksRequest, InstanceId=ins,
                                                  DiskIds=[free])) == "InvalidInstance.NotSupported"
    ok(world, "POST", f"/instances/{ins}", {"supports_cbs": True, "online_resize": False,
                                            "max_attach_count": 1})
    assert code_of(world.cbs.ResizeDisk, request(models.ResizeDiskRequest, DiskId=attached,
                                                 DiskSize=100)) == "UnsupportedOperation.InstanceNotStopped"
    assert code_of(world.cbs.AttachDisks, request(models.AttachDisksRequest, InstanceId=ins,
                                                  DiskIds=[free])) == "LimitExceeded.InstanceAttachedDisk"
    detail = world.cbs.DescribeInstancesDiskNum(request(models.DescribeInstancesDiskNumRequest,
                                                        InstanceIds=[ins])).AttachDetail[0]
    assert (detail.AttachedDiskCount, detail.MaxAttachCount) == (1, 1)
    world.cvm.StopInstances(request(cvm_models.StopInstancesRequest, InstanceIds=[ins]))
    world.cbs.ResizeDisk(request(models.ResizeDiskRequest, DiskId=attached, DiskSize=100))
    assert world.disk(attached).DiskSize == 100  # stopped: the resize goes through


def test_disk_pokes_reach_the_seed_codes(world):
    ins = world.run()[0]
    disk_id = world.create()
    assert ok(world, "POST", f"/disks/{disk_id}", {"dumping": True})["state"] == "DUMPING"
    assert world.disk(disk_id).DiskState == "DUMPING"
    assert code_of(world.cbs.AttachDisks, request(models.AttachDisksRequest, InstanceId=ins,
                                                  DiskIds=[disk_id])) == "ResourceBusy"
    assert code_of(world.cbs.ResizeDisk, request(models.ResizeDiskRequest, DiskId=disk_id,
                                                 DiskSize=100)) == "InvalidDisk.Busy"
    assert ok(world, "POST", f"/disks/{disk_id}", {"dumping": False})["state"] == "UNATTACHED"
    world.attach(ins, disk_id)
    prepaid = world.create(DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 1})
    ok(world, "POST", f"/disks/{prepaid}", {"returnable": False, "snapshot_ability": False})
    shown = world.disk(prepaid)
    assert (shown.IsReturnable, shown.ReturnFailCode, shown.SnapshotAbility) == (False, 3, False)
    assert code_of(world.cbs.TerminateDisks, request(models.TerminateDisksRequest,
                                                     DiskIds=[prepaid])) == "InvalidDisk.NotSupportRefund"
    world.cbs.TerminateDisks(request(models.TerminateDisksRequest, DiskIds=[world.create(
        DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 1})]))
    returned = [d for d in world.disks(Limit=100) if d.DiskState == "TORECYCLE"][0]
    refused(world, "POST", f"/disks/{returned.DiskId}", {"dumping": True}, 409, "TORECYCLE")


@pytest.mark.parametrize("path, body, status, words", [
    ("/instances/ins-00000000", {"state": "RUNNING"}, 404, ["ins-00000000"]),
    ("/instances/{ins}", {"state": "NAPPING"}, 400, ["NAPPING"]),
    # an operation's own state would never end (the consistency checker's move.missing)
    ("/instances/{ins}", {"state": "STOPPING"}, 400, ["STOPPING", "progress"]),
    ("/instances/{ins}", {"supports_cbs": "no"}, 400, ["supports_cbs"]),
    ("/instances/{ins}", {"max_attach_count": 1000}, 400, ["max_attach_count"]),
    ("/instances/{ins}", {"color": "red"}, 400, ["color"]),
    ("/disks/disk-00000000", {"dumping": True}, 404, ["disk-00000000"]),
    ("/disks/{disk}", {"dumping": "yes"}, 400, ["dumping"]),
    ("/disks/{disk}", {"state": "DUMPING"}, 400, ["state"]),
])
def test_poke_bad_input(world, path, body, status, words):
    ins, disk = world.run()[0], world.create()
    refused(world, "POST", path.format(ins=ins, disk=disk), body, status, *words)


def test_settle_takes_no_parameters(world):
    assert ok(world, "POST", "/settle") == {"applied": 0}
    refused(world, "POST", "/settle", {"now": 5}, 400, "now")


# --- the CLI mirror -------------------------------------------------------------------------------
def test_admin_cli_mirrors_the_control_plane(world):
    ins, disk_id = world.run()[0], world.create()

    def run(*args: str) -> dict:
        proc = admin(world, *args)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    assert run("settle") == {"applied": 0}
    assert run("clock", "show")["mode"] == "real"
    assert run("clock", "advance", "2h")["mode"] == "offset"
    assert run("clock", "set", "2032-01-01 00:00:00")["time"] == "2032-01-01 00:00:00"
    assert run("clock", "mode", "scaled", "--rate", "60")["rate"] == 60
    assert run("clock", "mode", "frozen")["mode"] == "frozen"
    assert run("timing", "show")["profile"] == "instant"
    assert run("timing", "set", "--profile", "realistic", "--duration",
               "disk.attach=9")["durations"]["disk.attach"] == 9
    assert run("calls", "--limit", "1")["calls"][0]["action"] == "DescribeDisks"
    assert run("instance", ins, "--state", "STOPPED", "--no-online-resize")["online_resize"] is False
    assert run("disk", disk_id, "--dumping")["state"] == "DUMPING"
    for args, words in [(("clock", "advance", "soon"), "advance"),
                        (("timing", "set", "--duration", "disk.nothing=1"), "disk.nothing"),
                        (("instance", "ins-00000000", "--state", "RUNNING"), "does not exist"),
                        (("disk", disk_id, "--no-dumping", "--returnable"), None)]:
        proc = admin(world, *args)
        if words is None:
            assert proc.returncode == 0, proc.stderr
            continue
        assert proc.returncode == 1 and words in proc.stderr, (args, proc.stderr)


# --- reset -------------------------------------------------------------------------------------------
def test_reset_one_region_one_account_then_everything(world):
    other = ok(world, "POST", "/accounts", {"name": "other"})
    theirs = World(world.server)
    theirs.cbs = cbs_client(world.server, other["SecretId"], other["SecretKey"])
    shanghai = World(world.server)
    shanghai.cbs = cbs_client(world.server, region="ap-shanghai")
    world.run()
    mine, in_shanghai = world.create(), shanghai.create(zone="ap-shanghai-2")
    their_disk = theirs.create()

    removed = ok(world, "POST", "/reset", {"region": "ap-shanghai"})["removed"]
    assert removed["disks"] == 1 and shanghai.disk(in_shanghai) is None
    assert world.disk(mine) is not None and theirs.disk(their_disk) is not None

    ok(world, "POST", "/reset", {"account": other["AccountId"]})
    assert theirs.disk(their_disk) is None and world.disk(mine) is not None
    assert theirs.disks() == []  # the account and its key are still there

    ok(world, "POST", "/clock", {"advance": "5d"})
    ok(world, "POST", "/timing", {"profile": "realistic"})
    ok(world, "POST", "/faults", {"action": "CreateDisks", "code": "InternalError"})
    removed = ok(world, "POST", "/reset")["removed"]
    assert removed["instances"] == 1 and removed["disks"] >= 2
    assert ok(world, "GET", "/calls?limit=5") == {"calls": []}
    assert world.disks() == [] and world.cvm.DescribeInstances(
        request(cvm_models.DescribeInstancesRequest)).TotalCount == 0
    assert ok(world, "GET", "/clock")["mode"] == "real"
    assert ok(world, "GET", "/timing")["profile"] == "instant"
    assert ok(world, "GET", "/faults") == {"faults": []}
    assert [a["AccountId"] for a in ok(world, "GET", "/accounts")["accounts"]] == ["100000000001"]
    assert code_of(theirs.cbs.DescribeDisks, request(models.DescribeDisksRequest)) == \
        "AuthFailure.SecretIdNotFound"
    world.create()  # and it works as on a fresh data dir


@pytest.mark.parametrize("body, status, words", [
    ({"region": "ap-mars"}, 400, ["ap-mars"]),
    ({"account": "999999999999"}, 404, ["999999999999"]),
    ({"account": 5}, 400, ["account", "5"]),  # not even an account's shape
    ({"everything": True}, 400, ["everything"]),
])
def test_reset_bad_input(world, body, status, words):
    world.create()
    refused(world, "POST", "/reset", body, status, *words)
    assert len(world.disks()) == 1  # nothing went


def test_admin_reset(world):
    world.create()
    proc = admin(world, "reset", "--region", "ap-guangzhou")
    assert proc.returncode == 0 and json.loads(proc.stdout)["removed"]["disks"] == 1, proc.stderr
    proc = admin(world, "reset", "--account", "123")
    assert proc.returncode == 1 and "123" in proc.stderr


# --- configuration at run time ---------------------------------------------------------------------
def test_configuration_changes_at_run_time(world, tmp_path):
    config = ok(world, "GET", "/config")["config"]
    assert config["limits"]["create_disks_max_count"] == 50 and "ap-guangzhou" in config["regions"]
    ok(world, "POST", "/config", {"limits": {"create_disks_max_count": 2},
                                  "stock": {"ap-guangzhou-4": {"CLOUD_SSD": 100}},
                                  "regions": {"ap-guangzhou": {"sold_disk_types": {
                                      "ap-guangzhou-6": ["CLOUD_PREMIUM"]}}}})
    assert code_of(world.create, wait=False, DiskCount=3) == "InvalidParameterValue"
    world.create(zone="ap-guangzhou-4", DiskType="CLOUD_SSD", DiskSize=100)
    assert code_of(world.create, wait=False, zone="ap-guangzhou-4", DiskType="CLOUD_SSD",
                   DiskSize=20) == "ResourceInsufficient"
    assert code_of(world.create, wait=False, zone="ap-guangzhou-6",
                   DiskType="CLOUD_SSD") == "InvalidParameter.DiskConfigNotSupported"
    rows = world.cbs.DescribeDiskConfigQuota(request(
        models.DescribeDiskConfigQuotaRequest, InquiryType="INQUIRY_CBS_CONFIG",
        Zones=["ap-guangzhou-6"])).DiskConfigSet
    assert {r.DiskType for r in rows} == {"CLOUD_PREMIUM"}  # the same table, reported
    assert ok(world, "GET", "/config")["config"]["limits"]["create_disks_max_count"] == 2
    ok(world, "POST", "/reset")
    assert ok(world, "GET", "/config")["config"]["limits"]["create_disks_max_count"] == 50

    toml = tmp_path / "more.toml"
    toml.write_text("[limits]\ntags_per_resource = 1\n")
    proc = admin(world, "config", "set", str(toml))
    assert proc.returncode == 0 and json.loads(proc.stdout)["config"]["limits"]["tags_per_resource"] == 1
    assert json.loads(admin(world, "config", "show").stdout)["config"]["limits"]["tags_per_resource"] == 1
    toml.write_text("[limits]\ntags_per_resource = -1\n")
    proc = admin(world, "config", "set", str(toml))
    assert proc.returncode == 1 and "limits.tags_per_resource" in proc.stderr


@pytest.mark.parametrize("body, words", [
    ({}, ["tables"]),
    ({"limits": {"attach_limit": 5}}, ["limits.attach_limit"]),
    ({"limits": {"describe_max_limit": "many"}}, ["limits.describe_max_limit"]),
    ({"limits": {"describe_max_limit": 0}}, ["limits.describe_max_limit"]),
    ({"disk_types": {"CLOUD_SSD": {"min_size": 500, "max_size": 100}}}, ["disk_types.CLOUD_SSD"]),
    ({"stock": {"ap-guangzhou-9": {"CLOUD_SSD": 1}}}, ["stock.ap-guangzhou-9"]),
    ({"stock": {"ap-guangzhou-3": {"CLOUD_GOLD": 1}}}, ["CLOUD_GOLD"]),
    ({"regions": {"ap-guangzhou": {"sold_out_zones": ["ap-beijing-3"]}}}, ["ap-beijing-3"]),
    ({"system_disk": {"default_type": "FLOPPY"}}, ["FLOPPY"]),
    ({"color": "red"}, ["color"]),
])
def test_configuration_bad_input(world, body, words):
    before = ok(world, "GET", "/config")
    refused(world, "POST", "/config", body, 400, *words)
    assert ok(world, "GET", "/config") == before  # nothing half-applied


def test_rate_limits_when_switched_on(world):
    ok(world, "POST", "/config", {"rate_limits": {"enabled": True, "per_second": 3,
                                                  "actions": {"DescribeDisks": 5}}})
    started = time.monotonic()
    for _ in range(5):
        world.disks()
    assert code_of(world.disks) == "RequestLimitExceeded"
    shanghai = cbs_client(world.server, region="ap-shanghai")
    shanghai.DescribeDisks(request(models.DescribeDisksRequest))  # per region
    for _ in range(3):
        code_of(world.cbs.InitializeDisks, request(models.InitializeDisksRequest,
                                                   DiskIds=["disk-00000000"]))
    assert code_of(world.cbs.InitializeDisks, request(
        models.InitializeDisksRequest, DiskIds=["disk-00000000"])) == "RequestLimitExceeded"
    time.sleep(max(0.0, 1.05 - (time.monotonic() - started)))
    world.disks()  # a second later the window has moved on
    refused(world, "POST", "/config", {"rate_limits": {"per_second": 0}}, 400,
            "rate_limits.per_second")
    ok(world, "POST", "/config", {"rate_limits": {"enabled": False}})
    for _ in range(10):
        world.disks()


def test_elastic_disk_quota_per_region(world):
    ok(world, "POST", "/config", {"limits": {"elastic_disks_per_region": 3}})
    world.run(DataDisks=[{"DiskSize": 20}])  # an instance's own disks are not elastic
    world.create(DiskCount=2)
    assert code_of(world.create, wait=False, DiskCount=2) == "LimitExceeded"
    world.create()
    assert code_of(world.create, wait=False) == "LimitExceeded"
    shanghai = cbs_client(world.server, region="ap-shanghai")
    shanghai.CreateDisks(request(models.CreateDisksRequest, Placement={"Zone": "ap-shanghai-2"},
                                 DiskChargeType="POSTPAID_BY_HOUR", DiskType="CLOUD_PREMIUM",
                                 DiskSize=50))  # per region


def test_a_returned_prepaid_instance_leaves_the_recycle_bin_for_good(world):
    ins = world.run(InstanceChargeType="PREPAID", InstanceChargePrepaid={"Period": 1},
                    DataDisks=[{"DiskSize": 20}])[0]
    elastic = world.create()
    world.attach(ins, elastic)
    world.cvm.TerminateInstances(request(cvm_models.TerminateInstancesRequest, InstanceIds=[ins]))
    assert world.instance(ins).InstanceState == "SHUTDOWN"
    ok(world, "POST", "/clock", {"advance": "6d"})
    assert world.instance(ins).InstanceState == "SHUTDOWN"
    assert ok(world, "POST", "/clock", {"advance": "1d1h"})["applied"] == 1  # 7 days
    assert world.instance(ins) is None
    assert world.disk(elastic).DiskState == "UNATTACHED"  # detached, not destroyed
