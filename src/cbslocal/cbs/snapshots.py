"""Snapshots: CreateSnapshot, DescribeSnapshots, DeleteSnapshots, ApplySnapshot,
ModifySnapshotAttribute, sharing, cross-region copies and the overview (cbs-behavior.md
§3.16-3.24, §4.2, §5.2, §6.8).

A snapshot belongs to one account and region; an account it is shared with sees it too, as a
SHARED_SNAPSHOT it can only make disks from. Creation, rollback and copies take time on the
clock; a Deadline is a move the engine applies when it comes.
"""

from __future__ import annotations

import orjson
from sqlalchemy import bindparam, delete, func, insert, or_, select, update

from cbslocal import ids
from cbslocal.api import errors
from cbslocal.api.context import Context
from cbslocal.api.errors import ApiError
from cbslocal.api.snapshot_schema import (SNAPSHOT_STATES, ApplySnapshotRequest,
                                          CopySnapshotCrossRegionsRequest, CreateSnapshotRequest,
                                          DeleteSnapshotsRequest, DescribeSnapshotSharePermissionRequest,
                                          DescribeSnapshotsRequest, ModifySnapshotAttributeRequest,
                                          ModifySnapshotsSharePermissionRequest, snapshot_json)
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs.disk_state import checked_ids, listed_ids, load_disks, refuse
from cbslocal.cbs.disks import page_of, page_total, unnamed, validate_tags
from cbslocal.cbs.filters import (FilterSpec, compile_filters, filter_conditions, parse_bool,
                                  parse_project_id)
from cbslocal.cbs.lifecycle import ROLLBACK, not_expired, not_recycled, settled_state
from cbslocal.cvm import model as cvm
from cbslocal.api.cbs_schema import progress
from cbslocal.engine import transitions as engine
from cbslocal.engine.clock import LATEST, format_time, parse_iso
from cbslocal.store.prepared import Prepared, sum_or_zero
from cbslocal.store.scope import owned_by
from cbslocal.store.tables import (disks, image_snapshots, images, instances, snapshot_census,
                                   snapshot_shares, snapshots, transitions)

NORMAL, CREATING, ROLLBACKING = "NORMAL", "CREATING", "ROLLBACKING"
COPYING, CHECKING = "COPYING_FROM_REMOTE", "CHECKING_COPIED"
PRIVATE, SHARED = "PRIVATE_SNAPSHOT", "SHARED_SNAPSHOT"
CREATE, COPY, CHECK, EXPIRE = "snapshot.create", "snapshot.copy", "snapshot.check", "snapshot.expire"
NAME_MAX = 60
DAY = 86400.0
MIB_PER_GIB = 1024
MAX_IDS = 100
DISK_ID_FILTER_MAX = 10


# --- what every snapshot action shares -----------------------------------------------------------
def snapshot_not_found(snapshot_id: str) -> ApiError:
    return ApiError(errors.INVALID_SNAPSHOT_ID_NOT_FOUND, f"The snapshot {snapshot_id} does not exist.",
                    f"快照 {snapshot_id} 不存在。")


def not_supported(snapshot_id: str, why: str, why_zh: str) -> ApiError:
    return refuse(errors.INVALID_SNAPSHOT_NOT_SUPPORTED, snapshot_id, why, why_zh)


def checked_snapshot_id(value: str, field: str = "SnapshotId") -> str:
    if not ids.is_resource_id(ids.SNAPSHOT, value):
        raise errors.invalid_value(field, f"{value!r} is not a snapshot ID")
    return value


def _shared_with(account_id, region):
    return snapshots.c.snapshot_id.in_(select(snapshot_shares.c.snapshot_id).where(
        snapshot_shares.c.shared_with == account_id, snapshot_shares.c.region == region)
        .scalar_subquery())


def load_snapshots(ctx: Context, snapshot_ids: list[str], *, shared: bool = True) -> list:
    """The named snapshots the caller can see (its own; and, when `shared`, those shared to it),
    in the request's order; InvalidSnapshotId.NotFound names the first it cannot."""
    visible = owned_by(snapshots, ctx.account_id, ctx.region)
    if shared:
        visible = or_(visible, _shared_with(ctx.account_id, ctx.region))
    rows = {row.snapshot_id: row for row in ctx.conn.execute(
        select(snapshots).where(snapshots.c.snapshot_id.in_(snapshot_ids), visible))}
    for snapshot_id in snapshot_ids:
        if snapshot_id not in rows:
            raise snapshot_not_found(snapshot_id)
    return [rows[s] for s in snapshot_ids]


def require_own(ctx: Context, snap) -> None:
    """Only the owner may change a snapshot; an account it is shared with may only use it."""
    if snap.account_id != ctx.account_id:
        raise not_supported(snap.snapshot_id, "the snapshot is shared to you; only its owner can "
                            "do this.", "该快照为共享快照，仅所有者可执行此操作。")


def require_normal(snap) -> None:
    if snap.snapshot_state != NORMAL:
        raise not_supported(snap.snapshot_id, f"the snapshot is {snap.snapshot_state}, not NORMAL.",
                            f"快照处于 {snap.snapshot_state} 状态，而非 NORMAL。")


def percent(snap, now: float) -> int:
    """Creation progress: it runs over the creation window and stays 100 afterwards."""
    if snap.snapshot_state in (CREATING, COPYING, CHECKING):
        return progress(snap.op_started_at, snap.op_due_at, now) if snap.op_due_at else 0
    return 100


