"""The consistency checker (`cbslocal admin check`, `GET /_cbslocal/check`): every invariant the
store must keep, whatever happened to it — races between processes, a crash halfway, a bug — each
violation listed with the resource it is about. Usage over the quotas as configured now is listed
apart, as warnings: lowering a quota below what is in use is the operator's right.

The checks read the whole store; they are for operators and tests (the race and crash suites run
them at the end), not for the request path.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import orjson
from sqlalchemy import Connection, func, select

from cbslocal.billing import usage
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs import snapshots as snaps
from cbslocal.cbs.attachments import ATTACH, DETACH
from cbslocal.cbs.lifecycle import MIGRATE, RECYCLE, RESIZE, ROLLBACK
from cbslocal.cbs.policies import FIRE, FIRE_REST
from cbslocal.cbs.prepaid import DEADLINE
from cbslocal.config import Topology
from cbslocal.cbs import instance_state as inst
from cbslocal.cvm.images import CREATE as IMAGE_CREATE
from cbslocal.store.tables import (CENSUS_COLUMNS, SNAPSHOT_CENSUS_COLUMNS, accounts,
                                   auto_snapshot_policies, disk_attachments, disk_census,
                                   disk_tag_census, disk_tags, disks, image_snapshots, images,
                                   instances, ledger, policy_disks, snapshot_census,
                                   snapshot_shares, snapshots, transitions)


@dataclass(frozen=True)
class Violation:
    invariant: str
    resource: str
    detail: str

    def as_json(self) -> dict:
        return asdict(self)


Check = Callable[[Connection, Topology], Iterator[Violation]]
DEFAULT_ATTACH_LIMIT = 20  # data disks per instance (cbs-behavior.md §8.2)
_CHECKS: list[Check] = []
_WARNINGS: list[Check] = []


def _check(fn: Check) -> Check:
    _CHECKS.append(fn)
    return fn


def _warning(fn: Check) -> Check:
    _WARNINGS.append(fn)
    return fn


@dataclass(frozen=True)
class Report:
    violations: list[Violation]
    warnings: list[Violation]


def check(conn: Connection, topology: Topology) -> Report:
    """Every violation of every invariant, and every warning, each in a stable order."""
    return Report(_run(_CHECKS, conn, topology), _run(_WARNINGS, conn, topology))


def _run(checks: list[Check], conn: Connection, topology: Topology) -> list[Violation]:
    found = [v for fn in checks for v in fn(conn, topology)]
    return sorted(found, key=lambda v: (v.invariant, v.resource, v.detail))


def invariant_names() -> list[str]:
    return [fn.__name__.lstrip("_") for fn in _CHECKS + _WARNINGS]


# --- attachments ----------------------------------------------------------------------------------
def _attachments_by_disk(conn) -> dict[str, list]:
    found = defaultdict(list)
    for row in conn.execute(select(disk_attachments).order_by(
            disk_attachments.c.attached_at, disk_attachments.c.instance_id)):
        found[row.disk_id].append(row)
    return found


def _pending_moves(conn) -> dict[tuple[str, str], list]:
    """(kind, resource) → the payloads of its pending moves."""
    found = defaultdict(list)
    for row in conn.execute(select(transitions.c.kind, transitions.c.resource_id,
                                   transitions.c.payload)):
        found[(row.kind, row.resource_id)].append(orjson.loads(row.payload))
    return found


@_check
def _attachments_agree_with_disks(conn, _topology) -> Iterator[Violation]:
    """A disk's InstanceId/InstanceIdList are its completed attachments, and its state says what
    its attachments do (cbs/attachments.py)."""
    attached = _attachments_by_disk(conn)
    moves = _pending_moves(conn)
    rows = conn.execute(select(disks.c.disk_id, disks.c.account_id, disks.c.region,
                               disks.c.disk_state, disks.c.shareable, disks.c.instance_id,
                               disks.c.instance_ids)).all()
    known = {row.disk_id for row in rows}
    for disk_id in sorted(set(attached) - known):
        yield Violation("attachment.disk", disk_id, "an attachment of a disk that does not exist")
    for disk in rows:
        yield from _disk_attachments(disk, attached.get(disk.disk_id, []), moves)


def _disk_attachments(disk, rows: list, moves: dict) -> Iterator[Violation]:
    done = [a.instance_id for a in rows if a.attached_at is not None]
    pending = [a.instance_id for a in rows if a.attached_at is None]
    shown = orjson.loads(disk.instance_ids)
    if shown != done:
        yield Violation("disk.instance_ids", disk.disk_id,
                        f"InstanceIdList {shown} but completed attachments {done}")
    expected_id = done[0] if done and not disk.shareable else ""
    if disk.instance_id != expected_id:
        yield Violation("disk.instance_id", disk.disk_id,
                        f"InstanceId {disk.instance_id!r} but {expected_id!r} expected")
    if not disk.shareable and len(rows) > 1:
        yield Violation("disk.shareable", disk.disk_id,
                        f"a disk that is not shareable has {len(rows)} attachments")
    for a in rows:
        if (a.account_id, a.region) != (disk.account_id, disk.region):
            yield Violation("attachment.owner", disk.disk_id,
                            f"its attachment to {a.instance_id} belongs to another account/region")
    yield from _state_against_attachments(disk, done, pending, moves)


def _state_against_attachments(disk, done: list, pending: list, moves: dict) -> Iterator[Violation]:
    state = disk.disk_state
    attaching = [p["instance_id"] for p in moves.get((ATTACH, disk.disk_id), [])]
    detaching = [p["instance_id"] for p in moves.get((DETACH, disk.disk_id), [])]
    problem = None
    if state in (ds.UNATTACHED, ds.TORECYCLE) and (done or pending):
        problem = f"{state} with attachments {done + pending}"
    elif state == ds.ATTACHED and (not done or pending):
        problem = f"ATTACHED with completed {done} and pending {pending}"
    elif state == ds.ATTACHING and not pending:
        problem = "ATTACHING without an attachment in progress"
    elif state == ds.DETACHING and not (done and detaching):
        problem = f"DETACHING with completed {done} and detaches pending {detaching}"
    elif state not in (ds.ATTACHING, ds.PROVISIONING) and pending:
        problem = f"{state} with attachments in progress {pending}"
    if problem:
        yield Violation("disk.state", disk.disk_id, problem)
    if sorted(pending) != sorted(attaching):
        yield Violation("attachment.move", disk.disk_id,
                        f"attachments in progress {pending} but attach moves for {attaching}")
    for instance_id in detaching:
        if instance_id not in done:
            yield Violation("attachment.move", disk.disk_id,
                            f"a detach from {instance_id}, to which it is not attached")


@_check
def _attachments_name_instances(conn, _topology) -> Iterator[Violation]:
    """Every attachment is to an instance of the disk's own account and region, and no instance
    has more data disks than it takes."""
    found = {row.instance_id: row for row in conn.execute(select(
        instances.c.instance_id, instances.c.account_id, instances.c.region,
        instances.c.max_attach_count, instances.c.instance_state))}
    data_disks = Counter()
    for a in conn.execute(select(disk_attachments)):
        instance = found.get(a.instance_id)
        if instance is None:
            yield Violation("attachment.instance", a.disk_id,
                            f"attached to {a.instance_id}, which does not exist")
        elif (instance.account_id, instance.region) != (a.account_id, a.region):
            yield Violation("attachment.instance", a.disk_id,
                            f"attached to {a.instance_id} of another account or region")
        if a.disk_usage == ds.DATA_DISK:
            data_disks[a.instance_id] += 1
    for instance_id, count in sorted(data_disks.items()):
        instance = found.get(instance_id)
        # The control plane may lower an instance's limit below what is attached (a poke): only
        # more than the API's own default limit too is a broken invariant.
        if instance is not None and count > max(instance.max_attach_count, DEFAULT_ATTACH_LIMIT):
            yield Violation("instance.data_disks", instance_id,
                            f"{count} data disks attached; it takes {instance.max_attach_count}")


# --- snapshots on their disks ---------------------------------------------------------------------
@_check
def _disk_snapshot_counts(conn, _topology) -> Iterator[Violation]:
    """SnapshotCount and SnapshotSize (MiB of the finished ones) of each disk agree with its
    snapshots."""
    counted = {row.disk_id: (row.n, row.mib) for row in conn.execute(
        select(snapshots.c.disk_id, func.count().label("n"),
               func.coalesce(func.sum(snapshots.c.disk_size).filter(
                   snapshots.c.snapshot_state != snaps.CREATING), 0).label("mib"))
        .where(snapshots.c.disk_id != "").group_by(snapshots.c.disk_id))}
    for disk in conn.execute(select(disks.c.disk_id, disks.c.snapshot_count, disks.c.snapshot_size)):
        n, gib = counted.get(disk.disk_id, (0, 0))
        if (disk.snapshot_count, disk.snapshot_size) != (n, int(gib) * snaps.MIB_PER_GIB):
            yield Violation("disk.snapshots", disk.disk_id,
                            f"SnapshotCount {disk.snapshot_count} / SnapshotSize "
                            f"{disk.snapshot_size} MiB, but {n} snapshots / "
                            f"{int(gib) * snaps.MIB_PER_GIB} MiB")


@_check
def _snapshot_references(conn, _topology) -> Iterator[Violation]:
    """A snapshot's ShareReference counts its shares; its Images are the images built on it."""
    shares = Counter(conn.execute(select(snapshot_shares.c.snapshot_id)).scalars())
    built = defaultdict(set)
    for row in conn.execute(select(image_snapshots.c.snapshot_id, image_snapshots.c.image_id)):
        built[row.snapshot_id].add(row.image_id)
    for snap in conn.execute(select(snapshots.c.snapshot_id, snapshots.c.share_reference,
                                    snapshots.c.images)):
        if snap.share_reference != shares.get(snap.snapshot_id, 0):
            yield Violation("snapshot.shares", snap.snapshot_id,
                            f"ShareReference {snap.share_reference} but "
                            f"{shares.get(snap.snapshot_id, 0)} shares")
        shown = {i["ImageId"] for i in orjson.loads(snap.images)}
        if shown != built.get(snap.snapshot_id, set()):
            yield Violation("snapshot.images", snap.snapshot_id,
                            f"Images {sorted(shown)} but built on by "
                            f"{sorted(built.get(snap.snapshot_id, ()))}")


