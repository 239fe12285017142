"""Disks: CreateDisks and DescribeDisks (cbs-behavior.md §3.1, §3.2, §4.1, §5.1)."""

from __future__ import annotations

from typing import NamedTuple

import orjson
from sqlalchemy import bindparam, func, insert, select, update

from cbslocal import ids
from cbslocal.api import messages as msg
from cbslocal.api.cbs_schema import (CreateDisksRequest, DescribeDisksRequest, disk_json,
                                     disk_json_timeless)
from cbslocal.api.context import Context
from cbslocal.api.rendered import rendered_set
from cbslocal.billing import ledger, usage
from cbslocal.billing.prices import POSTPAID, PREPAID, DiskQuote, quote_disks
from cbslocal.cbs import attachments, policies, prepaid
from cbslocal.cbs import snapshots as snaps
from cbslocal.cbs.disk_state import (ATTACHED, DEFAULT_RENEW_FLAG, PREPAID_PERIODS, PROVISIONING,
                                     UNATTACHED, check_performance, check_size, check_stock,
                                     listed_ids)
from cbslocal.cbs import instance_state as inst
from cbslocal.cbs.filters import (TAG_PREFIX, compile_filters, drives, filter_conditions,
                                  tag_census_conditions)
from cbslocal.cbs.resources import page_of, page_total, unnamed, validate_tags
from cbslocal.engine import transitions
from cbslocal.engine.clock import add_months
from cbslocal.store.scope import owned_by
from cbslocal.store.prepared import (Prepared, PreparedInsert, in_list, listed, new_ids, shaped,
                                     sum_or_zero)
from cbslocal.store.tables import (disk_attachments, disk_census, disk_tag_census, disk_tags,
                                   disks)

MAX_DESCRIBE_IDS = 100


# --- CreateDisks -----------------------------------------------------------------------------------
def create_disks(ctx: Context, req: CreateDisksRequest) -> dict:
    plan = _validate_create(ctx, req)
    disk_ids = new_disk_ids(ctx, plan.count)
    duration = ctx.timing.duration("disk.create")
    state = PROVISIONING if duration > 0 else (ATTACHED if plan.mount_on else UNATTACHED)
    _insert_disks(ctx, req, plan, disk_ids, state)
    if req.DiskChargeType == PREPAID:
        ledger.pay(ctx, ledger.Charge(ledger.PURCHASE, plan.quote.fen, disk_ids,
                                      _bought(req, plan)))
        for disk_id in disk_ids:
            prepaid.watch_deadline(ctx.conn, disk_id, ctx.account_id, ctx.region, plan.deadline)
        prepaid.place_orders(ctx, disk_ids)
    else:
        usage.bill_from(ctx.conn, ctx.account_id, ctx.now)
    for disk_id in disk_ids:
        for instance_id in plan.mount_on:
            attach_at_once(ctx, disk_id, "DATA_DISK", instance_id)
        if duration > 0:
            transitions.schedule(ctx.conn, "disk.create", resource_id=disk_id,
                                 account_id=ctx.account_id, region=ctx.region,
                                 due_at=ctx.now + duration)
    return {"DiskIdSet": disk_ids}


@transitions.on("disk.create")
def _disk_created(conn, disk_id: str, _payload: dict, _due_at: float) -> None:
    """Listed at last: UNATTACHED, or ATTACHED if it was bought onto an instance."""
    conn.execute(update(disks).where(disks.c.disk_id == disk_id, disks.c.disk_state == PROVISIONING)
                 .values(disk_state=UNATTACHED))
    attachments.show_attachments(conn, disk_id, from_state=UNATTACHED)


def attach_at_once(ctx: Context, disk_id: str, usage: str, instance_id: str) -> None:
    """A disk bought onto an instance is attached from its first moment."""
    ctx.conn.execute(insert(disk_attachments).values(
        disk_id=disk_id, instance_id=instance_id, account_id=ctx.account_id, region=ctx.region,
        disk_usage=usage, attached_at=ctx.now))
    ctx.conn.execute(update(disks).where(disks.c.disk_id == disk_id).values(
        last_attach_ins_id=instance_id, instance_type="CVM"))
    attachments.show_attachments(ctx.conn, disk_id)


