"""Our responses, passed through the official SDK's response models: a field the SDK does not
know, or a field it expects that we omit, fails the test (at every level of nesting)."""

from __future__ import annotations

import pytest
from tencentcloud.cbs.v20170312 import models
from tencentcloud.common.abstract_model import AbstractModel

from tests.e2e.server import ZONE, cbs_client


def model_fields(model: AbstractModel) -> set[str]:
    return {name.lstrip("_") for name in vars(model)}


def shape_problems(model_class: type[AbstractModel], data: dict, path: str) -> list[str]:
    model = model_class()
    known = model_fields(model)
    problems = [f"{path}.{name}: unknown to the SDK" for name in sorted(set(data) - known)]
    problems += [f"{path}.{name}: missing" for name in sorted(known - set(data))]
    model._deserialize(data)
    for name in sorted(known & set(data)):
        value = getattr(model, name)
        if isinstance(value, AbstractModel):
            problems += shape_problems(type(value), data[name], f"{path}.{name}")
        elif isinstance(value, list) and value and isinstance(value[0], AbstractModel):
            for index, item in enumerate(value):
                problems += shape_problems(type(item), data[name][index], f"{path}.{name}.{index}")
    return problems


def test_the_checker_catches_drift():
    assert shape_problems(models.Tag, {"Key": "k", "Value": "v"}, "Tag") == []
    with pytest.warns(UserWarning, match="Colour"):  # the SDK's own complaint
        problems = shape_problems(models.Tag, {"Key": "k", "Colour": "v"}, "Tag")
    assert problems == ["Tag.Colour: unknown to the SDK", "Tag.Value: missing"]


def test_create_and_describe_disks_match_the_sdk_models(server):
    client = cbs_client(server)
    created = client.call_json("CreateDisks", {
        "Placement": {"Zone": ZONE}, "DiskChargeType": "PREPAID", "DiskType": "CLOUD_HSSD",
        "DiskSize": 500, "DiskChargePrepaid": {"Period": 1}, "Encrypt": "ENCRYPT",
        "Tags": [{"Key": "shape", "Value": "check"}], "ThroughputPerformance": 100,
        "BurstPerformance": True})["Response"]
    assert shape_problems(models.CreateDisksResponse, created, "CreateDisksResponse") == []
    for flag in (True, False):
        described = client.call_json("DescribeDisks", {
            "DiskIds": created["DiskIdSet"], "ReturnBindAutoSnapshotPolicy": flag})["Response"]
        assert described["TotalCount"] == 1
        assert shape_problems(models.DescribeDisksResponse, described, "DescribeDisksResponse") == []
