"""The price inquiries (cbs-behavior.md §3.11–§3.13): what a purchase or a change would cost,
quoted from the price table; nothing is bought and nothing changes."""

from __future__ import annotations

from cbslocal.api import messages as msg
from cbslocal.api.cbs_schema import (InquirePriceModifyDiskExtraPerformanceRequest,
                                     InquiryPriceCreateDisksRequest, InquiryPriceRenewDisksRequest,
                                     InquiryPriceResizeDiskRequest)
from cbslocal.api.context import Context
from cbslocal.api.errors import ZH_CN
from cbslocal.billing.prices import (POSTPAID, PREPAID, prepay_price, quote_disks, quote_parts,
                                    total)
from cbslocal.cbs import lifecycle, prepaid
from cbslocal.cbs.disk_state import (PREPAID_PERIODS, check_performance, check_size,
                                     checked_ids, load_disks, not_expired)
from cbslocal.engine.clock import add_months, format_time

# [inf] A NewDeadline is reached in whole months, at most this many past the current deadline.
MAX_RENEWAL_MONTHS = 36


def inquiry_price_create_disks(ctx: Context, req: InquiryPriceCreateDisksRequest) -> dict:
    """The total for DiskCount disks: a month's price times the period (prepaid, after its
    discount), or an hour's (postpaid). A type that no zone of the region sells is refused with
    InvalidParameterValue, as the vendor does here (§3.11); which zone is not asked."""
    topology = ctx.topology
    if req.DiskChargeType == PREPAID and req.DiskChargePrepaid is None:
        raise msg.PARAMETER_MISSING(field="DiskChargePrepaid")
    count = 1 if req.DiskCount is None else req.DiskCount
    if not 1 <= count <= topology.limits.create_disks_max_count:
        raise msg.VALUE_BETWEEN(field="DiskCount", min=1, max=topology.limits.create_disks_max_count)
    if req.DiskChargePrepaid is not None and req.DiskChargePrepaid.Period not in PREPAID_PERIODS:
        raise msg.PREPAID_PERIOD_INVALID(field="DiskChargePrepaid.Period")  # (as CreateDisks)
    period = req.DiskChargePrepaid.Period if req.DiskChargeType == PREPAID else 1
    if (req.ProjectId or 0) not in topology.projects:
        raise msg.PROJECT_NOT_FOUND(field="ProjectId", project_id=req.ProjectId)
    if not any(z.region == ctx.region and not z.sold_out and req.DiskType in z.sold_disk_types
               for z in topology.zones.values()):
        raise msg.DISK_TYPE_NOT_SOLD_IN_REGION(disk_type=req.DiskType, region=ctx.region)
    check_size(topology, req.DiskType, req.DiskSize)
    check_performance(req.DiskType, req.DiskSize, req.ThroughputPerformance, None)
    quote = quote_disks(topology.prices, charge_type=req.DiskChargeType, disk_type=req.DiskType,
                        size=req.DiskSize, count=count, throughput=req.ThroughputPerformance or 0,
                        backup_points=req.DiskBackupQuota or 0, period=period)
    return {"DiskPrice": quote.as_price()}


def inquiry_price_renew_disks(ctx: Context, req: InquiryPriceRenewDisksRequest) -> dict:
    """What renewing the disks would cost (§3.12): each for its DiskChargePrepaids entry's Period,
    or for the whole months that reach NewDeadline [inf]; in total, with a DetailPrice per thing
    billed, summed over the disks."""
    disk_ids = checked_ids(req.DiskIds, "DiskIds", ctx.topology.limits.modify_disks_max_count)
    spans = req.DiskChargePrepaids
    if spans is None and req.NewDeadline is None:
        raise msg.PARAMETER_MISSING(field="DiskChargePrepaids")
    if spans is not None and req.NewDeadline is not None:
        raise msg.RENEWAL_SPANS_BOTH()
    if spans is not None and len(spans) != len(disk_ids):
        raise msg.RENEWAL_SPANS_PER_DISK(spans=len(spans), disks=len(disk_ids))
    for position, span in enumerate(spans or ()):
        prepaid.renewal_span(span, f"DiskChargePrepaids.{position}")
    new_deadline = None if req.NewDeadline is None else prepaid.api_time(req.NewDeadline,
                                                                         "NewDeadline")
    if (req.ProjectId or 0) not in ctx.topology.projects:
        raise msg.PROJECT_NOT_FOUND(field="ProjectId", project_id=req.ProjectId)
    quotes = []
    for position, disk in enumerate(load_disks(ctx, disk_ids)):
        prepaid.check_renewable(disk)
        months = (spans[position].Period if spans is not None
                  else _months_to(disk, prepaid.renewed_from(ctx, disk, None), new_deadline))
        quotes.append(_renewal_parts(ctx, disk, months))
    parts = {name: total(PREPAID, (q[name] for q in quotes)) for name in quotes[0]}
    titles = msg.PRICE_TITLES.get(ctx.language, msg.PRICE_TITLES[ZH_CN])
    return {"DiskPrice": prepay_price(total(PREPAID, parts.values()), parts, titles)}


