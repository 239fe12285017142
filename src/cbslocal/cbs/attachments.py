"""Disks on instances: AttachDisks, DetachDisks, DescribeInstancesDiskNum, and what becomes of
disks when their instance goes (cbs-behavior.md §3.3, §3.4, §3.15, §5.1, §8.1-8.2).

An attachment is a `disk_attachments` row from the moment AttachDisks accepts it (so that it
counts towards the instance's limit at once) with `attached_at` NULL until the attach completes;
the disk's InstanceId / InstanceIdList show completed attachments only.
"""

from __future__ import annotations

import orjson
from sqlalchemy import and_, bindparam, delete, select, update

from cbslocal.api import messages as msg
from cbslocal.api.cbs_schema import (AttachDisksRequest, DescribeInstancesDiskNumRequest,
                                     DetachDisksRequest)
from cbslocal.api.context import Context
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs.disk_state import checked_ids, load_disks
from cbslocal.cbs import instance_state as inst
from cbslocal.engine import transitions as engine
from cbslocal.store.prepared import Prepared, PreparedInsert, shaped
from cbslocal.store.tables import disk_attachments, disks, transitions
from cbslocal import ids

ATTACH, DETACH = "disk.attach", "disk.detach"

# The statements of every attach and detach, compiled once (store/prepared.py).
_INSERT_ATTACHMENT = PreparedInsert(disk_attachments)
_COMPLETE_ATTACH = Prepared(update(disk_attachments).where(
    disk_attachments.c.disk_id == bindparam("disk_id"),
    disk_attachments.c.instance_id == bindparam("instance_id"),
    disk_attachments.c.attached_at.is_(None)).values(attached_at=bindparam("attached_at")))
_NOTE_LAST_INSTANCE = Prepared(update(disks).where(disks.c.disk_id == bindparam("disk_id")).values(
    last_attach_ins_id=bindparam("instance_id"), instance_type=bindparam("instance_type")))
_DISK_SHARING = Prepared(select(disks.c.shareable, disks.c.disk_state)
                         .where(disks.c.disk_id == bindparam("disk_id")))
_COMPLETED_ATTACHMENTS = Prepared(select(disk_attachments.c.instance_id).where(
    disk_attachments.c.disk_id == bindparam("disk_id"), disk_attachments.c.attached_at.is_not(None))
    .order_by(disk_attachments.c.attached_at, disk_attachments.c.instance_id))
_DELETE_ATTACHMENT = Prepared(delete(disk_attachments).where(
    disk_attachments.c.disk_id == bindparam("disk_id"),
    disk_attachments.c.instance_id == bindparam("instance_id")))
_NO_LONGER_WITH_INSTANCE = Prepared(update(disks).where(
    disks.c.disk_id == bindparam("disk_id"), disks.c.instance_ids == bindparam("none"))
    .values(delete_with_instance=bindparam("keep")))


# --- AttachDisks ---------------------------------------------------------------------------------
def attach_disks(ctx: Context, req: AttachDisksRequest) -> dict:
    disk_ids = checked_ids(req.DiskIds, "DiskIds", ctx.topology.limits.attach_disks_max_count)
    instance = inst.require_instance(ctx, req.InstanceId)
    targets = load_disks(ctx, disk_ids)
    for check in (_not_system, _portable, _not_recycled, _not_attached_already, _not_busy,
                  _same_zone):
        for disk in targets:
            check(disk, instance)
    inst.check_takes_disks(instance)
    _check_room(ctx, instance, targets)
    values = {}
    if req.AttachMode is not None:
        values["attach_mode"] = req.AttachMode
    for disk in targets:
        extra = dict(values)
        if req.DeleteWithInstance is not None and disk.charge_type == ds.POSTPAID:
            extra["delete_with_instance"] = req.DeleteWithInstance  # prepaid: silently ignored
        begin_attach(ctx, disk, instance.instance_id, **extra)
    return {}


def _not_system(disk, _instance) -> None:
    if disk.disk_usage == ds.SYSTEM_DISK:
        raise msg.SYSTEM_DISK_NOT_ATTACHABLE(disk_id=disk.disk_id)


def _portable(disk, _instance) -> None:
    if not disk.portable:
        raise msg.DISK_BOUGHT_WITH_INSTANCE(disk_id=disk.disk_id)


def _not_recycled(disk, _instance) -> None:
    if disk.disk_state == ds.TORECYCLE:
        raise msg.DISK_IN_RECYCLE_BIN(disk_id=disk.disk_id, state=disk.disk_state)


def _not_attached_already(disk, instance) -> None:
    if disk.disk_state != ds.ATTACHED:
        return
    attached = orjson.loads(disk.instance_ids)
    if not disk.shareable or instance.instance_id in attached:
        raise msg.DISK_ALREADY_ATTACHED(disk_id=disk.disk_id, instance_ids=", ".join(attached))


def _not_busy(disk, _instance) -> None:
    if ds.is_busy(disk):
        raise ds.busy(disk)


