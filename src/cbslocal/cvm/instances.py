"""The minimal CVM service: RunInstances, DescribeInstances, Start/Stop/Reboot/TerminateInstances,
with their states on the clock (cbs-behavior.md §8.1).

An instance comes with its own disks — a system disk and any bundled data disks, non-elastic CBS
disks listed by DescribeDisks — and takes them with it when it is destroyed.
"""

from __future__ import annotations

import re

import orjson
from sqlalchemy import delete, func, insert, select, update

from cbslocal import ids
from cbslocal.api import errors
from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.billing import ledger, usage
from cbslocal.billing.prices import DiskQuote, quote_disks, total
from cbslocal.api.cvm_schema import (DescribeInstancesRequest, RebootInstancesRequest,
                                     RunInstancesRequest, StartInstancesRequest,
                                     StopInstancesRequest, TerminateInstancesRequest,
                                     instance_json)
from cbslocal.api.errors import ApiError
from cbslocal.cbs import attachments
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs.disk_state import DEFAULT_RENEW_FLAG
from cbslocal.cbs.disks import attach_at_once, disk_row, new_disk_ids
from cbslocal.cbs.resources import unnamed
from cbslocal.cvm import images
from cbslocal.cbs import instance_state as inst
from cbslocal.cbs.instance_state import (PENDING, REBOOTING, RUNNING, SHUTDOWN, STARTING, STOPPED,
                                STOPPING, TERMINATING)
from cbslocal.engine import transitions as engine
from cbslocal.engine.clock import add_months
from cbslocal.store.scope import owned_by
from cbslocal.store.prepared import new_ids
from cbslocal.store.tables import disk_attachments, disks, instances, transitions

INSTANCE_PERIODS = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36, 48, 60})
INSTANCE_NAME_MAX = 128
DATA_DISK_DEFAULT_TYPE = "CLOUD_PREMIUM"
_NAME_PATTERN = re.compile(r"\{R:(\d+)\}")


# --- RunInstances --------------------------------------------------------------------------------
def run_instances(ctx: Context, req: RunInstancesRequest) -> dict:
    plan = _validate_run(ctx, req)
    if req.DryRun:
        raise msg.DRY_RUN()
    count = req.InstanceCount or 1
    instance_ids = _new_instance_ids(ctx, count)
    duration = ctx.timing.duration("instance.launch")
    for position, instance_id in enumerate(instance_ids):
        name = _instance_name(req.InstanceName, position, count, ctx)
        _insert_instance(ctx, req, plan, instance_id, name, duration)
        _buy_disks(ctx, req, plan, instance_id, name, visible=duration <= 0)
        _begin(ctx, instance_id, "instance.launch", duration)
    if plan.charge == "PREPAID":
        months = req.InstanceChargePrepaid.Period
        ledger.pay(ctx, ledger.Charge(ledger.PURCHASE, plan.disks_price.fen, instance_ids,
                                      f"the disks of {count} instance{'s' if count > 1 else ''} "
                                      f"for {months} month{'s' if months > 1 else ''}"))
    return {"InstanceIdSet": instance_ids}


class _Plan:
    """What the checks of RunInstances settled: zone, type, image, charge, disks."""

    def __init__(self, **values):
        self.__dict__.update(values)


