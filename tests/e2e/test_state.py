"""State export and import: a rich state (accounts, instances, attached disks, pending moves, a
moved clock) exported from one server and imported into a fresh one answers every Describe* the
same — before and after its pending moves complete."""

from __future__ import annotations

import json
import subprocess
import sys

from tencentcloud.cbs.v20170312 import models
from tencentcloud.cvm.v20170312 import models as cvm_models

from tests.e2e.server import (DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Server, cbs_client, clean_env,
                              cvm_client)
from tests.e2e.test_lifecycle import World, request

REGIONS = ("ap-guangzhou", "ap-shanghai")


def control(server: Server, method: str, path: str, body=None):
    response = server.control(method, path, body)
    assert response.status_code == 200, response.text
    return response.json()


def build(world: World, other: dict) -> None:
    """Two accounts, two regions, instances with their own and attached disks, a shareable disk,
    tags, a returned prepaid disk (its recycle-bin move pending), an attach still running (pending
    for an hour), a fault rule, and a clock moved 12 days ahead and frozen."""
    server = world.server
    control(server, "POST", "/clock", {"advance": "12d"})
    control(server, "POST", "/timing", {"profile": "instant"})
    ins = world.run(DataDisks=[{"DiskSize": 20}], InstanceName="kept")[0]
    tagged = world.create(Tags=[{"Key": "team", "Value": "red"}], DiskName="tagged")
    world.attach(ins, tagged)
    shared = world.create(Shareable=True)
    world.attach(ins, shared)
    prepaid = world.create(DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 3})
    world.cbs.TerminateDisks(request(models.TerminateDisksRequest, DiskIds=[prepaid]))
    theirs = World(server)
    theirs.cbs = cbs_client(server, other["SecretId"], other["SecretKey"], region="ap-shanghai")
    theirs.cvm = cvm_client(server, other["SecretId"], other["SecretKey"], region="ap-shanghai")
    theirs.run(zone="ap-shanghai-2")
    theirs.create(zone="ap-shanghai-2", DiskCount=3)
    control(server, "POST", "/timing", {"durations": {"disk.attach": 3600}})
    pending = world.create()
    world.cbs.AttachDisks(request(models.AttachDisksRequest, InstanceId=ins, DiskIds=[pending]))
    control(server, "POST", "/faults", {"action": "ResizeDisk", "code": "InternalError"})
    control(server, "POST", "/clock", {"mode": "frozen"})


def describe_all(server: Server, credentials: list[tuple[str, str]]) -> dict:
    """Every Describe* answer of every account and region, without the RequestIds."""
    seen = {}
    for secret_id, secret_key in credentials:
        for region in REGIONS:
            cbs = cbs_client(server, secret_id, secret_key, region=region)
            cvm = cvm_client(server, secret_id, secret_key, region=region)
            disks = json.loads(cbs.DescribeDisks(request(
                models.DescribeDisksRequest, Limit=100, ReturnBindAutoSnapshotPolicy=True)).to_json_string())
            instances = json.loads(cvm.DescribeInstances(request(
                cvm_models.DescribeInstancesRequest, Limit=100)).to_json_string())
            ids = [i["InstanceId"] for i in instances["InstanceSet"]]
            counts = json.loads(cbs.DescribeInstancesDiskNum(request(
                models.DescribeInstancesDiskNumRequest, InstanceIds=ids)).to_json_string()) if ids else {}
            for answer in (disks, instances, counts):
                answer.pop("RequestId", None)
            seen[(secret_id, region)] = {"disks": disks, "instances": instances, "counts": counts}
    return seen