# --- censuses and tags ----------------------------------------------------------------------------
def _census_violations(conn, name: str, census, source, key: tuple) -> Iterator[Violation]:
    kept = {tuple(r[:-1]): r[-1] for r in conn.execute(
        select(*(census.c[k] for k in key), census.c.n))}
    counted = {tuple(r[:-1]): r[-1] for r in conn.execute(
        select(*(source.c[k] for k in key), func.count()).group_by(*(source.c[k] for k in key)))}
    for combination in sorted(set(kept) | set(counted), key=repr):
        if kept.get(combination, 0) != counted.get(combination, 0):
            yield Violation(name, "/".join(map(str, combination)),
                            f"kept {kept.get(combination, 0)}, counted {counted.get(combination, 0)}")


@_check
def _censuses_agree(conn, _topology) -> Iterator[Violation]:
    """The census tables (kept by triggers) equal the GROUP BY counts they stand for."""
    yield from _census_violations(conn, "census.disks", disk_census, disks,
                                  ("account_id", "region", *CENSUS_COLUMNS))
    yield from _census_violations(conn, "census.snapshots", snapshot_census, snapshots,
                                  ("account_id", "region", *SNAPSHOT_CENSUS_COLUMNS))
    tagged = select(disk_tags.c.account_id, disk_tags.c.region, disk_tags.c.tag_key,
                    disk_tags.c.tag_value, disks.c.disk_state).join(
        disks, disks.c.disk_id == disk_tags.c.disk_id).subquery()
    yield from _census_violations(conn, "census.disk_tags", disk_tag_census, tagged,
                                  ("account_id", "region", "tag_key", "tag_value", "disk_state"))


