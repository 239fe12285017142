"""Instances as CBS sees them (cbs-behavior.md §8.1): their states, and the lookups both the CVM
actions and the disk actions need."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, func, select, update

from cbslocal import ids
from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.api.errors import ApiError
from cbslocal.engine import transitions
from cbslocal.store.prepared import Prepared, in_list, listed, shaped
from cbslocal.store.scope import owned_by
from cbslocal.store.tables import disk_attachments, instances
from cbslocal.store.tables import transitions as transitions_table

PENDING, LAUNCH_FAILED, RUNNING, STOPPED = "PENDING", "LAUNCH_FAILED", "RUNNING", "STOPPED"
STARTING, STOPPING, REBOOTING = "STARTING", "STOPPING", "REBOOTING"
SHUTDOWN, TERMINATING = "SHUTDOWN", "TERMINATING"
INSTANCE_STATES = (PENDING, LAUNCH_FAILED, RUNNING, STOPPED, STARTING, STOPPING, REBOOTING,
                   SHUTDOWN, TERMINATING)
# Disks can be attached to and detached from an instance only in these states.
TAKES_DISKS = frozenset({RUNNING, STOPPED})
# States an operation in progress holds, each ended by a move (cvm/instances.py).
IN_PROGRESS = {PENDING: "instance.launch", STARTING: "instance.start", STOPPING: "instance.stop",
               REBOOTING: "instance.reboot", TERMINATING: "instance.terminate"}
# The states the control plane may set (cbs-behavior.md §9): one in progress would never end.
POKABLE_STATES = tuple(state for state in INSTANCE_STATES if state not in IN_PROGRESS)


def find_instances(ctx: Context, instance_ids: list[str]) -> dict:
    """The caller's instances among `instance_ids`, by ID."""
    if not instance_ids:
        return {}
    query = shaped(("instance_state.find", len(instance_ids)), lambda: select(instances).where(
        owned_by(instances, bindparam("account"), bindparam("region")),
        in_list(instances.c.instance_id, len(instance_ids))))
    return {row.instance_id: row for row in query.rows(
        ctx.conn, account=ctx.account_id, region=ctx.region, **listed(instance_ids))}


def instance_not_found(instance_id: str) -> ApiError:
    return msg.INSTANCE_NOT_FOUND(instance_id=instance_id)


def require_instance(ctx: Context, instance_id: str, field: str = "InstanceId"):
    """The named instance for a CBS action: a malformed ID is InvalidParameterValue, an unknown
    one InvalidInstanceId.NotFound."""
    if not ids.is_resource_id(ids.INSTANCE, instance_id):
        raise msg.ID_MALFORMED(field=field, value=instance_id)
    found = find_instances(ctx, [instance_id]).get(instance_id)
    if found is None:
        raise instance_not_found(instance_id)
    return found


def check_takes_disks(instance) -> None:
    """Attach and detach need a RUNNING or STOPPED instance that supports cloud disks."""
    if not instance.supports_cbs:
        raise msg.INSTANCE_WITHOUT_CLOUD_DISKS(instance_id=instance.instance_id)
    if instance.instance_state not in TAKES_DISKS:
        raise msg.INSTANCE_STATE_TAKES_NO_DISKS(
            instance_id=instance.instance_id, state=instance.instance_state,
            states=", ".join(sorted(TAKES_DISKS)))


_LOCK_INSTANCE = Prepared(update(instances).where(
    instances.c.instance_id == bindparam("instance_id"))
    .values(max_attach_count=instances.c.max_attach_count))
_ATTACHED_DATA_DISKS = Prepared(select(func.count()).select_from(disk_attachments).where(
    disk_attachments.c.instance_id == bindparam("instance_id"),
    disk_attachments.c.disk_usage == bindparam("usage")))


def lock_instance(conn, instance_id: str) -> None:
    """Serialize disk changes on one instance across processes: PostgreSQL holds this row lock
    until the transaction ends (SQLite already runs one writer at a time)."""
    _LOCK_INSTANCE.run(conn, instance_id=instance_id)


def attached_data_disks(conn, instance_id: str) -> int:
    """Data disks attached or being attached (cbs-behavior.md §8.2: the system disk excluded)."""
    return _ATTACHED_DATA_DISKS.scalar(conn, instance_id=instance_id, usage="DATA_DISK")


def check_room(conn, instance, adding: int) -> None:
    """LimitExceeded.InstanceAttachedDisk unless the instance can take `adding` more data disks;
    holds the instance's lock from here to the end of the transaction."""
    lock_instance(conn, instance.instance_id)
    attached = attached_data_disks(conn, instance.instance_id)
    if attached + adding > instance.max_attach_count:
        raise msg.INSTANCE_DATA_DISKS_FULL(instance_id=instance.instance_id, attached=attached,
                                           max=instance.max_attach_count)


def begin_move(ctx: Context, instance_id: str, from_state: str, via_state: str, action: str,
               kind: str, duration: float) -> None:
    """Move one instance from `from_state` into `via_state` (compare-and-swap) and schedule the
    move of `kind` that ends it — what another service does on the user's behalf (ApplySnapshot
    stopping and starting the instance)."""
    changed = ctx.conn.execute(update(instances).where(
        instances.c.instance_id == instance_id, instances.c.instance_state == from_state)
        .values(instance_state=via_state, latest_operation=action,
                latest_operation_state="OPERATING", latest_operation_request_id=ctx.request_id)
    ).rowcount
    if changed != 1:
        raise msg.INSTANCE_CHANGED_MEANWHILE(instance_id=instance_id)
    transitions.later(ctx.conn, kind, resource_id=instance_id, account_id=ctx.account_id,
                      region=ctx.region, now=ctx.now, duration=duration)


def poke_instance(conn, instance_id: str, **values):
    """Set what no API call can (the control plane, cbs-behavior.md §9): the instance's state (one
    of POKABLE_STATES: the operation in progress, if any, ends there) or its flags (supports_cbs,
    online_resize, max_attach_count). The updated row, or None."""
    if values:
        conn.execute(update(instances).where(instances.c.instance_id == instance_id).values(**values))
    if "instance_state" in values:
        conn.execute(delete(transitions_table).where(
            transitions_table.c.resource_id == instance_id,
            transitions_table.c.kind.in_(list(IN_PROGRESS.values()))))
    return conn.execute(select(instances).where(instances.c.instance_id == instance_id)).first()