def _same_zone(disk, instance) -> None:
    if disk.zone != instance.zone:
        raise msg.DISK_AND_INSTANCE_ZONES_DIFFER(disk_id=disk.disk_id, disk_zone=disk.zone,
                                                 instance_id=instance.instance_id,
                                                 instance_zone=instance.zone)


def _check_room(ctx: Context, instance, targets: list) -> None:
    inst.check_room(ctx.conn, instance, len(targets))
    limit = ctx.topology.limits.shareable_max_instances
    for disk in targets:
        if disk.shareable and len(orjson.loads(disk.instance_ids)) >= limit:
            raise msg.SHAREABLE_DISK_INSTANCES_FULL(disk_id=disk.disk_id, max=limit)


def begin_attach(ctx: Context, disk, instance_id: str, **values) -> None:
    """Start attaching `disk` (read in this transaction) to the instance: ATTACHING now, ATTACHED
    when the clock says (at once with instant timing)."""
    _INSERT_ATTACHMENT.run(ctx.conn, [dict(
        disk_id=disk.disk_id, instance_id=instance_id, account_id=disk.account_id,
        region=disk.region, disk_usage=disk.disk_usage, attached_at=None)])
    expected = {ds.UNATTACHED, ds.ATTACHED} if disk.shareable else {ds.UNATTACHED}
    ds.move(ctx.conn, [disk.disk_id], expected, disk_state=ds.ATTACHING, error_prompt="", **values)
    engine.later(ctx.conn, ATTACH, resource_id=disk.disk_id, account_id=disk.account_id,
                 region=disk.region, now=ctx.now, duration=ctx.timing.duration(ATTACH),
                 payload={"instance_id": instance_id})


@engine.on(ATTACH)
def _attached(conn, disk_id: str, payload: dict, due_at: float) -> None:
    instance_id = payload["instance_id"]
    completed = _COMPLETE_ATTACH.run(conn, disk_id=disk_id, instance_id=instance_id,
                                     attached_at=due_at)
    if not completed:  # the instance went meanwhile, and the attach with it
        return
    _NOTE_LAST_INSTANCE.run(conn, disk_id=disk_id, instance_id=instance_id, instance_type="CVM")
    show_attachments(conn, disk_id, from_state=ds.ATTACHING)


def show_attachments(conn, disk_id: str, *, from_state: str | None = None) -> None:
    """Make the disk show its completed attachments: InstanceId, InstanceIdList, and ATTACHED or
    UNATTACHED if it was `from_state` (ATTACHING/DETACHING/ATTACHED)."""
    disk = _DISK_SHARING.first(conn, disk_id=disk_id)
    if disk is None:
        return
    attached = [row.instance_id for row in _COMPLETED_ATTACHMENTS.rows(conn, disk_id=disk_id)]
    values = {"instance_ids": orjson.dumps(attached).decode(),
              # A shareable disk names its instances in InstanceIdList only (vendor example).
              "instance_id": attached[0] if attached and not disk.shareable else ""}
    if from_state is not None and disk.disk_state == from_state:
        values["disk_state"] = ds.ATTACHED if attached else ds.UNATTACHED
    columns = tuple(sorted(values))
    shaped(("attachments.show", columns), lambda: update(disks).where(
        disks.c.disk_id == bindparam("disk_id")).values(
        {c: bindparam(f"set_{c}") for c in columns})).run(
        conn, disk_id=disk_id, **{f"set_{c}": values[c] for c in columns})


# --- DetachDisks ---------------------------------------------------------------------------------
def detach_disks(ctx: Context, req: DetachDisksRequest) -> dict:
    disk_ids = checked_ids(req.DiskIds, "DiskIds", ctx.topology.limits.attach_disks_max_count)
    targets = load_disks(ctx, disk_ids)
    if req.InstanceId is None and any(d.shareable for d in targets):
        raise msg.PARAMETER_MISSING(field="InstanceId")
    named = inst.require_instance(ctx, req.InstanceId) if req.InstanceId is not None else None
    for check in (_not_system, _portable, _detachable, _not_busy):
        for disk in targets:
            check(disk, named)
    instance_id = _one_instance(targets, named)
    instance = inst.find_instances(ctx, [instance_id])[instance_id]
    inst.check_takes_disks(instance)
    inst.lock_instance(ctx.conn, instance_id)
    for disk in targets:
        ds.move(ctx.conn, [disk.disk_id], {ds.ATTACHED}, disk_state=ds.DETACHING)
        engine.later(ctx.conn, DETACH, resource_id=disk.disk_id, account_id=ctx.account_id,
                     region=ctx.region, now=ctx.now, duration=ctx.timing.duration(DETACH),
                     payload={"instance_id": instance_id})
    return {}


def _detachable(disk, _instance) -> None:
    if disk.disk_state in (ds.UNATTACHED, ds.TORECYCLE):
        raise msg.DISK_NOT_ATTACHED(disk_id=disk.disk_id, state=disk.disk_state)


