"""A clock advance never stalls the API: the moves it makes due are applied a chunk at a time, and
other calls are answered between the chunks, each seeing a consistent state — while the advance
still ends exactly where it must. (How long the reads wait is measured by bench/concurrency.py,
not here.)"""

from __future__ import annotations

import threading
import time

from tests.e2e.cluster import call
from tests.e2e.test_races import bound_policy, snapshot_counts

DISKS = 1000
DAYS = 3


def test_calls_are_answered_while_the_clock_advances(fresh_server):
    server = fresh_server
    disk_ids = bound_policy(server, DISKS)
    probe = disk_ids[DISKS // 2]
    advanced: list = []

    def advance() -> None:
        advanced.append(server.control("POST", "/clock", {"advance": f"{DAYS}d"}))

    worker = threading.Thread(target=advance)
    worker.start()
    time.sleep(0.05)  # the advance is under way
    answered_meanwhile, states = 0, set()
    while worker.is_alive():
        shown = call(server, "DescribeDisks", DiskIds=[probe]).DiskSet[0]
        states.add(shown.SnapshotCount)
        answered_meanwhile += worker.is_alive()
    worker.join()
    assert advanced[0].status_code == 200, advanced[0].text
    # Before the change, the server answered nothing else until the whole advance was done.
    assert answered_meanwhile >= 1
    assert states <= set(range(DAYS + 1))  # each read saw whole firings, never more
    assert set(snapshot_counts(server, disk_ids).values()) == {DAYS}
    assert server.control("GET", "/check").json()["violations"] == []