def engine_context(conn, account_id: str, region: str, now: float) -> Context:
    """The context of an action the engine takes on an account's behalf (a policy firing)."""
    env = engine.environment(conn)
    return Context(account_id=account_id, region=region, language=errors.ZH_CN, request_id="",
                   now=now, conn=conn, topology=env.topology, timing=env.timing)


def _name(value: str | None, field: str, default: str) -> str:
    if value is None:
        return default
    if len(value) > NAME_MAX:
        raise errors.invalid_value(field, f"must be at most {NAME_MAX} characters")
    return value


def _deadline(ctx: Context, value: str, field: str = "Deadline") -> float:
    try:
        deadline = parse_iso(value)
    except ValueError:
        raise errors.invalid_value(field, f"{value!r} is not an ISO-8601 time such as "
                                   "2026-01-08T09:47:55+00:00") from None
    if deadline < ctx.now + DAY:
        raise errors.invalid_value(field, "must be at least one day from now")
    if deadline > LATEST:  # a time the API could not show
        raise errors.invalid_value(field, f"must be before {format_time(LATEST)}")
    return deadline


def _expire_at(conn, snap_id: str, account_id: str, region: str, deadline_at: float | None) -> None:
    """(Re)schedule the snapshot's deletion at its deadline; none for a permanent one."""
    engine.reschedule(conn, EXPIRE, resource_id=snap_id, account_id=account_id, region=region,
                      due_at=deadline_at)


def _new_snapshot_ids(ctx: Context, count: int) -> list[str]:
    return ids.unique_ids(ids.SNAPSHOT, count, lambda candidates: ctx.conn.execute(
        select(snapshots.c.snapshot_id).where(snapshots.c.snapshot_id.in_(candidates))).scalars())


def _snapshot_row(ctx: Context, snapshot_id: str, **values) -> dict:
    row = dict(snapshot_id=snapshot_id, account_id=ctx.account_id, region=ctx.region, project_id=0,
               encrypt=False, snapshot_mode="STANDARD_SNAPSHOT", copy_from_remote=False,
               copying_to_regions="[]", share_reference=0, time_start_share=None, images="[]",
               tags="[]", auto_snapshot_policy_id=None, deadline_at=None, op_started_at=None,
               op_due_at=None, created_at=ctx.now, modified_at=ctx.now)
    row.update(values)
    return row


# --- CreateSnapshot --------------------------------------------------------------------------------
def create_snapshot(ctx: Context, req: CreateSnapshotRequest) -> dict:
    if req.DiskId is None:
        if req.DiskBackupId is not None:  # cbslocal has no backup points (yet): none exists
            raise ApiError(errors.RESOURCE_NOT_FOUND,
                           f"The disk backup point {req.DiskBackupId} does not exist.",
                           f"云硬盘备份点 {req.DiskBackupId} 不存在。")
        raise errors.missing_parameter("DiskId")
    name = _name(req.SnapshotName, "SnapshotName", unnamed(ctx))
    deadline = None if req.Deadline is None else _deadline(ctx, req.Deadline)
    validate_tags(req.Tags or [], ctx.topology.limits.tags_per_resource)
    if not ids.is_resource_id(ids.DISK, req.DiskId):
        raise errors.invalid_value("DiskId", f"{req.DiskId!r} is not a disk ID")
    disk = load_disks(ctx, [req.DiskId])[0]
    refusal = snapshot_refusal(ctx, disk, req.DiskUsage)
    if refusal is not None:
        raise refusal
    if req.LocalSnap:
        raise ApiError(errors.UNSUPPORTED_OPERATION,
                       "Local (instant) snapshots are only for allow-listed accounts.",
                       "本地快照（LocalSnap）仅对白名单用户开放。")
    tags = orjson.dumps([{"Key": t.Key, "Value": t.Value} for t in req.Tags or ()]).decode()
    return {"SnapshotId": take_snapshot(ctx, disk, name=name, deadline_at=deadline,
                                        usage=req.DiskUsage or disk.disk_usage, tags=tags)}


def snapshot_refusal(ctx: Context, disk, usage: str | None = None) -> ApiError | None:
    """Why the disk cannot be snapshotted now (cbs-behavior.md §3.16 steps 4-12), or None."""
    return (disk_refusal(ctx, disk, usage, creating=ds.snapshot_creating(ctx.conn, disk))
            or QuotaUse(ctx).refusal(disk))


def disk_refusal(ctx: Context, disk, usage: str | None, *, creating: bool) -> ApiError | None:
    """What the disk itself allows (steps 4-9); `creating`: a snapshot of it is being created."""
    if not disk.snapshot_ability:
        return refuse(errors.INVALID_DISK_NOT_SUPPORT_SNAPSHOT, disk.disk_id,
                      "the disk cannot take snapshots (a shareable disk, or flagged so).",
                      "该云硬盘不支持快照。")
    if usage == ds.SYSTEM_DISK and disk.disk_usage != ds.SYSTEM_DISK:
        return refuse(errors.INVALID_DISK_TYPE_ERROR, disk.disk_id,
                      "a data disk cannot make a system-disk snapshot (DiskUsage).",
                      "数据盘不能创建系统盘快照（DiskUsage）。")
    try:
        not_expired(disk, errors.INVALID_DISK_NOT_SUPPORTED)
        not_recycled(disk)
    except ApiError as refusal:
        return refusal
    if disk.disk_state == ds.ROLLBACKING:
        return ds.busy(disk, errors.RESOURCE_IN_USE)
    if ds.is_busy(disk):
        return ds.busy(disk, errors.INVALID_DISK_BUSY)
    if creating:
        return ds.snapshot_creating_refusal(disk)
    if disk.encrypt and not ctx.topology.limits.encrypted_snapshots:
        return refuse(errors.UNSUPPORTED_OPERATION_DISK_ENCRYPT, disk.disk_id,
                      "snapshots of encrypted disks are not supported here.",
                      "不支持为加密云硬盘创建快照。")
    return None


