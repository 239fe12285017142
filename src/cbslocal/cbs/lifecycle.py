"""The rest of a disk's life: ResizeDisk, ModifyDiskAttributes, InitializeDisks, TerminateDisks and
the recycle bin (cbs-behavior.md §3.5-3.7, §3.32, §5.1, §6.9)."""

from __future__ import annotations

from sqlalchemy import select, update

from cbslocal import ids
from cbslocal.api import messages as msg
from cbslocal.api.cbs_schema import (InitializeDisksRequest, ModifyDiskAttributesRequest,
                                     ModifyDiskExtraPerformanceRequest,
                                     ResizeDiskRequest, TerminateDisksRequest, RETURN_EXPIRED,
                                     RETURN_NOT_SUPPORTED, RETURN_REFUNDED, refund_refusal)
from cbslocal.api.context import Context
from cbslocal.api.errors import INVALID_PARAMETER, ApiError, Detail
from cbslocal.billing import usage
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs.disk_state import checked_ids, load_disks, not_expired, not_recycled
from cbslocal.cbs.disk_state import BURST_MIN_SIZE, PERFORMANCE_TYPES
from cbslocal.cbs import instance_state as inst
from cbslocal.cbs import prepaid
from cbslocal.engine import transitions as engine
from cbslocal.store.tables import disks, snapshots

RESIZE, MIGRATE = "disk.resize", "disk.migrate"
RECYCLE, DAY = ds.RECYCLE, ds.DAY
ROLLBACK = "snapshot.rollback"
# Type changes go up this ladder only (cbs-behavior.md §3.7: BASIC < PREMIUM < SSD).
TYPE_TIERS = {"CLOUD_BASIC": 0, "CLOUD_PREMIUM": 1, "CLOUD_BSSD": 1.5, "CLOUD_SSD": 2,
              "CLOUD_HSSD": 3, "CLOUD_TSSD": 4}
TYPE_CHANGE_TARGETS = ("CLOUD_PREMIUM", "CLOUD_SSD")


def _elastic_data_disk(disk, system: Detail = msg.SYSTEM_DISK_REFUSED,
                       not_elastic: Detail = msg.NON_ELASTIC_DISK_REFUSED) -> None:
    if disk.disk_usage == ds.SYSTEM_DISK:
        raise system(disk_id=disk.disk_id)
    if not disk.portable:
        raise not_elastic(disk_id=disk.disk_id)


def _transition_window(ctx: Context, kind: str) -> tuple[float, dict]:
    duration = ctx.timing.duration(kind)
    return duration, {"op_started_at": ctx.now, "op_due_at": ctx.now + duration}


def _later(ctx: Context, kind: str, disk_id: str, duration: float, payload: dict) -> None:
    engine.later(ctx.conn, kind, resource_id=disk_id, account_id=ctx.account_id,
                 region=ctx.region, now=ctx.now, duration=duration, payload=payload)


def settled_state(disk_instance_ids: str) -> str:
    return ds.ATTACHED if disk_instance_ids != "[]" else ds.UNATTACHED