def _validate_run(ctx: Context, req: RunInstancesRequest) -> _Plan:
    if req.LaunchTemplate is not None:
        raise msg.LAUNCH_TEMPLATE_UNSUPPORTED()
    if req.Placement is None:
        raise msg.PARAMETER_MISSING(field="Placement")
    if req.ImageId is None:
        raise msg.PARAMETER_MISSING(field="ImageId")
    charge = req.InstanceChargeType or "POSTPAID_BY_HOUR"
    if charge == "PREPAID":
        if req.InstanceChargePrepaid is None:
            raise msg.PARAMETER_MISSING(field="InstanceChargePrepaid")
        if req.InstanceChargePrepaid.Period not in INSTANCE_PERIODS:
            raise ApiError(errors.CVM_INVALID_PERIOD)
    zone = ctx.topology.zone_in_region(req.Placement.Zone, ctx.region)
    if zone is None:
        raise msg.INSTANCE_ZONE_NOT_IN_REGION(field="Placement.Zone", zone=req.Placement.Zone,
                                              region=ctx.region)
    if (req.Placement.ProjectId or 0) not in ctx.topology.projects:
        raise msg.PROJECT_NOT_FOUND(field="Placement.ProjectId", project_id=req.Placement.ProjectId)
    instance_type = ctx.topology.instance_types.get(req.InstanceType or _default_type(ctx))
    if instance_type is None:
        raise msg.INSTANCE_TYPE_NOT_SOLD(instance_type=req.InstanceType)
    if not ids.is_resource_id(ids.IMAGE, req.ImageId):
        raise msg.IMAGE_ID_MALFORMED(image_id=req.ImageId)
    os_name = images.os_of_image(ctx, req.ImageId)
    if os_name is None:
        raise msg.IMAGE_NOT_FOUND(image_id=req.ImageId)
    count = 1 if req.InstanceCount is None else req.InstanceCount
    if not 1 <= count <= ctx.topology.limits.run_instances_max_count:
        raise msg.VALUE_BETWEEN(field="InstanceCount", min=1,
                                max=ctx.topology.limits.run_instances_max_count)
    if req.InstanceName is not None and len(req.InstanceName) > INSTANCE_NAME_MAX:
        raise msg.INSTANCE_NAME_TOO_LONG(max=INSTANCE_NAME_MAX)
    family = ctx.topology.instance_families.get(instance_type.family)
    system = req.SystemDisk
    system_type = (system.DiskType if system and system.DiskType
                   else ctx.topology.system_disk.default_type)
    system_size = (system.DiskSize if system and system.DiskSize is not None
                   else ctx.topology.system_disk.default_size)
    spec = ctx.topology.system_disk
    _check_bundled_type(ctx, zone, family, system_type, "SystemDisk.DiskType")
    if not spec.min_size <= system_size <= spec.max_size or system_size % spec.step:
        raise msg.SYSTEM_DISK_SIZE_OUT_OF_RANGE(min=spec.min_size, max=spec.max_size, step=spec.step)
    data_disks = req.DataDisks or []
    if len(data_disks) > 20:
        raise msg.DATA_DISKS_PER_INSTANCE(max=20)
    for position, disk in enumerate(data_disks):
        field = f"DataDisks.{position}"
        disk_type = disk.DiskType or DATA_DISK_DEFAULT_TYPE
        _check_bundled_type(ctx, zone, family, disk_type, f"{field}.DiskType")
        type_spec = ctx.topology.disk_types[disk_type]
        if not type_spec.min_size <= disk.DiskSize <= type_spec.max_size or disk.DiskSize % type_spec.step:
            raise msg.DATA_DISK_SIZE_OUT_OF_RANGE(
                field=f"{field}.DiskSize", disk_type=disk_type, min=type_spec.min_size,
                max=type_spec.max_size, step=type_spec.step)
        if disk.SnapshotId is not None or disk.DiskId is not None:
            raise msg.DATA_DISK_SOURCE_UNSUPPORTED(field=field)
    if req.VirtualPrivateCloud is not None:
        for field, value, prefix in (("VpcId", req.VirtualPrivateCloud.VpcId, "vpc"),
                                     ("SubnetId", req.VirtualPrivateCloud.SubnetId, "subnet")):
            if not re.fullmatch(rf"{prefix}-[a-z0-9]{{8}}", value):
                raise msg.VALUE_MALFORMED(field=f"VirtualPrivateCloud.{field}", value=value)
    disks_price = _disks_price(ctx, req, charge, system_type, system_size, count)
    if charge == "PREPAID":
        ledger.check_may_pay(ctx)
    ledger.check_affordable(ctx, disks_price.fen)
    return _Plan(zone=zone, instance_type=instance_type, charge=charge, system_type=system_type,
                 system_size=system_size, os_name=os_name, disks_price=disks_price)


