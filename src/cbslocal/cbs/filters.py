"""DescribeDisks filters (cbs-behavior.md §3.2) as SQL conditions.

AND between filters, OR between the values of one filter. Each filter is a small spec: how to
check its values, and which condition they make.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Table, bindparam, exists, false, select
from sqlalchemy.sql.elements import ColumnElement

from cbslocal.api import messages as msg
from cbslocal.api.cbs_schema import DISK_STATES
from cbslocal.api.errors import ApiError
from cbslocal.store.scope import owned_by
from cbslocal.store.tables import disk_attachments, disk_tag_census, disk_tags, disks, instances

MAX_FILTER_VALUES = 100
MAX_FILTERS = 50


@dataclass(frozen=True)
class FilterSpec:
    column: str | None = None  # a column of `disks`: the condition is `column IN (values)`
    condition: Callable[[list], ColumnElement] | None = None  # any other condition on `disks`
    parse: Callable[[str], object] = str
    allowed: frozenset[str] | None = None
    # Selective enough to drive the query: the disks come from its own index (attachments),
    # not from walking the caller's disks in order.
    drives: bool = False


def _tag_exists(*conditions) -> ColumnElement:
    return exists(select(1).where(disk_tags.c.disk_id == disks.c.disk_id, *conditions))


def parse_project_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise ValueError("must be a project ID")
    return int(value)


def parse_bool(value: str) -> bool:
    folded = value.upper()
    if folded not in ("TRUE", "FALSE"):
        raise ValueError("must be TRUE or FALSE")
    return folded == "TRUE"


def _nothing(_values: list) -> ColumnElement:
    # No disk can match: cbslocal has no dedicated clusters or cluster groups.
    return false()


def _on_instances(*conditions) -> ColumnElement:
    """Disks attached (or being attached) to an instance that meets `conditions`; driven by the
    attachments' (account, region, instance) index, so its cost follows the matches."""
    attached = select(disk_attachments.c.disk_id).where(
        owned_by(disk_attachments, bindparam("account_id"), bindparam("region")), *conditions)
    return disks.c.disk_id.in_(attached.scalar_subquery())


def _instance_with(*conditions) -> ColumnElement:
    return disk_attachments.c.instance_id.in_(select(instances.c.instance_id).where(
        owned_by(instances, bindparam("account_id"), bindparam("region")), *conditions)
        .scalar_subquery())


DISK_FILTERS: dict[str, FilterSpec] = {
    "disk-usage": FilterSpec("disk_usage",
                             allowed=frozenset({"SYSTEM_DISK", "DATA_DISK"})),
    "disk-charge-type": FilterSpec("charge_type",
                                   allowed=frozenset({"PREPAID", "POSTPAID_BY_HOUR", "CDCPAID"})),
    "portable": FilterSpec("portable", parse=parse_bool),
    "project-id": FilterSpec("project_id", parse=parse_project_id),
    "disk-id": FilterSpec("disk_id"),
    "disk-name": FilterSpec("disk_name"),
    "disk-type": FilterSpec("disk_type", allowed=frozenset({
        "CLOUD_BASIC", "CLOUD_PREMIUM", "CLOUD_BSSD", "CLOUD_SSD", "CLOUD_HSSD", "CLOUD_TSSD"})),
    "disk-state": FilterSpec("disk_state", allowed=frozenset(DISK_STATES)),
    "zone": FilterSpec("zone"),
    # For a shareable disk, any of its instances.
    "instance-id": FilterSpec(condition=lambda values: _on_instances(
        disk_attachments.c.instance_id.in_(values)), drives=True),
    "instance-ip-address": FilterSpec(condition=lambda values: _on_instances(_instance_with(
        (instances.c.private_ip.in_(values)) | (instances.c.public_ip.in_(values)))), drives=True),
    "instance-name": FilterSpec(condition=lambda values: _on_instances(_instance_with(
        instances.c.instance_name.in_(values))), drives=True),
    "tag-key": FilterSpec(condition=lambda values: _tag_exists(disk_tags.c.tag_key.in_(values))),
    "tag-value": FilterSpec(condition=lambda values: _tag_exists(disk_tags.c.tag_value.in_(values))),
    "dedicated-cluster-id": FilterSpec(condition=_nothing),
    "cluster-group-id": FilterSpec(condition=_nothing),
}
TAG_PREFIX = "tag:"