class QuotaUse:
    """The quotas snapshots count against (step 10, 12), read once: a policy firing over
    thousands of disks takes each snapshot into account as it goes."""

    def __init__(self, ctx: Context):
        self.ctx, self.limits = ctx, ctx.topology.limits
        self.count = region_snapshot_count(ctx, ctx.region) if self.limits.snapshots_per_region else 0
        self.gib = ctx.conn.execute(select(sum_or_zero(snapshots.c.disk_size)).where(
            owned_by(snapshots, ctx.account_id, ctx.region))).scalar_one() \
            if self.limits.snapshot_capacity_gib else 0
        self.creating = ctx.conn.execute(select(func.count()).select_from(snapshots).where(
            snapshots.c.snapshot_state == CREATING)).scalar_one() \
            if self.limits.creating_snapshots_max else 0

    def refusal(self, disk) -> ApiError | None:
        limits, region = self.limits, self.ctx.region
        if disk.snapshot_count >= limits.snapshots_per_disk:
            return refuse(errors.INSUFFICIENT_SNAPSHOT_QUOTA, disk.disk_id,
                          f"the disk has {disk.snapshot_count} snapshots, its maximum.",
                          f"该云硬盘已有 {disk.snapshot_count} 个快照，达到上限。")
        if limits.snapshots_per_region and self.count >= limits.snapshots_per_region:
            return ApiError(errors.INSUFFICIENT_SNAPSHOT_QUOTA,
                            f"The account has {self.count} snapshots in {region}, its quota.",
                            f"账号在 {region} 的快照数量已达配额 {limits.snapshots_per_region}。")
        if limits.snapshot_capacity_gib and self.gib + disk.disk_size > limits.snapshot_capacity_gib:
            return ApiError(errors.RESOURCE_INSUFFICIENT_OVER_QUOTA,
                            f"Snapshots of the account in {region} hold {self.gib} GiB; the quota "
                            f"is {limits.snapshot_capacity_gib} GiB.",
                            f"账号在 {region} 的快照容量已用 {self.gib} GiB，配额 {limits.snapshot_capacity_gib} GiB。")
        if limits.creating_snapshots_max and self.creating >= limits.creating_snapshots_max:
            return ApiError(errors.RESOURCE_UNAVAILABLE_TOO_MANY_CREATING_SNAPSHOT,
                            f"{self.creating} snapshots are being created; try again later.",
                            f"当前有 {self.creating} 个快照正在创建，请稍后重试。")
        return None

    def take(self, disk) -> None:
        self.count += 1
        self.gib += disk.disk_size
        self.creating += self.ctx.timing.duration(CREATE) > 0


def disks_creating(ctx: Context) -> set[str]:
    """The caller's disks in the region of which a snapshot is being created."""
    return set(ctx.conn.execute(select(snapshots.c.disk_id).where(
        owned_by(snapshots, ctx.account_id, ctx.region),
        snapshots.c.snapshot_state == CREATING)).scalars())


def region_snapshot_count(ctx: Context, region: str) -> int:
    return ctx.conn.execute(select(func.count()).select_from(snapshots).where(
        owned_by(snapshots, ctx.account_id, region))).scalar_one()


def take_snapshot(ctx: Context, disk, *, name: str, deadline_at: float | None, usage: str,
                  tags: str = "[]") -> str:
    return take_snapshots(ctx, [disk], name=name, deadline_at=deadline_at, usage=usage,
                          tags=tags)[0]


def take_snapshots(ctx: Context, targets: list, *, name: str, deadline_at: float | None,
                   usage: str | None = None, tags: str = "[]",
                   policy_id: str | None = None) -> list[str]:
    """Start a snapshot of each disk (by default of its own usage): CREATING until the creation
    time has passed, or NORMAL at once under instant timing. In a few statements whatever the
    number of disks: a policy fires over thousands."""
    if not targets:
        return []
    snapshot_ids = _new_snapshot_ids(ctx, len(targets))
    duration = ctx.timing.duration(CREATE)
    done = duration <= 0
    ctx.conn.execute(insert(snapshots), [_snapshot_row(
        ctx, snapshot_id, zone=disk.zone, project_id=disk.project_id, snapshot_name=name,
        snapshot_state=NORMAL if done else CREATING, disk_id=disk.disk_id,
        disk_size=disk.disk_size, disk_usage=usage or disk.disk_usage, encrypt=bool(disk.encrypt),
        tags=tags, auto_snapshot_policy_id=policy_id, deadline_at=deadline_at,
        op_started_at=None if done else ctx.now, op_due_at=None if done else ctx.now + duration)
        for snapshot_id, disk in zip(snapshot_ids, targets)])
    _count_on_disks(ctx.conn, [(disk.disk_id, 1, disk.disk_size * MIB_PER_GIB if done else 0)
                               for disk in targets])
    moves = [dict(resource_id=s, account_id=ctx.account_id, region=ctx.region) for s in snapshot_ids]
    if deadline_at is not None:
        engine.schedule_many(ctx.conn, EXPIRE, [dict(m, due_at=deadline_at) for m in moves])
    if not done:
        engine.schedule_many(ctx.conn, CREATE, [dict(m, due_at=ctx.now + duration) for m in moves])
    return snapshot_ids