def _validate_create(ctx: Context, req: CreateDisksRequest) -> "_Plan":
    """The checks of cbs-behavior.md §3.1, in its order; returns what to make."""
    limits = ctx.topology.limits
    # 1. conditional requirements
    if req.DiskSize is None and req.SnapshotId is None:
        raise msg.PARAMETER_MISSING(field="DiskSize")
    if req.DiskChargeType == PREPAID and req.DiskChargePrepaid is None:
        raise msg.PARAMETER_MISSING(field="DiskChargePrepaid")
    # 2. values and combinations
    count = 1 if req.DiskCount is None else req.DiskCount
    if not 1 <= count <= limits.create_disks_max_count:
        raise msg.VALUE_BETWEEN(field="DiskCount", min=1, max=limits.create_disks_max_count)
    if req.DiskChargePrepaid is not None and req.DiskChargePrepaid.Period not in PREPAID_PERIODS:
        raise msg.PREPAID_PERIOD_INVALID(field="DiskChargePrepaid.Period")
    zone = ctx.topology.zone_in_region(req.Placement.Zone, ctx.region)
    if zone is None:
        raise msg.ZONE_NOT_IN_REGION(field="Placement.Zone", zone=req.Placement.Zone,
                                     region=ctx.region)
    if req.DiskName is not None and len(req.DiskName.encode()) > limits.disk_name_max_bytes:
        raise msg.TEXT_TOO_MANY_BYTES(field="DiskName", max=limits.disk_name_max_bytes)
    if req.Shareable and req.Encrypt:
        raise msg.SHAREABLE_DISK_ENCRYPTED()
    if req.Encrypt is None and (req.KmsKeyId is not None or req.EncryptType is not None):
        raise msg.PARAMETER_NEEDS(field="KmsKeyId" if req.KmsKeyId is not None else "EncryptType",
                                  other="Encrypt")
    check_performance(req.DiskType, req.DiskSize, req.ThroughputPerformance, req.BurstPerformance)
    validate_tags(req.Tags or [], limits.tags_per_resource)
    if req.Encrypt and req.AutoMountConfiguration is not None:
        raise msg.ENCRYPTED_DISK_NO_AUTO_MOUNT()
    # 3. project
    if (req.Placement.ProjectId or 0) not in ctx.topology.projects:
        raise msg.PROJECT_NOT_FOUND(field="Placement.ProjectId", project_id=req.Placement.ProjectId)
    # 4. what the zone sells
    _check_sold(ctx, req, zone)
    # 5. size (when given), 6. snapshot
    if req.DiskSize is not None:
        check_size(ctx.topology, req.DiskType, req.DiskSize)
    source = _source_snapshot(ctx, req) if req.SnapshotId is not None else None
    size = req.DiskSize if req.DiskSize is not None else source.disk_size
    if req.DiskSize is None:
        check_size(ctx.topology, req.DiskType, size)
    if source is not None and req.Shareable and source.encrypt:
        raise msg.SHAREABLE_FROM_ENCRYPTED_SNAPSHOT(snapshot_id=source.snapshot_id)
    if source is not None and size < source.disk_size:
        raise msg.DISK_SMALLER_THAN_SNAPSHOT(snapshot_id=source.snapshot_id,
                                             snapshot_size=source.disk_size, size=size)
    mount_on = []
    if req.AutoMountConfiguration is not None:
        mount_on = _mount_instances(ctx, req, count)
    _check_disk_quota(ctx, count)
    # 8. payment permission, 9. balance
    quote = _quote(ctx, req, size, count)
    _check_payment(ctx, req, quote)
    # 10. stock
    check_stock(ctx, zone.name, req.DiskType, size * count)
    deadline = add_months(ctx.now, req.DiskChargePrepaid.Period) if req.DiskChargeType == PREPAID \
        else None
    return _Plan(count, mount_on, size, source, quote, deadline)


class _Plan(NamedTuple):
    count: int
    mount_on: list[str]
    size: int
    source: object  # the snapshot row the disks are made from, or None
    quote: DiskQuote  # what the disks cost: for the whole period, or an hour
    deadline: float | None  # a prepaid disk's


def _quote(ctx: Context, req: CreateDisksRequest, size: int, count: int) -> DiskQuote:
    prepaid = req.DiskChargeType == PREPAID
    return quote_disks(ctx.topology.prices, charge_type=PREPAID if prepaid else POSTPAID,
                       disk_type=req.DiskType, size=size, count=count,
                       throughput=req.ThroughputPerformance or 0,
                       backup_points=req.DiskBackupQuota or 0,
                       period=req.DiskChargePrepaid.Period if prepaid else 1)


