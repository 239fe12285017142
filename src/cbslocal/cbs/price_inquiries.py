"""The price inquiries (cbs-behavior.md §3.11–§3.13): what a purchase or a change would cost,
quoted from the price table; nothing is bought and nothing changes."""

from __future__ import annotations

from cbslocal.api import messages as msg
from cbslocal.api.cbs_schema import InquiryPriceCreateDisksRequest
from cbslocal.api.context import Context
from cbslocal.billing.prices import PREPAID, quote_disks
from cbslocal.cbs.disk_state import PREPAID_PERIODS, check_performance, check_size


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