@_check
def _disk_tags_agree(conn, _topology) -> Iterator[Violation]:
    """A disk's Tags as shown are its rows of disk_tags, in order."""
    rows = defaultdict(list)
    for tag in conn.execute(select(disk_tags).order_by(disk_tags.c.disk_id, disk_tags.c.position)):
        rows[tag.disk_id].append({"Key": tag.tag_key, "Value": tag.tag_value})
    for disk in conn.execute(select(disks.c.disk_id, disks.c.tags)):
        if orjson.loads(disk.tags) != rows.get(disk.disk_id, []):
            yield Violation("disk.tags", disk.disk_id, "Tags differ from its rows of disk_tags")
    # The creation order a tag filter pages by is its disk's.
    for tag in conn.execute(select(disk_tags.c.disk_id, disk_tags.c.tag_key).join(
            disks, disks.c.disk_id == disk_tags.c.disk_id).where(
            (disk_tags.c.created_at != disks.c.created_at) | (disk_tags.c.disk_seq != disks.c.seq))):
        yield Violation("disk.tags", tag.disk_id,
                        f"its tag {tag.tag_key!r} does not carry the disk's creation order")


# --- pending moves --------------------------------------------------------------------------------
# The table each kind of move is about (its resource_id is a row of it).
_MOVE_RESOURCES = {
    "disk.create": disks, ATTACH: disks, DETACH: disks, RESIZE: disks, MIGRATE: disks,
    RECYCLE: disks, ROLLBACK: disks, DEADLINE: disks, usage.SETTLE: accounts,
    snaps.CREATE: snapshots, snaps.COPY: snapshots, snaps.CHECK: snapshots, snaps.EXPIRE: snapshots,
    FIRE: auto_snapshot_policies, FIRE_REST: auto_snapshot_policies,
    IMAGE_CREATE: images,
    "instance.launch": instances, "instance.start": instances, "instance.stop": instances,
    "instance.reboot": instances, "instance.terminate": instances, "instance.recycle": instances,
}
_KEYS = {accounts: accounts.c.account_id, disks: disks.c.disk_id,
         snapshots: snapshots.c.snapshot_id, images: images.c.image_id,
         auto_snapshot_policies: auto_snapshot_policies.c.policy_id,
         instances: instances.c.instance_id}