# --- ResizeDisk ------------------------------------------------------------------------------------
def resize_disk(ctx: Context, req: ResizeDiskRequest) -> dict:
    if req.DiskId is None:
        raise msg.PARAMETER_MISSING(field="DiskId")
    if not ids.is_resource_id(ids.DISK, req.DiskId):
        raise msg.ID_MALFORMED(field="DiskId", value=req.DiskId)
    disk = load_disks(ctx, [req.DiskId])[0]
    not_expired(disk)
    _elastic_data_disk(disk)
    not_recycled(disk)
    if ds.is_busy(disk):
        raise ds.busy(disk, msg.DISK_BUSY_INVALID_DISK)
    if ds.snapshot_creating(ctx.conn, disk):
        raise ds.snapshot_creating_refusal(disk)
    spec = ctx.topology.disk_types[disk.disk_type]
    if req.DiskSize <= disk.disk_size or req.DiskSize % spec.step:
        raise msg.DISK_SIZE_NOT_LARGER(size=disk.disk_size, step=spec.step)
    if req.DiskSize > spec.max_size:
        raise msg.DISK_SIZE_ABOVE_TYPE_MAX(disk_type=disk.disk_type, max=spec.max_size)
    _check_online_resize(ctx, disk)
    ds.check_stock(ctx, disk.zone, disk.disk_type, req.DiskSize - disk.disk_size)
    if disk.charge_type == ds.PREPAID:  # step 8: the difference, to the deadline
        prepaid.pay_upgrade(ctx, disk, f"{disk.disk_id} from {disk.disk_size} to "
                                       f"{req.DiskSize} GiB", disk_size=req.DiskSize)
    duration, window = _transition_window(ctx, RESIZE)
    ds.move(ctx.conn, [disk.disk_id], {ds.UNATTACHED, ds.ATTACHED}, disk_state=ds.EXPANDING,
            **window)
    _later(ctx, RESIZE, disk.disk_id, duration, {"size": req.DiskSize})
    return {}


def _check_online_resize(ctx: Context, disk) -> None:
    if disk.instance_id == "":
        return
    instance = inst.find_instances(ctx, [disk.instance_id]).get(disk.instance_id)
    if instance is not None and instance.instance_state == inst.RUNNING and not instance.online_resize:
        raise msg.INSTANCE_RUNNING_NO_ONLINE_RESIZE(instance_id=instance.instance_id)


@engine.on(RESIZE)
def _resized(conn, disk_id: str, payload: dict, due_at: float) -> None:
    row = conn.execute(disks.select().where(disks.c.disk_id == disk_id,
                                            disks.c.disk_state == ds.EXPANDING)).first()
    if row is not None:
        usage.set_aside(conn, [disk_id], due_at)  # billed at its new size from now
        conn.execute(update(disks).where(disks.c.disk_id == disk_id).values(
            disk_size=payload["size"], disk_state=settled_state(row.instance_ids),
            op_started_at=None, op_due_at=None))


# --- ModifyDiskAttributes --------------------------------------------------------------------------
_ATTRIBUTES = ("DiskName", "Portable", "ProjectId", "DeleteWithInstance", "DiskType",
               "BurstPerformanceOperation")


def modify_disk_attributes(ctx: Context, req: ModifyDiskAttributesRequest) -> dict:
    changes = {name: getattr(req, name) for name in _ATTRIBUTES if getattr(req, name) is not None}
    if not changes:
        raise msg.ATTRIBUTE_TO_MODIFY_MISSING(fields=", ".join(_ATTRIBUTES))
    disk_ids = checked_ids(req.DiskIds, "DiskIds", ctx.topology.limits.modify_disks_max_count)
    targets = load_disks(ctx, disk_ids)
    _check_modify_values(ctx, req, changes)
    for disk in targets:
        _check_modify_disk(ctx, req, disk)
    values = {}
    if req.DiskName is not None:
        values["disk_name"] = req.DiskName
    if req.Portable:
        values["portable"] = True
    if req.ProjectId is not None:
        values["project_id"] = req.ProjectId
    if req.DeleteWithInstance is not None:
        values["delete_with_instance"] = req.DeleteWithInstance
    if req.BurstPerformanceOperation is not None:
        values["burst_performance"] = req.BurstPerformanceOperation == "CREATE"
    if values:
        ctx.conn.execute(update(disks).where(disks.c.disk_id.in_(disk_ids)).values(**values))
    if req.Portable:  # an elastic prepaid disk's deadline is its own from now on
        for disk in targets:
            if not disk.portable and prepaid.has_deadline(disk, portable=True):
                prepaid.watch_deadline(ctx.conn, disk.disk_id, ctx.account_id, ctx.region,
                                       disk.deadline_at)
    if req.DiskType is not None:
        _begin_type_change(ctx, targets[0], req.DiskType)
    return {}


