"""The whole life of a disk on an instance, driven through tccli (3.1.189.1) as a user would, under
both timing profiles (one server each):

    cvm RunInstances → DescribeInstances --waiter (RUNNING)
    cbs CreateDisks → DescribeDisks --waiter (listed)
    cbs AttachDisks → DescribeDisks --waiter (DiskState ATTACHED) → DescribeInstancesDiskNum
    cbs DetachDisks → --waiter (UNATTACHED) → ModifyDiskAttributes → ResizeDisk → --waiter (DiskSize)
    cbs TerminateDisks, cvm TerminateInstances → --waiter (gone)

plus the exact error codes tccli prints for AttachDisks across zones (ZoneNotMatch), to an instance
that does not exist (InvalidInstanceId.NotFound) and to the instance the disk is on already
(InvalidDisk.Attached). Under realistic timing DescribeDisks must show ATTACHING right after
AttachDisks returns, and DETACHING right after DetachDisks (each takes 1.5 s there; tccli starts in
~0.4 s).

tccli's `--waiter '{"expr": <JMESPath>, "to": <value>, "timeout": s, "interval": s}'` re-sends the
call until the expression equals `to` (tccli/action_caller.py `_call_json`, and the generated
`doDescribeDisks`/`doDescribeInstances`), then prints the last response; on timeout it fails with
"Request timeout, wait `expr` to `to` timeout". Between polls it prints "Inquiry result is X." to
stdout (lost in practice: tccli swaps sys.stdout before printing the JSON), so those lines are
dropped before parsing.

Independent calls run concurrently (each tccli is its own process) to keep both runs short.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.server import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, REGION, ZONE, Server, clean_env

TCCLI = Path(sys.executable).with_name("tccli")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SDK_ERROR = re.compile(r"\[TencentCloudSDKException\] code:(?P<code>\S+) message:(?P<message>.*) "
                       r"requestId:(?P<request_id>\S+)", re.S)
OTHER_ZONE = "ap-guangzhou-4"
IMAGE_ID = "img-pmqg1cw7"
INSTANCE_TYPE = "S5.MEDIUM4"
MISSING_INSTANCE = "ins-00000000"
WAIT_TIMEOUT = 20  # seconds, per waiter; the longest realistic move (launch) takes 3 s
WAIT_INTERVAL = 0.2


@pytest.fixture(scope="module", params=["instant", "realistic"])
def timed_server(request, tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp(f"tccli-lifecycle-{request.param}") / "data",
                 timing=request.param).start()
    yield srv
    srv.stop()


class Tccli:
    """tccli against one server, in a HOME of its own, credentials from the environment."""

    def __init__(self, server: Server, home: Path):
        home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in clean_env().items() if not k.startswith(("TENCENTCLOUD_", "TCCLI_"))}
        env.update(HOME=str(home), TENCENTCLOUD_SECRET_ID=DEFAULT_SECRET_ID,
                   TENCENTCLOUD_SECRET_KEY=DEFAULT_SECRET_KEY)
        self.env = env
        self.server = server

    def args(self, service: str, action: str, *params, waiter: dict | None = None) -> list[str]:
        args = [str(TCCLI), service, action, "--endpoint", self.server.url, "--region", REGION]
        for param in params:
            args.append(param if isinstance(param, str) else json.dumps(param))
        if waiter is not None:
            args += ["--waiter", json.dumps({"timeout": WAIT_TIMEOUT, "interval": WAIT_INTERVAL,
                                             **waiter})]
        return args

    def start(self, service: str, action: str, *params, waiter: dict | None = None):
        return subprocess.Popen(self.args(service, action, *params, waiter=waiter),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env)

    def run(self, service: str, action: str, *params, waiter: dict | None = None):
        return finish(self.start(service, action, *params, waiter=waiter))

    def ok(self, service: str, action: str, *params, waiter: dict | None = None) -> dict:
        return ok_json(self.run(service, action, *params, waiter=waiter))


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = proc.communicate(timeout=WAIT_TIMEOUT + 30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def ok_json(proc: subprocess.CompletedProcess | subprocess.Popen) -> dict:
    if isinstance(proc, subprocess.Popen):
        proc = finish(proc)
    call = " ".join(a for a in proc.args[1:3])
    assert proc.returncode == 0, f"{call}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    # a waiter may print "Inquiry result is X." lines before the JSON
    lines = [line for line in proc.stdout.splitlines() if not line.startswith("Inquiry result is ")]
    out = json.loads("\n".join(lines))
    assert UUID.fullmatch(out["RequestId"]), out
    return out


def error_code(proc: subprocess.CompletedProcess | subprocess.Popen) -> str:
    """The code of the API error tccli printed (exit 255, one line on stderr)."""
    if isinstance(proc, subprocess.Popen):
        proc = finish(proc)
    assert proc.returncode == 255, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    match = SDK_ERROR.search(proc.stderr)
    assert match, proc.stderr
    assert UUID.fullmatch(match["request_id"]), proc.stderr
    assert match["message"].strip(), proc.stderr
    return match["code"]


def create_disk_params(zone: str, name: str) -> list:
    return ["--Placement", {"Zone": zone}, "--DiskChargeType", "POSTPAID_BY_HOUR",
            "--DiskType", "CLOUD_PREMIUM", "--DiskSize", "50", "--DiskName", name]


def test_lifecycle(timed_server, tmp_path):
    realistic = timed_server.timing == "realistic"
    cli = Tccli(timed_server, tmp_path / "home")
    run_id = uuid.uuid4().hex[:8]
    name, other_name, new_name = f"life-{run_id}", f"life-other-{run_id}", f"life-renamed-{run_id}"
    began = time.monotonic()

    # --- an instance and two disks (one in another zone), all at once -------------------------
    launching = cli.start("cvm", "RunInstances", "--Placement", {"Zone": ZONE}, "--ImageId", IMAGE_ID,
                          "--InstanceType", INSTANCE_TYPE, "--InstanceName", f"life-{run_id}")
    creating = cli.start("cbs", "CreateDisks", *create_disk_params(ZONE, name))
    creating_other = cli.start("cbs", "CreateDisks", *create_disk_params(OTHER_ZONE, other_name))
    [instance_id] = ok_json(launching)["InstanceIdSet"]
    [disk_id] = ok_json(creating)["DiskIdSet"]
    [other_id] = ok_json(creating_other)["DiskIdSet"]
    assert re.fullmatch(r"ins-[a-z0-9]{8}", instance_id)
    assert re.fullmatch(r"disk-[a-z0-9]{8}", disk_id) and re.fullmatch(r"disk-[a-z0-9]{8}", other_id)

    if realistic:  # launching takes 3 s there
        state = cli.ok("cvm", "DescribeInstances", "--InstanceIds", [instance_id])
        assert state["InstanceSet"][0]["InstanceState"] == "PENDING"

    running = cli.start("cvm", "DescribeInstances", "--InstanceIds", [instance_id],
                        waiter={"expr": "InstanceSet[0].InstanceState", "to": "RUNNING"})
    listed = cli.start("cbs", "DescribeDisks", "--DiskIds", [disk_id],
                       waiter={"expr": "TotalCount", "to": 1})
    other_listed = cli.start("cbs", "DescribeDisks", "--DiskIds", [other_id],
                             waiter={"expr": "DiskSet[0].DiskState", "to": "UNATTACHED"})
    out = ok_json(running)
    assert out["TotalCount"] == 1
    [instance] = out["InstanceSet"]
    assert instance["InstanceId"] == instance_id
    assert instance["InstanceState"] == "RUNNING"
    assert instance["InstanceType"] == INSTANCE_TYPE
    assert instance["ImageId"] == IMAGE_ID
    assert instance["Placement"]["Zone"] == ZONE
    assert instance["InstanceName"] == f"life-{run_id}"
    system_disk_id = instance["SystemDisk"]["DiskId"]
    assert re.fullmatch(r"disk-[a-z0-9]{8}", system_disk_id)
    assert instance["DataDisks"] in ([], None)

    out = ok_json(listed)
    assert out["TotalCount"] == 1
    [disk] = out["DiskSet"]
    assert (disk["DiskId"], disk["DiskName"], disk["DiskSize"], disk["DiskState"]) == (
        disk_id, name, 50, "UNATTACHED")
    assert disk["Placement"]["Zone"] == ZONE
    assert disk["Attached"] is False and disk["InstanceId"] == ""
    out = ok_json(other_listed)
    assert out["DiskSet"][0]["Placement"]["Zone"] == OTHER_ZONE

    # --- attach ----------------------------------------------------------------------------------
    # the error cases first, concurrently: neither may change anything
    zone_mismatch = cli.start("cbs", "AttachDisks", "--DiskIds", [other_id], "--InstanceId", instance_id)
    no_instance = cli.start("cbs", "AttachDisks", "--DiskIds", [disk_id], "--InstanceId", MISSING_INSTANCE)
    assert error_code(zone_mismatch) == "ZoneNotMatch"
    assert error_code(no_instance) == "InvalidInstanceId.NotFound"

    cli.ok("cbs", "AttachDisks", "--DiskIds", [disk_id], "--InstanceId", instance_id)
    if realistic:  # the attach takes 1.5 s: the disk is ATTACHING meanwhile
        out = cli.ok("cbs", "DescribeDisks", "--DiskIds", [disk_id])
        assert out["DiskSet"][0]["DiskState"] == "ATTACHING", out["DiskSet"][0]
    out = cli.ok("cbs", "DescribeDisks", "--DiskIds", [disk_id],
                 waiter={"expr": "DiskSet[0].DiskState", "to": "ATTACHED"})
    [disk] = out["DiskSet"]
    assert disk["DiskState"] == "ATTACHED"
    assert disk["Attached"] is True
    assert disk["InstanceId"] == instance_id
    assert disk["InstanceIdList"] == [instance_id]

    disk_num = cli.start("cbs", "DescribeInstancesDiskNum", "--InstanceIds", [instance_id])
    on_instance = cli.start("cvm", "DescribeInstances", "--InstanceIds", [instance_id])
    again = cli.start("cbs", "AttachDisks", "--DiskIds", [disk_id], "--InstanceId", instance_id)
    other_untouched = cli.start("cbs", "DescribeDisks", "--DiskIds", [other_id])
    assert ok_json(disk_num)["AttachDetail"] == [
        {"InstanceId": instance_id, "AttachedDiskCount": 1, "MaxAttachCount": 20}]
    [instance] = ok_json(on_instance)["InstanceSet"]
    assert [d["DiskId"] for d in instance["DataDisks"]] == [disk_id]
    assert error_code(again) == "InvalidDisk.Attached"
    [other] = ok_json(other_untouched)["DiskSet"]
    assert (other["DiskState"], other["InstanceId"]) == ("UNATTACHED", "")

    # --- detach, rename, grow ---------------------------------------------------------------------
    cli.ok("cbs", "DetachDisks", "--DiskIds", [disk_id], "--InstanceId", instance_id)
    if realistic:  # so does the detach
        out = cli.ok("cbs", "DescribeDisks", "--DiskIds", [disk_id])
        assert out["DiskSet"][0]["DiskState"] == "DETACHING", out["DiskSet"][0]
    out = cli.ok("cbs", "DescribeDisks", "--DiskIds", [disk_id],
                 waiter={"expr": "DiskSet[0].DiskState", "to": "UNATTACHED"})
    [disk] = out["DiskSet"]
    assert disk["Attached"] is False and disk["InstanceId"] == ""
    assert disk["LastAttachInsId"] == instance_id

    disk_num = cli.start("cbs", "DescribeInstancesDiskNum", "--InstanceIds", [instance_id])
    renaming = cli.start("cbs", "ModifyDiskAttributes", "--DiskIds", [disk_id], "--DiskName", new_name)
    assert ok_json(disk_num)["AttachDetail"][0]["AttachedDiskCount"] == 0
    ok_json(renaming)

    cli.ok("cbs", "ResizeDisk", "--DiskId", disk_id, "--DiskSize", "100")
    out = cli.ok("cbs", "DescribeDisks", "--DiskIds", [disk_id],
                 waiter={"expr": "DiskSet[0].DiskSize", "to": 100})
    [disk] = out["DiskSet"]
    assert disk["DiskSize"] == 100
    assert disk["DiskState"] == "UNATTACHED"  # not EXPANDING any more
    assert disk["DiskName"] == new_name

    # --- the end -------------------------------------------------------------------------------------
    cli.ok("cbs", "TerminateDisks", "--DiskIds", [disk_id, other_id])
    gone = cli.start("cbs", "DescribeDisks", "--DiskIds", [disk_id, other_id])
    terminating = cli.start("cvm", "TerminateInstances", "--InstanceIds", [instance_id])
    assert ok_json(gone)["TotalCount"] == 0
    ok_json(terminating)
    out = cli.ok("cvm", "DescribeInstances", "--InstanceIds", [instance_id],
                 waiter={"expr": "TotalCount", "to": 0})
    assert out["InstanceSet"] == []
    # the system disk went with its instance
    assert cli.ok("cbs", "DescribeDisks", "--DiskIds", [system_disk_id])["TotalCount"] == 0

    assert timed_server.alive(), timed_server.log_text()
    elapsed = time.monotonic() - began
    assert elapsed < 40, f"the {timed_server.timing} lifecycle took {elapsed:.1f} s"