@_check
def _moves_have_resources(conn, _topology) -> Iterator[Violation]:
    """No pending move for a resource that no longer exists, or of a kind nobody applies."""
    existing = {table: set(conn.execute(select(key)).scalars()) for table, key in _KEYS.items()}
    for move in conn.execute(select(transitions.c.id, transitions.c.kind, transitions.c.resource_id)):
        table = _MOVE_RESOURCES.get(move.kind)
        if table is None:
            yield Violation("move.kind", move.resource_id, f"a move of unknown kind {move.kind!r}")
        elif move.resource_id not in existing[table]:
            yield Violation("move.resource", move.resource_id,
                            f"a pending {move.kind} of a {table.name[:-1]} that does not exist")


# Resources in a state only a pending move ends: (table, key, condition, kind).
_WAITING = [
    (disks, disks.c.disk_state == ds.EXPANDING, RESIZE),
    (disks, disks.c.disk_state == ds.ROLLBACKING, ROLLBACK),
    (disks, disks.c.migrate_to.is_not(None), MIGRATE),
    (disks, disks.c.disk_state == ds.TORECYCLE, RECYCLE),
    # An elastic prepaid data disk (prepaid.has_deadline) out of the recycle bin: its deadline.
    (disks, (disks.c.charge_type == ds.PREPAID) & disks.c.portable.is_(True)
     & (disks.c.disk_usage == ds.DATA_DISK) & disks.c.deadline_at.is_not(None)
     & (disks.c.disk_state.not_in((ds.TORECYCLE, ds.PROVISIONING))), DEADLINE),
    (snapshots, snapshots.c.snapshot_state == snaps.CREATING, snaps.CREATE),
    (snapshots, snapshots.c.snapshot_state == snaps.COPYING, snaps.COPY),
    (snapshots, snapshots.c.snapshot_state == snaps.CHECKING, snaps.CHECK),
    (snapshots, snapshots.c.deadline_at.is_not(None) & (snapshots.c.images == "[]"), snaps.EXPIRE),
    (auto_snapshot_policies, auto_snapshot_policies.c.next_trigger_at.is_not(None), FIRE),
    (instances, instances.c.instance_state == inst.PENDING, "instance.launch"),
    (instances, instances.c.instance_state == inst.STARTING, "instance.start"),
    (instances, instances.c.instance_state == inst.STOPPING, "instance.stop"),
    (instances, instances.c.instance_state == inst.REBOOTING, "instance.reboot"),
    (instances, instances.c.instance_state == inst.TERMINATING, "instance.terminate"),
]


