"""Request schemas: the right code, naming the field, for each kind of bad input."""

from __future__ import annotations

import pytest

from cbslocal.api.cbs_schema import CreateDisksRequest, DescribeDisksRequest
from cbslocal.api.errors import ApiError
from cbslocal.api.schema import parse

BASE = {"Placement": {"Zone": "ap-guangzhou-3"}, "DiskChargeType": "POSTPAID_BY_HOUR",
        "DiskType": "CLOUD_PREMIUM", "DiskSize": 50}


def code_and_message(model, params):
    with pytest.raises(ApiError) as failure:
        parse(model, params)
    return failure.value.code, failure.value.message("en-US")


@pytest.mark.parametrize("params,code,field", [
    ({**BASE, "Colour": 1}, "UnknownParameter", "Colour"),
    ({**BASE, "Placement": {"Zone": "z", "Floor": 3}}, "UnknownParameter", "Placement.Floor"),
    ({**BASE, "Tags": [{"Key": "k", "Value": "v", "X": 1}]}, "UnknownParameter", "Tags.0.X"),
    ({k: v for k, v in BASE.items() if k != "DiskType"}, "MissingParameter", "DiskType"),
    ({**BASE, "Placement": {}}, "MissingParameter", "Placement.Zone"),
    ({**BASE, "Tags": [{"Key": "k"}]}, "MissingParameter", "Tags.0.Value"),
    ({**BASE, "DiskSize": "fifty"}, "InvalidParameter", "DiskSize"),
    ({**BASE, "DiskSize": -10}, "InvalidParameter", "DiskSize"),
    ({**BASE, "DiskSize": 10.5}, "InvalidParameter", "DiskSize"),
    ({**BASE, "DiskSize": True}, "InvalidParameter", "DiskSize"),
    ({**BASE, "DiskSize": 2**64}, "InvalidParameter", "DiskSize"),
    ({**BASE, "Placement": "ap-guangzhou-3"}, "InvalidParameter", "Placement"),
    ({**BASE, "Tags": {"Key": "k"}}, "InvalidParameter", "Tags"),
    ({**BASE, "DiskName": 5}, "InvalidParameter", "DiskName"),
    ({**BASE, "Shareable": "maybe"}, "InvalidParameter", "Shareable"),
    ({**BASE, "DiskChargeType": "MONTHLY"}, "InvalidParameterValue", "DiskChargeType"),
    ({**BASE, "DiskType": "CLOUD_FLOPPY"}, "InvalidParameterValue", "DiskType"),
    ({**BASE, "Encrypt": "YES"}, "InvalidParameterValue", "Encrypt"),
    ({**BASE, "DeleteSnapshot": 2}, "InvalidParameterValue", "DeleteSnapshot"),
])
def test_create_disks_errors(params, code, field):
    got_code, message = code_and_message(CreateDisksRequest, params)
    assert got_code == code
    assert f"`{field}`" in message


def test_unknown_beats_missing_beats_type_beats_value():
    params = {"Colour": 1, "DiskSize": "x", "DiskType": "NOPE"}
    assert code_and_message(CreateDisksRequest, params)[0] == "UnknownParameter"
    del params["Colour"]
    assert code_and_message(CreateDisksRequest, params)[0] == "MissingParameter"
    params.update(BASE, DiskSize="x", DiskType="NOPE")
    assert code_and_message(CreateDisksRequest, params)[0] == "InvalidParameter"


@pytest.mark.parametrize("flat,expected", [
    ({"Limit": "20"}, 20), ({"Limit": 7}, 7), ({"Limit": "0"}, 0)])
def test_numbers_sent_as_strings(flat, expected):
    assert parse(DescribeDisksRequest, flat).Limit == expected


@pytest.mark.parametrize("text,expected", [("True", True), ("true", True), ("False", False),
                                            ("false", False), ("1", True), ("0", False)])
def test_booleans_as_every_client_sends_them(text, expected):
    parsed = parse(DescribeDisksRequest, {"ReturnBindAutoSnapshotPolicy": text})
    assert parsed.ReturnBindAutoSnapshotPolicy is expected


def test_flattened_nested_values_are_coerced():
    parsed = parse(CreateDisksRequest, {**BASE, "DiskSize": "50", "DeleteSnapshot": "1",
                                        "Placement": {"Zone": "z", "ProjectId": "0"}})
    assert parsed.DiskSize == 50 and parsed.DeleteSnapshot == 1 and parsed.Placement.ProjectId == 0


@pytest.mark.parametrize("text", ["yes", "on", "t", "2", "", "TRUE!"])
def test_only_the_clients_boolean_spellings(text):
    code, message = code_and_message(DescribeDisksRequest, {"ReturnBindAutoSnapshotPolicy": text})
    assert code == "InvalidParameter" and "`ReturnBindAutoSnapshotPolicy`" in message