_COUNT_ON_DISK = update(disks).where(disks.c.disk_id == bindparam("b_disk")).values(
    snapshot_count=disks.c.snapshot_count + bindparam("b_count"),
    snapshot_size=disks.c.snapshot_size + bindparam("b_mib"))


def _count_on_disks(conn, changes: list[tuple[str, int, int]]) -> None:
    """Add (disk, snapshots, MiB) to the disks' SnapshotCount and SnapshotSize."""
    if changes:
        conn.execute(_COUNT_ON_DISK, [{"b_disk": d, "b_count": n, "b_mib": mib}
                                      for d, n, mib in changes])


@engine.on(CREATE)
def _created(conn, snapshot_id: str, _payload: dict, due_at: float) -> None:
    snap = conn.execute(select(snapshots).where(snapshots.c.snapshot_id == snapshot_id,
                                                snapshots.c.snapshot_state == CREATING)).first()
    if snap is None:
        return
    conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snapshot_id).values(
        snapshot_state=NORMAL, op_started_at=None, op_due_at=None))
    _count_on_disks(conn, [(snap.disk_id, 0, snap.disk_size * MIB_PER_GIB)])


@engine.on_batch(EXPIRE)
def _expired(conn, moves: list) -> None:
    """Their deadline has come: the snapshots go, unless an image still needs one [inf] or an
    operation holds it (then it goes when that ends)."""
    due = {snapshot_id: due_at for snapshot_id, _payload, due_at in moves}
    found = conn.execute(select(snapshots).where(snapshots.c.snapshot_id.in_(list(due)))).all()
    doomed = []
    for snap in found:
        if snap.deadline_at is None or snap.images != "[]":
            continue
        if snap.snapshot_state != NORMAL or snap.copying_to_regions != "[]":
            due_at = due[snap.snapshot_id]
            engine.schedule(conn, EXPIRE, resource_id=snap.snapshot_id, account_id=snap.account_id,
                            region=snap.region, due_at=max(due_at, snap.op_due_at or due_at) + 1)
        else:
            doomed.append(snap)
    remove_snapshots(conn, doomed)


def remove_snapshots(conn, rows: list) -> None:
    """Delete snapshots for good, with their pending moves and shares; their disks count them no
    more."""
    if not rows:
        return
    snapshot_ids = [r.snapshot_id for r in rows]
    conn.execute(delete(transitions).where(transitions.c.resource_id.in_(snapshot_ids)))
    conn.execute(delete(snapshots).where(snapshots.c.snapshot_id.in_(snapshot_ids)))
    _count_on_disks(conn, [(snap.disk_id, -1, -snap.disk_size * MIB_PER_GIB
                            if snap.snapshot_state != CREATING else 0)
                           for snap in rows if snap.disk_id])


# --- DescribeSnapshots -----------------------------------------------------------------------------
SNAPSHOT_FILTERS: dict[str, FilterSpec] = {
    "snapshot-id": FilterSpec("snapshot_id"),
    "snapshot-name": FilterSpec("snapshot_name"),
    "snapshot-state": FilterSpec("snapshot_state", allowed=frozenset(SNAPSHOT_STATES)),
    "disk-usage": FilterSpec("disk_usage", allowed=frozenset({ds.SYSTEM_DISK, ds.DATA_DISK})),
    "project-id": FilterSpec("project_id", parse=parse_project_id),
    "disk-id": FilterSpec("disk_id"),
    "zone": FilterSpec("zone"),
    "encrypt": FilterSpec("encrypt", parse=parse_bool),
}
_TYPE_FILTER = "snapshot-type"
_ORDERS = {False: [snapshots.c.created_at.asc(), snapshots.c.seq.asc()],
           True: [snapshots.c.created_at.desc(), snapshots.c.seq.desc()]}


def describe_snapshots(ctx: Context, req: DescribeSnapshotsRequest) -> dict:
    limit, offset = page_of(ctx, req)
    if req.SnapshotIds is not None and req.Filters is not None:
        raise errors.invalid_value("SnapshotIds", "cannot be given together with `Filters`")
    params = {"account_id": ctx.account_id, "region": ctx.region, "limit": limit, "offset": offset}
    id_count = None
    if req.SnapshotIds is not None:
        id_count = len(req.SnapshotIds)
        params.update({f"id{i}": s for i, s in enumerate(
            listed_ids(req.SnapshotIds, "SnapshotIds", MAX_IDS, ids.SNAPSHOT))})
    kinds, filters = _snapshot_types(req.Filters or ())
    shape, filter_params = compile_filters(filters, SNAPSHOT_FILTERS, "DescribeSnapshots")
    for position, (name, count) in enumerate(shape):
        if name == "disk-id" and count > DISK_ID_FILTER_MAX:
            raise errors.invalid_value(f"Filters.{position}.Values",
                                       f"filter disk-id takes at most {DISK_ID_FILTER_MAX} values")
    params.update(filter_params)
    # Named snapshots are found by their IDs whoever owns them; a listing of every snapshot walks
    # the caller's own in order, unless some are shared with it.
    if SHARED in kinds and id_count is None and not _receives_shares(ctx):
        kinds = kinds - {SHARED}
    if not kinds:  # snapshot-type asked for what the caller has none of
        return {"TotalCount": 0, "SnapshotSet": []}
    page, count = _describe_queries(id_count, shape, frozenset(kinds), req.Order == "DESC")
    rows = page.rows(ctx.conn, **params)
    total = page_total(rows, limit, offset, lambda: count.scalar(ctx.conn, **params))
    return {"TotalCount": total,
            "SnapshotSet": [snapshot_json(r, viewer=ctx.account_id, percent=percent(r, ctx.now))
                            for r in rows]}