def _disks_price(ctx: Context, req: RunInstancesRequest, charge: str, system_type: str,
                 system_size: int, count: int) -> DiskQuote:
    """What the instances' disks cost (cbslocal prices no instance itself [inf]): for the whole
    period, paid at once, or for their first hour, which a postpaid purchase needs."""
    charge_type = ds.PREPAID if charge == "PREPAID" else ds.POSTPAID
    period = req.InstanceChargePrepaid.Period if charge_type == ds.PREPAID else 1
    quotes = [quote_disks(ctx.topology.prices, charge_type=charge_type, disk_type=system_type,
                          size=system_size, count=count, period=period)]
    quotes += [quote_disks(ctx.topology.prices, charge_type=charge_type,
                           disk_type=disk.DiskType or DATA_DISK_DEFAULT_TYPE, size=disk.DiskSize,
                           count=count, throughput=disk.ThroughputPerformance or 0, period=period)
               for disk in req.DataDisks or ()]
    return total(charge_type, quotes)


def _default_type(ctx: Context) -> str:
    return next(iter(ctx.topology.instance_types))


def _check_bundled_type(ctx: Context, zone, family, disk_type: str, field: str) -> None:
    if disk_type not in ctx.topology.disk_types:
        raise msg.INSTANCE_DISK_TYPE_UNKNOWN(field=field, disk_type=disk_type)
    tssd_ok = disk_type != "CLOUD_TSSD" or (family is not None and family.tssd)
    if zone.sold_out or disk_type not in zone.sold_disk_types or not tssd_ok:
        raise msg.INSTANCE_DISK_TYPE_NOT_SOLD(field=field, disk_type=disk_type, zone=zone.name)


def _new_instance_ids(ctx: Context, count: int) -> list[str]:
    return new_ids(ctx.conn, ids.INSTANCE, instances.c.instance_id, count)


def _instance_name(name: str | None, position: int, count: int, ctx: Context) -> str:
    """CVM's naming of a batch: `{R:x}` counts from x; otherwise a suffix 1, 2, 3…"""
    if name is None:
        name = unnamed(ctx)
    pattern = _NAME_PATTERN.search(name)
    if pattern:
        return name[:pattern.start()] + str(int(pattern.group(1)) + position) + name[pattern.end():]
    return f"{name}{position + 1}" if count > 1 else name


def _insert_instance(ctx: Context, req: RunInstancesRequest, plan: _Plan, instance_id: str,
                     name: str, duration: float) -> None:
    internet = req.InternetAccessible
    bandwidth = (internet.InternetMaxBandwidthOut or 0) if internet else 0
    public = bandwidth > 0 and (internet.PublicIpAssigned is not False)
    private_ip = ids.private_ip()
    vpc = req.VirtualPrivateCloud
    prepaid = plan.charge == "PREPAID"
    os_name = plan.os_name
    tags = [{"Key": t.Key, "Value": t.Value} for spec in req.TagSpecification or ()
            if spec.ResourceType == "instance" for t in spec.Tags]
    ctx.conn.execute(insert(instances).values(
        instance_id=instance_id, account_id=ctx.account_id, region=ctx.region,
        zone=plan.zone.name, project_id=req.Placement.ProjectId or 0, instance_name=name,
        instance_type=plan.instance_type.name, cpu=plan.instance_type.cpu,
        memory=plan.instance_type.memory, image_id=req.ImageId, os_name=os_name,
        charge_type=plan.charge,
        renew_flag=(req.InstanceChargePrepaid.RenewFlag or DEFAULT_RENEW_FLAG) if prepaid else "",
        instance_state=PENDING if duration > 0 else RUNNING, restrict_state="NORMAL",
        private_ip=private_ip, public_ip=ids.public_ip() if public else None,
        internet_charge_type=(internet.InternetChargeType if internet and internet.InternetChargeType
                              else "TRAFFIC_POSTPAID_BY_HOUR") if public else "",
        bandwidth_out=bandwidth,
        host_name=req.HostName or f"VM-{private_ip.split('.', 2)[2].replace('.', '-')}-linux",
        uuid=ids.instance_uuid(), security_group_ids=orjson.dumps(req.SecurityGroupIds or []).decode(),
        tags=orjson.dumps(tags).decode(), max_attach_count=20, supports_cbs=True,
        online_resize=True,
        vpc_id=vpc.VpcId if vpc else ids.derived_id("vpc", ctx.account_id, ctx.region),
        subnet_id=vpc.SubnetId if vpc else ids.derived_id("subnet", ctx.account_id, plan.zone.name),
        stop_charging_mode="NOT_APPLICABLE", disable_api_termination=bool(req.DisableApiTermination),
        latest_operation="RunInstances", latest_operation_state="OPERATING" if duration > 0 else "SUCCESS",
        latest_operation_request_id=ctx.request_id,
        expired_at=add_months(ctx.now, req.InstanceChargePrepaid.Period) if prepaid else None,
        created_at=ctx.now))


