"""Nothing acknowledged is lost, nothing is left half-done: clients create, attach, detach,
snapshot and terminate while the server is killed (SIGKILL, no shutdown) at random moments and
started again, on SQLite and on PostgreSQL.

Each client keeps a model of its own disks. An answered call changes the model; a call cut off by
the kill may or may not have happened, and after the restart the server must show one or the
other, whole. At the end every disk and snapshot of every model is exactly as the server shows
it, and the consistency checker finds nothing.

CBSLOCAL_CRASH_KILLS sets the number of kills (default 10, the issue's minimum; more for a long
run), CBSLOCAL_CRASH_SEED the seed of the random choices.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.e2e.cluster import call
from tests.e2e.server import ZONE, Server

KILLS = int(os.environ.get("CBSLOCAL_CRASH_KILLS", "10"))
SEED = int(os.environ.get("CBSLOCAL_CRASH_SEED", "20261207"))
CLIENTS = 4


class Restarting(Exception):
    """The server went while the call was on its way: its outcome is unknown."""


@dataclass
class DiskModel:
    attached_to: str | None = None
    snapshots: set[str] = field(default_factory=set)


class Client:
    """One client's own disks on one instance, and what it knows of them."""

    def __init__(self, server: Server, rng: random.Random, name: str):
        self.server, self.rng, self.name = server, rng, name
        self.disks: dict[str, DiskModel] = {}
        self.instance_id = ""
        self.uncertain = 0

    def call(self, action: str, **fields):
        try:
            return call(self.server, action, **fields)
        except TencentCloudSDKException as failure:
            # An answer of the server's always has its RequestId; without one, the SDK lost the
            # connection (ClientNetworkError, ChunkedEncodingError, …): it may or may not have
            # happened.
            if not failure.get_request_id():
                raise Restarting() from None
            raise

    # --- one random step -------------------------------------------------------------------------
    def step(self) -> None:
        choices = ["create"] if len(self.disks) < 3 else []
        if self.disks:
            choices += ["attach_or_detach", "attach_or_detach", "snapshot", "unsnapshot",
                        "terminate"]
        getattr(self, self.rng.choice(choices))()

    def create(self) -> None:
        token = f"{self.name}-{uuid.uuid4().hex[:20]}"
        fields = dict(Placement={"Zone": ZONE}, DiskChargeType="POSTPAID_BY_HOUR",
                      DiskType="CLOUD_PREMIUM", DiskSize=10, ClientToken=token)
        try:
            made = self.call("CreateDisks", **fields).DiskIdSet
        except Restarting:
            self.uncertain += 1
            # The same token again: the first answer if it was made, else made now — never twice.
            made = self.retry(lambda: self.call("CreateDisks", **fields).DiskIdSet)
        for disk_id in made:
            self.disks[disk_id] = DiskModel()

    def attach_or_detach(self) -> None:
        disk_id = self.rng.choice(sorted(self.disks))
        model = self.disks[disk_id]
        if model.attached_to:
            action, fields, after = "DetachDisks", {"DiskIds": [disk_id]}, None
        else:
            action, after = "AttachDisks", self.instance_id
            fields = {"DiskIds": [disk_id], "InstanceId": self.instance_id}
        try:
            self.call(action, **fields)
        except Restarting:
            self.uncertain += 1
            shown = self.retry(lambda: self.shown(disk_id))
            assert shown is not None, f"{disk_id} vanished during a cut-off {action}"
            seen = shown.InstanceId or None
            assert shown.DiskState in ("ATTACHED", "UNATTACHED"), (disk_id, shown.DiskState)
            assert seen in (model.attached_to, after), (disk_id, action, seen)
            after = seen
        model.attached_to = after

    def snapshot(self) -> None:
        disk_id = self.rng.choice(sorted(self.disks))
        try:
            self.disks[disk_id].snapshots.add(self.call("CreateSnapshot", DiskId=disk_id).SnapshotId)
        except Restarting:
            self.uncertain += 1
            now = self.retry(lambda: self.snapshots_of(disk_id))
            known = self.disks[disk_id].snapshots
            assert known <= now and len(now - known) <= 1, (disk_id, known, now)
            self.disks[disk_id].snapshots = now

    def unsnapshot(self) -> None:
        owned = sorted((s, d) for d, m in self.disks.items() for s in m.snapshots)
        if not owned:
            return
        snapshot_id, disk_id = self.rng.choice(owned)
        known = self.disks[disk_id].snapshots
        try:
            self.call("DeleteSnapshots", SnapshotIds=[snapshot_id])
        except Restarting:
            self.uncertain += 1
            now = self.retry(lambda: self.snapshots_of(disk_id))
            assert now in (known, known - {snapshot_id}), (disk_id, known, now)
            self.disks[disk_id].snapshots = now
            return
        known.discard(snapshot_id)

    def terminate(self) -> None:
        disk_id = self.rng.choice(sorted(self.disks))
        model = self.disks[disk_id]
        if model.attached_to:  # detach first: terminating an attached disk is refused
            return self.attach_or_detach()
        try:
            self.call("TerminateDisks", DiskIds=[disk_id])
        except Restarting:
            self.uncertain += 1
            if self.retry(lambda: self.shown(disk_id)) is not None:
                return  # not done: still there, as it was
        del self.disks[disk_id]

    # --- reading back ----------------------------------------------------------------------------
    def shown(self, disk_id: str):
        found = self.call("DescribeDisks", DiskIds=[disk_id]).DiskSet
        return found[0] if found else None

    def snapshots_of(self, disk_id: str) -> set[str]:
        return {s.SnapshotId for s in self.call(
            "DescribeSnapshots", Filters=[{"Name": "disk-id", "Values": [disk_id]}],
            Limit=100).SnapshotSet}

    def retry(self, fn, timeout: float = 60.0):
        """`fn` once the server is back."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return fn()
            except Restarting:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def verify(self) -> None:
        """Every disk of the model is on the server as the model says; nothing else of ours is."""
        for disk_id, model in self.disks.items():
            shown = self.shown(disk_id)
            assert shown is not None, f"{disk_id} was lost"
            assert (shown.InstanceId or None) == model.attached_to, (disk_id, shown.InstanceId)
            assert self.snapshots_of(disk_id) == model.snapshots, disk_id
            assert shown.SnapshotCount == len(model.snapshots), disk_id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def crash_run(make_server, seed: int) -> None:
    rng = random.Random(seed)
    server = make_server().start()
    clients = [Client(server, random.Random(rng.random()), f"c{n}") for n in range(CLIENTS)]
    for client in clients:
        client.instance_id = call(server, "RunInstances", Placement={"Zone": ZONE},
                                  ImageId="img-pmqg1cw7", InstanceType="S5.MEDIUM4").InstanceIdSet[0]
    stop = threading.Event()
    failures: list[BaseException] = []

    def work(client: Client) -> None:
        try:
            while not stop.is_set():
                try:
                    client.step()
                except Restarting:
                    time.sleep(0.05)  # a read cut off: nothing to reconcile
        except BaseException as failure:  # noqa: BLE001 — reported below
            failures.append(failure)
            stop.set()

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    try:
        for _ in range(KILLS):
            if stop.wait(rng.uniform(0.3, 1.2)):
                break
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            server.start()
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    try:
        assert not failures, failures[0]
        for client in clients:
            client.verify()
        assert sum(c.uncertain for c in clients) > 0, "no call was ever cut off: no crash tested"
        violations = server.control("GET", "/check").json()["violations"]
        assert violations == [], violations
    finally:
        server.stop()


def test_kills_lose_nothing_on_sqlite(tmp_path):
    port = free_port()
    crash_run(lambda: Server(tmp_path / "data", port=port), SEED)


def test_kills_lose_nothing_on_postgresql(tmp_path, postgres_url):
    port = free_port()
    crash_run(lambda: Server(tmp_path / "data", port=port, database_url=postgres_url), SEED + 1)