def _snapshot_types(filters) -> tuple[frozenset, list]:
    """The snapshot-type filter chooses whose snapshots are listed; the others filter them."""
    kinds, rest = {PRIVATE, SHARED}, []
    for position, flt in enumerate(filters):
        if flt.Name != _TYPE_FILTER:
            rest.append(flt)
            continue
        for value in flt.Values:
            if value not in (PRIVATE, SHARED):
                raise errors.invalid_value(f"Filters.{position}.Values",
                                           f"{value!r} is not PRIVATE_SNAPSHOT or SHARED_SNAPSHOT")
        kinds &= set(flt.Values)
    return frozenset(kinds), rest


_RECEIVES_SHARES = Prepared(select(snapshot_shares.c.snapshot_id).where(
    snapshot_shares.c.shared_with == bindparam("account_id"),
    snapshot_shares.c.region == bindparam("region")).limit(1))


def _receives_shares(ctx: Context) -> bool:
    """Most accounts receive no shares: their listing then walks their own snapshots in order."""
    return _RECEIVES_SHARES.scalar(ctx.conn, account_id=ctx.account_id, region=ctx.region) is not None


_DESCRIBE_QUERIES: dict[tuple, tuple[Prepared, Prepared]] = {}


def _describe_queries(id_count, shape, kinds: frozenset, descending: bool):
    key = (id_count, shape, kinds, descending)
    found = _DESCRIBE_QUERIES.get(key)
    if found is not None:
        return found
    account, region = bindparam("account_id"), bindparam("region")
    scopes = []
    if PRIVATE in kinds:
        scopes.append(owned_by(snapshots, account, region))
    if SHARED in kinds:
        scopes.append(_shared_with(account, region))
    where = [or_(*scopes)]
    if id_count is not None:
        where.append(snapshots.c.snapshot_id.in_([bindparam(f"id{i}") for i in range(id_count)]))
    where.extend(filter_conditions(shape, snapshots, SNAPSHOT_FILTERS))
    page = Prepared(select(snapshots).where(*where).order_by(*_ORDERS[descending])
                    .limit(bindparam("limit")).offset(bindparam("offset")))
    census = filter_conditions(shape, snapshot_census, SNAPSHOT_FILTERS)
    if id_count is None and kinds == {PRIVATE} and census is not None:
        # TotalCount from the census: a SUM over a few rows, whatever the number of snapshots.
        count = Prepared(select(sum_or_zero(snapshot_census.c.n)).where(
            owned_by(snapshot_census, account, region), *census))
    else:
        count = Prepared(select(func.count()).select_from(snapshots).where(*where))
    if len(_DESCRIBE_QUERIES) >= 1024:
        _DESCRIBE_QUERIES.clear()
    _DESCRIBE_QUERIES[key] = (page, count)
    return page, count


# --- DeleteSnapshots -------------------------------------------------------------------------------
def delete_snapshots(ctx: Context, req: DeleteSnapshotsRequest) -> dict:
    snapshot_ids = checked_ids(req.SnapshotIds, "SnapshotIds", MAX_IDS, prefix=ids.SNAPSHOT)
    targets = load_snapshots(ctx, snapshot_ids)
    for snap in targets:
        require_own(ctx, snap)
        if snap.share_reference:
            raise not_supported(snap.snapshot_id, "the snapshot is shared with other accounts; "
                                "cancel the sharing first.", "快照已共享给其他账号，请先取消共享。")
        if snap.snapshot_state == ROLLBACKING or snap.copying_to_regions != "[]":
            doing = "rolling a disk back" if snap.snapshot_state == ROLLBACKING else "being copied"
            raise refuse(errors.RESOURCE_BUSY, snap.snapshot_id, f"the snapshot is {doing}.",
                         "快照正在被使用（回滚或复制中）。")
        require_normal(snap)
    bound_images = images_of_snapshots(ctx.conn, snapshot_ids)
    if bound_images and not req.DeleteBindImages:
        snapshot_id = next(s.snapshot_id for s in targets if s.images != "[]")
        raise refuse(errors.UNSUPPORTED_OPERATION_SNAPSHOT_HAS_BINDED_IMAGE, snapshot_id,
                     "custom images are built on the snapshot; delete them first or set "
                     "DeleteBindImages.", "快照已关联自定义镜像，请先删除镜像或指定 DeleteBindImages。")
    delete_images(ctx.conn, bound_images, ctx.now)
    remove_snapshots(ctx.conn, targets)
    return {}


