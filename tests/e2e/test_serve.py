"""`cbslocal serve` itself: a busy port, and `--workers N` (N processes on one port and one
PostgreSQL; refused on SQLite)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time


from tests.e2e.cluster import call
from tests.e2e.server import Server, clean_env


def serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cbslocal", "serve", *args], env=clean_env(),
                          capture_output=True, text=True, timeout=60)


def test_a_busy_port_is_one_clear_line_and_creates_nothing(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data_dir = tmp_path / "data"
        done = serve("--port", str(port), "--data-dir", str(data_dir))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == [f"Error: 127.0.0.1:{port} is already in use"], done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not data_dir.exists()


def test_workers_need_a_shared_database(tmp_path):
    data_dir = tmp_path / "data"
    done = serve("--port", "0", "--data-dir", str(data_dir), "--workers", "2")
    assert done.returncode == 1
    assert "--workers needs a database the processes can share" in done.stderr
    assert "Traceback" not in done.stderr
    assert not data_dir.exists()


def worker_pids(parent: int) -> set[int]:
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True,
                              text=True).stdout.split()
    return {int(pid) for pid in children}


def test_workers_share_the_port_and_the_database(tmp_path, postgres_url):
    """Four workers answer on one port; a write through any is read through any; a worker that
    dies is replaced; a stop signal stops them all."""
    server = Server(tmp_path / "data", database_url=postgres_url, args=("--workers", "4")).start()
    try:
        assert server.ready["workers"] == 4
        pids = wait_for_workers(server.process.pid, 4)
        disk_ids = [call(server, "CreateDisks", Placement={"Zone": "ap-guangzhou-3"},
                         DiskChargeType="POSTPAID_BY_HOUR", DiskType="CLOUD_PREMIUM",
                         DiskSize=10).DiskIdSet[0] for _ in range(20)]
        # New connections go to any worker: every one of them sees every disk.
        for _ in range(20):
            assert len(call(server, "DescribeDisks", DiskIds=disk_ids, Limit=100).DiskSet) == 20
        victim = sorted(pids)[0]
        os.kill(victim, signal.SIGKILL)
        replaced = wait_for_workers(server.process.pid, 4, without=victim)
        assert victim not in replaced
        assert len(call(server, "DescribeDisks", DiskIds=disk_ids, Limit=100).DiskSet) == 20
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
    assert server.process.returncode == 0
    assert not worker_pids(server.process.pid)


def wait_for_workers(parent: int, count: int, without: int | None = None,
                     timeout: float = 30.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while True:
        pids = worker_pids(parent)
        if len(pids) == count and without not in pids:
            return pids
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} workers, found {pids}")
        time.sleep(0.1)


def test_due_moves_go_on_when_a_process_dies(tmp_path, postgres_url):
    """No process leads the engine: when the one that scheduled a move is killed, another applies
    it on time, in its background loop (seen in the database, not through a read that would
    apply it itself)."""
    import psycopg

    from tests.e2e.cluster import Cluster

    cluster = Cluster.start(tmp_path, 2, postgres_url, timing="realistic")
    try:
        disk_id = call(cluster[0], "CreateDisks", Placement={"Zone": "ap-guangzhou-3"},
                       DiskChargeType="POSTPAID_BY_HOUR", DiskType="CLOUD_PREMIUM",
                       DiskSize=10).DiskIdSet[0]
        cluster[0].process.send_signal(signal.SIGKILL)
        cluster[0].process.wait()
        with psycopg.connect(postgres_url, autocommit=True) as db:
            deadline = time.monotonic() + 30
            while True:
                state = db.execute("SELECT disk_state FROM disks WHERE disk_id = %s",
                                   (disk_id,)).fetchone()[0]
                # (the account's hourly settlement of its postpaid disk stays pending)
                pending = db.execute("SELECT count(*) FROM transitions "
                                     "WHERE kind != 'account.usage'").fetchone()[0]
                if state == "UNATTACHED" and pending == 0:
                    break
                assert time.monotonic() < deadline, (state, pending)
                time.sleep(0.2)
        assert cluster.check(1) == []
    finally:
        cluster.stop()


def test_an_instance_going_keeps_a_shareable_disks_detach_from_another(fresh_server):
    """A shareable disk on two instances, detaching from one while the other is destroyed: the
    detach still happens (it once went with the destroyed instance's moves, leaving the disk
    ATTACHED for good)."""
    server = fresh_server
    first, second = call(server, "RunInstances", Placement={"Zone": "ap-guangzhou-3"},
                         ImageId="img-pmqg1cw7", InstanceType="S5.MEDIUM4",
                         InstanceCount=2).InstanceIdSet
    disk_id = call(server, "CreateDisks", Placement={"Zone": "ap-guangzhou-3"}, Shareable=True,
                   DiskChargeType="POSTPAID_BY_HOUR", DiskType="CLOUD_SSD", DiskSize=20).DiskIdSet[0]
    for instance_id in (first, second):
        call(server, "AttachDisks", DiskIds=[disk_id], InstanceId=instance_id)
    server.control("POST", "/timing", {"durations": {"disk.detach": 3600}})
    call(server, "DetachDisks", DiskIds=[disk_id], InstanceId=second)
    call(server, "TerminateInstances", InstanceIds=[first])
    shown = call(server, "DescribeDisks", DiskIds=[disk_id]).DiskSet[0]
    assert (shown.DiskState, shown.InstanceIdList) == ("DETACHING", [second])
    assert server.control("POST", "/clock", {"advance": "2h"}).status_code == 200
    shown = call(server, "DescribeDisks", DiskIds=[disk_id]).DiskSet[0]
    assert (shown.DiskState, shown.InstanceIdList) == ("UNATTACHED", [])
