"""Races on one disk through the official SDKs: simultaneous AttachDisks of one non-shareable disk
to many instances let exactly one win, and simultaneous DetachDisks and AttachDisks leave every disk
attached to at most one instance, with every view (DescribeDisks, DescribeInstances,
DescribeInstancesDiskNum) telling the same story. With instant and realistic timing, on SQLite
and, when the machine's PostgreSQL is reachable, on PostgreSQL."""

from __future__ import annotations

import json
import threading
import time

import pytest
from tencentcloud.cbs.v20170312 import models as cbs_models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import cvm_client as cvm_module
from tencentcloud.cvm.v20170312 import models as cvm_models

from tests.e2e.server import REGION, ZONE, Server, cbs_client, client_profile, credential

INSTANCES = 12
SETTLE_TIMEOUT = 30.0
LOSING_ATTACH = {"InvalidDisk.Attached", "ResourceBusy"}


def request(model, **fields):
    req = model()
    req.from_json_string(json.dumps(fields))
    return req


def cvm_client(server: Server):
    return cvm_module.CvmClient(credential(), REGION, client_profile(server))


def start_server(tmp_path, timing: str, database_url: str | None = None) -> Server:
    return Server(tmp_path / "data", timing=timing, database_url=database_url).start()


# --- helpers -------------------------------------------------------------------------------------
def wait_for(what: str, check, timeout: float = SETTLE_TIMEOUT):
    """Poll `check()` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def run_instances(server: Server, count: int) -> list[str]:
    cvm = cvm_client(server)
    instance_ids = cvm.RunInstances(request(
        cvm_models.RunInstancesRequest, Placement={"Zone": ZONE}, ImageId="img-pmqg1cw7",
        InstanceType="S5.MEDIUM4", InstanceCount=count, InstanceName="race")).InstanceIdSet
    assert len(instance_ids) == count

    def all_running():
        shown = cvm.DescribeInstances(request(cvm_models.DescribeInstancesRequest,
                                              InstanceIds=instance_ids, Limit=100)).InstanceSet
        return len(shown) == count and all(i.InstanceState == "RUNNING" for i in shown)
    wait_for("the instances to run", all_running)
    return instance_ids


def describe(server: Server, disk_ids: list[str]) -> dict:
    listed = cbs_client(server).DescribeDisks(request(cbs_models.DescribeDisksRequest,
                                                      DiskIds=disk_ids, Limit=100)).DiskSet
    return {d.DiskId: d for d in listed}


def create_disks(server: Server, count: int) -> list[str]:
    disk_ids = cbs_client(server).CreateDisks(request(
        cbs_models.CreateDisksRequest, Placement={"Zone": ZONE}, DiskChargeType="POSTPAID_BY_HOUR",
        DiskType="CLOUD_PREMIUM", DiskSize=10, DiskCount=count)).DiskIdSet
    wait_settled(server, disk_ids)
    return disk_ids


def wait_settled(server: Server, disk_ids: list[str]) -> dict:
    """The disks, once all are listed and none is in a transitional state."""
    def settled():
        shown = describe(server, disk_ids)
        if len(shown) == len(disk_ids) and all(d.DiskState in ("UNATTACHED", "ATTACHED")
                                               for d in shown.values()):
            return shown
        return None
    return wait_for(f"{disk_ids} to settle", settled)


def attach(server: Server, disk_id: str, instance_id: str) -> None:
    cbs_client(server).AttachDisks(request(cbs_models.AttachDisksRequest,
                                           DiskIds=[disk_id], InstanceId=instance_id))


def race(server: Server, calls: list[tuple[str, dict]]) -> list[tuple[str, str | None]]:
    """Send every (action, fields) call at once, each from its own thread with its own client;
    each outcome is ("ok", None) or ("error", code)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, str | None] | None] = [None] * len(calls)

    def worker(position: int, action: str, fields: dict) -> None:
        client = cbs_client(server)
        model = getattr(cbs_models, f"{action}Request")
        req = request(model, **fields)
        barrier.wait(timeout=30)
        try:
            getattr(client, action)(req)
            outcomes[position] = ("ok", None)
        except TencentCloudSDKException as failure:
            outcomes[position] = ("error", failure.code)

    threads = [threading.Thread(target=worker, args=(i, action, fields), daemon=True)
               for i, (action, fields) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(not t.is_alive() for t in threads), "a racing call never returned"
    assert all(o is not None for o in outcomes), outcomes
    return outcomes


def assert_consistent(server: Server, instance_ids: list[str], disk_ids: list[str],
                      expected: dict[str, str | None]) -> None:
    """Every disk attached to its expected instance (None: unattached), and DescribeDisks,
    DescribeInstances and DescribeInstancesDiskNum agree."""
    shown = wait_settled(server, disk_ids)
    per_instance = {i: set() for i in instance_ids}
    for disk_id, host in expected.items():
        disk = shown[disk_id]
        if host is None:
            assert (disk.DiskState, disk.Attached, disk.InstanceId, disk.InstanceIdList) == (
                "UNATTACHED", False, "", []), (disk_id, disk)
        else:
            assert (disk.DiskState, disk.Attached, disk.InstanceId, disk.InstanceIdList) == (
                "ATTACHED", True, host, [host]), (disk_id, disk)
            per_instance[host].add(disk_id)
    detail = cbs_client(server).DescribeInstancesDiskNum(request(
        cbs_models.DescribeInstancesDiskNumRequest, InstanceIds=instance_ids)).AttachDetail
    counts = {a.InstanceId: a.AttachedDiskCount for a in detail}
    assert counts == {i: len(d) for i, d in per_instance.items()}
    instances = cvm_client(server).DescribeInstances(request(
        cvm_models.DescribeInstancesRequest, InstanceIds=instance_ids, Limit=100)).InstanceSet
    data_disks = {i.InstanceId: {d.DiskId for d in i.DataDisks or []} for i in instances}
    assert data_disks == per_instance


# --- one disk, twelve instances ------------------------------------------------------------------
def attach_race(server: Server) -> None:
    instance_ids = run_instances(server, INSTANCES)
    disk_id = create_disks(server, 1)[0]
    outcomes = race(server, [("AttachDisks", {"DiskIds": [disk_id], "InstanceId": i})
                             for i in instance_ids])
    winners = [instance_ids[n] for n, (kind, _) in enumerate(outcomes) if kind == "ok"]
    losses = sorted(code for kind, code in outcomes if kind == "error")
    assert len(winners) == 1, outcomes
    assert len(losses) == INSTANCES - 1 and set(losses) <= LOSING_ATTACH, losses
    assert_consistent(server, instance_ids, [disk_id], {disk_id: winners[0]})
    shown = describe(server, [disk_id])[disk_id]
    assert shown.LastAttachInsId == winners[0]
    assert server.alive()


BACKENDS = [("instant", "sqlite"), ("realistic", "sqlite"), ("instant", "postgresql"),
            ("realistic", "postgresql")]


@pytest.fixture
def racing_server(request, tmp_path):
    """A server of the test's own: (timing, database) from the test's parameters."""
    timing, database = request.param
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else None
    server = start_server(tmp_path, timing, url)
    yield server
    server.stop()


@pytest.mark.parametrize("racing_server", BACKENDS, indirect=True, ids="-".join)
def test_one_disk_attached_from_twelve_threads_goes_to_one_instance(racing_server):
    attach_race(racing_server)


# --- detach and attach at once -------------------------------------------------------------------
DISKS = 4
DETACHES_PER_DISK = 2
ATTACHES_PER_DISK = 4


@pytest.mark.parametrize("racing_server", BACKENDS[:3], indirect=True, ids="-".join)
def test_detach_and_attach_races_leave_each_disk_on_at_most_one_instance(racing_server):
    server = racing_server
    instance_ids = run_instances(server, 8)
    disk_ids = create_disks(server, DISKS)
    home = {d: instance_ids[n] for n, d in enumerate(disk_ids)}
    for disk_id, instance_id in home.items():
        attach(server, disk_id, instance_id)
    assert_consistent(server, instance_ids, disk_ids, dict(home))

    calls, plan = [], []  # plan: (disk, action, target instance) per call
    for n, disk_id in enumerate(disk_ids):
        for _ in range(DETACHES_PER_DISK):
            calls.append(("DetachDisks", {"DiskIds": [disk_id], "InstanceId": home[disk_id]}))
            plan.append((disk_id, "detach", home[disk_id]))
        # Other instances, some shared between disks: 4..7 and the next disk's home.
        targets = [instance_ids[4 + (n + k) % 4] for k in range(ATTACHES_PER_DISK - 1)]
        targets.append(home[disk_ids[(n + 1) % DISKS]])
        for target in targets:
            calls.append(("AttachDisks", {"DiskIds": [disk_id], "InstanceId": target}))
            plan.append((disk_id, "attach", target))
    # Interleave the calls so that the threads of one disk do not all start side by side.
    per_disk = DETACHES_PER_DISK + ATTACHES_PER_DISK
    order = sorted(range(len(calls)), key=lambda i: (i % per_disk, i))
    outcomes = race(server, [calls[i] for i in order])
    results = {i: outcomes[position] for position, i in enumerate(order)}

    expected: dict[str, str | None] = {}
    for disk_id in disk_ids:
        mine = [(plan[i], results[i]) for i in range(len(calls)) if plan[i][0] == disk_id]
        detached = [r for (_, action, _), r in mine if action == "detach"]
        attached = [(target, r) for (_, action, target), r in mine if action == "attach"]
        # The disk starts on its home instance: exactly one detach from it can succeed; the
        # other finds it detaching, unattached or on another instance.
        assert sorted(kind for kind, _ in detached) == ["error", "ok"], (disk_id, mine)
        assert {code for kind, code in detached if kind == "error"} <= {
            "ResourceBusy", "InvalidDisk.NotSupported", "InvalidParameterValue"}, (disk_id, mine)
        winners = [target for target, (kind, _) in attached if kind == "ok"]
        assert len(winners) <= 1, (disk_id, mine)
        assert {code for _, (kind, code) in attached if kind == "error"} <= LOSING_ATTACH, (
            disk_id, mine)
        expected[disk_id] = winners[0] if winners else None
    assert_consistent(server, instance_ids, disk_ids, expected)
    assert server.alive()