def _check_modify_values(ctx: Context, req: ModifyDiskAttributesRequest, changes: dict) -> None:
    """§3.7 step 4: values and combinations, whatever the disks."""
    if req.Portable is False:
        raise msg.PORTABLE_ONLY_TRUE()
    if req.DiskType is not None:
        if len(req.DiskIds) > 1 or len(changes) > 1:
            raise msg.DISK_TYPE_CHANGE_ALONE()
        if req.DiskType not in TYPE_CHANGE_TARGETS:
            raise msg.VALUE_ONE_OF(field="DiskType", choices=", ".join(TYPE_CHANGE_TARGETS))
    limit = ctx.topology.limits.disk_name_max_bytes
    if req.DiskName is not None and len(req.DiskName.encode()) > limit:
        raise msg.TEXT_TOO_MANY_BYTES(field="DiskName", max=limit)
    if req.ProjectId is not None and req.ProjectId not in ctx.topology.projects:
        raise msg.PROJECT_NOT_FOUND(field="ProjectId", project_id=req.ProjectId)


def _check_modify_disk(ctx: Context, req: ModifyDiskAttributesRequest, disk) -> None:
    """§3.7 steps 5-6: what this disk allows."""
    not_recycled(disk)
    if req.ProjectId is not None and not disk.portable:
        raise msg.DISK_FOLLOWS_INSTANCE_PROJECT(disk_id=disk.disk_id)
    if req.Portable and disk.disk_usage == ds.SYSTEM_DISK:
        raise msg.SYSTEM_DISK_CANNOT_BE_ELASTIC(disk_id=disk.disk_id)
    if req.DeleteWithInstance is not None and (disk.charge_type != ds.POSTPAID
                                               or disk.disk_usage == ds.SYSTEM_DISK):
        raise msg.DELETE_WITH_INSTANCE_POSTPAID_DATA_ONLY(disk_id=disk.disk_id)
    if req.BurstPerformanceOperation is not None and (
            disk.disk_type not in PERFORMANCE_TYPES or disk.disk_size < BURST_MIN_SIZE):
        raise msg.BURST_NEEDS_TYPE_AND_SIZE(disk_id=disk.disk_id, min=BURST_MIN_SIZE,
                                            types=", ".join(sorted(PERFORMANCE_TYPES)))
    if req.DiskType is not None:
        _check_type_change(ctx, disk, req.DiskType)


def _check_type_change(ctx: Context, disk, target: str) -> None:
    if TYPE_TIERS[target] <= TYPE_TIERS[disk.disk_type]:
        raise msg.DISK_TYPE_ONLY_UPGRADE(disk_id=disk.disk_id, disk_type=disk.disk_type,
                                         target=target)
    if ds.is_busy(disk):
        raise ds.busy(disk, msg.DISK_BUSY_INVALID_DISK)
    zone = ctx.topology.zones[disk.zone]
    spec = ctx.topology.disk_types[target]
    if zone.sold_out or target not in zone.sold_disk_types or not spec.min_size <= disk.disk_size <= spec.max_size:
        raise msg.DISK_TYPE_NOT_SOLD_FOR_SIZE(target=target, zone=disk.zone, size=disk.disk_size)
    ds.check_stock(ctx, disk.zone, target, disk.disk_size)


def _begin_type_change(ctx: Context, disk, target: str) -> None:
    if disk.charge_type == ds.PREPAID:  # §3.7 step 7: the difference, to the deadline
        prepaid.pay_upgrade(ctx, disk, f"{disk.disk_id} from {disk.disk_type} to {target}",
                            disk_type=target)
    duration, window = _transition_window(ctx, MIGRATE)
    ds.move(ctx.conn, [disk.disk_id], {ds.UNATTACHED, ds.ATTACHED}, migrate_to=target, **window)
    _later(ctx, MIGRATE, disk.disk_id, duration, {})


