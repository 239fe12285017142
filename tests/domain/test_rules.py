"""Domain rules, tested in-process (tests/domain/conftest.py)."""

from __future__ import annotations

from tests.domain.conftest import ZONE

DISK = {"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR",
        "DiskType": "CLOUD_PREMIUM", "DiskSize": 50}


def test_a_created_disk_is_listed(api):
    disk_id = api.call("CreateDisks", DISK)["DiskIdSet"][0]
    listed = api.call("DescribeDisks", {"DiskIds": [disk_id]})
    assert listed["TotalCount"] == 1
    assert listed["DiskSet"][0]["DiskState"] == "UNATTACHED"


def test_a_client_token_answers_a_retry_with_the_first_answer(api):
    first = api.call("CreateDisks", {**DISK, "ClientToken": "once"})
    assert api.call("CreateDisks", {**DISK, "ClientToken": "once"}) == first
    assert api.call("DescribeDisks")["TotalCount"] == 1


def test_a_failed_call_stores_no_answer_for_its_token(api):
    assert api.error("CreateDisks", {**DISK, "DiskSize": 5, "ClientToken": "t"}).code == \
        "InvalidParameterValue"
    assert len(api.call("CreateDisks", {**DISK, "ClientToken": "t"})["DiskIdSet"]) == 1


def test_an_unimplemented_action_is_unsupported_after_routing(api):
    failure = api.error("DescribeDiskStoragePool")
    assert failure.code == "UnsupportedOperation"
    assert "DescribeDiskStoragePool" in failure.message("en-US")


def test_the_message_speaks_the_callers_language(api):
    failure = api.error("DescribeDisks", {"Limit": "many"}, language="zh-CN")
    assert failure.code == "InvalidParameter"
    assert failure.message("zh-CN").endswith("参数 `Limit` 应为整数。")


def test_a_disk_created_with_realistic_timing_is_listed_when_its_time_comes(realistic_api):
    api = realistic_api
    disk_id = api.call("CreateDisks", DISK)["DiskIdSet"][0]
    assert api.call("DescribeDisks", {"DiskIds": [disk_id]})["TotalCount"] == 0
    assert api.advance(60) >= 1
    assert api.call("DescribeDisks", {"DiskIds": [disk_id]})["DiskSet"][0]["DiskState"] == \
        "UNATTACHED"
