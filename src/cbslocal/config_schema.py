"""The configuration's schema: defaults.toml, a --config file laid over it, or a change through
the control plane must pass here as a whole, and a failure names the key (`limits.x: …`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationError,
                      model_validator)

Positive = Annotated[int, Field(gt=0, strict=True)]
Count = Annotated[int, Field(ge=0, strict=True)]


MAX_AMOUNT = Decimal(10) ** 9  # CNY: any quote of the table stays an exact decimal
AMOUNT_PLACES = 8  # the high-precision strings of a Price object show no more


def _amount(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not value.is_finite() or not 0 <= value < MAX_AMOUNT \
            or value.as_tuple().exponent < -AMOUNT_PLACES:
        raise ValueError(f"{text!r} is not a price (a decimal number from 0 to under "
                         f"{MAX_AMOUNT:,}, with at most {AMOUNT_PLACES} decimal places)")
    return text


# An amount of money: a decimal string (a float would lose fen), e.g. "0.00042".
Amount = Annotated[str, AfterValidator(_amount)]

MAX_BALANCE = Decimal(10) ** 12  # CNY: a balance in fen stays far inside a 64-bit integer


def _balance(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not value.is_finite() or not 0 <= value < MAX_BALANCE or value.as_tuple().exponent < -2:
        raise ValueError(f"{text!r} is not a balance (a decimal number from 0 to under "
                         f"{MAX_BALANCE:,}, to the fen: at most 2 decimal places)")
    return text


Balance = Annotated[str, AfterValidator(_balance)]
Percent = Annotated[int, Field(gt=0, le=100, strict=True)]
# Prepaid periods, in months (cbs-behavior.md §6.2).
PREPAID_PERIODS = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DiskTypeConfig(_Strict):
    min_size: Positive
    max_size: Positive
    step: Positive
    standalone: bool

    @model_validator(mode="after")
    def _range(self):
        if self.min_size > self.max_size:
            raise ValueError("min_size is larger than max_size")
        return self


class LimitsConfig(_Strict):
    """The limits in force, read by the domain as `ctx.topology.limits`. Their values come from
    defaults.toml's [limits] alone (laid under any configuration: config.Topology.from_mapping);
    here, only what each one may be."""
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    create_disks_max_count: Positive
    describe_max_limit: Positive
    disk_name_max_bytes: Positive
    client_token_max_length: Positive
    tags_per_resource: Count
    attach_disks_max_count: Positive
    terminate_disks_max_count: Positive
    modify_disks_max_count: Positive
    initialize_disks_max_count: Positive
    shareable_max_instances: Positive
    recycle_retention_days: Count
    describe_instances_max_limit: Positive
    run_instances_max_count: Positive
    elastic_disks_per_region: Count  # per account; 0: no limit
    snapshots_per_disk: Positive
    snapshots_per_region: Count
    snapshot_capacity_gib: Count
    snapshot_free_quota_gib: Count
    creating_snapshots_max: Count
    snapshot_share_accounts_max: Positive
    encrypted_snapshots: bool
    auto_snapshot_policies_per_region: Positive
    policies_per_disk: Positive
    disks_per_policy: Count
    bind_disks_max_count: Positive
    delete_policies_max_count: Positive


class SystemDiskConfig(_Strict):
    min_size: Positive = 20
    max_size: Positive = 1024
    step: Positive = 10
    default_size: Positive = 50
    default_type: str = "CLOUD_PREMIUM"


class RegionConfig(_Strict):
    zones: list[str] = Field(min_length=1)
    sold_out_zones: list[str] = []
    sold_disk_types: dict[str, list[str]] = {}


class FamilyConfig(_Strict):
    device_class: str
    tssd: bool


class InstanceTypeConfig(_Strict):
    cpu: Positive
    memory: Positive


class DiskPriceConfig(_Strict):
    gib_hour: Amount  # POSTPAID_BY_HOUR, per GiB and hour
    gib_month: Amount  # PREPAID, per GiB and month


class PricesConfig(_Strict):
    disk_types: dict[str, DiskPriceConfig]
    throughput_mibps_hour: Amount
    throughput_mibps_month: Amount
    backup_point_hour: Amount
    backup_point_month: Amount
    snapshot_gib_hour: Amount
    period_discounts: dict[str, Percent] = {}  # months → percentage of the list price paid

    @model_validator(mode="after")
    def _periods(self):
        wrong = [p for p in self.period_discounts
                 if not (p.isdigit() and int(p) in PREPAID_PERIODS)]
        if wrong:
            raise ValueError(f"period_discounts: {', '.join(map(repr, wrong))} is not a prepaid "
                             "period (1 to 12, 24 or 36 months)")
        return self


class BillingConfig(_Strict):
    initial_balance: Balance  # CNY, what each new account starts with
    refunds_per_year: Count  # prepaid resources an account may return in 365 days
    five_day_returns: Count  # of which in full within five days of their purchase, ever
    expiry_grace_days: Count  # an expired prepaid disk stays usable so long
    order_settle_seconds: Count  # an order settles so long after it is placed


class RateLimitsConfig(_Strict):
    enabled: bool = False
    per_second: Positive = 20  # calls per account, action and region each second
    actions: dict[str, Positive] = {}  # per-action exceptions, e.g. DescribeDisks = 100


class Config(_Strict):
    disk_types: dict[str, DiskTypeConfig] = Field(min_length=1)
    limits: LimitsConfig
    projects: dict[str, list[Count]] = {"ids": [0]}
    defaults: dict[str, list[str]] = {}
    system_disk: SystemDiskConfig = SystemDiskConfig()
    instance_families: dict[str, FamilyConfig] = {}
    instance_types: dict[str, InstanceTypeConfig] = {}
    images: dict[str, str] = {}
    regions: dict[str, RegionConfig] = Field(min_length=1)
    stock: dict[str, dict[str, Count]] = {}
    rate_limits: RateLimitsConfig = RateLimitsConfig()
    prices: PricesConfig
    billing: BillingConfig

    @model_validator(mode="after")
    def _references(self):
        """Names that must point at something defined elsewhere in the configuration."""
        types = set(self.disk_types)
        zones = {z for r in self.regions.values() for z in r.zones}
        problems = []
        for name, sold in self.defaults.items():
            if name != "sold_disk_types":
                problems.append(f"defaults.{name}: unknown key")
            problems += [f"defaults.sold_disk_types: unknown disk type {t!r}" for t in sold if t not in types]
        for region, spec in self.regions.items():
            problems += [f"regions.{region}.sold_out_zones: {z!r} is not one of its zones"
                         for z in spec.sold_out_zones if z not in spec.zones]
            for zone, sold in spec.sold_disk_types.items():
                if zone not in spec.zones:
                    problems.append(f"regions.{region}.sold_disk_types: {zone!r} is not one of its zones")
                problems += [f"regions.{region}.sold_disk_types.{zone}: unknown disk type {t!r}"
                             for t in sold if t not in types]
        for zone, by_type in self.stock.items():
            if zone not in zones:
                problems.append(f"stock.{zone}: unknown zone")
            problems += [f"stock.{zone}.{t}: unknown disk type" for t in by_type if t not in types]
        if self.system_disk.default_type not in types:
            problems.append(f"system_disk.default_type: unknown disk type {self.system_disk.default_type!r}")
        for name in self.instance_types:
            if name.split(".", 1)[0] not in self.instance_families:
                problems.append(f"instance_types.{name}: no instance family {name.split('.', 1)[0]!r}")
        priced = set(self.prices.disk_types)
        problems += [f"prices.disk_types: no price for {t!r}" for t in sorted(types - priced)]
        problems += [f"prices.disk_types: unknown disk type {t!r}" for t in sorted(priced - types)]
        if set(self.projects) != {"ids"} or 0 not in self.projects.get("ids", []):
            problems.append("projects: must be {ids = [0, …]} (project 0 always exists)")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def validate(data: dict) -> None:
    """Raise ValueError naming every bad key of a whole configuration."""
    try:
        Config.model_validate(data)
    except ValidationError as failure:
        raise ValueError("; ".join(_describe(e) for e in failure.errors(include_url=False))) from None


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
