"""The whole life of a disk on an instance with the official Node SDK (tencentcloud-sdk-nodejs
4.1.313: `cvm.v20170312.Client` and `cbs.v20170312.Client`), under both timing profiles (one server
each). `node/lifecycle.js` runs the flow in one Node process — RunInstances, CreateDisks in two
zones, AttachDisks, DescribeInstancesDiskNum, DetachDisks, ModifyDiskAttributes, ResizeDisk,
TerminateDisks, TerminateInstances — polling DescribeInstances/DescribeDisks for each state, and
prints a JSON summary of what it saw; the tests assert on it.

Error cases (exact codes): AttachDisks across zones → ZoneNotMatch, to an instance that does not
exist → InvalidInstanceId.NotFound, to the instance the disk is on → InvalidDisk.Attached.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e.server import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, REGION, ZONE, Server, clean_env

NODE_DIR = Path(__file__).with_name("node")
SCRIPT = NODE_DIR / "lifecycle.js"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INSTANCE_ID = re.compile(r"ins-[a-z0-9]{8}")
DISK_ID = re.compile(r"disk-[a-z0-9]{8}")
OTHER_ZONE = "ap-guangzhou-4"
IMAGE_ID = "img-pmqg1cw7"
INSTANCE_TYPE = "S5.MEDIUM4"
SDK_EXCEPTION = "TencentCloudSDKHttpException"


@pytest.fixture(scope="module", params=["instant", "realistic"])
def lifecycle(request, tmp_path_factory):
    """(timing, run ID, the summary lifecycle.js printed) — one server and one Node run per profile."""
    timing = request.param
    server = Server(tmp_path_factory.mktemp(f"node-lifecycle-{timing}") / "data", timing=timing).start()
    run_id = uuid.uuid4().hex[:8]
    spec = {"endpoint": server.endpoint, "secretId": DEFAULT_SECRET_ID,
            "secretKey": DEFAULT_SECRET_KEY, "region": REGION, "zone": ZONE,
            "otherZone": OTHER_ZONE, "imageId": IMAGE_ID, "instanceType": INSTANCE_TYPE,
            "runId": run_id, "pollMs": 100, "timeoutMs": 20000}
    try:
        proc = subprocess.run(["node", str(SCRIPT)], input=json.dumps(spec), capture_output=True,
                              text=True, env=clean_env(), cwd=NODE_DIR, timeout=90)
        assert proc.returncode == 0, (f"lifecycle.js failed (exit {proc.returncode}):\n{proc.stdout}\n"
                                      f"{proc.stderr}\n--- server log ---\n{server.log_text()[-4000:]}")
        assert server.alive(), server.log_text()
    finally:
        server.stop()
    yield timing, run_id, json.loads(proc.stdout)


def test_ids(lifecycle):
    _timing, _run_id, s = lifecycle
    assert all(UUID.fullmatch(r) for r in s["requestIds"]), s["requestIds"]
    assert len(s["instanceIds"]) == 1 and INSTANCE_ID.fullmatch(s["instanceIds"][0])
    assert len(s["diskIds"]) == 1 and DISK_ID.fullmatch(s["diskIds"][0])
    assert len(s["otherDiskIds"]) == 1 and DISK_ID.fullmatch(s["otherDiskIds"][0])


def test_launch(lifecycle):
    timing, run_id, s = lifecycle
    launch = s["launch"]
    assert launch["InstanceState"] == "RUNNING"
    # realistic: PENDING for 3 s first; instant: RUNNING from the start
    assert launch["seen"] == (["PENDING", "RUNNING"] if timing == "realistic" else ["RUNNING"])
    assert (launch["InstanceType"], launch["ImageId"], launch["Zone"]) == (INSTANCE_TYPE, IMAGE_ID, ZONE)
    assert launch["InstanceName"] == f"node-life-{run_id}"
    assert DISK_ID.fullmatch(launch["SystemDiskId"] or "")
    assert launch["DataDisks"] == []


def test_created_disks_are_listed(lifecycle):
    timing, run_id, s = lifecycle
    disk = s["created"]["disk"]
    assert disk["DiskId"] == s["diskIds"][0]
    assert (disk["DiskName"], disk["DiskSize"], disk["DiskType"], disk["Zone"]) == (
        f"node-life-{run_id}", 50, "CLOUD_PREMIUM", ZONE)
    assert disk["DiskState"] == "UNATTACHED"
    assert disk["Attached"] is False and disk["InstanceId"] == ""
    # a disk being created is not listed (there is no CREATING state), then UNATTACHED
    expected = [None, "UNATTACHED"] if timing == "realistic" else ["UNATTACHED"]
    assert s["created"]["seen"] == expected
    other = s["createdOther"]["disk"]
    assert (other["DiskId"], other["Zone"], other["DiskState"]) == (
        s["otherDiskIds"][0], OTHER_ZONE, "UNATTACHED")


def test_attach(lifecycle):
    timing, _run_id, s = lifecycle
    instance_id, attach = s["instanceIds"][0], s["attach"]
    if timing == "realistic":
        assert attach["stateRightAfter"] == "ATTACHING"
        assert attach["seen"] == ["ATTACHING", "ATTACHED"]
    else:
        assert attach["seen"] == ["ATTACHED"]
    disk = attach["disk"]
    assert disk["DiskState"] == "ATTACHED"
    assert disk["Attached"] is True
    assert disk["InstanceId"] == instance_id
    assert disk["InstanceIdList"] == [instance_id]
    assert attach["attachDetail"] == [
        {"InstanceId": instance_id, "AttachedDiskCount": 1, "MaxAttachCount": 20}]
    assert attach["instanceDataDisks"] == [s["diskIds"][0]]
    # the failed AttachDisks left the other disk as it was
    assert (attach["otherDisk"]["DiskState"], attach["otherDisk"]["InstanceId"]) == ("UNATTACHED", "")


def test_detach(lifecycle):
    timing, _run_id, s = lifecycle
    instance_id, detach = s["instanceIds"][0], s["detach"]
    assert detach["stateRightAfter"] == ("DETACHING" if timing == "realistic" else "UNATTACHED")
    disk = detach["disk"]
    assert disk["DiskState"] == "UNATTACHED"
    assert disk["Attached"] is False and disk["InstanceId"] == ""
    assert disk["LastAttachInsId"] == instance_id
    assert detach["attachDetail"] == [
        {"InstanceId": instance_id, "AttachedDiskCount": 0, "MaxAttachCount": 20}]


def test_rename_and_resize(lifecycle):
    _timing, run_id, s = lifecycle
    disk = s["resize"]["disk"]
    assert disk["DiskName"] == f"node-life-renamed-{run_id}"
    assert disk["DiskSize"] == 100
    assert disk["DiskState"] == "UNATTACHED"
    assert s["resize"]["seen"][-1] == ["UNATTACHED", 100]


def test_terminate(lifecycle):
    timing, _run_id, s = lifecycle
    end = s["end"]
    assert end["remainingDisks"] == 0
    assert end["remainingInstances"] == 0
    assert end["remainingSystemDisks"] == 0  # the system disk went with its instance
    if timing == "realistic":
        assert end["instanceSeen"] == ["TERMINATING", None]
    else:
        assert end["instanceSeen"] == [None]


@pytest.mark.parametrize("case,code", [("zoneMismatch", "ZoneNotMatch"),
                                       ("noInstance", "InvalidInstanceId.NotFound"),
                                       ("alreadyAttached", "InvalidDisk.Attached")])
def test_error_codes(lifecycle, case, code):
    _timing, _run_id, s = lifecycle
    error = s["errors"][case]
    assert "unexpected" not in error, error
    assert error["name"] == SDK_EXCEPTION, error
    assert error["code"] == code, error
    assert UUID.fullmatch(error["requestId"] or ""), error
    assert error["message"], error


def test_run_time(lifecycle):
    timing, _run_id, s = lifecycle
    assert s["elapsedMs"] < 30000, s["elapsedMs"]
