"""State survives a restart, on the embedded SQLite database and on PostgreSQL; asynchronous
creation is stored with its due time and completes on the clock, even across a restart."""

from __future__ import annotations

import time

import pytest

from tests.e2e.server import Server, cbs_client
from tests.e2e.test_python_sdk import create, describe



def snapshot(server: Server) -> list[dict]:
    client = cbs_client(server)
    return client.call_json("DescribeDisks", {"Limit": 100})["Response"]["DiskSet"]


def build_state(server: Server) -> dict:
    client = cbs_client(server)
    account = server.control("POST", "/accounts", {"name": "persisted"}).json()
    other = cbs_client(server, account["SecretId"], account["SecretKey"])
    mine = create(client, DiskCount=3, Tags=[{"Key": "k", "Value": "v"}], DiskName="kept")
    prepaid = create(client, DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 3})
    theirs = create(other, Placement={"Zone": "ap-guangzhou-4"})
    token = create(client, ClientToken="persisted-token")
    return {"account": account, "mine": mine + prepaid + token, "theirs": theirs}


def check_state(server: Server, state: dict, before: list[dict]) -> None:
    client = cbs_client(server)
    assert snapshot(server) == before
    account = state["account"]
    other = cbs_client(server, account["SecretId"], account["SecretKey"])
    assert [d.DiskId for d in describe(other).DiskSet] == state["theirs"]
    assert create(client, ClientToken="persisted-token") == state["mine"][-1:]
    assert describe(client, Filters=[{"Name": "tag:k", "Values": ["v"]}]).TotalCount == 3


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_state_survives_a_restart(tmp_path, request, backend):
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    server = Server(tmp_path / "data", database_url=url).start()
    try:
        state = build_state(server)
        before = snapshot(server)
        assert len(before) == 5
    finally:
        server.stop()
    restarted = Server(tmp_path / "data", database_url=url).start()
    try:
        check_state(restarted, state, before)
        assert "Traceback" not in restarted.log_text()
    finally:
        restarted.stop()


def test_realistic_creation_takes_time_and_survives_a_restart(tmp_path):
    server = Server(tmp_path / "data", timing="realistic").start()
    try:
        client = cbs_client(server)
        started = time.monotonic()
        disk_ids = create(client, DiskCount=2)
        # Not listed while being created: there is no CREATING disk state.
        assert describe(client, DiskIds=disk_ids).TotalCount == 0
        assert describe(client).TotalCount == 0
    finally:
        server.stop()
    restarted = Server(tmp_path / "data", timing="realistic").start()
    try:
        client = cbs_client(restarted)
        while describe(client, DiskIds=disk_ids).TotalCount < 2:
            assert time.monotonic() - started < 10, "creation never completed"
            time.sleep(0.1)
        assert time.monotonic() - started >= 1.9
        assert {d.DiskState for d in describe(client, DiskIds=disk_ids).DiskSet} == {"UNATTACHED"}
    finally:
        restarted.stop()


def test_fresh_data_dir_has_the_default_account(tmp_path):
    server = Server(tmp_path / "data").start()
    try:
        accounts = server.control("GET", "/accounts").json()["accounts"]
        assert [a["AccountId"] for a in accounts] == ["100000000001"]
        assert server.control("GET", "/health").json()["status"] == "ok"
        assert (tmp_path / "data" / "cbslocal.db").exists()
    finally:
        server.stop()


def test_one_server_per_data_dir(tmp_path):
    first = Server(tmp_path / "data").start()
    try:
        second = Server(tmp_path / "data")
        with pytest.raises(RuntimeError, match="another cbslocal process is using"):
            second.start()
        assert describe(cbs_client(first)).TotalCount == 0  # the first one is unharmed
    finally:
        first.stop()
