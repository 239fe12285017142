"""Fault injection through the control plane, seen by the official SDKs: every backend-only seed
code (cbs-behavior.md §7.3) on the action that would really return it, any seed code at all,
latency, closed connections, counts, seeded probabilities, matchers, and the SDK's retryer."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from tencentcloud.cbs.v20170312 import models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.retry import StandardRetryer

from cbslocal.api import errors
from tests.e2e.server import Server, cbs_client, clean_env
from tests.e2e.test_lifecycle import World, code_of, request


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("faults") / "data", timing="instant").start()
    yield World(server)
    server.stop()
    assert "Traceback" not in server.log_text()


@pytest.fixture(autouse=True)
def no_rules(world):
    yield
    assert world.server.control("DELETE", "/faults").status_code == 200


def add(world: World, **rule) -> dict:
    response = world.server.control("POST", "/faults", rule)
    assert response.status_code == 200, response.text
    return response.json()


def disk_count(world: World) -> int:
    return world.cbs.DescribeDisks(request(models.DescribeDisksRequest, Limit=1)).TotalCount


# cbs-behavior.md §7.3, each on an action whose real error list carries it (§7.1).
BACKEND_ONLY = [
    ("InternalError", "CreateDisks"),
    ("InternalError.ComponentError", "CreateDisks"),
    ("InternalError.FailQueryResource", "TerminateDisks"),
    ("InternalError.ResourceOpFailed", "AttachDisks"),
    ("FailedOperation", "CreateDisks"),
    ("DryRunOperation", "CreateDisks"),
    ("TradeDealConflict", "CreateDisks"),
    ("ResourceInsufficient", "CreateDisks"),
    ("ResourceUnavailable.TooManyCreatingSnapshot", "CreateDisks"),
    ("RequestLimitExceeded", "CreateDisks"),
    ("ResourceBusy", "CreateDisks"),
]


@pytest.mark.parametrize("code, action", BACKEND_ONLY)
def test_backend_only_codes_through_a_fault(world, code, action):
    ins = world.run()[0]
    disk_id = world.create()
    before = disk_count(world)
    rule = add(world, action=action, code=code, times=1)
    calls = {
        "CreateDisks": lambda: world.create(wait=False),
        "TerminateDisks": lambda: world.cbs.TerminateDisks(request(models.TerminateDisksRequest,
                                                                  DiskIds=[disk_id])),
        "AttachDisks": lambda: world.cbs.AttachDisks(request(models.AttachDisksRequest,
                                                             InstanceId=ins, DiskIds=[disk_id])),
    }
    assert code_of(calls[action]) == code
    # the fault fired before anything changed
    assert disk_count(world) == before and world.disk(disk_id).DiskState == "UNATTACHED"
    listed = world.server.control("GET", "/faults").json()["faults"]
    assert [(r["id"], r["fired"], r["remaining"]) for r in listed] == [(rule["id"], 1, 0)]
    calls[action]()  # used up: the next call goes through


def test_any_seed_code_with_its_message(world):
    client = world.cbs
    for code in sorted(errors.all_codes()):
        add(world, action="DescribeDisks", code=code, times=1)
        with pytest.raises(TencentCloudSDKException) as failure:
            client.DescribeDisks(request(models.DescribeDisksRequest))
        assert failure.value.code == code  # (no retryer by default: not even for a limit)
        assert failure.value.message == errors.all_codes()[code].zh  # default: the catalog's text
    add(world, action="DescribeDisks", code="InternalError", message="disk backend on fire", times=1)
    with pytest.raises(TencentCloudSDKException) as failure:
        client.DescribeDisks(request(models.DescribeDisksRequest))
    assert failure.value.message == "disk backend on fire"


class RepairedRetryer(StandardRetryer):
    """The SDK's StandardRetryer with its own policy (should_retry, backoff), minus one bug: in
    tencentcloud-sdk-python-common 3.1.x `send_request` never forgets the error of a failed
    attempt, so a later success is still "retried" and the old error raised in the end."""

    def send_request(self, fn):
        for n in range(self._max_attempts):
            resp, err = None, None
            try:
                resp = fn()
            except TencentCloudSDKException as failure:
                err = failure
            if not self.should_retry(resp, err) or n == self._max_attempts - 1:
                if err:
                    raise err
                return resp
            time.sleep(self._backoff_fn(n))


def test_the_sdk_retryer_recovers_from_request_limit_exceeded(world):
    """A RequestLimitExceeded fault for the next 2 calls: the SDK's retryer sends the call three
    times, and the third is answered. (The official StandardRetryer then still raises the first
    error — its bug, shown above — so recovery is asserted on what the server answered and with
    the same policy minus the bug.)"""
    def attempts() -> list[str]:
        return [c["code"] for c in world.server.control("GET", "/calls?limit=3").json()["calls"]]

    rule = add(world, action="DescribeDisks", code="RequestLimitExceeded", times=2)
    official = cbs_client(world.server)
    official.profile.retryer = StandardRetryer(max_attempts=3, backoff_fn=lambda n: 0.05)
    try:
        official.DescribeDisks(request(models.DescribeDisksRequest, Limit=1))
    except TencentCloudSDKException as failure:
        assert failure.code == "RequestLimitExceeded"  # the SDK bug, not the server's answer
    assert attempts() == ["RequestLimitExceeded", "RequestLimitExceeded", "OK"]
    firings = world.server.control("GET", "/faults/firings?limit=10").json()["firings"]
    assert [f["rule"] for f in firings][-2:] == [rule["id"], rule["id"]]

    add(world, action="DescribeDisks", code="RequestLimitExceeded", times=2)
    repaired = cbs_client(world.server)
    repaired.profile.retryer = RepairedRetryer(max_attempts=3, backoff_fn=lambda n: 0.05)
    assert repaired.DescribeDisks(request(models.DescribeDisksRequest, Limit=1)).TotalCount >= 0
    assert attempts() == ["RequestLimitExceeded", "RequestLimitExceeded", "OK"]
    add(world, action="DescribeDisks", code="RequestLimitExceeded", times=1)
    assert code_of(cbs_client(world.server).DescribeDisks,
                   request(models.DescribeDisksRequest)) == "RequestLimitExceeded"  # no retryer


def test_matchers_scope_a_rule(world, tmp_path):
    add(world, service="cbs", action="DescribeDisks", region="ap-shanghai", code="InternalError")
    world.disks()  # ap-guangzhou: not matched
    shanghai = cbs_client(world.server, region="ap-shanghai")
    assert code_of(shanghai.DescribeDisks, request(models.DescribeDisksRequest)) == "InternalError"
    other = world.server.control("POST", "/accounts", {"name": "other"}).json()
    add(world, account=other["AccountId"], code="FailedOperation")
    theirs = cbs_client(world.server, other["SecretId"], other["SecretKey"])
    assert code_of(theirs.DescribeDisks, request(models.DescribeDisksRequest)) == "FailedOperation"
    world.disks()  # the default account is not matched
    add(world, service="cvm", code="InternalError")
    world.disks()
    assert code_of(world.run) == "InternalError"


def test_seeded_probability_is_reproducible(world):
    def pattern(seed: int) -> list[bool]:
        world.server.control("DELETE", "/faults")
        add(world, action="DescribeDisks", code="InternalError", probability=0.5, seed=seed)
        fired = []
        for _ in range(24):
            try:
                world.disks()
                fired.append(False)
            except TencentCloudSDKException as failure:
                assert failure.code == "InternalError"
                fired.append(True)
        return fired

    first, again, other = pattern(7), pattern(7), pattern(8)
    assert first == again and 4 <= sum(first) <= 20
    assert first != other


def test_latency_then_success(world):
    add(world, action="DescribeDisks", latency=0.6, times=1)
    started = time.monotonic()
    world.disks()
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    world.disks()
    assert time.monotonic() - started < 0.5


def test_a_closed_connection(world):
    add(world, action="DescribeDisks", close=True, times=1)
    with pytest.raises(TencentCloudSDKException) as failure:
        world.disks()
    assert failure.value.code == "ClientNetworkError"
    world.disks()  # the server is fine, the next call is answered
    calls = world.server.control("GET", "/calls?limit=2").json()["calls"]
    assert calls[0]["code"] == "(connection closed)"


@pytest.mark.parametrize("rule, words", [
    ({}, ["effect"]),
    ({"code": "NoSuchCode"}, ["NoSuchCode"]),
    ({"code": "InternalError", "close": True}, ["close"]),
    ({"message": "x", "latency": 1}, ["message"]),
    ({"code": "InternalError", "message": 5}, ["message"]),
    ({"latency": 0}, ["latency"]),
    ({"latency": 600}, ["latency"]),
    ({"close": "yes"}, ["close"]),
    ({"code": "InternalError", "times": 0}, ["times"]),
    ({"code": "InternalError", "probability": 1.5}, ["probability"]),
    ({"code": "InternalError", "seed": -1}, ["seed"]),
    ({"code": "InternalError", "service": "vpc"}, ["vpc"]),
    ({"code": "InternalError", "action": "LaunchRocket"}, ["LaunchRocket"]),
    ({"code": "InternalError", "service": "cvm", "action": "AttachDisks"}, ["AttachDisks"]),
    ({"code": "InternalError", "account": "me"}, ["account"]),
    ({"code": "InternalError", "region": "mars-1"}, ["mars-1"]),
    ({"code": "InternalError", "when": "now"}, ["when"]),
])
def test_bad_rules(world, rule, words):
    response = world.server.control("POST", "/faults", rule)
    assert response.status_code == 400, response.text
    for word in words:
        assert word in response.json()["error"]
    assert world.server.control("GET", "/faults").json()["faults"] == []


def test_deleting_rules(world):
    rule = add(world, code="InternalError")
    assert world.server.control("DELETE", f"/faults/{rule['id']}").json() == {"deleted": 1}
    world.disks()
    assert world.server.control("DELETE", f"/faults/{rule['id']}").status_code == 404
    assert world.server.control("GET", "/faults/firings?limit=0").status_code == 400


def test_admin_fault_commands(world):
    def admin(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cbslocal", "admin", "--endpoint",
                               world.server.url, "fault", *args], capture_output=True, text=True,
                              env=clean_env(), timeout=60)

    added = admin("add", "--action", "DescribeDisks", "--code", "InternalError", "--times", "1")
    assert added.returncode == 0, added.stderr
    rule = json.loads(added.stdout)
    assert (rule["action"], rule["code"], rule["remaining"]) == ("DescribeDisks", "InternalError", 1)
    assert code_of(world.disks) == "InternalError"
    assert json.loads(admin("list").stdout)["faults"][0]["fired"] == 1
    assert json.loads(admin("firings", "--limit", "1").stdout)["firings"][0]["rule"] == rule["id"]
    assert json.loads(admin("delete", str(rule["id"])).stdout) == {"deleted": 1}
    assert json.loads(admin("delete", "--all").stdout) == {"deleted": 0}
    bad = admin("add", "--code", "NoSuchCode")
    assert bad.returncode == 1 and "NoSuchCode" in bad.stderr
    assert admin("delete").returncode != 0
