"""Automatic snapshot policies (cbs-behavior.md §3.25-3.31, §4.3, §5.3): their actions, and the
engine firing each one on its schedule — a snapshot of every bound disk in use, kept for
RetentionDays (the snapshot's Deadline), all on the emulator's clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import orjson
from sqlalchemy import delete, func, insert, outerjoin, select, update

from cbslocal import ids
from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.api.errors import Detail
from cbslocal.api.snapshot_schema import (BindAutoSnapshotPolicyRequest,
                                          CreateAutoSnapshotPolicyRequest,
                                          DeleteAutoSnapshotPoliciesRequest,
                                          DescribeAutoSnapshotPoliciesRequest,
                                          DescribeDiskAssociatedAutoSnapshotPolicyRequest,
                                          ModifyAutoSnapshotPolicyAttributeRequest,
                                          UnbindAutoSnapshotPolicyRequest, policy_json)
from cbslocal.billing import ledger
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs import snapshots as snaps
from cbslocal.cbs.disk_state import checked_ids, listed_ids, load_disks
from cbslocal.cbs.resources import engine_context, page_of, unnamed
from cbslocal.cbs.filters import FilterSpec, compile_filters, filter_conditions
from cbslocal.cbs.schedule import next_trigger
from cbslocal.cbs import instance_state as inst
from cbslocal.engine import transitions as engine
from cbslocal.engine.clock import CHINA_TZ, format_time
from cbslocal.store.scope import owned_by
from cbslocal.store.tables import auto_snapshot_policies as policies
from cbslocal.store.prepared import new_ids
from cbslocal.store.tables import disks, instances, policy_disks, transitions

NORMAL, ISOLATED = "NORMAL", "ISOLATED"
FIRE = "policy.fire"
DAY = 86400.0
DEFAULT_RETENTION_DAYS = 7
# [inf] The API's type is uint64; a snapshot's deadline must still be a date the API can show
# (engine/clock.py keeps the clock before 9000): 65535 days (179 years) is far beyond any real use.
MAX_RETENTION_DAYS = 65535
MAX_HOURS, MAX_ENTRIES = 24, 10  # [inf]: cbs-behavior.md §3.25 step 3
_RANGES = {"Hour": (0, 23), "DayOfWeek": (0, 6), "DayOfMonth": (1, 31)}
INTERVAL_RANGE = (1, 365)
MAX_IDS = 100


def _load_policies(ctx: Context, policy_ids: list[str]) -> list:
    rows = {row.policy_id: row for row in ctx.conn.execute(select(policies).where(
        owned_by(policies, ctx.account_id, ctx.region), policies.c.policy_id.in_(policy_ids)))}
    for policy_id in policy_ids:
        if policy_id not in rows:
            raise msg.POLICY_NOT_FOUND(policy_id=policy_id)
    return [rows[p] for p in policy_ids]


def _policy_id(value: str, malformed: Detail) -> str:
    if not ids.is_resource_id(ids.POLICY, value):
        raise malformed(field="AutoSnapshotPolicyId", value=value)
    return value


class _Checks(NamedTuple):
    """What a policy's values are refused with: InvalidParameterValue, or InvalidParameter in
    ModifyAutoSnapshotPolicyAttribute (its list has that code, not InvalidParameterValue)."""
    outside_range: Detail
    between: Detail
    retention_with_permanent: Detail
    name_too_long: Detail


_CREATE_CHECKS = _Checks(msg.SCHEDULE_VALUE_OUTSIDE_RANGE, msg.VALUE_BETWEEN,
                         msg.RETENTION_DAYS_WITH_PERMANENT, msg.POLICY_NAME_TOO_LONG)
_MODIFY_CHECKS = _Checks(msg.SCHEDULE_VALUE_OUTSIDE_RANGE_AS_INVALID_PARAMETER,
                         msg.VALUE_BETWEEN_AS_INVALID_PARAMETER,
                         msg.RETENTION_DAYS_WITH_PERMANENT_AS_INVALID_PARAMETER,
                         msg.POLICY_NAME_TOO_LONG_AS_INVALID_PARAMETER)


# --- the schedule as the request gives it ----------------------------------------------------------
def _schedule(entries, checks: _Checks) -> list[dict]:
    """Validate a Policy list (cbs-behavior.md §3.25 steps 1-3); returns it as stored and shown."""
    if not entries:
        raise msg.PARAMETER_MISSING(field="Policy")
    if len(entries) > MAX_ENTRIES:
        raise msg.POLICY_LIST_TOO_LONG(field="Policy", max=MAX_ENTRIES)
    stored = []
    for position, entry in enumerate(entries):
        field = f"Policy.{position}"
        if not entry.Hour:
            raise msg.PARAMETER_MISSING(field=f"{field}.Hour")
        # IntervalDays 0 is "none", as a described policy shows it: what we show is valid input.
        if not (entry.DayOfWeek or entry.DayOfMonth or entry.IntervalDays):
            raise msg.PARAMETER_MISSING(field=f"{field}.DayOfWeek")
        if len(entry.Hour) > MAX_HOURS:
            raise msg.POLICY_LIST_TOO_LONG(field=f"{field}.Hour", max=MAX_HOURS)
        for name, (low, high) in _RANGES.items():
            for value in getattr(entry, name) or ():
                if not low <= value <= high:
                    raise checks.outside_range(field=f"{field}.{name}", value=value, min=low,
                                               max=high)
        if entry.IntervalDays and not INTERVAL_RANGE[0] <= entry.IntervalDays <= INTERVAL_RANGE[1]:
            raise checks.between(field=f"{field}.IntervalDays", min=INTERVAL_RANGE[0],
                                 max=INTERVAL_RANGE[1])
        stored.append({"Hour": sorted(set(entry.Hour)),
                       "DayOfWeek": sorted(set(entry.DayOfWeek or ())),
                       "DayOfMonth": sorted(set(entry.DayOfMonth or ())),
                       "IntervalDays": entry.IntervalDays or 0})
    return stored


def _retention(is_permanent: bool, days: int | None, checks: _Checks) -> int:
    if is_permanent and days is not None:
        raise checks.retention_with_permanent()
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise checks.between(field="RetentionDays", min=1, max=MAX_RETENTION_DAYS)
    return DEFAULT_RETENTION_DAYS if days is None else days


def _name(ctx: Context, value: str | None, checks: _Checks) -> str:
    limit = ctx.topology.limits.disk_name_max_bytes
    if value is not None and len(value.encode()) > limit:
        raise checks.name_too_long(max=limit)
    return unnamed(ctx) if value is None else value


# --- CreateAutoSnapshotPolicy ----------------------------------------------------------------------
def create_auto_snapshot_policy(ctx: Context, req: CreateAutoSnapshotPolicyRequest) -> dict:
    schedule = _schedule(req.Policy, _CREATE_CHECKS)
    retention = _retention(bool(req.IsPermanent), req.RetentionDays, _CREATE_CHECKS)
    name = _name(ctx, req.AutoSnapshotPolicyName, _CREATE_CHECKS)
    upcoming = next_trigger(schedule, ctx.now, ctx.now)
    if req.DryRun:
        return {"AutoSnapshotPolicyId": "", "NextTriggerTime": format_time(upcoming)}
    quota = ctx.topology.limits.auto_snapshot_policies_per_region
    have = ctx.conn.execute(select(func.count()).select_from(policies).where(
        owned_by(policies, ctx.account_id, ctx.region))).scalar_one()
    if have >= quota:
        raise msg.POLICY_QUOTA_FULL(count=have, region=ctx.region, quota=quota)
    ledger.check_not_in_arrears(ctx)  # §3.25 step 5: a policy makes billed snapshots
    policy_id = new_ids(ctx.conn, ids.POLICY, policies.c.policy_id, 1)[0]
    ctx.conn.execute(insert(policies).values(
        policy_id=policy_id, account_id=ctx.account_id, region=ctx.region, policy_name=name,
        policy_state=NORMAL, is_activated=req.IsActivated is not False,
        is_permanent=bool(req.IsPermanent), retention_days=retention,
        schedule=orjson.dumps(schedule).decode(), anchor_at=ctx.now, next_trigger_at=upcoming,
        created_at=ctx.now))
    _fire_at(ctx.conn, policy_id, ctx.account_id, ctx.region, upcoming)
    return {"AutoSnapshotPolicyId": policy_id, "NextTriggerTime": format_time(upcoming)}


def _fire_at(conn, policy_id: str, account_id: str, region: str, when: float | None) -> None:
    engine.reschedule(conn, FIRE, resource_id=policy_id, account_id=account_id, region=region,
                      due_at=when)


# --- the engine fires a policy ---------------------------------------------------------------------
# A firing snapshots its bound disks this many at a time: the rest is a move of its own, due at the
# same moment, so that a policy over thousands of disks is a run of short chunks of work (a clock
# advance never stalls the API) rather than one long transaction.
FIRE_CHUNK = 100
FIRE_REST = "policy.fire.rest"


@engine.on(FIRE)
def _fire(conn, policy_id: str, _payload: dict, due_at: float) -> None:
    policy = conn.execute(select(policies).where(policies.c.policy_id == policy_id)).first()
    if policy is None:
        return
    if _firing(policy):
        _snapshot_bound_disks(conn, policy, due_at, after_seq=0)
    upcoming = next_trigger(orjson.loads(policy.schedule), due_at, policy.anchor_at)
    conn.execute(update(policies).where(policies.c.policy_id == policy_id)
                 .values(next_trigger_at=upcoming))
    _fire_at(conn, policy_id, policy.account_id, policy.region, upcoming)


@engine.on(FIRE_REST)
def _fire_rest(conn, policy_id: str, payload: dict, due_at: float) -> None:
    """The disks a firing has not reached yet (those after `after_seq`), as they are bound now."""
    policy = conn.execute(select(policies).where(policies.c.policy_id == policy_id)).first()
    if policy is not None and _firing(policy):
        _snapshot_bound_disks(conn, policy, due_at, after_seq=payload["after_seq"])


def _firing(policy) -> bool:
    return policy.is_activated and policy.policy_state == NORMAL


def _snapshot_bound_disks(conn, policy, due_at: float, *, after_seq: int) -> None:
    """One snapshot of every bound disk in use (an elastic disk attached; a disk bought with its
    instance while that instance runs), FIRE_CHUNK disks at a time; a disk that cannot take one
    now is skipped silently."""
    ctx = engine_context(conn, policy.account_id, policy.region, due_at)
    moment = datetime.fromtimestamp(due_at, CHINA_TZ)
    name = moment.strftime("snap_%Y%m%d_%H")  # the vendor's naming of scheduled snapshots
    deadline = None if policy.is_permanent else due_at + policy.retention_days * DAY
    bound = conn.execute(
        select(disks, instances.c.instance_state)
        .select_from(outerjoin(disks, instances, instances.c.instance_id == disks.c.instance_id))
        .where(disks.c.disk_id.in_(select(policy_disks.c.disk_id).where(
            policy_disks.c.policy_id == policy.policy_id).scalar_subquery()),
            disks.c.seq > after_seq)
        .order_by(disks.c.seq).limit(FIRE_CHUNK + 1)).all()
    if len(bound) > FIRE_CHUNK:
        bound = bound[:FIRE_CHUNK]
        engine.schedule(conn, FIRE_REST, resource_id=policy.policy_id, account_id=policy.account_id,
                        region=policy.region, due_at=due_at, payload={"after_seq": bound[-1].seq})
    creating, quota, chosen = snaps.disks_creating(ctx), snaps.QuotaUse(ctx), []
    for disk in bound:
        in_use = disk.instance_ids != "[]" and (disk.portable or disk.instance_state == inst.RUNNING)
        if in_use and snaps.disk_refusal(ctx, disk, None, creating=disk.disk_id in creating) is None \
                and quota.refusal(disk) is None:
            quota.take(disk)
            chosen.append(disk)
    snaps.take_snapshots(ctx, chosen, name=name, deadline_at=deadline, policy_id=policy.policy_id)


# --- DescribeAutoSnapshotPolicies ------------------------------------------------------------------
POLICY_FILTERS: dict[str, FilterSpec] = {
    "auto-snapshot-policy-id": FilterSpec("policy_id"),
    "auto-snapshot-policy-state": FilterSpec("policy_state", allowed=frozenset({NORMAL, ISOLATED})),
    "auto-snapshot-policy-name": FilterSpec("policy_name"),
}


def describe_auto_snapshot_policies(ctx: Context, req: DescribeAutoSnapshotPoliciesRequest) -> dict:
    limit, offset = page_of(ctx, req)
    if req.AutoSnapshotPolicyIds is not None and req.Filters is not None:
        raise msg.GIVEN_WITH_FILTERS(field="AutoSnapshotPolicyIds")
    where = [owned_by(policies, ctx.account_id, ctx.region)]
    if req.AutoSnapshotPolicyIds is not None:
        where.append(policies.c.policy_id.in_(listed_ids(
            req.AutoSnapshotPolicyIds, "AutoSnapshotPolicyIds", MAX_IDS, ids.POLICY)))
    shape, params = compile_filters(req.Filters or (), POLICY_FILTERS, "DescribeAutoSnapshotPolicies")
    where.extend(condition.params(params) for condition in
                 filter_conditions(shape, policies, POLICY_FILTERS))
    order = ([policies.c.created_at.desc(), policies.c.seq.desc()] if req.Order == "DESC"
             else [policies.c.created_at.asc(), policies.c.seq.asc()])
    total = ctx.conn.execute(select(func.count()).select_from(policies).where(*where)).scalar_one()
    rows = ctx.conn.execute(select(policies).where(*where).order_by(*order)
                            .limit(limit).offset(offset)).all()
    bound = _bound_disks(ctx.conn, [r.policy_id for r in rows])
    return {"TotalCount": total,
            "AutoSnapshotPolicySet": [_shown(r, bound.get(r.policy_id, [])) for r in rows]}


def _shown(policy, disk_ids: list[str]) -> dict:
    return policy_json(policy, disk_ids=disk_ids, next_trigger=format_time(policy.next_trigger_at))


def _bound_disks(conn, policy_ids: list[str]) -> dict[str, list[str]]:
    bound: dict[str, list[str]] = {}
    if policy_ids:
        for row in conn.execute(select(policy_disks.c.policy_id, policy_disks.c.disk_id).where(
                policy_disks.c.policy_id.in_(policy_ids))
                .order_by(policy_disks.c.bound_at, policy_disks.c.disk_id)):
            bound.setdefault(row.policy_id, []).append(row.disk_id)
    return bound


def policies_of_disks(conn, disk_ids: list[str]) -> dict[str, list[str]]:
    """The policies each disk is bound to (DescribeDisks' ReturnBindAutoSnapshotPolicy)."""
    bound: dict[str, list[str]] = {d: [] for d in disk_ids}
    if disk_ids:
        for row in conn.execute(select(policy_disks.c.disk_id, policy_disks.c.policy_id).where(
                policy_disks.c.disk_id.in_(disk_ids))
                .order_by(policy_disks.c.bound_at, policy_disks.c.policy_id)):
            bound[row.disk_id].append(row.policy_id)
    return bound


# --- ModifyAutoSnapshotPolicyAttribute -------------------------------------------------------------
def modify_auto_snapshot_policy_attribute(ctx: Context,
                                          req: ModifyAutoSnapshotPolicyAttributeRequest) -> dict:
    checks = _MODIFY_CHECKS
    _policy_id(req.AutoSnapshotPolicyId, msg.ID_MALFORMED_AS_INVALID_PARAMETER)
    values = {}
    if req.Policy is not None:
        values["schedule"] = orjson.dumps(_schedule(req.Policy, checks)).decode()
    if req.IsPermanent is not None or req.RetentionDays is not None:
        if req.IsPermanent is not None:
            values["is_permanent"] = req.IsPermanent
        if req.RetentionDays is not None or req.IsPermanent:
            values["retention_days"] = _retention(bool(req.IsPermanent), req.RetentionDays, checks)
    if req.AutoSnapshotPolicyName is not None:
        values["policy_name"] = _name(ctx, req.AutoSnapshotPolicyName, checks)
    if req.IsActivated is not None:
        values["is_activated"] = req.IsActivated
    policy = _load_policies(ctx, [req.AutoSnapshotPolicyId])[0]
    if policy.policy_state == ISOLATED:
        raise msg.POLICY_NOT_CHANGEABLE(policy_id=policy.policy_id, state=policy.policy_state)
    if req.RetentionDays is not None and req.IsPermanent is None and policy.is_permanent:
        raise checks.retention_with_permanent()
    ledger.check_not_in_arrears(ctx)  # §3.27 step 5
    if "schedule" in values:
        values["anchor_at"] = ctx.now
        values["next_trigger_at"] = next_trigger(orjson.loads(values["schedule"]), ctx.now, ctx.now)
        _fire_at(ctx.conn, policy.policy_id, ctx.account_id, ctx.region, values["next_trigger_at"])
    if values:
        ctx.conn.execute(update(policies).where(policies.c.policy_id == policy.policy_id)
                         .values(**values))
    return {}


# --- DeleteAutoSnapshotPolicies --------------------------------------------------------------------
def delete_auto_snapshot_policies(ctx: Context, req: DeleteAutoSnapshotPoliciesRequest) -> dict:
    policy_ids = checked_ids(req.AutoSnapshotPolicyIds, "AutoSnapshotPolicyIds",
                             ctx.topology.limits.delete_policies_max_count, prefix=ids.POLICY)
    _load_policies(ctx, policy_ids)
    ctx.conn.execute(delete(transitions).where(transitions.c.resource_id.in_(policy_ids)))
    ctx.conn.execute(delete(policies).where(policies.c.policy_id.in_(policy_ids)))  # bindings too
    return {}


# --- BindAutoSnapshotPolicy / UnbindAutoSnapshotPolicy ---------------------------------------------
def bind_auto_snapshot_policy(ctx: Context, req: BindAutoSnapshotPolicyRequest) -> dict:
    limits = ctx.topology.limits
    if not req.DiskIds:
        raise msg.PARAMETER_MISSING(field="DiskIds")
    if len(req.DiskIds) > limits.bind_disks_max_count:
        raise msg.BIND_DISKS_PER_REQUEST(max=limits.bind_disks_max_count)
    disk_ids = checked_ids(req.DiskIds, "DiskIds", limits.bind_disks_max_count)
    policy = _load_policies(ctx, [_policy_id(req.AutoSnapshotPolicyId, msg.ID_MALFORMED)])[0]
    targets = load_disks(ctx, disk_ids)
    bound = policies_of_disks(ctx.conn, disk_ids)
    for disk in targets:
        _check_bindable(ctx, disk, bound[disk.disk_id], policy.policy_id)
    _check_policy_room(ctx, policy.policy_id, len(disk_ids))
    ctx.conn.execute(insert(policy_disks), [
        dict(policy_id=policy.policy_id, disk_id=d, account_id=ctx.account_id, region=ctx.region,
             bound_at=ctx.now) for d in disk_ids])
    return {}


def _check_bindable(ctx: Context, disk, policy_ids: list[str], policy_id: str) -> None:
    if not disk.snapshot_ability or disk.disk_state == ds.TORECYCLE:
        refusal = (msg.DISK_IN_RECYCLE_BIN_NO_POLICY if disk.snapshot_ability
                   else msg.DISK_CANNOT_SNAPSHOT_NO_POLICY)
        raise refusal(disk_id=disk.disk_id)
    if policy_id in policy_ids:
        raise msg.DISK_ALREADY_BOUND_TO_POLICY(disk_id=disk.disk_id, policy_id=policy_id)
    if len(policy_ids) >= ctx.topology.limits.policies_per_disk:
        raise msg.DISK_POLICIES_FULL(disk_id=disk.disk_id, policy_ids=", ".join(policy_ids))


def _check_policy_room(ctx: Context, policy_id: str, adding: int) -> None:
    cap = ctx.topology.limits.disks_per_policy
    if not cap:
        return
    have = ctx.conn.execute(select(func.count()).select_from(policy_disks).where(
        policy_disks.c.policy_id == policy_id)).scalar_one()
    if have + adding > cap:
        raise msg.POLICY_DISKS_FULL(policy_id=policy_id, count=have, max=cap)


def unbind_auto_snapshot_policy(ctx: Context, req: UnbindAutoSnapshotPolicyRequest) -> dict:
    if not req.DiskIds and not req.InstanceIds:
        raise msg.PARAMETER_MISSING(field="DiskIds")
    policy = _load_policies(ctx, [_policy_id(req.AutoSnapshotPolicyId, msg.ID_MALFORMED)])[0]
    disk_ids = []
    if req.DiskIds:
        disk_ids = [d.disk_id for d in load_disks(ctx, checked_ids(
            req.DiskIds, "DiskIds", ctx.topology.limits.bind_disks_max_count))]
    for position, instance_id in enumerate(req.InstanceIds or ()):
        inst.require_instance(ctx, instance_id, f"InstanceIds.{position}")
        disk_ids.extend(ctx.conn.execute(select(disks.c.disk_id).where(
            owned_by(disks, ctx.account_id, ctx.region), disks.c.instance_id == instance_id))
            .scalars())
    if disk_ids:  # disks not bound to the policy are skipped, as documented
        ctx.conn.execute(delete(policy_disks).where(policy_disks.c.policy_id == policy.policy_id,
                                                    policy_disks.c.disk_id.in_(disk_ids)))
    return {}


# --- DescribeDiskAssociatedAutoSnapshotPolicy ------------------------------------------------------
def describe_disk_associated_auto_snapshot_policy(
        ctx: Context, req: DescribeDiskAssociatedAutoSnapshotPolicyRequest) -> dict:
    if not ids.is_resource_id(ids.DISK, req.DiskId):
        raise msg.ID_MALFORMED(field="DiskId", value=req.DiskId)
    disk = load_disks(ctx, [req.DiskId])[0]
    rows = ctx.conn.execute(select(policies).join(
        policy_disks, policy_disks.c.policy_id == policies.c.policy_id)
        .where(policy_disks.c.disk_id == disk.disk_id)
        .order_by(policies.c.created_at, policies.c.seq)).all()
    # In this action each policy's DiskIdSet is empty (the SDK model says so).
    return {"TotalCount": len(rows), "AutoSnapshotPolicySet": [_shown(r, []) for r in rows]}


def poke_policy(conn, policy_id: str, *, state: str | None = None):
    """What no API call can do to a policy (the control plane, cbs-behavior.md §9): isolate it
    (an account in arrears) or bring it back. The updated row, or None if there is none."""
    if state is not None:
        conn.execute(update(policies).where(policies.c.policy_id == policy_id)
                     .values(policy_state=state))
    return conn.execute(select(policies).where(policies.c.policy_id == policy_id)).first()