def _check_payment(ctx: Context, req: CreateDisksRequest, quote: DiskQuote) -> None:
    """Prepaid disks are paid now, by a caller who may pay; [inf] postpaid ones need a balance
    that covers their first hour (docs/compatibility.md)."""
    if req.DiskChargeType == PREPAID:
        ledger.check_may_pay(ctx)
    ledger.check_affordable(ctx, quote.fen)


def _bought(req: CreateDisksRequest, plan: "_Plan") -> str:
    months = req.DiskChargePrepaid.Period
    return (f"{plan.count} × {req.DiskType} {plan.size} GiB for {months} "
            f"month{'s' if months > 1 else ''}")


def _source_snapshot(ctx: Context, req: CreateDisksRequest):
    """§3.1 step 6: a NORMAL data-disk snapshot the caller owns or is shared."""
    snaps.checked_snapshot_id(req.SnapshotId)
    source = snaps.load_snapshots(ctx, [req.SnapshotId])[0]
    snaps.require_normal(source)
    if source.disk_usage != "DATA_DISK":
        raise msg.SNAPSHOT_NOT_DATA_DISK(snapshot_id=source.snapshot_id)
    return source


def _check_disk_quota(ctx: Context, count: int) -> None:
    """The account's elastic disks in the region, when the configuration caps them [inf: the
    generic LimitExceeded, cbs-behavior.md §7.2]."""
    quota = ctx.topology.limits.elastic_disks_per_region
    if not quota:
        return
    have = ctx.conn.execute(select(sum_or_zero(disk_census.c.n)).where(
        owned_by(disk_census, ctx.account_id, ctx.region), disk_census.c.portable.is_(True))
    ).scalar_one()
    if have + count > quota:
        raise msg.ELASTIC_DISK_QUOTA(have=have, region=ctx.region, quota=quota)


def _check_sold(ctx: Context, req: CreateDisksRequest, zone) -> None:
    placement = req.Placement
    if req.DiskChargeType == "CDCPAID" or placement.CdcId or placement.DedicatedClusterId \
            or placement.CageId:
        raise msg.NO_DEDICATED_CLUSTER()
    spec = ctx.topology.disk_types[req.DiskType]
    if zone.sold_out or req.DiskType not in zone.sold_disk_types or not spec.standalone:
        refusal = (msg.ZONE_SOLD_OUT if zone.sold_out else
                   msg.ZONE_DOES_NOT_SELL_TYPE if req.DiskType not in zone.sold_disk_types else
                   msg.DISK_TYPE_ONLY_WITH_INSTANCES)
        raise refusal(zone=zone.name, disk_type=req.DiskType)


def _mount_instances(ctx: Context, req: CreateDisksRequest, count: int) -> list[str]:
    """§3.1 step 7: the instances of AutoMountConfiguration exist, are in the disk's zone and
    have room for `count` more data disks. Several instances only for a shareable disk."""
    field = "AutoMountConfiguration.InstanceId"
    instance_ids = req.AutoMountConfiguration.InstanceId
    if not instance_ids:
        raise msg.PARAMETER_MISSING(field=field)
    if len(instance_ids) > 1 and not req.Shareable:
        raise msg.MOUNT_SEVERAL_NEEDS_SHAREABLE(field=field)
    for position, instance_id in enumerate(instance_ids):
        instance = inst.require_instance(ctx, instance_id, f"{field}.{position}")
        if instance.zone != req.Placement.Zone:
            raise msg.INSTANCE_IN_OTHER_ZONE(instance_id=instance_id, instance_zone=instance.zone,
                                             zone=req.Placement.Zone)
        inst.check_takes_disks(instance)
        inst.check_room(ctx.conn, instance, count)
    return list(instance_ids)


_INSERT_DISKS = PreparedInsert(disks)
_INSERT_TAGS = PreparedInsert(disk_tags)


def new_disk_ids(ctx: Context, count: int) -> list[str]:
    return new_ids(ctx.conn, ids.DISK, disks.c.disk_id, count)


def disk_row(ctx: Context, **values) -> dict:
    """A new `disks` row: an unattached, elastic, postpaid data disk unless `values` say more."""
    row = dict(
        account_id=ctx.account_id, region=ctx.region, project_id=0, disk_name=unnamed(ctx),
        disk_usage="DATA_DISK", disk_state=UNATTACHED, charge_type="POSTPAID_BY_HOUR",
        portable=True, shareable=False, encrypt=False, encrypt_type="", kms_key_id="",
        instance_id="", instance_type="", last_attach_ins_id=None, attach_mode="",
        delete_with_instance=False, delete_snapshot=0, renew_flag="", deadline_at=None,
        throughput_performance=0, burst_performance=False, disk_backup_quota=0,
        snapshot_ability=True, source_snapshot_id=None, error_prompt="", tags="[]",
        instance_ids="[]", recycle_reason="", refunded_before=False, returnable=True,
        migrate_to=None, op_started_at=None, op_due_at=None, created_at=ctx.now, paid_fen=0,
        term_started_at=None, auto_renew_period=1)
    row.update(values)
    return row


