"""The consistency checker (`cbslocal admin check`, `GET /_cbslocal/check`): nothing to report on
a store the API built, and each kind of damage named when the store is broken behind its back."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.e2e.cluster import call
from tests.e2e.server import ZONE
from tests.e2e.test_admin import admin


@pytest.fixture
def world(fresh_server):
    """A server with an instance, a disk attached to it with a snapshot, and a spare disk."""
    server = fresh_server
    (instance_id,) = call(server, "RunInstances", Placement={"Zone": ZONE}, ImageId="img-pmqg1cw7",
                          InstanceType="S5.MEDIUM4").InstanceIdSet
    attached, spare = call(server, "CreateDisks", Placement={"Zone": ZONE}, DiskType="CLOUD_PREMIUM",
                           DiskChargeType="POSTPAID_BY_HOUR", DiskSize=10, DiskCount=2).DiskIdSet
    call(server, "AttachDisks", DiskIds=[attached], InstanceId=instance_id)
    call(server, "CreateSnapshot", DiskId=attached)
    return server, instance_id, attached, spare


def damage(server, statement: str, *params) -> None:
    """Change the store behind the API's back (the SQLite file of the server's data dir)."""
    with sqlite3.connect(server.data_dir / "cbslocal.db", timeout=30) as db:
        db.execute(statement, params)


def found(server) -> set[str]:
    answer = server.control("GET", "/check")
    assert answer.status_code == 200, answer.text
    return {v["invariant"] for v in answer.json()["violations"]}


def test_a_store_built_by_the_api_keeps_every_invariant(world):
    server = world[0]
    answer = server.control("GET", "/check").json()
    assert answer["violations"] == []
    assert len(answer["invariants"]) >= 10
    done = admin(server, "check")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["violations"] == []


@pytest.mark.parametrize("statement, which, invariant", [
    ("UPDATE disks SET snapshot_count = snapshot_count + 1 WHERE disk_id = ?", "attached",
     "disk.snapshots"),
    ("DELETE FROM disk_attachments WHERE disk_id = ?", "attached", "disk.instance_ids"),
    ("UPDATE disks SET disk_state = 'ATTACHED' WHERE disk_id = ?", "spare", "disk.state"),
    ("UPDATE disks SET disk_state = 'EXPANDING' WHERE disk_id = ?", "spare", "move.missing"),
    ("UPDATE disks SET disk_state = 'PROVISIONING' WHERE disk_id = ?", "spare", "move.missing"),
    ("INSERT INTO transitions (kind, resource_id, account_id, region, due_at, payload) "
     "VALUES ('disk.resize', 'disk-zzzzzzzz', '100000000001', 'ap-guangzhou', 1e12, ?)", "{}",
     "move.resource"),
    ("UPDATE disk_census SET n = n + 1 WHERE disk_state = ?", "UNATTACHED", "census.disks"),
    ("UPDATE disks SET tags = '[{\"Key\": \"k\", \"Value\": \"v\"}]' WHERE disk_id = ?", "spare",
     "disk.tags"),
    ("INSERT INTO disk_attachments (disk_id, instance_id, account_id, region, disk_usage, "
     "attached_at) VALUES (?, 'ins-zzzzzzzz', '100000000001', 'ap-guangzhou', 'DATA_DISK', 1.0)",
     "attached", "attachment.instance"),
    ("UPDATE accounts SET balance = balance + 1 WHERE account_id = ?", "100000000001", "ledger.sum"),
    ("UPDATE ledger SET balance_after = balance_after - 1 WHERE account_id = ?", "100000000001",
     "ledger.balance_after"),
    ("INSERT INTO ledger (account_id, at, kind, amount, balance_after, deal_name, action, region, "
     "resource_ids, description) VALUES (?, 1.0, 'TOP_UP', 1, 1, '', '', '', '[]', '')",
     "999999999999", "ledger.account"),
])
def test_each_kind_of_damage_is_named(world, statement, which, invariant):
    server, _instance_id, attached, spare = world
    value = {"attached": attached, "spare": spare}.get(which, which)
    damage(server, statement, value)
    assert invariant in found(server)
    done = admin(server, "check")
    assert done.returncode == 1
    assert invariant in {v["invariant"] for v in json.loads(done.stdout)["violations"]}
    server.stop()  # damaged on purpose: the fixture's own check would fail


def test_usage_over_a_lowered_quota_is_a_warning_not_a_violation(world):
    """The operator may lower a quota below what is in use: the checker says so, apart."""
    server, _instance_id, attached, _spare = world
    call(server, "CreateSnapshot", DiskId=attached)  # its second
    assert server.control("POST", "/config", {"limits": {"snapshots_per_disk": 1}}).status_code == 200
    answer = server.control("GET", "/check").json()
    assert answer["violations"] == []
    assert {w["invariant"] for w in answer["warnings"]} == {"quota.snapshots_per_disk"}
    done = admin(server, "check")
    assert done.returncode == 0, done.stdout