@engine.on(MIGRATE)
def _migrated(conn, disk_id: str, _payload: dict, due_at: float) -> None:
    usage.set_aside(conn, [disk_id], due_at)  # billed as its new type from now
    conn.execute(update(disks).where(disks.c.disk_id == disk_id, disks.c.migrate_to.is_not(None))
                 .values(disk_type=disks.c.migrate_to, migrate_to=None, op_started_at=None,
                         op_due_at=None))


# --- ModifyDiskExtraPerformance ------------------------------------------------------------------
def modify_disk_extra_performance(ctx: Context, req: ModifyDiskExtraPerformanceRequest) -> dict:
    """The disk's extra throughput (HSSD/TSSD over 460 GiB): a prepaid disk pays the difference to
    its deadline for more, a postpaid one is billed at its new rate from now [inf: at once]."""
    disk = extra_performance_target(ctx, req)
    if ds.is_busy(disk):
        raise ds.busy(disk, msg.DISK_BUSY_INVALID_DISK)
    if disk.charge_type == ds.PREPAID:
        prepaid.pay_upgrade(ctx, disk, f"{disk.disk_id} to {req.ThroughputPerformance} MiB/s extra",
                            throughput_performance=req.ThroughputPerformance)
    else:
        usage.set_aside(ctx.conn, [disk.disk_id], ctx.now)
    ds.move(ctx.conn, [disk.disk_id], {disk.disk_state},
            throughput_performance=req.ThroughputPerformance)
    return {}


def extra_performance_target(ctx: Context, req: ModifyDiskExtraPerformanceRequest):
    """The disk whose extra throughput is to change (ModifyDiskExtraPerformance and its
    inquiry): it exists, has not expired, is not in the recycle bin, and can have that much
    (InvalidParameter: these actions' code for it)."""
    if not ids.is_resource_id(ids.DISK, req.DiskId):
        raise msg.ID_MALFORMED(field="DiskId", value=req.DiskId)
    disk = load_disks(ctx, [req.DiskId])[0]
    not_expired(disk)
    not_recycled(disk)
    try:
        ds.check_performance(disk.disk_type, disk.disk_size, req.ThroughputPerformance, None)
    except ApiError as refusal:
        raise ApiError(refusal.detail.under(INVALID_PARAMETER), **refusal.values) from None
    return disk


# --- InitializeDisks -------------------------------------------------------------------------------
def initialize_disks(ctx: Context, req: InitializeDisksRequest) -> dict:
    """Wipe data disks back to empty, or roll a disk made from a snapshot back to it (briefly
    ROLLBACKING). cbslocal keeps no disk bytes yet, so nothing visible changes for the others."""
    disk_ids = checked_ids(req.DiskIds, "DiskIds", ctx.topology.limits.initialize_disks_max_count)
    targets = load_disks(ctx, disk_ids)
    for disk in targets:
        if disk.instance_ids != "[]" or disk.disk_state in (ds.ATTACHED, ds.ATTACHING):
            raise msg.DETACH_BEFORE_INITIALIZE(disk_id=disk.disk_id)
    for disk in targets:
        _elastic_data_disk(disk)
        not_recycled(disk)
        if disk.shareable:
            raise msg.SHAREABLE_DISK_NO_INITIALIZE(disk_id=disk.disk_id)
        if disk.source_snapshot_id is not None and not _snapshot_exists(ctx, disk.source_snapshot_id):
            raise msg.SOURCE_SNAPSHOT_DELETED(disk_id=disk.disk_id,
                                              snapshot_id=disk.source_snapshot_id)
    for disk in targets:
        if ds.is_busy(disk):
            raise ds.busy(disk)
    ds.move(ctx.conn, disk_ids, {ds.UNATTACHED}, error_prompt="")
    for disk in targets:
        if disk.source_snapshot_id is not None:
            _roll_back_to_source(ctx, disk)
    return {}


def _snapshot_exists(ctx: Context, snapshot_id: str) -> bool:
    return ctx.conn.execute(select(snapshots.c.snapshot_id).where(
        snapshots.c.snapshot_id == snapshot_id)).first() is not None