def test_round_trip(tmp_path):
    source = Server(tmp_path / "source", timing="realistic").start()
    target = Server(tmp_path / "target", timing="instant").start()
    try:
        world = World(source)
        other = control(source, "POST", "/accounts", {"name": "other"})
        build(world, other)
        credentials = [(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
                       (other["SecretId"], other["SecretKey"])]
        document = control(source, "GET", "/state")
        assert document["format"] == "cbslocal-state" and document["version"] == 1
        assert len(document["tables"]["transitions"]) >= 2  # the pending attach and the recycle bin
        answer = control(target, "POST", "/state", document)
        assert answer["inserted"]["disks"] == len(document["tables"]["disks"])
        assert answer["clock"]["now"] == control(source, "GET", "/clock")["now"]
        before = describe_all(source, credentials)
        assert describe_all(target, credentials) == before
        attaching = [d for d in before[(credentials[0][0], "ap-guangzhou")]["disks"]["DiskSet"]
                     if d["DiskState"] == "ATTACHING"]
        assert len(attaching) == 1
        assert control(target, "GET", "/faults")["faults"][0]["action"] == "ResizeDisk"
        for server in (source, target):  # the pending moves complete the same way on both
            assert control(server, "POST", "/clock", {"advance": "8d"})["applied"] == 2
        after = describe_all(source, credentials)
        assert describe_all(target, credentials) == after and after != before
        target_world = World(target)
        assert target_world.disk(attaching[0]["DiskId"]).DiskState == "ATTACHED"
        target_world.create()  # new rows after imported ones
        assert target_world.disks(Limit=100)[-1].DiskName == "未命名"
    finally:
        source.stop()
        target.stop()


def test_one_account_and_refusals(tmp_path):
    source = Server(tmp_path / "source").start()
    target = Server(tmp_path / "target").start()
    try:
        other = control(source, "POST", "/accounts", {"name": "other"})
        theirs = World(source)
        theirs.cbs = cbs_client(source, other["SecretId"], other["SecretKey"])
        theirs.create(DiskCount=2)
        World(source).create()  # the default account's: not exported
        document = control(source, "GET", f"/state?account={other['AccountId']}")
        assert {r["account_id"] for r in document["tables"]["disks"]} == {other["AccountId"]}
        control(target, "POST", "/state", document)
        moved = cbs_client(target, other["SecretId"], other["SecretKey"])
        assert moved.DescribeDisks(request(models.DescribeDisksRequest)).TotalCount == 2
        assert World(target).disks() == []
        refused = target.control("POST", "/state", document)
        assert refused.status_code == 409 and "not empty" in refused.json()["error"]
        for bad, words in [({"format": "other"}, "format"),
                           ({**document, "version": 9}, "version"),
                           ({**document, "schema": "0001"}, "schema"),
                           ({**document, "tables": {"nope": []}}, "nope"),
                           ({**document, "tables": {"disks": [{"disk_id": "x"}]}}, "tables.disks.0"),
                           ({**document, "tables": {**document["tables"], "disks": [
                               {**document["tables"]["disks"][0], "disk_size": None}]}}, "tables.disks")]:
            control(target, "POST", "/reset")
            response = target.control("POST", "/state", bad)
            assert response.status_code == 400 and words in response.json()["error"], response.text
        assert target.control("GET", "/state?account=999").status_code == 404
    finally:
        source.stop()
        target.stop()


def test_admin_state_commands(tmp_path):
    source = Server(tmp_path / "source").start()
    target = Server(tmp_path / "target").start()
    try:
        World(source).create(DiskCount=3)
        saved = tmp_path / "state.json"

        def admin(server: Server, *args: str) -> subprocess.CompletedProcess:
            # The export holds secret keys: the CLI reads the admin token in the data dir.
            return subprocess.run([sys.executable, "-m", "cbslocal", "admin", "--endpoint",
                                   server.url, "--data-dir", str(server.data_dir), "state", *args],
                                  capture_output=True, text=True, env=clean_env(), timeout=120)

        assert admin(source, "export", "-o", str(saved)).returncode == 0
        assert json.loads(saved.read_text())["format"] == "cbslocal-state"
        imported = admin(target, "import", str(saved))
        assert imported.returncode == 0 and json.loads(imported.stdout)["inserted"]["disks"] == 3
        again = admin(target, "import", str(saved))
        assert again.returncode == 1 and "not empty" in again.stderr
    finally:
        source.stop()
        target.stop()


def test_imported_pending_moves_complete_on_their_own(tmp_path):
    source = Server(tmp_path / "source", timing="realistic").start()
    target = Server(tmp_path / "target", timing="instant").start()
    try:
        world = World(source)
        ins = world.run()[0]
        control(source, "POST", "/timing", {"durations": {"disk.attach": 2}})
        disk_id = world.create()
        world.cbs.AttachDisks(request(models.AttachDisksRequest, InstanceId=ins, DiskIds=[disk_id]))
        control(target, "POST", "/state", control(source, "GET", "/state"))
        moved = World(target)
        assert moved.disk(disk_id).DiskState == "ATTACHING"
        moved.wait_disk(disk_id, "ATTACHED")  # no clock move, no settle: due on the clock
    finally:
        source.stop()
        target.stop()


def test_an_import_with_a_clock_beyond_its_range_is_refused_whole(tmp_path):
    server = Server(tmp_path / "data").start()
    try:
        World(server).create()
        document = control(server, "GET", "/state")
        control(server, "POST", "/reset", {})
        for clock in ({"now": 1e300, "mode": "frozen", "rate": 0.0},
                      {"now": -5e12, "mode": "offset", "rate": 1.0},
                      {"now": 1.8e9, "mode": "scaled", "rate": "fast"},
                      {"now": 1.8e9, "mode": "scaled", "rate": 1e300},
                      {"now": "tomorrow", "mode": "offset", "rate": 1.0},
                      ["not", "a", "clock"]):
            reply = server.control("POST", "/state", {**document, "clock": clock})
            assert reply.status_code == 400 and "clock" in reply.json()["error"], reply.text
        assert control(server, "GET", "/state")["tables"]["disks"] == []  # nothing went in
        assert control(server, "GET", "/clock")["mode"] == "real"
    finally:
        server.stop()