def _insert_disks(ctx: Context, req: CreateDisksRequest, plan: "_Plan", disk_ids: list[str],
                  state: str) -> None:
    prepaid_disks = req.DiskChargeType == PREPAID
    # A disk made from an encrypted snapshot is encrypted too.
    encrypt = req.Encrypt is not None or bool(plan.source is not None and plan.source.encrypt)
    common = disk_row(
        ctx, zone=req.Placement.Zone, project_id=req.Placement.ProjectId or 0,
        disk_name=req.DiskName if req.DiskName is not None else unnamed(ctx),
        disk_type=req.DiskType, disk_size=plan.size, disk_state=state,
        charge_type=req.DiskChargeType, shareable=bool(req.Shareable), encrypt=encrypt,
        source_snapshot_id=plan.source.snapshot_id if plan.source is not None else None,
        encrypt_type=(req.EncryptType or "ENCRYPT_V2") if encrypt else "",
        kms_key_id=req.KmsKeyId or "", delete_snapshot=req.DeleteSnapshot or 0,
        renew_flag=(req.DiskChargePrepaid.RenewFlag or DEFAULT_RENEW_FLAG) if prepaid_disks else "",
        deadline_at=plan.deadline,
        term_started_at=ctx.now if prepaid_disks else None,
        throughput_performance=req.ThroughputPerformance or 0,
        burst_performance=bool(req.BurstPerformance), disk_backup_quota=req.DiskBackupQuota or 0,
        snapshot_ability=not req.Shareable,
        tags=orjson.dumps([{"Key": t.Key, "Value": t.Value} for t in req.Tags or ()]).decode())
    shares = (prepaid.split_fen(plan.quote.fen, len(disk_ids)) if prepaid_disks
              else [0] * len(disk_ids))
    _INSERT_DISKS.run(ctx.conn, [dict(common, disk_id=d, paid_fen=fen)
                                 for d, fen in zip(disk_ids, shares)])
    tags = [dict(disk_id=d, account_id=ctx.account_id, region=ctx.region, position=i,
                 tag_key=t.Key, tag_value=t.Value)
            for d in disk_ids for i, t in enumerate(req.Tags or [])]
    if tags:
        _INSERT_TAGS.run(ctx.conn, tags)


# --- DescribeDisks -------------------------------------------------------------------------------
_ORDER_COLUMNS = {"CREATE_TIME": disks.c.created_at, "CREATETIME": disks.c.created_at,
                  "DEADLINE": disks.c.deadline_at}
_MAX_SHAPES = 2048


def describe_disks(ctx: Context, req: DescribeDisksRequest) -> dict:
    limit, offset = page_of(ctx, req)
    if req.DiskIds is not None and req.Filters is not None:
        raise msg.IDS_WITH_FILTERS(field="DiskIds")
    params = {"account_id": ctx.account_id, "region": ctx.region, "hidden": PROVISIONING,
              "limit": limit, "offset": offset}
    id_count = None
    if req.DiskIds is not None:
        id_count = len(req.DiskIds)
        params.update({f"id{i}": disk_id for i, disk_id in enumerate(
            listed_ids(req.DiskIds, "DiskIds", MAX_DESCRIBE_IDS))})
    filter_shape, filter_params = compile_filters(req.Filters or ())
    params.update(filter_params)
    page, count = _describe_queries(id_count, filter_shape, req.OrderField or "CREATE_TIME",
                                    req.Order == "DESC")
    keys = page.rows(ctx.conn, **params)
    total = page_total(keys, limit, offset, lambda: count.scalar(ctx.conn, **params))
    bound, cache = None, ctx.rendered
    if req.ReturnBindAutoSnapshotPolicy:  # the policies are not in the disk's row: not kept
        bound, cache = policies.policies_of_disks(ctx.conn, [k.disk_id for k in keys]), None
    return {"TotalCount": total,
            "DiskSet": rendered_set(
                cache, keys, ctx.language, lambda disk_ids: _disks_by_id(ctx.conn, disk_ids),
                lambda row: disk_json(row, now=ctx.now, language=ctx.language,
                                      policy_ids=bound.get(row.disk_id) if bound else None),
                disk_json_timeless)}