def _buy_disks(ctx: Context, req: RunInstancesRequest, plan: _Plan, instance_id: str, name: str,
               visible: bool) -> None:
    """The instance's own disks: not elastic, attached from the start, listed once it runs."""
    prepaid = plan.charge == "PREPAID"
    common = dict(zone=plan.zone.name, project_id=req.Placement.ProjectId or 0,
                  disk_state=ds.ATTACHED if visible else ds.PROVISIONING, portable=False,
                  delete_with_instance=True,
                  charge_type=ds.PREPAID if prepaid else ds.POSTPAID,
                  renew_flag=(req.InstanceChargePrepaid.RenewFlag or DEFAULT_RENEW_FLAG) if prepaid else "",
                  deadline_at=add_months(ctx.now, req.InstanceChargePrepaid.Period) if prepaid else None)
    system = req.SystemDisk
    rows = [disk_row(ctx, **common, disk_usage=ds.SYSTEM_DISK, disk_type=plan.system_type,
                     disk_size=plan.system_size,
                     disk_name=(system.DiskName if system and system.DiskName else f"{name}_SYSTEM_DISK"),
                     encrypt=bool(system and system.Encrypt),
                     encrypt_type="ENCRYPT_V2" if system and system.Encrypt else "",
                     kms_key_id=(system.KmsKeyId or "") if system else "")]
    for disk in req.DataDisks or ():
        rows.append(disk_row(
            ctx, **dict(common, delete_with_instance=disk.DeleteWithInstance is not False),
            disk_usage=ds.DATA_DISK, disk_type=disk.DiskType or DATA_DISK_DEFAULT_TYPE,
            disk_size=disk.DiskSize, disk_name=disk.DiskName or f"{name}_DATA_DISK",
            encrypt=bool(disk.Encrypt), encrypt_type="ENCRYPT_V2" if disk.Encrypt else "",
            kms_key_id=disk.KmsKeyId or "", throughput_performance=disk.ThroughputPerformance or 0,
            burst_performance=bool(disk.BurstPerformance)))
    for row, disk_id in zip(rows, new_disk_ids(ctx, len(rows))):
        ctx.conn.execute(insert(disks).values(disk_id=disk_id, **row))
        attach_at_once(ctx, disk_id, row["disk_usage"], instance_id)
    if not prepaid:  # the instance's postpaid disks are billed by the hour like any other
        usage.bill_from(ctx.conn, ctx.account_id, ctx.now)


# --- state changes -------------------------------------------------------------------------------
# action → (states it starts from, the state while it runs, the transition kind)
_MOVES = {
    "StartInstances": ((STOPPED,), STARTING, "instance.start"),
    "StopInstances": ((RUNNING,), STOPPING, "instance.stop"),
    "RebootInstances": ((RUNNING,), REBOOTING, "instance.reboot"),
}
# transition kind → the state it ends in
_ENDS = {"instance.launch": RUNNING, "instance.start": RUNNING, "instance.stop": STOPPED,
         "instance.reboot": RUNNING}


def start_instances(ctx: Context, req: StartInstancesRequest) -> dict:
    return _change(ctx, "StartInstances", req.InstanceIds, stop_charging_mode="NOT_APPLICABLE")


def stop_instances(ctx: Context, req: StopInstancesRequest) -> dict:
    mode = "STOP_CHARGING" if req.StoppedMode == "STOP_CHARGING" else "KEEP_CHARGING"
    return _change(ctx, "StopInstances", req.InstanceIds, stop_charging_mode=mode)


def reboot_instances(ctx: Context, req: RebootInstancesRequest) -> dict:
    return _change(ctx, "RebootInstances", req.InstanceIds)


def _change(ctx: Context, action: str, instance_ids: list[str], **values) -> dict:
    allowed, via, kind = _MOVES[action]
    rows = _load(ctx, instance_ids)
    for row in rows:
        _require_state(row, allowed)
    _cas(ctx, instance_ids, allowed, action, instance_state=via, **values)
    for instance_id in instance_ids:
        _begin(ctx, instance_id, kind, ctx.timing.duration(kind))
    return {}


