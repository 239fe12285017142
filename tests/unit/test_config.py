"""The configuration: each limit's value has one source, defaults.toml."""

from __future__ import annotations

import pytest

from cbslocal.config import Topology, default_topology_data
from cbslocal.config_schema import LimitsConfig


def test_every_limit_has_its_value_in_defaults_toml_only():
    assert all(field.is_required() for field in LimitsConfig.model_fields.values())
    assert set(default_topology_data()["limits"]) == set(LimitsConfig.model_fields)


def test_a_limit_a_stored_configuration_lacks_comes_from_the_defaults():
    data = default_topology_data()
    expected = data["limits"].pop("describe_max_limit")
    assert Topology.from_mapping(data).limits.describe_max_limit == expected


def test_a_limit_is_checked_and_named():
    data = default_topology_data()
    data["limits"]["describe_max_limit"] = 0
    with pytest.raises(ValueError, match="limits.describe_max_limit"):
        Topology.from_mapping(data)


def test_the_limits_in_force_cannot_be_changed_in_place():
    limits = Topology.from_mapping(default_topology_data()).limits
    with pytest.raises(Exception):
        limits.describe_max_limit = 5


def test_a_configuration_stored_before_prices_existed_takes_the_default_table():
    data = default_topology_data()
    table = data.pop("prices")
    prices = Topology.from_mapping(data).prices
    assert str(prices.disk_types["CLOUD_PREMIUM"].gib_hour) == table["disk_types"]["CLOUD_PREMIUM"]["gib_hour"]
    assert prices.period_discounts == {int(m): p for m, p in table["period_discounts"].items()}


@pytest.mark.parametrize("change, named", [
    (lambda d: d["prices"]["disk_types"]["CLOUD_SSD"].update(gib_hour="abc"),
     "prices.disk_types.CLOUD_SSD.gib_hour"),
    (lambda d: d["prices"]["disk_types"]["CLOUD_SSD"].update(gib_month="-1"),
     "prices.disk_types.CLOUD_SSD.gib_month"),
    (lambda d: d["prices"]["disk_types"]["CLOUD_SSD"].update(gib_month=1.5),
     "prices.disk_types.CLOUD_SSD.gib_month"),
    (lambda d: d["prices"]["disk_types"]["CLOUD_SSD"].update(gib_hour="1e999999999"),
     "prices.disk_types.CLOUD_SSD.gib_hour"),
    (lambda d: d["prices"]["disk_types"]["CLOUD_SSD"].update(gib_hour="0.000000001"),
     "prices.disk_types.CLOUD_SSD.gib_hour"),
    (lambda d: d["prices"].update(backup_point_month="NaN"), "prices.backup_point_month"),
    (lambda d: d["prices"]["period_discounts"].update({"13": 90}), "period_discounts"),
    (lambda d: d["prices"]["period_discounts"].update({"12": 0}), "prices.period_discounts.12"),
    (lambda d: d["disk_types"].update(CLOUD_NEW={"min_size": 10, "max_size": 20, "step": 10,
                                                 "standalone": True}),
     "prices.disk_types: no price for 'CLOUD_NEW'"),
    (lambda d: d["prices"]["disk_types"].update(CLOUD_NEW={"gib_hour": "1", "gib_month": "1"}),
     "prices.disk_types: unknown disk type 'CLOUD_NEW'"),
])
def test_a_price_is_checked_and_named(change, named):
    data = default_topology_data()
    change(data)
    with pytest.raises(ValueError, match=named.replace(".", r"\.").replace("(", r"\(")):
        Topology.from_mapping(data)