# --- ModifySnapshotAttribute -----------------------------------------------------------------------
def modify_snapshot_attribute(ctx: Context, req: ModifySnapshotAttributeRequest) -> dict:
    if req.IsPermanent is None and req.SnapshotName is None and req.Deadline is None:
        raise ApiError(errors.MISSING_PARAMETER,
                       "Give at least one of IsPermanent, SnapshotName, Deadline.",
                       "请至少指定 IsPermanent、SnapshotName、Deadline 之一。")
    checked_snapshot_id(req.SnapshotId)
    values = {"modified_at": ctx.now}
    if req.SnapshotName is not None:
        values["snapshot_name"] = _name(req.SnapshotName, "SnapshotName", "")
    if req.IsPermanent:  # a Deadline beside it is ignored, as the documentation says
        values["deadline_at"] = None
    elif req.Deadline is not None:
        values["deadline_at"] = _deadline(ctx, req.Deadline)
    snap = load_snapshots(ctx, [req.SnapshotId])[0]
    require_own(ctx, snap)
    require_normal(snap)
    if req.IsPermanent is False and req.Deadline is None and snap.deadline_at is None:
        raise errors.missing_parameter("Deadline")  # when it should stop being permanent
    ctx.conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snap.snapshot_id)
                     .values(**values))
    if "deadline_at" in values:
        _expire_at(ctx.conn, snap.snapshot_id, ctx.account_id, ctx.region, values["deadline_at"])
    return {}


# --- ApplySnapshot ---------------------------------------------------------------------------------
def apply_snapshot(ctx: Context, req: ApplySnapshotRequest) -> dict:
    checked_snapshot_id(req.SnapshotId)
    if not ids.is_resource_id(ids.DISK, req.DiskId):
        raise errors.invalid_value("DiskId", f"{req.DiskId!r} is not a disk ID")
    if req.AutoStartInstance and not req.AutoStopInstance:
        raise errors.invalid_value("AutoStartInstance", "needs AutoStopInstance=true")
    snap = load_snapshots(ctx, [req.SnapshotId])[0]
    disk = load_disks(ctx, [req.DiskId])[0]
    attached_to = disk.instance_id or None
    if (req.AutoStopInstance or req.AutoStartInstance) and attached_to is None:
        raise errors.invalid_value("AutoStopInstance", "is only for a disk attached to an instance")
    require_own(ctx, snap)
    require_normal(snap)
    if snap.disk_size > disk.disk_size:
        raise ApiError(errors.INVALID_PARAMETER_DISK_SIZE_NOT_MATCH,
                       f"The snapshot holds {snap.disk_size} GiB; the disk has {disk.disk_size} GiB.",
                       f"快照大小 {snap.disk_size} GiB 大于云硬盘大小 {disk.disk_size} GiB。")
    if snap.disk_id != disk.disk_id:
        source = snap.disk_id or "a disk of another region"
        raise not_supported(snap.snapshot_id, f"the snapshot was taken of {source}; a disk can "
                            "only be rolled back to its own snapshots.", "只能回滚到云硬盘自身的快照。")
    not_expired(disk, errors.INVALID_DISK_NOT_SUPPORTED)
    not_recycled(disk)
    if ds.is_busy(disk):
        raise ds.busy(disk, errors.INVALID_DISK_BUSY)
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
    instance = cvm.find_instances(ctx, [instance_id])[instance_id]
    if instance.instance_state == cvm.STOPPED:
        return 0.0
    if instance.instance_state != cvm.RUNNING:
        raise ApiError(errors.INVALID_INSTANCE_NOT_SUPPORTED,
                       f"The instance {instance_id} is {instance.instance_state}.",
                       f"实例 {instance_id} 处于 {instance.instance_state} 状态。")
    if not auto_stop:
        raise ApiError(errors.UNSUPPORTED_OPERATION_INSTANCE_NOT_STOPPED,
                       f"Stop the instance {instance_id} first, or set AutoStopInstance.",
                       f"请先关闭实例 {instance_id}，或指定 AutoStopInstance。")
    duration = ctx.timing.duration("instance.stop")
    cvm.begin_move(ctx, instance_id, cvm.RUNNING, cvm.STOPPING, "StopInstances", "instance.stop",
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
        if instance is not None and instance.instance_state == cvm.STOPPED:
            cvm.begin_move(ctx, instance.instance_id, cvm.STOPPED, cvm.STARTING, "StartInstances",
                           "instance.start", ctx.timing.duration("instance.start"))


# --- sharing ---------------------------------------------------------------------------------------
_PERMISSIONS = ("SHARE", "CANCEL")


def _invalid(field: str, why: str) -> ApiError:
    """This action's list has InvalidParameter where others have InvalidParameterValue."""
    return ApiError(errors.INVALID_PARAMETER, f"The value of `{field}` is invalid: {why}.",
                    f"参数 `{field}` 取值错误：{why}。")


def modify_snapshots_share_permission(ctx: Context, req: ModifySnapshotsSharePermissionRequest) -> dict:
    if req.Permission not in _PERMISSIONS:
        raise _invalid("Permission", "must be SHARE or CANCEL")
    for position, account in enumerate(req.AccountIds):
        if not (account.isascii() and account.isdigit()):
            raise _invalid(f"AccountIds.{position}", f"{account!r} is not an account ID")
        if account == ctx.account_id:
            raise _invalid(f"AccountIds.{position}", "a snapshot cannot be shared with its owner")
    for position, snapshot_id in enumerate(req.SnapshotIds):
        if not ids.is_resource_id(ids.SNAPSHOT, snapshot_id):
            raise _invalid(f"SnapshotIds.{position}", f"{snapshot_id!r} is not a snapshot ID")
    accounts = list(dict.fromkeys(req.AccountIds))
    targets = load_snapshots(ctx, list(dict.fromkeys(req.SnapshotIds)))
    for snap in targets:
        require_own(ctx, snap)
        if snap.disk_usage == ds.SYSTEM_DISK or snap.encrypt:
            kind = "a system-disk" if snap.disk_usage == ds.SYSTEM_DISK else "an encrypted"
            raise not_supported(snap.snapshot_id, f"{kind} snapshot cannot be shared.",
                                "系统盘快照和加密快照不支持共享。")
        require_normal(snap)
    for snap in targets:
        if req.Permission == "SHARE":
            _share(ctx, snap, accounts)
        else:
            _unshare(ctx, snap, accounts)
    return {}


def _shared_accounts(conn, snapshot_id: str) -> set[str]:
    return set(conn.execute(select(snapshot_shares.c.shared_with).where(
        snapshot_shares.c.snapshot_id == snapshot_id)).scalars())


def _share(ctx: Context, snap, accounts: list[str]) -> None:
    have = _shared_accounts(ctx.conn, snap.snapshot_id)
    new = [a for a in accounts if a not in have]
    cap = ctx.topology.limits.snapshot_share_accounts_max
    if len(have) + len(new) > cap:
        raise ApiError(errors.RESOURCE_INSUFFICIENT_OVER_QUOTA,
                       f"{snap.snapshot_id} is shared with {len(have)} accounts; at most {cap}.",
                       f"快照 {snap.snapshot_id} 已共享给 {len(have)} 个账号，最多 {cap} 个。")
    if not new:
        return
    ctx.conn.execute(insert(snapshot_shares), [
        dict(snapshot_id=snap.snapshot_id, shared_with=a, account_id=ctx.account_id,
             region=ctx.region, created_at=ctx.now) for a in new])
    ctx.conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snap.snapshot_id).values(
        share_reference=len(have) + len(new), modified_at=ctx.now,
        time_start_share=snap.time_start_share if snap.time_start_share is not None else ctx.now))


