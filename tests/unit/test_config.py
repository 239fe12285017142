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
