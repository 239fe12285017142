"""Snapshots: CreateSnapshot, DescribeSnapshots, DeleteSnapshots, ModifySnapshotAttribute and the
overview (cbs-behavior.md §3.16-3.24, §4.2, §5.2, §6.8); rollback (rollback.py), sharing
(snapshot_sharing.py) and cross-region copies (snapshot_copies.py) build on what is here.

A snapshot belongs to one account and region; an account it is shared with sees it too, as a
SHARED_SNAPSHOT it can only make disks from. Creation, rollback and copies take time on the
clock; a Deadline is a move the engine applies when it comes.
"""

from __future__ import annotations

import orjson
from sqlalchemy import bindparam, delete, func, or_, select, update

from cbslocal import ids
from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.api.errors import ApiError
from cbslocal.api.rendered import rendered_set
from cbslocal.api.snapshot_schema import (SNAPSHOT_STATES, CreateSnapshotRequest,
                                          DeleteSnapshotsRequest, DescribeSnapshotsRequest,
                                          ModifySnapshotAttributeRequest, snapshot_json)
from cbslocal.billing import ledger
from cbslocal.billing import usage as hourly_charges  # (`usage`: a disk's, in this module)
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs.disk_state import checked_ids, listed_ids, load_disks
from cbslocal.cbs.resources import page_of, page_total, unnamed, validate_tags
from cbslocal.cbs.filters import (FilterSpec, compile_filters, filter_conditions, parse_bool,
                                  parse_project_id)
from cbslocal.cbs.disk_state import not_expired, not_recycled
from cbslocal.api.cbs_schema import progress
from cbslocal.engine import transitions as engine
from cbslocal.engine.clock import LATEST, format_time, parse_iso
from cbslocal.store.prepared import (Prepared, PreparedInsert, delete_where_in, in_list, listed,
                                     new_ids, shaped, sum_or_zero)