def _one_instance(targets: list, named) -> str:
    """The one instance every disk of the batch is detached from."""
    found = set()
    for disk in targets:
        attached = orjson.loads(disk.instance_ids)
        if named is not None and named.instance_id not in attached:
            raise msg.DISK_NOT_ON_INSTANCE(disk_id=disk.disk_id, instance_id=named.instance_id)
        found.add(named.instance_id if named is not None else attached[0])
    if len(found) > 1:
        raise msg.DISKS_ON_DIFFERENT_INSTANCES()
    return found.pop()


@engine.on(DETACH)
def _detached(conn, disk_id: str, payload: dict, _due_at: float) -> None:
    _DELETE_ATTACHMENT.run(conn, disk_id=disk_id, instance_id=payload["instance_id"])
    show_attachments(conn, disk_id, from_state=ds.DETACHING)
    # Detached from its last instance, it no longer goes with one (cbs-behavior.md §3.4).
    _NO_LONGER_WITH_INSTANCE.run(conn, disk_id=disk_id, none="[]", keep=False)


# --- DescribeInstancesDiskNum --------------------------------------------------------------------
def describe_instances_disk_num(ctx: Context, req: DescribeInstancesDiskNumRequest) -> dict:
    instance_ids = checked_ids(req.InstanceIds, "InstanceIds",
                               ctx.topology.limits.describe_instances_max_limit, ids.INSTANCE)
    found = inst.find_instances(ctx, instance_ids)
    for instance_id in instance_ids:
        if instance_id not in found:
            raise inst.instance_not_found(instance_id)
    return {"AttachDetail": [
        {"InstanceId": i, "AttachedDiskCount": inst.attached_data_disks(ctx.conn, i),
         "MaxAttachCount": found[i].max_attach_count} for i in instance_ids]}


# --- when an instance goes -------------------------------------------------------------------------
def release_instance_disks(conn, instance_id: str, now: float) -> None:
    """The instance is destroyed: its own (non-elastic) disks and the elastic disks set to go
    with it are destroyed; every other disk is detached, whatever it was doing with it."""
    rows = conn.execute(select(disks.c.disk_id, disks.c.portable, disks.c.delete_with_instance,
                               disks.c.instance_ids).join(
        disk_attachments, and_(disk_attachments.c.disk_id == disks.c.disk_id,
                               disk_attachments.c.instance_id == instance_id))).all()
    doomed = [r.disk_id for r in rows if not r.portable
              or (r.delete_with_instance and orjson.loads(r.instance_ids) in ([], [instance_id]))]
    ds.destroy(conn, doomed, now)
    for row in rows:
        if row.disk_id in doomed:
            continue
        still_moving = _forget_moves_with(conn, row.disk_id, instance_id)
        conn.execute(delete(disk_attachments).where(disk_attachments.c.disk_id == row.disk_id,
                                                    disk_attachments.c.instance_id == instance_id))
        if still_moving:  # with another instance: it keeps its state until that move is done
            show_attachments(conn, row.disk_id)
            continue
        for state in (ds.ATTACHING, ds.DETACHING, ds.ATTACHED):
            show_attachments(conn, row.disk_id, from_state=state)


def release_disk(conn, disk_id: str) -> None:
    """The disk leaves every instance at once (a prepaid disk expiring), whatever it was doing
    with them: its attachments and attach/detach moves go, and it is UNATTACHED."""
    conn.execute(delete(transitions).where(transitions.c.resource_id == disk_id,
                                           transitions.c.kind.in_((ATTACH, DETACH))))
    conn.execute(delete(disk_attachments).where(disk_attachments.c.disk_id == disk_id))
    for state in (ds.ATTACHING, ds.DETACHING, ds.ATTACHED):
        show_attachments(conn, disk_id, from_state=state)
    _NO_LONGER_WITH_INSTANCE.run(conn, disk_id=disk_id, none="[]", keep=False)


def _forget_moves_with(conn, disk_id: str, instance_id: str) -> int:
    """Forget the disk's attach and detach in progress with that instance; a shareable disk's
    others, with other instances, go on: returns how many."""
    moves = conn.execute(select(transitions.c.id, transitions.c.payload).where(
        transitions.c.resource_id == disk_id, transitions.c.kind.in_((ATTACH, DETACH)))).all()
    gone = [m.id for m in moves if orjson.loads(m.payload).get("instance_id") == instance_id]
    if gone:
        conn.execute(delete(transitions).where(transitions.c.id.in_(gone)))
    return len(moves) - len(gone)


def instance_disks(conn, instance_ids: list[str]) -> dict[str, list]:
    """The disks attached to each instance (completed attachments), system disk first."""
    rows = conn.execute(select(disks, disk_attachments.c.instance_id.label("on_instance")).join(
        disk_attachments, disk_attachments.c.disk_id == disks.c.disk_id).where(
        disk_attachments.c.instance_id.in_(instance_ids),
        disk_attachments.c.attached_at.is_not(None))
        .order_by(disk_attachments.c.attached_at, disks.c.seq)).all()
    found: dict[str, list] = {i: [] for i in instance_ids}
    for row in rows:
        found[row.on_instance].append(row)
    return found