@_check
def _disks_being_created_will_be(conn, _topology) -> Iterator[Violation]:
    """A disk being created (PROVISIONING, not listed yet) has the move that creates it, or
    belongs to an instance being launched, which lists it when it runs."""
    pending = {(row.kind, row.resource_id) for row in conn.execute(
        select(transitions.c.kind, transitions.c.resource_id))}
    launching = {row.disk_id for row in conn.execute(
        select(disk_attachments.c.disk_id).join(
            instances, instances.c.instance_id == disk_attachments.c.instance_id)
        .where(instances.c.instance_state == inst.PENDING))}
    for disk_id in conn.execute(select(disks.c.disk_id).where(
            disks.c.disk_state == ds.PROVISIONING)).scalars():
        if ("disk.create", disk_id) not in pending and disk_id not in launching:
            yield Violation("move.missing", disk_id,
                            "PROVISIONING, with no disk.create pending and no instance launching")


@_check
def _waiting_resources_have_moves(conn, _topology) -> Iterator[Violation]:
    """A resource in a transitional state has the move that ends it (else it would stay so
    forever), and at most one of each kind."""
    pending = Counter((row.kind, row.resource_id) for row in conn.execute(
        select(transitions.c.kind, transitions.c.resource_id)))
    for table, condition, kind in _WAITING:
        for resource_id in conn.execute(select(_KEYS[table]).where(condition)).scalars():
            if not pending.get((kind, resource_id)):
                yield Violation("move.missing", resource_id, f"waits for a {kind} that is not pending")
    for (kind, resource_id), count in sorted(pending.items()):
        if count > 1 and kind not in (ATTACH, DETACH, FIRE_REST):
            yield Violation("move.duplicate", resource_id, f"{count} pending moves of kind {kind}")


# --- owners and quotas ----------------------------------------------------------------------------
@_check
def _resources_have_owners(conn, _topology) -> Iterator[Violation]:
    """Every resource belongs to an account that exists."""
    known = set(conn.execute(select(accounts.c.account_id)).scalars())
    for table, key in _KEYS.items():
        for row in conn.execute(select(key, table.c.account_id)):
            if row.account_id not in known:
                yield Violation("owner.account", row[0], f"owned by {row.account_id}, not an account")