def _renewal_parts(ctx: Context, disk, months: int) -> dict:
    return quote_parts(ctx.topology.prices, charge_type=PREPAID, disk_type=disk.disk_type,
                       size=disk.disk_size, throughput=disk.throughput_performance,
                       backup_points=disk.disk_backup_quota, period=months)


def _months_to(disk, start: float, deadline: float) -> int:
    """The whole months from `start` that reach `deadline`."""
    for months in range(1, MAX_RENEWAL_MONTHS + 1):
        if deadline <= start:
            break
        if add_months(start, months) >= deadline:
            return months
    raise msg.NEW_DEADLINE_OUT_OF_RANGE(disk_id=disk.disk_id, deadline=format_time(start),
                                        most=MAX_RENEWAL_MONTHS)


def inquiry_price_resize_disk(ctx: Context, req: InquiryPriceResizeDiskRequest) -> dict:
    """What resizing the disks to DiskSize would cost (§3.13): for a prepaid disk the difference
    to its deadline (what ResizeDisk takes); [inf] for a postpaid one the new hourly price. A size
    equal to the current one is allowed here (unlike ResizeDisk), and costs nothing."""
    if req.DiskId is None and req.DiskIds is None:
        raise msg.PARAMETER_MISSING(field="DiskId")
    if req.DiskId is not None and req.DiskIds is not None:
        raise msg.DISK_ID_OR_IDS()
    disk_ids = checked_ids([req.DiskId] if req.DiskId is not None else req.DiskIds,
                           "DiskId" if req.DiskId is not None else "DiskIds",
                           ctx.topology.limits.modify_disks_max_count)
    if (req.ProjectId or 0) not in ctx.topology.projects:
        raise msg.PROJECT_NOT_FOUND(field="ProjectId", project_id=req.ProjectId)
    targets = load_disks(ctx, disk_ids)
    for disk in targets:
        prepaid.check_elastic(disk)
        not_expired(disk)
        if req.DiskSize < disk.disk_size:
            raise msg.DISK_SIZE_BELOW_CURRENT(disk_id=disk.disk_id, size=disk.disk_size)
        check_size(ctx.topology, disk.disk_type, req.DiskSize)
    if any(d.charge_type != PREPAID for d in targets):
        hourly = total(POSTPAID, (quote_disks(
            ctx.topology.prices, charge_type=POSTPAID, disk_type=d.disk_type, size=req.DiskSize,
            throughput=d.throughput_performance, backup_points=d.disk_backup_quota)
            for d in targets))
        return {"DiskPrice": {**hourly.as_price(), "DetailPrices": None}}
    quotes = [prepaid.upgrade_parts(ctx, d, disk_size=req.DiskSize) for d in targets]
    parts = {name: total(PREPAID, (q[name] for q in quotes)) for name in quotes[0]}
    titles = msg.PRICE_TITLES.get(ctx.language, msg.PRICE_TITLES[ZH_CN])
    return {"DiskPrice": prepay_price(total(PREPAID, parts.values()), parts, titles)}


def inquire_price_modify_disk_extra_performance(
        ctx: Context, req: InquirePriceModifyDiskExtraPerformanceRequest) -> dict:
    """What ModifyDiskExtraPerformance would cost: for a prepaid disk the difference to its
    deadline (a Price with the prepaid fields), for a postpaid one [inf] its new hourly price."""
    disk = lifecycle.extra_performance_target(ctx, req)
    if disk.charge_type == PREPAID:
        parts = prepaid.upgrade_parts(ctx, disk, throughput_performance=req.ThroughputPerformance)
        return {"DiskPrice": total(PREPAID, parts.values()).as_price()}
    return {"DiskPrice": quote_disks(
        ctx.topology.prices, charge_type=POSTPAID, disk_type=disk.disk_type, size=disk.disk_size,
        throughput=req.ThroughputPerformance, backup_points=disk.disk_backup_quota).as_price()}