def compile_filters(filters, specs: dict[str, FilterSpec] | None = None,
                    action: str = "DescribeDisks") -> tuple[tuple, dict]:
    """Validate the request's filters (DescribeDisks' unless `specs` says otherwise; only disks
    have `tag:<key>`); returns their shape (what the SQL looks like: names and value counts) and
    the values to bind. Statements are built and compiled once per shape."""
    tags_allowed = specs is None
    specs = DISK_FILTERS if specs is None else specs
    if not filters:
        return (), {}
    if len(filters) > MAX_FILTERS:
        raise msg.ITEMS_PER_REQUEST(field="Filters", max=MAX_FILTERS)
    shape, params = [], {}
    for position, flt in enumerate(filters):
        field = f"Filters.{position}"
        if not flt.Values:
            raise msg.FILTER_VALUES_EMPTY(field=f"{field}.Values", name=flt.Name)
        if len(flt.Values) > MAX_FILTER_VALUES:
            raise msg.FILTER_TOO_MANY_VALUES(field=f"{field}.Values", max=MAX_FILTER_VALUES)
        if tags_allowed and flt.Name.startswith(TAG_PREFIX) and len(flt.Name) > len(TAG_PREFIX):
            name, values = TAG_PREFIX, list(flt.Values)
            params[f"f{position}_key"] = flt.Name[len(TAG_PREFIX):]
        else:
            spec = specs.get(flt.Name)
            if spec is None:
                raise msg.FILTER_UNSUPPORTED(name=flt.Name, action=action)
            name, values = flt.Name, _values(spec, flt, field)
        shape.append((name, len(values)))
        params.update({f"f{position}_{i}": value for i, value in enumerate(values)})
    return tuple(shape), params


def drives(shape: tuple) -> bool:
    """Whether a filter of the shape should choose how the disks are found."""
    return any(spec is not None and spec.drives
               for spec in (DISK_FILTERS.get(name) for name, _ in shape))


def filter_conditions(shape: tuple, table: Table = disks,
                      specs: dict[str, FilterSpec] | None = None) -> list[ColumnElement] | None:
    """The SQL conditions of a filter shape on `table` (`disks`, or a table with some of its
    columns such as `disk_census`; or the table `specs` filter), with bind parameters named as
    compile_filters does; None if `table` cannot express one of the filters."""
    conditions = []
    for position, (name, count) in enumerate(shape):
        values = [bindparam(f"f{position}_{i}") for i in range(count)]
        spec = (specs or DISK_FILTERS).get(name)
        if spec is not None and spec.column is not None:
            if spec.column not in table.c:
                return None
            conditions.append(table.c[spec.column].in_(values))
        elif table is not disks or specs is not None:
            return None
        elif name == TAG_PREFIX:
            conditions.append(_tag_exists(disk_tags.c.tag_key == bindparam(f"f{position}_key"),
                                          disk_tags.c.tag_value.in_(values)))
        else:
            conditions.append(spec.condition(values))
    return conditions


def tag_census_conditions(shape: tuple) -> list[ColumnElement] | None:
    """Conditions on `disk_tag_census` that count exactly what a lone `tag:<key>` filter (any
    values: a disk has one value per key) or a lone one-value `tag-key` filter matches; None
    for any other shape."""
    if len(shape) != 1:
        return None
    name, count = shape[0]
    if name == TAG_PREFIX:
        return [disk_tag_census.c.tag_key == bindparam("f0_key"),
                disk_tag_census.c.tag_value.in_([bindparam(f"f0_{i}") for i in range(count)])]
    if name == "tag-key" and count == 1:
        return [disk_tag_census.c.tag_key == bindparam("f0_0")]
    return None


def _values(spec: FilterSpec, flt, field: str) -> list:
    values = []
    for value in flt.Values:
        if spec.allowed is not None and value not in spec.allowed:
            raise _bad_value(flt.Name, value, field)
        try:
            values.append(spec.parse(value))
        except ValueError:
            raise _bad_value(flt.Name, value, field) from None
    return values


def _bad_value(name: str, value: str, field: str) -> ApiError:
    return msg.FILTER_VALUE_INVALID(value=value, name=name, field=f"{field}.Values")