def _roll_back_to_source(ctx: Context, disk) -> None:
    """The rollback ApplySnapshot does, without holding the snapshot (cbs/snapshots.py ends it)."""
    duration, window = _transition_window(ctx, ROLLBACK)
    ds.move(ctx.conn, [disk.disk_id], {ds.UNATTACHED}, disk_state=ds.ROLLBACKING, **window)
    _later(ctx, ROLLBACK, disk.disk_id, duration, {"snapshot": None, "start": None})


# --- TerminateDisks --------------------------------------------------------------------------------
def terminate_disks(ctx: Context, req: TerminateDisksRequest) -> dict:
    disk_ids = checked_ids(req.DiskIds, "DiskIds", ctx.topology.limits.terminate_disks_max_count)
    targets = load_disks(ctx, disk_ids)
    for disk in targets:
        _elastic_data_disk(disk, system=msg.SYSTEM_DISK_NOT_RETURNABLE,
                           not_elastic=msg.NON_ELASTIC_DISK_NOT_RETURNABLE)
    live = [d for d in targets if not (d.disk_state == ds.TORECYCLE and d.recycle_reason == "RETURNED")]
    for check in (not_expired, _detached, _not_busy_to_terminate, _refundable):
        for disk in live:
            check(disk)
    # step 10: the refund quota
    returned = prepaid.plan_refunds(ctx, [d for d in live if d.charge_type == ds.PREPAID])
    for disk, _whole in returned:  # step 11
        prepaid.no_pending_order(ctx, disk)
    if req.DeleteSnapshot is not None:
        ctx.conn.execute(update(disks).where(disks.c.disk_id.in_(disk_ids))
                         .values(delete_snapshot=req.DeleteSnapshot))
    returned_ids = [d.disk_id for d, _whole in returned]
    ds.destroy(ctx.conn, [d.disk_id for d in targets if d.disk_id not in returned_ids], ctx.now)
    if returned:
        ds.move(ctx.conn, returned_ids, {ds.UNATTACHED}, disk_state=ds.TORECYCLE,
                recycle_reason="RETURNED", refunded_before=True)
        retention = ctx.topology.limits.recycle_retention_days * DAY
        prepaid.place_orders(ctx, returned_ids)
        for disk, whole in returned:
            prepaid.refund(ctx, disk, whole)
            prepaid.stop_watching_deadline(ctx.conn, disk.disk_id)
            engine.schedule(ctx.conn, RECYCLE, resource_id=disk.disk_id, account_id=ctx.account_id,
                            region=ctx.region, due_at=ctx.now + retention)
    return {}


def _detached(disk) -> None:
    if disk.instance_ids != "[]" or disk.disk_state in (ds.ATTACHED, ds.ATTACHING):
        raise msg.DETACH_BEFORE_RETURN(disk_id=disk.disk_id)


def _not_busy_to_terminate(disk) -> None:
    if ds.is_busy(disk):
        raise ds.busy(disk)


def _refundable(disk) -> None:
    if disk.charge_type != ds.PREPAID:
        return
    code = refund_refusal(disk)
    if code == RETURN_NOT_SUPPORTED:
        raise msg.PREPAID_DISK_NOT_RETURNABLE(disk_id=disk.disk_id)
    if code == RETURN_REFUNDED:
        raise msg.DISK_RETURNED_BEFORE(disk_id=disk.disk_id)
    if code == RETURN_EXPIRED:
        not_expired(disk)


@engine.on(RECYCLE)
def _recycled(conn, disk_id: str, _payload: dict, due_at: float) -> None:
    """The recycle bin's retention is over: the returned disk is destroyed."""
    row = conn.execute(disks.select().where(disks.c.disk_id == disk_id,
                                            disks.c.disk_state == ds.TORECYCLE)).first()
    if row is not None:
        ds.destroy(conn, [disk_id], due_at)