def _load(ctx: Context, instance_ids: list[str]) -> list:
    """The named instances, each well-formed, none twice, all existing (CVM's codes)."""
    seen = set()
    for value in instance_ids:
        if not ids.is_resource_id(ids.INSTANCE, value):
            raise msg.INSTANCE_ID_MALFORMED(instance_id=value)
        if value in seen:
            raise msg.VALUE_REPEATED(field="InstanceIds", value=value)
        seen.add(value)
    if len(instance_ids) > ctx.topology.limits.describe_instances_max_limit:
        raise msg.ITEMS_PER_REQUEST(field="InstanceIds",
                                  max=ctx.topology.limits.describe_instances_max_limit)
    found = inst.find_instances(ctx, instance_ids)
    for value in instance_ids:
        if value not in found:
            raise inst.instance_not_found(value)
    return [found[v] for v in instance_ids]


def _require_state(row, allowed) -> None:
    if row.instance_state not in allowed:
        raise msg.INSTANCE_STATE_REFUSALS[row.instance_state](
            instance_id=row.instance_id, state=row.instance_state)


def _cas(ctx: Context, instance_ids: list[str], allowed, action: str, **values) -> None:
    changed = ctx.conn.execute(update(instances).where(
        instances.c.instance_id.in_(instance_ids), instances.c.instance_state.in_(allowed))
        .values(latest_operation=action, latest_operation_state="OPERATING",
                latest_operation_request_id=ctx.request_id, **values)).rowcount
    if changed != len(instance_ids):
        raise ApiError(errors.CVM_INSTANCE_OPERATION_IN_PROGRESS)


def _begin(ctx: Context, instance_id: str, kind: str, duration: float) -> None:
    engine.later(ctx.conn, kind, resource_id=instance_id, account_id=ctx.account_id,
                 region=ctx.region, now=ctx.now, duration=duration)


def _finish(conn, instance_id: str, kind: str) -> None:
    conn.execute(update(instances).where(instances.c.instance_id == instance_id).values(
        instance_state=_ENDS[kind], latest_operation_state="SUCCESS"))
    if kind == "instance.launch":  # its disks are listed from now on
        conn.execute(update(disks).where(disks.c.disk_state == ds.PROVISIONING, disks.c.disk_id.in_(
            select(disk_attachments.c.disk_id).where(disk_attachments.c.instance_id == instance_id)
            .scalar_subquery())).values(disk_state=ds.ATTACHED))


def _finisher(kind: str):
    def apply(conn, instance_id: str, _payload: dict, _due_at: float) -> None:
        _finish(conn, instance_id, kind)
    return engine.on(kind)(apply)


for _kind in _ENDS:
    _finisher(_kind)


# --- TerminateInstances ----------------------------------------------------------------------------
def terminate_instances(ctx: Context, req: TerminateInstancesRequest) -> dict:
    rows = _load(ctx, req.InstanceIds)
    for row in rows:
        _require_state(row, (RUNNING, STOPPED, SHUTDOWN, "LAUNCH_FAILED"))
        if row.disable_api_termination:
            raise msg.INSTANCE_TERMINATION_PROTECTED(instance_id=row.instance_id)
    # A prepaid instance goes to the recycle bin first (SHUTDOWN); a second call destroys it, or
    # the end of the recycle bin's retention does.
    to_recycle = [r.instance_id for r in rows if r.charge_type == "PREPAID" and r.instance_state != SHUTDOWN]
    to_destroy = [r.instance_id for r in rows if r.instance_id not in to_recycle]
    if to_recycle:
        _cas(ctx, to_recycle, (RUNNING, STOPPED), "TerminateInstances", instance_state=SHUTDOWN)
        ctx.conn.execute(update(instances).where(instances.c.instance_id.in_(to_recycle))
                         .values(latest_operation_state="SUCCESS"))
        retention = ctx.topology.limits.recycle_retention_days * 86400.0
        for instance_id in to_recycle:
            engine.schedule(ctx.conn, "instance.recycle", resource_id=instance_id,
                            account_id=ctx.account_id, region=ctx.region, due_at=ctx.now + retention)
    if to_destroy:
        _cas(ctx, to_destroy, (RUNNING, STOPPED, SHUTDOWN, "LAUNCH_FAILED"), "TerminateInstances",
             instance_state=TERMINATING)
        for instance_id in to_destroy:
            _begin(ctx, instance_id, "instance.terminate", ctx.timing.duration("instance.terminate"))
    return {}