@_warning
def _quotas_hold(conn, topology) -> Iterator[Violation]:
    """What is used stays within the quotas as configured now (a warning: a quota lowered below
    what is in use, or stock bought with an instance, which RunInstances does not count yet)."""
    limits = topology.limits
    over = conn.execute(select(disks.c.disk_id, disks.c.snapshot_count).where(
        disks.c.snapshot_count > limits.snapshots_per_disk)).all()
    for disk in over:
        yield Violation("quota.snapshots_per_disk", disk.disk_id,
                        f"{disk.snapshot_count} snapshots; the quota is {limits.snapshots_per_disk}")
    bound = Counter(conn.execute(select(policy_disks.c.disk_id)).scalars())
    for disk_id, count in sorted(bound.items()):
        if count > limits.policies_per_disk:
            yield Violation("quota.policies_per_disk", disk_id,
                            f"bound to {count} policies; the quota is {limits.policies_per_disk}")
    if limits.disks_per_policy:
        per_policy = Counter(conn.execute(select(policy_disks.c.policy_id)).scalars())
        for policy_id, count in sorted(per_policy.items()):
            if count > limits.disks_per_policy:
                yield Violation("quota.disks_per_policy", policy_id,
                                f"{count} disks bound; the quota is {limits.disks_per_policy}")
    yield from _scope_quota(conn, "quota.snapshots_per_region", snapshots, None,
                            limits.snapshots_per_region)
    yield from _scope_quota(conn, "quota.policies_per_region", auto_snapshot_policies, None,
                            limits.auto_snapshot_policies_per_region)
    yield from _scope_quota(conn, "quota.elastic_disks_per_region", disks,
                            disks.c.portable.is_(True), limits.elastic_disks_per_region)
    for (zone, disk_type), stock in sorted(topology.stock.items()):
        used = conn.execute(select(func.coalesce(func.sum(disks.c.disk_size), 0)).where(
            disks.c.zone == zone, disks.c.disk_type == disk_type)).scalar_one()
        if used > stock:
            yield Violation("quota.stock", f"{zone}/{disk_type}",
                            f"{used} GiB of disks; the zone's stock is {stock} GiB")


def _scope_quota(conn, name: str, table, condition, limit: int) -> Iterator[Violation]:
    if not limit:
        return
    statement = select(table.c.account_id, table.c.region, func.count()).group_by(
        table.c.account_id, table.c.region)
    if condition is not None:
        statement = statement.where(condition)
    for account_id, region, count in conn.execute(statement):
        if count > limit:
            yield Violation(name, f"{account_id}/{region}", f"{count}; the quota is {limit}")


# --- money ----------------------------------------------------------------------------------------
@_check
def _ledger_sums_to_the_balance(conn, _topology) -> Iterator[Violation]:
    """Every change of a balance is an entry (billing/ledger.py): an account's entries, in order,
    add up to each balance they record and, in all, to the balance it has; no entry is of an
    account that does not exist."""
    balances = dict(conn.execute(select(accounts.c.account_id, accounts.c.balance)).all())
    running: dict[str, int] = defaultdict(int)
    broken: set[str] = set()
    for entry in conn.execute(select(ledger.c.id, ledger.c.account_id, ledger.c.amount,
                                     ledger.c.balance_after).order_by(ledger.c.id)):
        running[entry.account_id] += entry.amount
        if running[entry.account_id] != entry.balance_after and entry.account_id not in broken:
            broken.add(entry.account_id)
            yield Violation("ledger.balance_after", entry.account_id,
                            f"entry {entry.id} records a balance of {entry.balance_after} fen; "
                            f"the entries up to it add up to {running[entry.account_id]}")
    for account_id in sorted(set(running) - set(balances)):
        yield Violation("ledger.account", account_id, "entries of an account that does not exist")
    for account_id, balance in sorted(balances.items()):
        if running.get(account_id, 0) != balance:
            yield Violation("ledger.sum", account_id,
                            f"the balance is {balance} fen; its entries add up to "
                            f"{running.get(account_id, 0)}")