def _disks_by_id(conn, disk_ids: list[str]) -> dict:
    query = shaped(("disks.by_id", len(disk_ids)),
                   lambda: select(disks).where(in_list(disks.c.disk_id, len(disk_ids))))
    return {row.disk_id: row for row in query.rows(conn, **listed(disk_ids))}


_DESCRIBE_QUERIES: dict[tuple, tuple[Prepared, Prepared]] = {}


def _census_count(filter_shape: tuple):
    """TotalCount from a census, in O(combinations) rather than O(disks), when one can tell it."""
    for census, conditions in ((disk_census, filter_conditions(filter_shape, disk_census)),
                               (disk_tag_census, tag_census_conditions(filter_shape))):
        if conditions is not None:
            return (select(sum_or_zero(census.c.n))
                    .where(*_listed(census), *conditions))
    return None


def _listed(table, *, indexed: bool = True) -> list:
    """The caller's disks that DescribeDisks shows (not those still being created)."""
    return [owned_by(table, bindparam("account_id"), bindparam("region"), indexed=indexed),
            table.c.disk_state != bindparam("hidden")]


def _tag_to_walk(id_count: int | None, filter_shape: tuple, order_column) -> int | None:
    """The position of the `tag:<key>` filter whose disks a page walks in creation order (from
    the tags' index), when nothing narrows the disks sooner (IDs, an instance)."""
    if id_count is not None or order_column is not disks.c.created_at or drives(filter_shape):
        return None
    return next((p for p, (name, _) in enumerate(filter_shape) if name == TAG_PREFIX), None)


def _by_tag(page, position: int, value_count: int, others: list, descending: bool):
    """The page's disks found through the tag pair's index, in its creation order: as few rows
    read as the page needs, however rare the pair (an EXISTS per disk in creation order read
    every disk without it first)."""
    tags = disk_tags.alias("walked")  # (another tag filter's EXISTS reads disk_tags itself)
    values = [bindparam(f"f{position}_{i}") for i in range(value_count)]
    order = [tags.c.created_at, tags.c.disk_seq]
    # (Joined by seq, the disk row's own key, as well as by ID: one lookup, not two.)
    return (page.select_from(tags.join(disks, (disks.c.seq == tags.c.disk_seq)
                                       & (disks.c.disk_id == tags.c.disk_id)))
            .where(owned_by(tags, bindparam("account_id"), bindparam("region")),
                   tags.c.tag_key == bindparam(f"f{position}_key"), tags.c.tag_value.in_(values),
                   disks.c.disk_state != bindparam("hidden"), *others)
            .order_by(*[c.desc() for c in order] if descending else order))


def _describe_queries(id_count: int | None, filter_shape: tuple, order_field: str,
                      descending: bool) -> tuple[Prepared, Prepared]:
    """The page and count statements for one shape of request, built and compiled once."""
    key = (id_count, filter_shape, order_field, descending)
    found = _DESCRIBE_QUERIES.get(key)
    if found is not None:
        return found
    where = _listed(disks, indexed=not drives(filter_shape))
    if id_count is not None:
        where.append(disks.c.disk_id.in_([bindparam(f"id{i}") for i in range(id_count)]))
    conditions = filter_conditions(filter_shape)
    where.extend(conditions)
    column = _ORDER_COLUMNS[order_field]
    order = ([column.desc().nulls_last(), disks.c.seq.desc()] if descending
             else [column.asc().nulls_last(), disks.c.seq.asc()])
    # The page's IDs and row versions: the objects come from api/rendered.py or their rows.
    page = select(disks.c.disk_id, disks.c.version)
    tag = _tag_to_walk(id_count, filter_shape, column)
    if tag is None:
        page = page.where(*where).order_by(*order)
    else:
        page = _by_tag(page, tag, filter_shape[tag][1], conditions[:tag] + conditions[tag + 1:],
                       descending)
    page = Prepared(page.limit(bindparam("limit")).offset(bindparam("offset")))
    census_count = _census_count(filter_shape) if id_count is None else None
    count = Prepared(census_count if census_count is not None
                     else select(func.count()).select_from(disks).where(*where))
    if len(_DESCRIBE_QUERIES) >= _MAX_SHAPES:
        _DESCRIBE_QUERIES.clear()
    _DESCRIBE_QUERIES[key] = (page, count)
    return page, count