@engine.on("instance.recycle")
def _recycled(conn, instance_id: str, payload: dict, due_at: float) -> None:
    """The recycle bin's retention is over: an instance still SHUTDOWN is destroyed."""
    still = conn.execute(select(instances.c.instance_id).where(
        instances.c.instance_id == instance_id, instances.c.instance_state == SHUTDOWN)).first()
    if still is not None:
        _terminated(conn, instance_id, payload, due_at)


@engine.on("instance.terminate")
def _terminated(conn, instance_id: str, _payload: dict, due_at: float) -> None:
    attachments.release_instance_disks(conn, instance_id, due_at)
    conn.execute(delete(transitions).where(transitions.c.resource_id == instance_id))
    conn.execute(delete(instances).where(instances.c.instance_id == instance_id))


# --- DescribeInstances ---------------------------------------------------------------------------
_INSTANCE_FILTERS = {
    "zone": instances.c.zone, "instance-id": instances.c.instance_id,
    "instance-name": instances.c.instance_name, "instance-state": instances.c.instance_state,
    "instance-type": instances.c.instance_type, "instance-charge-type": instances.c.charge_type,
    "project-id": instances.c.project_id, "image-id": instances.c.image_id,
    "private-ip-address": instances.c.private_ip, "public-ip-address": instances.c.public_ip,
    "vpc-id": instances.c.vpc_id, "subnet-id": instances.c.subnet_id,
}


def describe_instances(ctx: Context, req: DescribeInstancesRequest) -> dict:
    limit = 20 if req.Limit is None else req.Limit
    offset = req.Offset or 0
    max_limit = ctx.topology.limits.describe_instances_max_limit
    if not 0 <= limit <= max_limit:
        raise msg.VALUE_BETWEEN(field="Limit", min=0, max=max_limit)
    if offset < 0:
        raise msg.VALUE_AT_LEAST(field="Offset", min=0)
    if req.InstanceIds is not None and req.Filters is not None:
        raise msg.PARAMETERS_EXCLUSIVE(field="InstanceIds", other="Filters")
    where = [owned_by(instances, ctx.account_id, ctx.region)]
    if req.InstanceIds is not None:
        for value in req.InstanceIds:
            if not ids.is_resource_id(ids.INSTANCE, value):
                raise msg.INSTANCE_ID_MALFORMED(instance_id=value)
        where.append(instances.c.instance_id.in_(req.InstanceIds))
    for position, flt in enumerate(req.Filters or ()):
        column = _INSTANCE_FILTERS.get(flt.Name)
        if column is None:
            raise msg.FILTER_UNSUPPORTED(name=flt.Name, action="DescribeInstances")
        if not flt.Values:
            raise msg.FILTER_VALUES_EMPTY(field=f"Filters.{position}.Values", name=flt.Name)
        values = list(flt.Values)
        if flt.Name == "project-id":
            if not all(v.isascii() and v.isdigit() for v in values):
                raise msg.INSTANCE_FILTER_PROJECT_IDS(field=f"Filters.{position}.Values")
            values = [int(v) for v in values]
        where.append(column.in_(values))
    total = ctx.conn.execute(select(func.count()).select_from(instances).where(*where)).scalar_one()
    rows = ctx.conn.execute(select(instances).where(*where)
                            .order_by(instances.c.created_at, instances.c.seq)
                            .limit(limit).offset(offset)).all()
    on_each = attachments.instance_disks(ctx.conn, [r.instance_id for r in rows])
    return {"TotalCount": total, "InstanceSet": [_instance(r, on_each[r.instance_id]) for r in rows]}


def _instance(row, disk_rows: list) -> dict:
    system = next((d for d in disk_rows if d.disk_usage == ds.SYSTEM_DISK), None)
    return instance_json(row, system_disk=system,
                         data_disks=[d for d in disk_rows if d.disk_usage == ds.DATA_DISK])
