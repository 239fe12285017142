"""What every disk operation shares: the states (cbs-behavior.md §5.1), loading the disks a
request names, and moving them with compare-and-swap so that two racing operations on one disk
can never both win."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from cbslocal import ids
from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.api.errors import ApiError, Detail
from cbslocal.billing import usage
from cbslocal.billing.prices import POSTPAID, PREPAID  # noqa: F401  (the charge types)
from cbslocal.config_schema import PREPAID_PERIODS  # noqa: F401  (months; the domain's name for it)
from cbslocal.store.prepared import Prepared, delete_where_in, in_list, listed, shaped, sum_or_zero
from cbslocal.store.scope import owned_by
from cbslocal.store.tables import disks, snapshots, transitions

# Internal: the disk is being created and is not listed yet (there is no CREATING DiskState).
PROVISIONING = "PROVISIONING"
UNATTACHED, ATTACHING, ATTACHED, DETACHING = "UNATTACHED", "ATTACHING", "ATTACHED", "DETACHING"
EXPANDING, ROLLBACKING, TORECYCLE, DUMPING = "EXPANDING", "ROLLBACKING", "TORECYCLE", "DUMPING"
TRANSITIONAL = frozenset({ATTACHING, DETACHING, EXPANDING, ROLLBACKING, DUMPING})
SYSTEM_DISK, DATA_DISK = "SYSTEM_DISK", "DATA_DISK"
DEFAULT_RENEW_FLAG = "NOTIFY_AND_MANUAL_RENEW"
# A disk in the recycle bin is destroyed when this move comes due (the retention period).
RECYCLE = "disk.recycle"
DAY = 86400.0
# The types whose performance can be raised (ThroughputPerformance, BurstPerformance).
PERFORMANCE_TYPES = frozenset({"CLOUD_HSSD", "CLOUD_TSSD"})
# The extra throughput (MiB/s) each of them can buy, as DescribeDiskConfigQuota's
# ExtraPerformanceRange advertises it [inf: not quantified by the vendor].
EXTRA_PERFORMANCE_MAX = {"CLOUD_HSSD": 650, "CLOUD_TSSD": 1000}
BURST_MIN_SIZE = 460


def check_size(topology, disk_type: str, size: int) -> None:
    """The size a disk of `disk_type` may have (the configuration's table, §6.1)."""
    spec = topology.disk_types[disk_type]
    if not spec.min_size <= size <= spec.max_size or size % spec.step:
        raise msg.DISK_SIZE_OUT_OF_RANGE(disk_type=disk_type, min=spec.min_size, max=spec.max_size,
                                         step=spec.step)


def check_performance(disk_type: str, size: int | None, throughput: int | None,
                      burst: bool | None) -> None:
    """Extra throughput and burst performance: for the types that have them, large enough."""
    extra = throughput or 0
    if (extra or burst) and disk_type not in PERFORMANCE_TYPES:
        field = "ThroughputPerformance" if extra else "BurstPerformance"
        raise msg.PERFORMANCE_NEEDS_TYPE(field=field, types=", ".join(sorted(PERFORMANCE_TYPES)))
    if extra > EXTRA_PERFORMANCE_MAX.get(disk_type, 0):
        raise msg.THROUGHPUT_ABOVE_RANGE(disk_type=disk_type, max=EXTRA_PERFORMANCE_MAX[disk_type])
    if extra and (size or 0) <= BURST_MIN_SIZE:
        raise msg.THROUGHPUT_NEEDS_LARGER_DISK(min=BURST_MIN_SIZE)
    if burst and (size or 0) < BURST_MIN_SIZE:
        raise msg.BURST_NEEDS_DISK_SIZE(min=BURST_MIN_SIZE)


def not_expired(disk, detail: Detail = msg.DISK_EXPIRED) -> None:
    """A prepaid disk past its deadline (in the grace period or the recycle bin) is refused;
    `detail`: DISK_EXPIRED or DISK_EXPIRED_NOT_SUPPORTED, by the code the action answers with."""
    if disk.recycle_reason == "EXPIRED":
        raise detail(disk_id=disk.disk_id)


def not_recycled(disk) -> None:
    if disk.disk_state == TORECYCLE:
        raise msg.DISK_IN_RECYCLE_BIN(disk_id=disk.disk_id, state=disk.disk_state)


def is_busy(disk) -> bool:
    """In a transitional state, or changing its type."""
    return disk.disk_state in TRANSITIONAL or disk.migrate_to is not None


def listed_ids(values: list[str], field: str, max_count: int, prefix: str = ids.DISK) -> list[str]:
    """IDs a Describe* call names: at most `max_count`, each well-formed."""
    if len(values) > max_count:
        raise msg.ITEMS_PER_REQUEST(field=field, max=max_count)
    for position, value in enumerate(values):
        if not ids.is_resource_id(prefix, value):
            raise msg.ID_MALFORMED(field=f"{field}.{position}", value=value)
    return values


def checked_ids(values: list[str], field: str, max_count: int, prefix: str = ids.DISK) -> list[str]:
    """A batch of IDs to act on: as listed_ids, and none twice (cbs-behavior.md §2.4)."""
    listed_ids(values, field, max_count, prefix)
    seen = set()
    for position, value in enumerate(values):
        if value in seen:
            raise msg.VALUE_REPEATED(field=f"{field}.{position}", value=value)
        seen.add(value)
    return values


def load_disks(ctx: Context, disk_ids: list[str]) -> list:
    """The named disks of the caller, in the request's order; InvalidDiskId.NotFound names the
    first that does not exist (a disk still being created does not exist yet)."""
    if not disk_ids:
        return []
    query = shaped(("disk_state.load", len(disk_ids)), lambda: select(disks).where(
        owned_by(disks, bindparam("account"), bindparam("region")),
        in_list(disks.c.disk_id, len(disk_ids)), disks.c.disk_state != bindparam("hidden")))
    rows = {row.disk_id: row for row in query.rows(
        ctx.conn, account=ctx.account_id, region=ctx.region, hidden=PROVISIONING,
        **listed(disk_ids))}
    for disk_id in disk_ids:
        if disk_id not in rows:
            raise not_found(disk_id)
    return [rows[d] for d in disk_ids]


def not_found(disk_id: str) -> ApiError:
    return msg.DISK_NOT_FOUND(disk_id=disk_id)


def busy(disk, detail: Detail = msg.DISK_BUSY) -> ApiError:
    """The disk is in a transitional state or changing its type: `detail` (one of the DISK_BUSY
    messages, by the code the action answers with)."""
    doing = disk.disk_state if disk.disk_state in TRANSITIONAL else "MIGRATING"
    return detail(disk_id=disk.disk_id, state=doing)


def move(conn, disk_ids: list[str], expected: frozenset[str] | set[str], **values) -> None:
    """Compare-and-swap: set `values` on every disk still in one of the `expected` states and not
    migrating, or on none. A disk that moved since it was read (another process won the race)
    fails the call with ResourceBusy and changes nothing (the caller's savepoint rolls back)."""
    if not disk_ids:
        return
    states, columns = sorted(expected), sorted(values)
    statement = shaped(("disk_state.move", len(disk_ids), len(states), tuple(columns)),
                       lambda: update(disks).where(
                           in_list(disks.c.disk_id, len(disk_ids)),
                           in_list(disks.c.disk_state, len(states), "state"),
                           disks.c.migrate_to.is_(None))
                       .values({c: bindparam(f"set_{c}") for c in columns}))
    changed = statement.run(conn, **listed(disk_ids), **listed(states, "state"),
                            **{f"set_{c}": values[c] for c in columns})
    if changed != len(disk_ids):
        raise msg.DISK_CHANGED_MEANWHILE()


def destroy(conn, disk_ids: list[str], now: float) -> None:
    """Delete disks for good, with whatever was pending for them (tags, attachments and policy
    bindings go with the row: triggers and foreign keys), a postpaid disk's time billed up to
    `now`. The non-permanent snapshots of a disk set to DeleteSnapshot=1 go too; the others
    outlive it (cbs-behavior.md §3.5)."""
    if disk_ids:
        usage.set_aside(conn, disk_ids, now)
        doomed = shaped(("disk_state.doomed", len(disk_ids)), lambda: select(
            snapshots.c.snapshot_id).where(
            snapshots.c.disk_id.in_(select(disks.c.disk_id).where(
                in_list(disks.c.disk_id, len(disk_ids)), disks.c.delete_snapshot == 1)),
            snapshots.c.deadline_at.is_not(None), snapshots.c.images == "[]"))
        snapshot_ids = [row.snapshot_id for row in doomed.rows(conn, **listed(disk_ids))]
        delete_where_in(conn, transitions.c.resource_id, disk_ids + snapshot_ids)
        delete_where_in(conn, snapshots.c.snapshot_id, snapshot_ids)
        delete_where_in(conn, disks.c.disk_id, disk_ids)


_SNAPSHOT_CREATING = Prepared(select(snapshots.c.snapshot_id).where(
    owned_by(snapshots, bindparam("account"), bindparam("region")),
    snapshots.c.disk_id == bindparam("disk"), snapshots.c.snapshot_state == "CREATING").limit(1))


def snapshot_creating(conn, disk) -> bool:
    """Whether a snapshot of the disk is being created (it blocks another, a rollback, a resize)."""
    return _SNAPSHOT_CREATING.first(conn, account=disk.account_id, region=disk.region,
                                    disk=disk.disk_id) is not None


def snapshot_creating_refusal(disk) -> ApiError:
    return msg.DISK_SNAPSHOT_BEING_CREATED(disk_id=disk.disk_id)


def check_stock(ctx: Context, zone: str, disk_type: str, gib: int) -> None:
    """ResourceInsufficient when the zone's configured stock of the type cannot hold `gib` more
    (every account's disks count: stock is the zone's, not the caller's)."""
    stock = ctx.topology.stock.get((zone, disk_type))
    if stock is None:
        return
    used = ctx.conn.execute(select(sum_or_zero(disks.c.disk_size)).where(
        disks.c.zone == zone, disks.c.disk_type == disk_type)).scalar_one()
    if used + gib > stock:
        raise msg.ZONE_STOCK_INSUFFICIENT(zone=zone, disk_type=disk_type,
                                          left=max(stock - used, 0), asked=gib)


def poke_disk(conn, disk_id: str, *, dumping: bool | None = None, **flags):
    """What no API call can do to a disk (the control plane, cbs-behavior.md §9): put it into
    DUMPING (from UNATTACHED or ATTACHED) or take it out again, mark it non-returnable or without
    snapshot ability. The updated row, or None if there is no such disk. Raises ValueError when
    the disk's state does not allow the move."""
    disk = conn.execute(select(disks).where(disks.c.disk_id == disk_id,
                                            disks.c.disk_state != PROVISIONING)).first()
    if disk is None:
        return None
    values = dict(flags)
    if dumping is True and disk.disk_state != DUMPING:
        if disk.disk_state not in (UNATTACHED, ATTACHED) or disk.migrate_to is not None:
            raise ValueError(f"{disk_id} is {disk.disk_state}; only an UNATTACHED or ATTACHED disk "
                             "can start DUMPING")
        values["disk_state"] = DUMPING
    elif dumping is False and disk.disk_state == DUMPING:
        values["disk_state"] = ATTACHED if disk.instance_ids != "[]" else UNATTACHED
    if values:
        conn.execute(update(disks).where(disks.c.disk_id == disk_id).values(**values))
    return conn.execute(select(disks).where(disks.c.disk_id == disk_id)).first()
