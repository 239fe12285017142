"""The pytest plugin as a user's suite meets it: the README's example, and the fixtures' promises
(a fresh state per test, the control handle, both modes), each run by pytest in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import clean_env
from tests.e2e.test_readme import snippets

PROMISES = '''
import json

import pytest
from tencentcloud.cbs.v20170312 import models
from tencentcloud.cvm.v20170312 import models as cvm_models


def create(client, **more):
    request = models.CreateDisksRequest()
    request.from_json_string(json.dumps({"Placement": {"Zone": "ap-guangzhou-3"},
        "DiskType": "CLOUD_PREMIUM", "DiskChargeType": "POSTPAID_BY_HOUR", "DiskSize": 50, **more}))
    return client.CreateDisks(request).DiskIdSet[0]


def listed(client):
    return client.DescribeDisks(models.DescribeDisksRequest()).DiskSet


def test_first_leaves_things_behind(cbslocal, cbs_client):
    create(cbs_client)
    cbslocal.advance("3d")
    cbslocal.set_timing("realistic", disk_attach=30)
    cbslocal.fault(action="CreateDisks", code="InternalError")
    assert len(listed(cbs_client)) == 1


def test_second_starts_fresh(cbslocal, cbs_client):
    assert listed(cbs_client) == []
    assert cbslocal.clock()["mode"] == "real"
    assert cbslocal.control("GET", "/timing")["profile"] == "instant"
    create(cbs_client)  # no fault rule any more


def test_the_handle(cbslocal, cbs_client, cvm_client):
    run = cvm_models.RunInstancesRequest()
    run.from_json_string('{"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-pmqg1cw7"}')
    instance_id = cvm_client.RunInstances(run).InstanceIdSet[0]
    assert cbslocal.instance(instance_id, state="SHUTDOWN")["state"] == "SHUTDOWN"
    disk_id = create(cbs_client)
    assert cbslocal.disk(disk_id, dumping=True)["state"] == "DUMPING"
    cbslocal.configure(limits={"create_disks_max_count": 1})
    document = cbslocal.export_state()
    assert len(document["tables"]["disks"]) == 2
    other = cbslocal.create_account("other")
    assert other["AccountId"] != "100000000001"
    assert cbslocal.billing()["Balance"] == "1000000.00"
    assert cbslocal.billing(other["AccountId"], balance="2.50", payment_allowed=False) == {
        "AccountId": other["AccountId"], "Balance": "2.50", "BalanceFen": 250,
        "InArrears": False, "PaymentAllowed": False}
    assert [e["Kind"] for e in cbslocal.ledger(other["AccountId"])] == ["OPENING", "ADJUSTMENT"]
    assert [c["action"] for c in cbslocal.calls(2)] == ["RunInstances", "CreateDisks"]
    with pytest.raises(Exception) as failure:
        cbslocal.fault(code="NoSuchCode")
    assert failure.value.status == 400 and "NoSuchCode" in str(failure.value)


def test_the_handle_alone_holds_the_admin_token(cbslocal):
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as refused:  # the state holds secret keys
        opener.open(cbslocal.url + "/_cbslocal/state", timeout=30)
    assert refused.value.code == 401
    assert cbslocal.admin_token and cbslocal.export_state()["format"] == "cbslocal-state"
'''


def run_pytest(tmp_path: Path, source: str, *options: str) -> subprocess.CompletedProcess:
    test_file = tmp_path / "test_user_suite.py"
    test_file.write_text(source)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(test_file), *options],
                          capture_output=True, text=True, cwd=tmp_path, env=clean_env(),
                          timeout=300)


@pytest.mark.parametrize("mode", ["thread", "subprocess"])
def test_the_readme_example(tmp_path, mode):
    proc = run_pytest(tmp_path, snippets()["pytest"], "--cbslocal-mode", mode)
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr


def test_the_readme_policy_example(tmp_path):
    proc = run_pytest(tmp_path, snippets()["pytest-policy"])
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("mode", ["thread", "subprocess"])
def test_the_fixtures_promises(tmp_path, mode):
    proc = run_pytest(tmp_path, PROMISES, "--cbslocal-mode", mode)
    assert proc.returncode == 0 and "4 passed" in proc.stdout, proc.stdout + proc.stderr


def test_a_failing_user_test_fails(tmp_path):
    proc = run_pytest(tmp_path, snippets()["pytest"].replace('"InternalError"', '"FailedOperation"', 1))
    assert proc.returncode == 1 and "1 failed" in proc.stdout, proc.stdout