from cbslocal.store.scope import owned_by
from cbslocal.store.tables import (disks, image_snapshots, images, snapshot_census,
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
def checked_snapshot_id(value: str, field: str = "SnapshotId") -> str:
    if not ids.is_resource_id(ids.SNAPSHOT, value):
        raise msg.ID_MALFORMED(field=field, value=value)
    return value


def shared_with(account_id, region):
    return snapshots.c.snapshot_id.in_(select(snapshot_shares.c.snapshot_id).where(
        snapshot_shares.c.shared_with == account_id, snapshot_shares.c.region == region)
        .scalar_subquery())


def load_snapshots(ctx: Context, snapshot_ids: list[str], *, shared: bool = True) -> list:
    """The named snapshots the caller can see (its own; and, when `shared`, those shared to it),
    in the request's order; InvalidSnapshotId.NotFound names the first it cannot."""
    def build():
        account, region = bindparam("account"), bindparam("region")
        visible = owned_by(snapshots, account, region)
        if shared:
            visible = or_(visible, shared_with(account, region))
        return select(snapshots).where(in_list(snapshots.c.snapshot_id, len(snapshot_ids)),
                                       visible)
    query = shaped(("snapshots.load", len(snapshot_ids), shared), build)
    rows = {row.snapshot_id: row for row in query.rows(
        ctx.conn, account=ctx.account_id, region=ctx.region, **listed(snapshot_ids))}
    for snapshot_id in snapshot_ids:
        if snapshot_id not in rows:
            raise msg.SNAPSHOT_NOT_FOUND(snapshot_id=snapshot_id)
    return [rows[s] for s in snapshot_ids]


def require_own(ctx: Context, snap) -> None:
    """Only the owner may change a snapshot; an account it is shared with may only use it."""
    if snap.account_id != ctx.account_id:
        raise msg.SNAPSHOT_SHARED_TO_YOU(snapshot_id=snap.snapshot_id)


def require_normal(snap) -> None:
    if snap.snapshot_state != NORMAL:
        raise msg.SNAPSHOT_NOT_NORMAL(snapshot_id=snap.snapshot_id, state=snap.snapshot_state)


_IN_PROGRESS = (CREATING, COPYING, CHECKING)


def percent(snap, now: float) -> int:
    """Creation progress: it runs over the creation window and stays 100 afterwards."""
    if snap.snapshot_state in _IN_PROGRESS:
        return progress(snap.op_started_at, snap.op_due_at, now) if snap.op_due_at else 0
    return 100


def percent_fixed(snap) -> bool:
    """The snapshot's object is the same at any time (its Percent is not running)."""
    return snap.snapshot_state not in _IN_PROGRESS


def checked_name(value: str | None, field: str, default: str) -> str:
    if value is None:
        return default
    if len(value) > NAME_MAX:
        raise msg.TEXT_TOO_LONG(field=field, max=NAME_MAX)
    return value


def _deadline(ctx: Context, value: str, field: str = "Deadline") -> float:
    try:
        deadline = parse_iso(value)
    except ValueError:
        raise msg.TIME_NOT_ISO_8601(field=field, value=value) from None
    if deadline < ctx.now + DAY:
        raise msg.DEADLINE_TOO_SOON(field=field)
    if deadline > LATEST:  # a time the API could not show
        raise msg.DEADLINE_TOO_LATE(field=field, latest=format_time(LATEST))
    return deadline


def _expire_at(conn, snap_id: str, account_id: str, region: str, deadline_at: float | None) -> None:
    """(Re)schedule the snapshot's deletion at its deadline; none for a permanent one."""
    engine.reschedule(conn, EXPIRE, resource_id=snap_id, account_id=account_id, region=region,
                      due_at=deadline_at)


def new_snapshot_ids(ctx: Context, count: int) -> list[str]:
    return new_ids(ctx.conn, ids.SNAPSHOT, snapshots.c.snapshot_id, count)


def snapshot_row(ctx: Context, snapshot_id: str, **values) -> dict:
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
            raise msg.DISK_BACKUP_NOT_FOUND(backup_id=req.DiskBackupId)
        raise msg.PARAMETER_MISSING(field="DiskId")
    name = checked_name(req.SnapshotName, "SnapshotName", unnamed(ctx))
    deadline = None if req.Deadline is None else _deadline(ctx, req.Deadline)
    validate_tags(req.Tags or [], ctx.topology.limits.tags_per_resource)
    if not ids.is_resource_id(ids.DISK, req.DiskId):
        raise msg.ID_MALFORMED(field="DiskId", value=req.DiskId)
    disk = load_disks(ctx, [req.DiskId])[0]
    refusal = snapshot_refusal(ctx, disk, req.DiskUsage)
    if refusal is not None:
        raise refusal
    if req.LocalSnap:
        raise msg.LOCAL_SNAPSHOT_NOT_ALLOWED()
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
        return msg.DISK_CANNOT_SNAPSHOT(disk_id=disk.disk_id)
    if usage == ds.SYSTEM_DISK and disk.disk_usage != ds.SYSTEM_DISK:
        return msg.DATA_DISK_NO_SYSTEM_SNAPSHOT(disk_id=disk.disk_id)
    try:
        not_expired(disk, msg.DISK_EXPIRED_NOT_SUPPORTED)
        not_recycled(disk)
    except ApiError as refusal:
        return refusal
    if disk.disk_state == ds.ROLLBACKING:
        return ds.busy(disk, msg.DISK_BUSY_IN_USE)
    if ds.is_busy(disk):
        return ds.busy(disk, msg.DISK_BUSY_INVALID_DISK)
    if creating:
        return ds.snapshot_creating_refusal(disk)
    if disk.encrypt and not ctx.topology.limits.encrypted_snapshots:
        return msg.ENCRYPTED_DISK_NO_SNAPSHOT(disk_id=disk.disk_id)
    return None


class QuotaUse:
    """The quotas snapshots count against and the account's arrears (steps 10-12), read once: a
    policy firing over thousands of disks takes each snapshot into account as it goes."""

    def __init__(self, ctx: Context):
        self.ctx, self.limits = ctx, ctx.topology.limits
        self.count = region_snapshot_count(ctx, ctx.region) if self.limits.snapshots_per_region else 0
        self.gib = ctx.conn.execute(select(sum_or_zero(snapshots.c.disk_size)).where(
            owned_by(snapshots, ctx.account_id, ctx.region))).scalar_one() \
            if self.limits.snapshot_capacity_gib else 0
        self.creating = ctx.conn.execute(select(func.count()).select_from(snapshots).where(
            snapshots.c.snapshot_state == CREATING)).scalar_one() \
            if self.limits.creating_snapshots_max else 0
        self.in_arrears = ledger.arrears_refusal(ctx)  # step 11 (snapshots are billed)

    def refusal(self, disk) -> ApiError | None:
        limits, region = self.limits, self.ctx.region
        if disk.snapshot_count >= limits.snapshots_per_disk:
            return msg.DISK_SNAPSHOTS_FULL(disk_id=disk.disk_id, count=disk.snapshot_count)
        if limits.snapshots_per_region and self.count >= limits.snapshots_per_region:
            return msg.SNAPSHOT_REGION_QUOTA_FULL(count=self.count, region=region,
                                                  quota=limits.snapshots_per_region)
        if limits.snapshot_capacity_gib and self.gib + disk.disk_size > limits.snapshot_capacity_gib:
            return msg.SNAPSHOT_CAPACITY_QUOTA_FULL(
                region=region, used=self.gib, disk_id=disk.disk_id, size=disk.disk_size,
                quota=limits.snapshot_capacity_gib)
        if self.in_arrears is not None:
            return self.in_arrears
        if limits.creating_snapshots_max and self.creating >= limits.creating_snapshots_max:
            return msg.TOO_MANY_SNAPSHOTS_CREATING(count=self.creating)
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
    snapshot_ids = new_snapshot_ids(ctx, len(targets))
    duration = ctx.timing.duration(CREATE)
    done = duration <= 0
    _INSERT_SNAPSHOTS.run(ctx.conn, [snapshot_row(
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
    hourly_charges.bill_from(ctx.conn, ctx.account_id, ctx.now)  # storage is charged hourly
    return snapshot_ids


_INSERT_SNAPSHOTS = PreparedInsert(snapshots)
_COUNT_ON_DISK = Prepared(update(disks).where(disks.c.disk_id == bindparam("b_disk")).values(
    snapshot_count=disks.c.snapshot_count + bindparam("b_count"),
    snapshot_size=disks.c.snapshot_size + bindparam("b_mib")))


def _count_on_disks(conn, changes: list[tuple[str, int, int]]) -> None:
    """Add (disk, snapshots, MiB) to the disks' SnapshotCount and SnapshotSize."""
    _COUNT_ON_DISK.run_many(conn, [{"b_disk": d, "b_count": n, "b_mib": mib}
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
    delete_where_in(conn, transitions.c.resource_id, snapshot_ids)
    delete_where_in(conn, snapshots.c.snapshot_id, snapshot_ids)
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
        raise msg.GIVEN_WITH_FILTERS(field="SnapshotIds")
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
            raise msg.FILTER_VALUES_TOO_MANY(field=f"Filters.{position}.Values", name=name,
                                             max=DISK_ID_FILTER_MAX)
    params.update(filter_params)
    # Named snapshots are found by their IDs whoever owns them; a listing of every snapshot walks
    # the caller's own in order, unless some are shared with it.
    if SHARED in kinds and id_count is None and not _receives_shares(ctx):
        kinds = kinds - {SHARED}
    if not kinds:  # snapshot-type asked for what the caller has none of
        return {"TotalCount": 0, "SnapshotSet": []}
    page, count = _describe_queries(id_count, shape, frozenset(kinds), req.Order == "DESC")
    keys = page.rows(ctx.conn, **params)
    total = page_total(keys, limit, offset, lambda: count.scalar(ctx.conn, **params))
    return {"TotalCount": total,
            "SnapshotSet": rendered_set(
                ctx.rendered, keys, ctx.account_id,  # (the viewer: its own, or shared to it)
                lambda snapshot_ids: _snapshots_by_id(ctx.conn, snapshot_ids),
                lambda row: snapshot_json(row, viewer=ctx.account_id, percent=percent(row, ctx.now)),
                percent_fixed)}


def _snapshots_by_id(conn, snapshot_ids: list[str]) -> dict:
    query = shaped(("snapshots.by_id", len(snapshot_ids)), lambda: select(snapshots).where(
        in_list(snapshots.c.snapshot_id, len(snapshot_ids))))
    return {row.snapshot_id: row for row in query.rows(conn, **listed(snapshot_ids))}


def _snapshot_types(filters) -> tuple[frozenset, list]:
    """The snapshot-type filter chooses whose snapshots are listed; the others filter them."""
    kinds, rest = {PRIVATE, SHARED}, []
    for position, flt in enumerate(filters):
        if flt.Name != _TYPE_FILTER:
            rest.append(flt)
            continue
        for value in flt.Values:
            if value not in (PRIVATE, SHARED):
                raise msg.SNAPSHOT_TYPE_UNKNOWN(field=f"Filters.{position}.Values", value=value)
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
        scopes.append(shared_with(account, region))
    where = [or_(*scopes)]
    if id_count is not None:
        where.append(snapshots.c.snapshot_id.in_([bindparam(f"id{i}") for i in range(id_count)]))
    where.extend(filter_conditions(shape, snapshots, SNAPSHOT_FILTERS))
    # The page's IDs and row versions: the objects come from api/rendered.py or their rows.
    page = Prepared(select(snapshots.c.snapshot_id, snapshots.c.version).where(*where)
                    .order_by(*_ORDERS[descending])
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
            raise msg.SNAPSHOT_SHARED_WITH_OTHERS(snapshot_id=snap.snapshot_id)
        if snap.snapshot_state == ROLLBACKING or snap.copying_to_regions != "[]":
            busy = (msg.SNAPSHOT_ROLLING_BACK if snap.snapshot_state == ROLLBACKING
                    else msg.SNAPSHOT_BEING_COPIED)
            raise busy(snapshot_id=snap.snapshot_id)
        require_normal(snap)
    bound_images = images_of_snapshots(ctx.conn, snapshot_ids)
    if bound_images and not req.DeleteBindImages:
        snapshot_id = next(s.snapshot_id for s in targets if s.images != "[]")
        raise msg.SNAPSHOT_HAS_IMAGES(snapshot_id=snapshot_id)
    delete_images(ctx.conn, bound_images, ctx.now)
    remove_snapshots(ctx.conn, targets)
    return {}


# --- ModifySnapshotAttribute -----------------------------------------------------------------------
def modify_snapshot_attribute(ctx: Context, req: ModifySnapshotAttributeRequest) -> dict:
    if req.IsPermanent is None and req.SnapshotName is None and req.Deadline is None:
        raise msg.SNAPSHOT_ATTRIBUTE_NOTHING_GIVEN()
    checked_snapshot_id(req.SnapshotId)
    values = {"modified_at": ctx.now}
    if req.SnapshotName is not None:
        values["snapshot_name"] = checked_name(req.SnapshotName, "SnapshotName", "")
    if req.IsPermanent:  # a Deadline beside it is ignored, as the documentation says
        values["deadline_at"] = None
    elif req.Deadline is not None:
        values["deadline_at"] = _deadline(ctx, req.Deadline)
    snap = load_snapshots(ctx, [req.SnapshotId])[0]
    require_own(ctx, snap)
    require_normal(snap)
    if req.IsPermanent is False and req.Deadline is None and snap.deadline_at is None:
        raise msg.PARAMETER_MISSING(field="Deadline")  # when it should stop being permanent
    ctx.conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snap.snapshot_id)
                     .values(**values))
    if "deadline_at" in values:
        _expire_at(ctx.conn, snap.snapshot_id, ctx.account_id, ctx.region, values["deadline_at"])
    return {}


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
    query = shaped(("snapshots.images", len(snapshot_ids)), lambda: select(
        image_snapshots.c.image_id).where(in_list(image_snapshots.c.snapshot_id, len(snapshot_ids)))
        .order_by(image_snapshots.c.image_id))
    return list(dict.fromkeys(row.image_id for row in query.rows(conn, **listed(snapshot_ids))))


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
