"""tccli (3.1.189.1) against a real cbslocal process, as a user runs it: `tccli cbs <Action>` with
`--endpoint http://127.0.0.1:PORT` (or `tccli configure set cbs.endpoint …`), credentials from
TENCENTCLOUD_SECRET_ID/KEY, HOME in a temporary directory (tccli writes ~/.tccli), no proxies.

tccli always sends POST + TC3 with Host `http://127.0.0.1:PORT` (protocol.md §1). On an API error it
prints `[TencentCloudSDKException] code:<Code> message:… requestId:…` on stderr and exits 255.
tccli starts in ~0.3 s, so the independent error cases run concurrently (one per CPU), each in its
own HOME.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.server import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, REGION, ZONE, Server, clean_env

TCCLI = Path(sys.executable).with_name("tccli")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SDK_ERROR = re.compile(r"\[TencentCloudSDKException\] code:(?P<code>\S+) message:(?P<message>.*) "
                       r"requestId:(?P<request_id>\S+)", re.S)
PLACEMENT = json.dumps({"Zone": ZONE})


def tccli_env(home: Path, secret_id: str = DEFAULT_SECRET_ID,
              secret_key: str = DEFAULT_SECRET_KEY) -> dict:
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in clean_env().items()
           if not k.startswith(("TENCENTCLOUD_", "TCCLI_"))}
    env.update(HOME=str(home), TENCENTCLOUD_SECRET_ID=secret_id, TENCENTCLOUD_SECRET_KEY=secret_key)
    return env


def start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([str(TCCLI), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def tccli(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return finish(start(args, env))


def cbs(server: Server, action: str, *args: str, region: str = REGION) -> list[str]:
    return ["cbs", action, "--endpoint", server.url, "--region", region, *args]


def create_args(server: Server, name: str, disk_type: str = "CLOUD_PREMIUM",
                placement: str = PLACEMENT) -> list[str]:
    return cbs(server, "CreateDisks", "--Placement", placement,
               "--DiskChargeType", "POSTPAID_BY_HOUR", "--DiskType", disk_type,
               "--DiskSize", "50", "--DiskName", name)


def ok_json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr}"
    out = json.loads(proc.stdout)
    assert UUID.fullmatch(out["RequestId"]), out
    return out


def sdk_disk_fields(model: str = "Disk") -> set[str]:
    from tencentcloud.cbs.v20170312 import models
    return {name.lstrip("_") for name in vars(getattr(models, model)())}


# --- happy path ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def created(server, tmp_path_factory):
    """A disk created with tccli: (disk ID, its name)."""
    name = f"tccli-{uuid.uuid4().hex[:8]}"
    env = tccli_env(tmp_path_factory.mktemp("tccli-home"))
    out = ok_json(tccli(create_args(server, name), env))
    assert len(out["DiskIdSet"]) == 1
    assert re.fullmatch(r"disk-[a-z0-9]{8}", out["DiskIdSet"][0])
    return out["DiskIdSet"][0], name


def test_create_then_describe_prints_every_field(server, created, tmp_path):
    disk_id, name = created
    out = ok_json(tccli(cbs(server, "DescribeDisks", "--DiskIds", json.dumps([disk_id])),
                        tccli_env(tmp_path / "home")))
    assert out["TotalCount"] == 1
    [disk] = out["DiskSet"]
    # tccli prints every field of its Disk model; cbslocal must have filled them in.
    assert set(disk) == sdk_disk_fields("Disk")
    assert set(disk["Placement"]) == sdk_disk_fields("Placement")
    assert disk["DiskId"] == disk_id
    assert disk["DiskName"] == name
    assert disk["DiskType"] == "CLOUD_PREMIUM"
    assert disk["DiskSize"] == 50
    assert disk["DiskState"] == "UNATTACHED"
    assert disk["DiskChargeType"] == "POSTPAID_BY_HOUR"
    assert disk["DiskUsage"] == "DATA_DISK"
    assert disk["Placement"]["Zone"] == ZONE
    assert disk["Placement"]["ProjectId"] == 0
    assert disk["Portable"] is True and disk["Attached"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", disk["CreateTime"])
    assert disk["Tags"] == []
    # Fields a new pay-as-you-go disk has no value for may be null; the others may not.
    may_be_null = {"DifferDaysOfDeadline", "LastAttachInsId", "AutoSnapshotPolicyIds"}
    assert [k for k, v in disk.items() if v is None and k not in may_be_null] == []


def test_describe_with_filters(server, created, tmp_path):
    disk_id, name = created
    filters = [{"Name": "disk-name", "Values": [name]}, {"Name": "zone", "Values": [ZONE]}]
    out = ok_json(tccli(cbs(server, "DescribeDisks", "--Filters", json.dumps(filters),
                            "--Limit", "10", "--Offset", "0"), tccli_env(tmp_path / "home")))
    assert out["TotalCount"] == 1
    assert [d["DiskId"] for d in out["DiskSet"]] == [disk_id]


def test_configure_set_endpoint(server, created, tmp_path):
    disk_id, _name = created
    env = tccli_env(tmp_path / "home")
    done = tccli(["configure", "set", "cbs.endpoint", server.url], env)
    assert done.returncode == 0, done.stderr
    stored = json.loads((tmp_path / "home" / ".tccli" / "default.configure").read_text())
    assert stored["cbs"]["endpoint"] == server.url
    # no --endpoint and no --region from here on: the configuration supplies both
    out = ok_json(tccli(["cbs", "DescribeDisks", "--DiskIds", json.dumps([disk_id])], env))
    assert [d["DiskId"] for d in out["DiskSet"]] == [disk_id]
    name = f"tccli-configured-{uuid.uuid4().hex[:8]}"
    made = ok_json(tccli(["cbs", "CreateDisks", "--Placement", PLACEMENT,
                          "--DiskChargeType", "POSTPAID_BY_HOUR", "--DiskType", "CLOUD_SSD",
                          "--DiskSize", "100", "--DiskName", name], env))
    out = ok_json(tccli(["cbs", "DescribeDisks", "--DiskIds", json.dumps(made["DiskIdSet"])], env))
    assert [(d["DiskName"], d["DiskType"]) for d in out["DiskSet"]] == [(name, "CLOUD_SSD")]


# --- errors ------------------------------------------------------------------------------------------
def _error_cases(server: Server, tmp: Path) -> dict[str, tuple[list[str], dict, str]]:
    """name → (tccli arguments, environment, expected code)."""
    def env(name: str, **creds) -> dict:
        return tccli_env(tmp / name, **creds)

    no_disk_type = tmp / "no-disk-type.json"
    no_disk_type.write_text(json.dumps({"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR",
                                        "DiskSize": 50, "DiskName": "tccli-never-created"}))
    return {
        "InvalidFilter": (
            cbs(server, "DescribeDisks", "--Filters", '[{"Name":"no-such-filter","Values":["x"]}]'),
            env("filter"), "InvalidFilter"),
        "InvalidParameterValue": (
            cbs(server, "DescribeDisks", "--Limit", "101"), env("limit"), "InvalidParameterValue"),
        # tccli checks required flags itself, so a request without DiskType can only be sent
        # through --cli-input-json (see test_missing_required_flag_is_rejected_by_tccli)
        "MissingParameter": (
            cbs(server, "CreateDisks", "--cli-input-json", f"file://{no_disk_type}"),
            env("missing"), "MissingParameter"),
        "MissingParameter-DiskSize": (
            cbs(server, "CreateDisks", "--Placement", PLACEMENT, "--DiskChargeType", "POSTPAID_BY_HOUR",
                "--DiskType", "CLOUD_PREMIUM"), env("missing-size"), "MissingParameter"),
        "DiskConfigNotSupported-TSSD": (
            create_args(server, "tccli-never-created", disk_type="CLOUD_TSSD"), env("tssd"),
            "InvalidParameter.DiskConfigNotSupported"),
        "DiskConfigNotSupported-sold-out": (
            create_args(server, "tccli-never-created", placement='{"Zone":"ap-guangzhou-1"}'),
            env("sold-out"), "InvalidParameter.DiskConfigNotSupported"),
        "SignatureFailure": (
            cbs(server, "DescribeDisks"), env("wrong-key", secret_key="wrongSecretKey000000000000000000"),
            "AuthFailure.SignatureFailure"),
        "SecretIdNotFound": (
            cbs(server, "DescribeDisks"), env("unknown-id", secret_id="AKID" + "Unknown0" * 4),
            "AuthFailure.SecretIdNotFound"),
        "UnsupportedRegion": (
            cbs(server, "DescribeDisks", region="ap-nowhere"), env("region"), "UnsupportedRegion"),
    }


@pytest.fixture(scope="module")
def error_runs(server, tmp_path_factory):
    """Every error case, run concurrently: name → (completed process, expected code)."""
    cases = _error_cases(server, tmp_path_factory.mktemp("tccli-errors"))
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        running = {name: (pool.submit(tccli, args, env), code)
                   for name, (args, env, code) in cases.items()}
        return {name: (future.result(), code) for name, (future, code) in running.items()}


ERROR_NAMES = ["InvalidFilter", "InvalidParameterValue", "MissingParameter",
               "MissingParameter-DiskSize", "DiskConfigNotSupported-TSSD",
               "DiskConfigNotSupported-sold-out", "SignatureFailure", "SecretIdNotFound",
               "UnsupportedRegion"]


@pytest.mark.parametrize("name", ERROR_NAMES)
def test_error(error_runs, name):
    proc, code = error_runs[name]
    assert proc.returncode == 255, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    assert f"code:{code} " in proc.stderr, proc.stderr
    match = SDK_ERROR.search(proc.stderr)
    assert match, proc.stderr
    assert match["code"] == code
    assert UUID.fullmatch(match["request_id"]), proc.stderr
    assert match["message"].strip(), proc.stderr


def test_error_names_every_case(error_runs):
    assert sorted(error_runs) == sorted(ERROR_NAMES)


def test_missing_parameter_names_the_field(error_runs):
    assert "DiskType" in error_runs["MissingParameter"][0].stderr
    assert "DiskSize" in error_runs["MissingParameter-DiskSize"][0].stderr


def test_failed_creates_leave_nothing(server, error_runs, tmp_path):
    out = ok_json(tccli(cbs(server, "DescribeDisks", "--Filters",
                            '[{"Name":"disk-name","Values":["tccli-never-created"]}]'),
                        tccli_env(tmp_path / "home")))
    assert out["TotalCount"] == 0


def test_missing_required_flag_is_rejected_by_tccli(server, tmp_path):
    # Not the emulator's doing: tccli refuses before sending anything (argparse, exit 252).
    proc = tccli(cbs(server, "CreateDisks", "--Placement", PLACEMENT,
                     "--DiskChargeType", "POSTPAID_BY_HOUR", "--DiskSize", "50"),
                 tccli_env(tmp_path / "home"))
    assert proc.returncode == 252, proc.stderr
    assert "--DiskType" in proc.stderr
