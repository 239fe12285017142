"""What every disk operation shares: the states (cbs-behavior.md §5.1), loading the disks a
request names, and moving them with compare-and-swap so that two racing operations on one disk
can never both win."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from cbslocal import ids
from cbslocal.api import errors
from cbslocal.api.context import Context
from cbslocal.api.errors import ApiError
from cbslocal.store.prepared import sum_or_zero
from cbslocal.store.scope import owned_by
from cbslocal.store.tables import disks, snapshots, transitions

# Internal: the disk is being created and is not listed yet (there is no CREATING DiskState).
PROVISIONING = "PROVISIONING"
UNATTACHED, ATTACHING, ATTACHED, DETACHING = "UNATTACHED", "ATTACHING", "ATTACHED", "DETACHING"
EXPANDING, ROLLBACKING, TORECYCLE, DUMPING = "EXPANDING", "ROLLBACKING", "TORECYCLE", "DUMPING"
TRANSITIONAL = frozenset({ATTACHING, DETACHING, EXPANDING, ROLLBACKING, DUMPING})
SYSTEM_DISK, DATA_DISK = "SYSTEM_DISK", "DATA_DISK"
PREPAID, POSTPAID = "PREPAID", "POSTPAID_BY_HOUR"
PREPAID_PERIODS = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36})  # months
DEFAULT_RENEW_FLAG = "NOTIFY_AND_MANUAL_RENEW"
# The types whose performance can be raised (ThroughputPerformance, BurstPerformance).
PERFORMANCE_TYPES = frozenset({"CLOUD_HSSD", "CLOUD_TSSD"})
BURST_MIN_SIZE = 460


def is_busy(disk) -> bool:
    """In a transitional state, or changing its type."""
    return disk.disk_state in TRANSITIONAL or disk.migrate_to is not None


def listed_ids(values: list[str], field: str, max_count: int, prefix: str = ids.DISK) -> list[str]:
    """IDs a Describe* call names: at most `max_count`, each well-formed."""
    if len(values) > max_count:
        raise ApiError(errors.INVALID_PARAMETER_VALUE_LIMIT_EXCEEDED,
                       f"At most {max_count} `{field}` per request.",
                       f"每次请求最多 {max_count} 个 `{field}`。")
    for position, value in enumerate(values):
        if not ids.is_resource_id(prefix, value):
            raise errors.invalid_value(f"{field}.{position}", f"{value!r} is not a well-formed ID")
    return values


def checked_ids(values: list[str], field: str, max_count: int, prefix: str = ids.DISK) -> list[str]:
    """A batch of IDs to act on: as listed_ids, and none twice (cbs-behavior.md §2.4)."""
    listed_ids(values, field, max_count, prefix)
    seen = set()
    for position, value in enumerate(values):
        if value in seen:
            raise errors.invalid_value(f"{field}.{position}", f"{value} is given twice")
        seen.add(value)
    return values


def load_disks(ctx: Context, disk_ids: list[str]) -> list:
    """The named disks of the caller, in the request's order; InvalidDiskId.NotFound names the
    first that does not exist (a disk still being created does not exist yet)."""
    rows = {row.disk_id: row for row in ctx.conn.execute(select(disks).where(
        owned_by(disks, ctx.account_id, ctx.region), disks.c.disk_id.in_(disk_ids),
        disks.c.disk_state != PROVISIONING))}
    for disk_id in disk_ids:
        if disk_id not in rows:
            raise not_found(disk_id)
    return [rows[d] for d in disk_ids]


def not_found(disk_id: str) -> ApiError:
    return ApiError(errors.INVALID_DISK_ID_NOT_FOUND, f"The disk {disk_id} does not exist.",
                    f"云硬盘 {disk_id} 不存在。")


def refuse(code, disk_id: str, why: str, why_zh: str) -> ApiError:
    return ApiError(code, f"{disk_id}: {why}", f"{disk_id}：{why_zh}")


def busy(disk, code=errors.RESOURCE_BUSY) -> ApiError:
    doing = disk.disk_state if disk.disk_state in TRANSITIONAL else "MIGRATING"
    return refuse(code, disk.disk_id, f"the disk is {doing}; try again when it is done.",
                  f"云硬盘处于 {doing} 状态，请稍后重试。")


def move(conn, disk_ids: list[str], expected: frozenset[str] | set[str], **values) -> None:
    """Compare-and-swap: set `values` on every disk still in one of the `expected` states and not
    migrating, or on none. A disk that moved since it was read (another process won the race)
    fails the call with ResourceBusy and changes nothing (the caller's savepoint rolls back)."""
    if not disk_ids:
        return
    changed = conn.execute(update(disks).where(
        disks.c.disk_id.in_(disk_ids), disks.c.disk_state.in_(expected),
        disks.c.migrate_to.is_(None)).values(**values)).rowcount
    if changed != len(disk_ids):
        raise ApiError(errors.RESOURCE_BUSY, "Another operation changed the disk meanwhile.",
                       "云硬盘正在被其他操作修改。")


def destroy(conn, disk_ids: list[str]) -> None:
    """Delete disks for good, with whatever was pending for them (tags, attachments and policy
    bindings go with the row: triggers and foreign keys). The non-permanent snapshots of a disk
    set to DeleteSnapshot=1 go too; the others outlive it (cbs-behavior.md §3.5)."""
    if disk_ids:
        doomed = select(snapshots.c.snapshot_id).where(
            snapshots.c.disk_id.in_(select(disks.c.disk_id).where(
                disks.c.disk_id.in_(disk_ids), disks.c.delete_snapshot == 1)),
            snapshots.c.deadline_at.is_not(None), snapshots.c.images == "[]")
        snapshot_ids = list(conn.execute(doomed).scalars())
        conn.execute(delete(transitions).where(transitions.c.resource_id.in_(disk_ids + snapshot_ids)))
        conn.execute(delete(snapshots).where(snapshots.c.snapshot_id.in_(snapshot_ids)))
        conn.execute(delete(disks).where(disks.c.disk_id.in_(disk_ids)))


def snapshot_creating(conn, disk) -> bool:
    """Whether a snapshot of the disk is being created (it blocks another, a rollback, a resize)."""
    return conn.execute(select(snapshots.c.snapshot_id).where(
        owned_by(snapshots, disk.account_id, disk.region), snapshots.c.disk_id == disk.disk_id,
        snapshots.c.snapshot_state == "CREATING").limit(1)).first() is not None


def snapshot_creating_refusal(disk) -> ApiError:
    return refuse(errors.INVALID_DISK_SNAPSHOT_CREATING, disk.disk_id,
                  "a snapshot of the disk is still being created.", "该云硬盘有快照正在创建中。")


def check_stock(ctx: Context, zone: str, disk_type: str, gib: int) -> None:
    """ResourceInsufficient when the zone's configured stock of the type cannot hold `gib` more
    (every account's disks count: stock is the zone's, not the caller's)."""
    stock = ctx.topology.stock.get((zone, disk_type))
    if stock is None:
        return
    used = ctx.conn.execute(select(sum_or_zero(disks.c.disk_size)).where(
        disks.c.zone == zone, disks.c.disk_type == disk_type)).scalar_one()
    if used + gib > stock:
        raise ApiError(errors.RESOURCE_INSUFFICIENT,
                       f"{zone} has {max(stock - used, 0)} GiB of {disk_type} left; {gib} GiB asked.",
                       f"可用区 {zone} 的 {disk_type} 仅剩 {max(stock - used, 0)} GiB。")


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
