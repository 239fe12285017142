"""DescribeDiskConfigQuota: the disk configurations on sale, from the one table CreateDisks and
RunInstances validate against (cbs-behavior.md §3.14, §6.1)."""

from __future__ import annotations

from itertools import product

from cbslocal.api import messages as msg
from cbslocal.api.cbs_schema import DescribeDiskConfigQuotaRequest
from cbslocal.api.context import Context
from cbslocal.billing.prices import quote_disks
from cbslocal.cbs.disk_state import (DATA_DISK, EXTRA_PERFORMANCE_MAX, PERFORMANCE_TYPES, POSTPAID,
                                     PREPAID, SYSTEM_DISK)


def describe_disk_config_quota(ctx: Context, req: DescribeDiskConfigQuotaRequest) -> dict:
    topology = ctx.topology
    if req.DedicatedClusterId is not None:
        raise msg.DEDICATED_CLUSTER_NOT_FOUND(value=req.DedicatedClusterId)
    zones = [z for z in topology.zones.values() if z.region == ctx.region]
    if req.Zones is not None:
        for position, name in enumerate(req.Zones):
            if topology.zone_in_region(name, ctx.region) is None:
                raise msg.ZONE_NOT_IN_REGION(field=f"Zones.{position}", zone=name,
                                             region=ctx.region)
        zones = [z for z in zones if z.name in req.Zones]
    cvm_config = req.InquiryType == "INQUIRY_CVM_CONFIG"
    families = _families(ctx, req) if cvm_config else [None]
    usages = [req.DiskUsage] if req.DiskUsage else ([SYSTEM_DISK, DATA_DISK] if cvm_config else [DATA_DISK])
    charges = [req.DiskChargeType] if req.DiskChargeType else [PREPAID, POSTPAID]
    rows = []
    for zone, family, usage, charge in product(zones, families, usages, charges):
        for disk_type in req.DiskTypes or sorted(zone.sold_disk_types):
            rows.append(_config(ctx, zone, family, disk_type, usage, charge))
    return {"DiskConfigSet": rows}


def _families(ctx: Context, req: DescribeDiskConfigQuotaRequest) -> list:
    topology = ctx.topology
    names = req.InstanceFamilies or list(topology.instance_families)
    for position, name in enumerate(names):
        if name not in topology.instance_families:
            raise msg.INSTANCE_FAMILY_UNKNOWN(field=f"InstanceFamilies.{position}", value=name)
    sized = {t.family for t in topology.instance_types.values()
             if (req.CPU is None or t.cpu == req.CPU) and (req.Memory is None or t.memory == req.Memory)}
    return [topology.instance_families[n] for n in names if n in sized]


def _config(ctx: Context, zone, family, disk_type: str, usage: str, charge: str) -> dict:
    spec = ctx.topology.disk_types[disk_type]
    if usage == SYSTEM_DISK:
        system = ctx.topology.system_disk
        low, high, step = max(system.min_size, spec.min_size), system.max_size, system.step
    else:
        low, high, step = spec.min_size, spec.max_size, spec.step
    with_instance = family is not None
    available = (not zone.sold_out and disk_type in zone.sold_disk_types
                 and (family.tssd if with_instance and disk_type == "CLOUD_TSSD" else
                      with_instance or spec.standalone))
    return {
        "Available": available,
        "DiskChargeType": charge,
        "Zone": zone.name,
        "InstanceFamily": family.name if with_instance else None,
        "DiskType": disk_type,
        "StepSize": step,
        "ExtraPerformanceRange": ([0, EXTRA_PERFORMANCE_MAX[disk_type]]
                                  if disk_type in PERFORMANCE_TYPES and usage == DATA_DISK else None),
        "DeviceClass": family.device_class if with_instance else None,
        "DiskUsage": usage,
        "MinDiskSize": low,
        "MaxDiskSize": high,
        # [inf] The vendor does not say what this price is of: here, one disk of the smallest
        # size, for a month (prepaid) or an hour (postpaid) — docs/compatibility.md.
        "Price": quote_disks(ctx.topology.prices, charge_type=charge, disk_type=disk_type,
                             size=low).as_price(),
    }
