"""Snapshots and automatic snapshot policies on a shared PostgreSQL: its census triggers, its
sums (a numeric there, not an integer) and a week of policy firings in one clock move."""

from __future__ import annotations

from tencentcloud.cbs.v20170312 import models

from tests.e2e.server import Server
from tests.e2e.test_lifecycle import World, request


def test_a_policy_week_and_the_counts_on_postgresql(tmp_path, postgres_url):
    server = Server(tmp_path / "data", database_url=postgres_url).start()
    try:
        world = World(server)
        instance_id = world.run()[0]
        disk_ids = [world.create() for _ in range(2)]
        world.attach(instance_id, *disk_ids)
        policy_id = world.cbs.CreateAutoSnapshotPolicy(request(
            models.CreateAutoSnapshotPolicyRequest, Policy=[{"Hour": [2], "IntervalDays": 1}],
            RetentionDays=3)).AutoSnapshotPolicyId
        world.cbs.BindAutoSnapshotPolicy(request(models.BindAutoSnapshotPolicyRequest,
                                                 AutoSnapshotPolicyId=policy_id, DiskIds=disk_ids))
        assert server.control("POST", "/clock", {"advance": "10d"}).status_code == 200

        # A page that is not the last one takes TotalCount from the census (a SUM).
        page = world.cbs.DescribeSnapshots(request(
            models.DescribeSnapshotsRequest, Limit=2, Offset=1,
            Filters=[{"Name": "snapshot-state", "Values": ["NORMAL"]}]))
        assert page.TotalCount == 6 and len(page.SnapshotSet) == 2
        disks = world.cbs.DescribeDisks(request(models.DescribeDisksRequest, Limit=1, Offset=1))
        assert disks.TotalCount == 3  # the system disk, and the two data disks
        overview = world.cbs.DescribeSnapshotOverview(models.DescribeSnapshotOverviewRequest())
        assert (overview.TotalNums, overview.TotalSize, overview.RealTradeSize) == (6, 300.0, 250.0)
        assert all(d.SnapshotCount == 3 for d in world.disks(DiskIds=disk_ids))
    finally:
        server.stop()


def test_a_tag_filter_pages_in_creation_order_on_postgresql(tmp_path, postgres_url):
    """The tag pair's index (disk_tags carries its disk's creation order, copied by a trigger)
    pages a `tag:<key>` filter on PostgreSQL too; the checker finds every copy right."""
    server = Server(tmp_path / "data", database_url=postgres_url).start()
    try:
        world = World(server)
        tagged = [world.create(Tags=[{"Key": "team", "Value": "red" if n % 2 else "blue"}])
                  for n in range(6)]
        page = world.cbs.DescribeDisks(request(
            models.DescribeDisksRequest, Limit=2, Offset=1,
            Filters=[{"Name": "tag:team", "Values": ["red"]}]))
        assert page.TotalCount == 3
        assert [d.DiskId for d in page.DiskSet] == tagged[1::2][1:3]
        newest = world.cbs.DescribeDisks(request(
            models.DescribeDisksRequest, Limit=1, Order="DESC",
            Filters=[{"Name": "tag:team", "Values": ["red", "blue"]}]))
        assert [d.DiskId for d in newest.DiskSet] == tagged[-1:]
        assert server.control("GET", "/check").json()["violations"] == []
    finally:
        server.stop()