def _unshare(ctx: Context, snap, accounts: list[str]) -> None:
    ctx.conn.execute(delete(snapshot_shares).where(snapshot_shares.c.snapshot_id == snap.snapshot_id,
                                                   snapshot_shares.c.shared_with.in_(accounts)))
    left = len(_shared_accounts(ctx.conn, snap.snapshot_id))
    ctx.conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snap.snapshot_id).values(
        share_reference=left, modified_at=ctx.now))


def describe_snapshot_share_permission(ctx: Context, req: DescribeSnapshotSharePermissionRequest) -> dict:
    checked_snapshot_id(req.SnapshotId)
    snap = load_snapshots(ctx, [req.SnapshotId], shared=False)[0]
    rows = ctx.conn.execute(select(snapshot_shares).where(
        snapshot_shares.c.snapshot_id == snap.snapshot_id)
        .order_by(snapshot_shares.c.created_at, snapshot_shares.c.shared_with)).all()
    return {"SharePermissionSet": [{"CreatedTime": format_time(r.created_at),
                                    "AccountId": r.shared_with} for r in rows]}


# --- CopySnapshotCrossRegions ----------------------------------------------------------------------
def copy_snapshot_cross_regions(ctx: Context, req: CopySnapshotCrossRegionsRequest) -> dict:
    if req.SnapshotId is None:
        raise errors.missing_parameter("SnapshotId")
    checked_snapshot_id(req.SnapshotId)
    regions = _destinations(ctx, req.DestinationRegions)
    name = _name(req.SnapshotName, "SnapshotName", f"Copied {req.SnapshotId} from {ctx.region}")
    snap = load_snapshots(ctx, [req.SnapshotId])[0]
    require_own(ctx, snap)
    require_normal(snap)
    if snap.encrypt:
        raise not_supported(snap.snapshot_id, "an encrypted snapshot cannot be copied to another "
                            "region.", "加密快照不支持跨地域复制。")
    copying = orjson.loads(snap.copying_to_regions)
    for region in regions:
        if region in copying:
            raise refuse(errors.RESOURCE_IN_USE, snap.snapshot_id,
                         f"the snapshot is already being copied to {region}.",
                         f"快照正在复制到 {region}。")
    results = [_copy_to(ctx, snap, region, name) for region in regions]
    started = [r["DestinationRegion"] for r in results if r["Code"] == "Success"]
    if started:
        ctx.conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snap.snapshot_id).values(
            copying_to_regions=orjson.dumps(copying + started).decode()))
    return {"SnapshotCopyResultSet": results}


def _destinations(ctx: Context, regions: list[str]) -> list[str]:
    for position, region in enumerate(regions):
        field = f"DestinationRegions.{position}"
        if region not in ctx.topology.regions:
            raise errors.invalid_value(field, f"{region!r} is not a region with snapshots")
        if region == ctx.region:
            raise errors.invalid_value(field, "must differ from the snapshot's own region")
        if region in regions[:position]:
            raise errors.invalid_value(field, f"{region} is given twice")
    return regions


def _copy_to(ctx: Context, snap, region: str, name: str) -> dict:
    """One destination: a new snapshot there, COPYING_FROM_REMOTE until the copy is done; or the
    reason it could not start, in the result (not as the request's error)."""
    quota = ctx.topology.limits.snapshots_per_region
    if quota and region_snapshot_count(ctx, region) >= quota:
        return {"SnapshotId": "", "DestinationRegion": region,
                "Code": errors.INSUFFICIENT_SNAPSHOT_QUOTA.code,
                "Message": f"The account has {quota} snapshots in {region}, its quota."}
    copy_id = _new_snapshot_ids(ctx, 1)[0]
    duration = ctx.timing.duration(COPY)
    zone = min(z.name for z in ctx.topology.zones.values() if z.region == region)
    ctx.conn.execute(insert(snapshots).values(_snapshot_row(
        ctx, copy_id, region=region, zone=zone, snapshot_name=name, snapshot_state=COPYING,
        disk_id="", disk_size=snap.disk_size, disk_usage=snap.disk_usage, encrypt=bool(snap.encrypt),
        copy_from_remote=True, op_started_at=ctx.now, op_due_at=ctx.now + duration)))
    engine.later(ctx.conn, COPY, resource_id=copy_id, account_id=ctx.account_id, region=region,
                 now=ctx.now, duration=duration,
                 payload={"source": snap.snapshot_id, "region": region})
    return {"SnapshotId": copy_id, "DestinationRegion": region, "Code": "Success", "Message": ""}


