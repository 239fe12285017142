"""Settings (flags, CBSLOCAL_* environment) and the topology: regions, zones, disk types sold."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

from cbslocal import config_schema
from cbslocal.config_schema import LimitsConfig as Limits
from cbslocal.engine.timing import TimingProfile, profile_named


@dataclass(frozen=True, slots=True)
class DiskTypeSpec:
    name: str
    min_size: int
    max_size: int
    step: int
    standalone: bool


@dataclass(frozen=True, slots=True)
class Zone:
    name: str
    region: str
    sold_out: bool
    sold_disk_types: frozenset[str]


@dataclass(frozen=True)
class RateLimits:
    per_second: int
    actions: dict[str, int]

    def of(self, action: str) -> int:
        return self.actions.get(action, self.per_second)


@dataclass(frozen=True, slots=True)
class SystemDiskSpec:
    min_size: int = 20
    max_size: int = 1024
    step: int = 10
    default_size: int = 50
    default_type: str = "CLOUD_PREMIUM"


@dataclass(frozen=True, slots=True)
class InstanceFamily:
    name: str
    device_class: str
    tssd: bool


@dataclass(frozen=True, slots=True)
class InstanceType:
    name: str
    family: str
    cpu: int
    memory: int


@dataclass(frozen=True, slots=True)
class DiskPrice:
    gib_hour: Decimal
    gib_month: Decimal


@dataclass(frozen=True)
class Prices:
    """The price table (defaults.toml [prices]), in CNY."""
    disk_types: dict[str, DiskPrice]
    throughput_mibps_hour: Decimal
    throughput_mibps_month: Decimal
    backup_point_hour: Decimal
    backup_point_month: Decimal
    snapshot_gib_hour: Decimal
    period_discounts: dict[int, int]  # months → percentage of the list price paid

    @classmethod
    def from_mapping(cls, data: dict) -> "Prices":
        return cls(
            disk_types={name: DiskPrice(Decimal(p["gib_hour"]), Decimal(p["gib_month"]))
                        for name, p in data["disk_types"].items()},
            throughput_mibps_hour=Decimal(data["throughput_mibps_hour"]),
            throughput_mibps_month=Decimal(data["throughput_mibps_month"]),
            backup_point_hour=Decimal(data["backup_point_hour"]),
            backup_point_month=Decimal(data["backup_point_month"]),
            snapshot_gib_hour=Decimal(data["snapshot_gib_hour"]),
            period_discounts={int(m): pct for m, pct in data.get("period_discounts", {}).items()})


@dataclass(frozen=True)
class Billing:
    """Money rules (defaults.toml [billing]); amounts in fen."""
    initial_balance: int  # what each new account starts with
    refunds_per_year: int  # prepaid resources an account may return in 365 days
    five_day_returns: int  # of which in full within five days of their purchase, ever
    expiry_grace_days: int  # an expired prepaid disk stays usable so long
    order_settle_seconds: int  # an order settles so long after it is placed

    @classmethod
    def from_mapping(cls, data: dict) -> "Billing":
        return cls(initial_balance=int(Decimal(data["initial_balance"]) * 100),
                   refunds_per_year=data["refunds_per_year"],
                   five_day_returns=data["five_day_returns"],
                   expiry_grace_days=data["expiry_grace_days"],
                   order_settle_seconds=data["order_settle_seconds"])


@dataclass(frozen=True)
class Topology:
    disk_types: dict[str, DiskTypeSpec]
    zones: dict[str, Zone]
    limits: Limits
    projects: frozenset[int] = frozenset({0})
    system_disk: SystemDiskSpec = SystemDiskSpec()
    instance_families: dict[str, InstanceFamily] = field(default_factory=dict)
    instance_types: dict[str, InstanceType] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # ImageId → OsName
    # GiB on sale per (zone, disk type), over all accounts; absent: unlimited.
    stock: dict[tuple[str, str], int] = field(default_factory=dict)
    # Calls per second per (account, action, region), when enabled; None: no limit.
    rate_limits: "RateLimits | None" = None
    prices: Prices = field(kw_only=True)
    billing: Billing = field(kw_only=True)
    # The configuration this topology was built from (GET /_cbslocal/config shows it).
    source: dict = field(default_factory=dict, compare=False)

    @cached_property
    def regions(self) -> frozenset[str]:
        return frozenset(z.region for z in self.zones.values())

    def zone_in_region(self, zone: str, region: str) -> Zone | None:
        found = self.zones.get(zone)
        return found if found is not None and found.region == region else None

    @classmethod
    def from_mapping(cls, data: dict) -> "Topology":
        """Raises ValueError naming every bad key (config_schema). A limit the mapping does not
        name (one added since it was stored) has its value from defaults.toml."""
        limits = data.get("limits", {})
        if isinstance(limits, dict):  # (anything else is refused by the schema, by name)
            data = dict(data, limits={**_default_limits(), **limits})
        for name in TABLES_ADDED_LATER:  # a configuration stored before they existed has none
            table = data.get(name, {})
            if isinstance(table, dict):
                data = dict(data, **{name: merged(_default_table(name), table)})
        config_schema.validate(data)
        disk_types = {name: DiskTypeSpec(name=name, **spec)
                      for name, spec in data["disk_types"].items()}
        default_sold = frozenset(data.get("defaults", {}).get("sold_disk_types", disk_types))
        zones: dict[str, Zone] = {}
        for region, spec in data["regions"].items():
            sold_out = set(spec.get("sold_out_zones", ()))
            sold_by_zone = spec.get("sold_disk_types", {})
            for zone in spec["zones"]:
                sold = frozenset(sold_by_zone.get(zone, default_sold))
                zones[zone] = Zone(zone, region, zone in sold_out, sold)
        families = {name: InstanceFamily(name=name, **spec)
                    for name, spec in data.get("instance_families", {}).items()}
        instance_types = {name: InstanceType(name=name, family=name.split(".", 1)[0], **spec)
                          for name, spec in data.get("instance_types", {}).items()}
        stock = {(zone, disk_type): int(gib) for zone, by_type in data.get("stock", {}).items()
                 for disk_type, gib in by_type.items()}
        rates = data.get("rate_limits", {})
        rate_limits = (RateLimits(rates.get("per_second", 20), dict(rates.get("actions", {})))
                       if rates.get("enabled") else None)
        return cls(disk_types=disk_types, zones=zones, limits=Limits(**data["limits"]),
                   stock=stock, source=copy.deepcopy(data), rate_limits=rate_limits,
                   projects=frozenset(data.get("projects", {}).get("ids", [0])),
                   system_disk=SystemDiskSpec(**data.get("system_disk", {})),
                   instance_families=families, instance_types=instance_types,
                   images=dict(data.get("images", {})),
                   prices=Prices.from_mapping(data["prices"]),
                   billing=Billing.from_mapping(data["billing"]))


def default_topology_data() -> dict:
    return tomllib.loads(resources.files("cbslocal").joinpath("defaults.toml").read_text("utf-8"))


@lru_cache(maxsize=1)
def _default_limits_data() -> tuple:
    return tuple(default_topology_data()["limits"].items())


def _default_limits() -> dict:
    return dict(_default_limits_data())


# Tables of defaults.toml that a configuration stored by an earlier release may lack: they take
# the defaults, with whatever the stored one has laid over them.
TABLES_ADDED_LATER = ("prices", "billing")


@lru_cache(maxsize=len(TABLES_ADDED_LATER))
def _default_table_data(name: str) -> dict:
    return default_topology_data()[name]


def _default_table(name: str) -> dict:
    return copy.deepcopy(_default_table_data(name))


def topology_from_file(path: Path) -> "Topology":
    """The defaults with a TOML file's tables laid over them (a table merges, a value replaces).
    Raises ValueError naming what is wrong."""
    try:
        overrides = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as failure:
        raise ValueError(f"{path}: {failure}") from None
    try:
        return Topology.from_mapping(merged(default_topology_data(), overrides))
    except ValueError as failure:
        raise ValueError(f"{path}: {failure}") from None


def merged(base: dict, overrides: dict) -> dict:
    """`overrides` laid over `base`: a table merges into the table, any other value replaces."""
    result = dict(base)
    for key, value in overrides.items():
        result[key] = (merged(base[key], value) if isinstance(value, dict)
                       and isinstance(base.get(key), dict) else value)
    return result


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 4599
    data_dir: Path = field(default_factory=lambda: Path("./cbslocal-data"))
    database_url: str | None = None
    timing: str = "realistic"
    # Signatures are checked against the wall clock: |now - timestamp| must not exceed this.
    signature_max_skew: float = 300.0
    default_language: str = "zh-CN"
    engine_interval: float = 0.2
    log_requests: bool = True
    topology: Topology = field(default_factory=lambda: Topology.from_mapping(default_topology_data()))
    # The control plane's token (control/auth.py): given (--admin-token), it replaces the one in
    # force; None: the store's, generated at the first start — then in `generated_admin_token`
    # for the ready line, once. `admin_hosts`: more names a loopback server may be called by.
    admin_token: str | None = None
    admin_hosts: tuple[str, ...] = ()
    generated_admin_token: str | None = None

    @property
    def timing_profile(self) -> TimingProfile:
        return profile_named(self.timing)
