"""ApplySnapshot: a disk rolled back to one of its snapshots (cbs-behavior.md §3.19), stopping
and starting its instance on the user's behalf when asked."""

from __future__ import annotations

from sqlalchemy import select, update

from cbslocal import ids
from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.api.snapshot_schema import ApplySnapshotRequest
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs import instance_state as inst
from cbslocal.cbs.disk_state import load_disks
from cbslocal.cbs.disk_state import not_expired, not_recycled
from cbslocal.cbs.lifecycle import ROLLBACK, settled_state
from cbslocal.cbs.resources import engine_context
from cbslocal.cbs.snapshots import (NORMAL, ROLLBACKING, checked_snapshot_id, load_snapshots,
                                    require_normal, require_own)
from cbslocal.engine import transitions as engine
from cbslocal.store.tables import disks, instances, snapshots


def apply_snapshot(ctx: Context, req: ApplySnapshotRequest) -> dict:
    checked_snapshot_id(req.SnapshotId)
    if not ids.is_resource_id(ids.DISK, req.DiskId):
        raise msg.ID_MALFORMED(field="DiskId", value=req.DiskId)
    if req.AutoStartInstance and not req.AutoStopInstance:
        raise msg.AUTO_START_NEEDS_AUTO_STOP()
    snap = load_snapshots(ctx, [req.SnapshotId])[0]
    disk = load_disks(ctx, [req.DiskId])[0]
    attached_to = disk.instance_id or None
    if (req.AutoStopInstance or req.AutoStartInstance) and attached_to is None:
        raise msg.AUTO_STOP_NEEDS_ATTACHED_DISK(disk_id=disk.disk_id)
    require_own(ctx, snap)
    require_normal(snap)
    if snap.disk_size > disk.disk_size:
        raise msg.SNAPSHOT_LARGER_THAN_DISK(snapshot_id=snap.snapshot_id,
                                            snapshot_size=snap.disk_size, disk_id=disk.disk_id,
                                            disk_size=disk.disk_size)
    if snap.disk_id != disk.disk_id:
        if not snap.disk_id:  # a copy from another region
            raise msg.SNAPSHOT_FROM_ANOTHER_REGION(snapshot_id=snap.snapshot_id)
        raise msg.SNAPSHOT_OF_ANOTHER_DISK(snapshot_id=snap.snapshot_id,
                                           source_disk_id=snap.disk_id)
    not_expired(disk, msg.DISK_EXPIRED_NOT_SUPPORTED)
    not_recycled(disk)
    if ds.is_busy(disk):
        raise ds.busy(disk, msg.DISK_BUSY_INVALID_DISK)
    if ds.snapshot_creating(ctx.conn, disk):
        raise ds.snapshot_creating_refusal(disk)
    stop_first = _instance_ready(ctx, attached_to, bool(req.AutoStopInstance))
    _begin_rollback(ctx, snap, disk, stop_first,
                    attached_to if req.AutoStartInstance else None)
    return {}


def _instance_ready(ctx: Context, instance_id: str | None, auto_stop: bool) -> float:
    """The instance of an attached disk must be stopped, or stoppable when AutoStopInstance says
    so; returns how long stopping it takes first (0 if it is stopped)."""
    if instance_id is None:
        return 0.0
    instance = inst.find_instances(ctx, [instance_id])[instance_id]
    if instance.instance_state == inst.STOPPED:
        return 0.0
    if instance.instance_state != inst.RUNNING:
        raise msg.ROLLBACK_INSTANCE_STATE(instance_id=instance_id, state=instance.instance_state)
    if not auto_stop:
        raise msg.ROLLBACK_INSTANCE_NOT_STOPPED(instance_id=instance_id)
    duration = ctx.timing.duration("instance.stop")
    inst.begin_move(ctx, instance_id, inst.RUNNING, inst.STOPPING, "StopInstances", "instance.stop",
                   duration)
    return duration


def _begin_rollback(ctx: Context, snap, disk, stop_first: float, start_after: str | None) -> None:
    duration = stop_first + ctx.timing.duration(ROLLBACK)
    ds.move(ctx.conn, [disk.disk_id], {ds.UNATTACHED, ds.ATTACHED}, disk_state=ds.ROLLBACKING,
            op_started_at=ctx.now, op_due_at=ctx.now + duration)
    ctx.conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snap.snapshot_id,
                                             snapshots.c.snapshot_state == NORMAL)
                     .values(snapshot_state=ROLLBACKING))
    engine.later(ctx.conn, ROLLBACK, resource_id=disk.disk_id, account_id=ctx.account_id,
                 region=ctx.region, now=ctx.now, duration=duration,
                 payload={"snapshot": snap.snapshot_id, "start": start_after})


@engine.on(ROLLBACK)
def _rolled_back(conn, disk_id: str, payload: dict, due_at: float) -> None:
    disk = conn.execute(select(disks).where(disks.c.disk_id == disk_id,
                                            disks.c.disk_state == ds.ROLLBACKING)).first()
    if disk is not None:
        conn.execute(update(disks).where(disks.c.disk_id == disk_id).values(
            disk_state=settled_state(disk.instance_ids), rolled_back=True, op_started_at=None,
            op_due_at=None))
    if payload.get("snapshot"):  # none when InitializeDisks rolls a disk back to its source
        conn.execute(update(snapshots).where(snapshots.c.snapshot_id == payload["snapshot"],
                                             snapshots.c.snapshot_state == ROLLBACKING)
                     .values(snapshot_state=NORMAL))
    if payload.get("start") and disk is not None:
        ctx = engine_context(conn, disk.account_id, disk.region, due_at)
        instance = conn.execute(select(instances).where(
            instances.c.instance_id == payload["start"])).first()
        if instance is not None and instance.instance_state == inst.STOPPED:
            inst.begin_move(ctx, instance.instance_id, inst.STOPPED, inst.STARTING, "StartInstances",
                           "instance.start", ctx.timing.duration("instance.start"))