@engine.on(COPY)
def _copied(conn, copy_id: str, payload: dict, due_at: float) -> None:
    """The bytes have arrived: the source is no longer being copied there; the copy is checked."""
    source = conn.execute(select(snapshots.c.copying_to_regions).where(
        snapshots.c.snapshot_id == payload["source"])).first()
    if source is not None:
        left = [r for r in orjson.loads(source.copying_to_regions) if r != payload["region"]]
        conn.execute(update(snapshots).where(snapshots.c.snapshot_id == payload["source"])
                     .values(copying_to_regions=orjson.dumps(left).decode()))
    copy = conn.execute(select(snapshots).where(snapshots.c.snapshot_id == copy_id,
                                                snapshots.c.snapshot_state == COPYING)).first()
    if copy is None:
        return
    duration = engine.environment(conn).timing.duration(CHECK)
    conn.execute(update(snapshots).where(snapshots.c.snapshot_id == copy_id).values(
        snapshot_state=CHECKING, op_due_at=due_at + duration))
    engine.later(conn, CHECK, resource_id=copy_id, account_id=copy.account_id, region=copy.region,
                 now=due_at, duration=duration)


def forget_lost_copies(conn) -> None:
    """After a reset removed copies in flight (their region or account went), their sources are
    being copied there no more: CopyingToRegions follows the copy moves still pending."""
    pending = {}
    for move in conn.execute(select(transitions.c.payload).where(transitions.c.kind == COPY)):
        payload = orjson.loads(move.payload)
        pending.setdefault(payload["source"], set()).add(payload["region"])
    for snap in conn.execute(select(snapshots.c.snapshot_id, snapshots.c.copying_to_regions).where(
            snapshots.c.copying_to_regions != "[]")).all():
        left = [r for r in orjson.loads(snap.copying_to_regions) if r in pending.get(snap.snapshot_id, ())]
        conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snap.snapshot_id)
                     .values(copying_to_regions=orjson.dumps(left).decode()))


@engine.on(CHECK)
def _checked(conn, copy_id: str, _payload: dict, _due_at: float) -> None:
    conn.execute(update(snapshots).where(snapshots.c.snapshot_id == copy_id,
                                         snapshots.c.snapshot_state == CHECKING)
                 .values(snapshot_state=NORMAL, op_started_at=None, op_due_at=None))


# --- DescribeSnapshotOverview / GetSnapOverview ----------------------------------------------------
def describe_snapshot_overview(ctx: Context, _req) -> dict:
    count, size = ctx.conn.execute(select(func.count(), sum_or_zero(snapshots.c.disk_size))
                                   .where(owned_by(snapshots, ctx.account_id, ctx.region))).one()
    free = float(ctx.topology.limits.snapshot_free_quota_gib)
    return {"TotalNums": count, "TotalSize": float(size), "FreeQuota": free,
            "RealTradeSize": max(0.0, float(size) - free)}


# --- images built on snapshots (the CVM image calls, cvm/images.py) --------------------------------
def images_of_snapshots(conn, snapshot_ids: list[str]) -> list[str]:
    """The images built on any of the snapshots."""
    if not snapshot_ids:
        return []
    return list(dict.fromkeys(conn.execute(select(image_snapshots.c.image_id).where(
        image_snapshots.c.snapshot_id.in_(snapshot_ids)).order_by(image_snapshots.c.image_id))
        .scalars()))


def delete_images(conn, image_ids: list[str], now: float) -> None:
    """Delete images; the snapshots they were built on list them no more, and one whose Deadline
    passed while an image needed it goes now."""
    if not image_ids:
        return
    touched = list(conn.execute(select(image_snapshots.c.snapshot_id).where(
        image_snapshots.c.image_id.in_(image_ids))).scalars())
    conn.execute(delete(transitions).where(transitions.c.resource_id.in_(image_ids)))
    conn.execute(delete(images).where(images.c.image_id.in_(image_ids)))  # links go with them
    refresh_snapshot_images(conn, touched)
    for snap in conn.execute(select(snapshots).where(
            snapshots.c.snapshot_id.in_(touched), snapshots.c.images == "[]",
            snapshots.c.deadline_at.is_not(None))).all():
        _expire_at(conn, snap.snapshot_id, snap.account_id, snap.region, max(snap.deadline_at, now))


def refresh_snapshot_images(conn, snapshot_ids: list[str]) -> None:
    """Write each snapshot's Images list again from the links (snapshots.images shows them)."""
    for snapshot_id in dict.fromkeys(snapshot_ids):
        rows = conn.execute(select(images.c.image_id, images.c.image_name)
                            .join(image_snapshots, image_snapshots.c.image_id == images.c.image_id)
                            .where(image_snapshots.c.snapshot_id == snapshot_id)
                            .order_by(images.c.seq)).all()
        listed = [{"ImageId": r.image_id, "ImageName": r.image_name} for r in rows]
        conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snapshot_id)
                     .values(images=orjson.dumps(listed).decode()))
