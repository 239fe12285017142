"""Prices through the official Python SDK: InquiryPriceCreateDisks and DescribeDiskConfigQuota's
Price, quoted from the default price table (defaults.toml [prices]) — every response checked
against the SDK's models, every amount to the fen and in high precision."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tencentcloud.cbs.v20170312 import models

from tests.e2e.server import Server, cbs_client
from tests.e2e.test_lifecycle_shapes import call
from tests.e2e.test_python_sdk import call_error

NULL_PREPAID = {"OriginalPrice": None, "DiscountPrice": None, "OriginalPriceHigh": None,
                "DiscountPriceHigh": None}
NULL_POSTPAID = {"UnitPrice": None, "UnitPriceDiscount": None, "UnitPriceHigh": None,
                 "UnitPriceDiscountHigh": None, "ChargeUnit": None}


def inquire(server: Server, **params) -> dict:
    return call(cbs_client(server), "InquiryPriceCreateDisks", params, models)["DiskPrice"]


def test_the_vendors_postpaid_example(server):
    """A 100 GiB CLOUD_PREMIUM disk by the hour: 0.042 (0.04 to the fen), as the vendor's example."""
    assert inquire(server, DiskChargeType="POSTPAID_BY_HOUR", DiskType="CLOUD_PREMIUM",
                   DiskSize=100) == {**NULL_PREPAID, "UnitPrice": 0.04, "UnitPriceDiscount": 0.04,
                                     "UnitPriceHigh": "0.042", "UnitPriceDiscountHigh": "0.042",
                                     "ChargeUnit": "HOUR"}


def test_the_vendors_prepaid_example(server):
    """500 GiB of CLOUD_TSSD with 100 MiB/s of extra throughput for a month: 800."""
    assert inquire(server, DiskChargeType="PREPAID", DiskType="CLOUD_TSSD", DiskSize=500,
                   ThroughputPerformance=100, DiskChargePrepaid={"Period": 1}) == {
        **NULL_POSTPAID, "OriginalPrice": 800.0, "DiscountPrice": 800.0,
        "OriginalPriceHigh": "800", "DiscountPriceHigh": "800"}


def test_a_years_purchase_of_several_disks_is_discounted_in_total(server):
    """3 × 100 GiB CLOUD_PREMIUM × 0.35 × 12 months = 1260, paid at 83%: 1045.8."""
    price = inquire(server, DiskChargeType="PREPAID", DiskType="CLOUD_PREMIUM", DiskSize=100,
                    DiskCount=3, DiskChargePrepaid={"Period": 12, "RenewFlag": "NOTIFY_AND_AUTO_RENEW"})
    assert (price["OriginalPrice"], price["DiscountPrice"]) == (1260.0, 1045.8)
    assert (price["OriginalPriceHigh"], price["DiscountPriceHigh"]) == ("1260", "1045.8")


def test_backup_points_and_hours_add_up_to_the_fen(server):
    """2 × (50 GiB × 0.00139 + 3 points × 0.0002) = 0.1402 an hour: 0.14 to the fen."""
    price = inquire(server, DiskChargeType="POSTPAID_BY_HOUR", DiskType="CLOUD_SSD", DiskSize=50,
                    DiskCount=2, DiskBackupQuota=3)
    assert (price["UnitPrice"], price["UnitPriceHigh"]) == (0.14, "0.1402")


def test_the_largest_quantities_a_request_can_name_are_quoted_exactly(server):
    """2^64 - 1 backup points on 50 disks with the most extra throughput for 36 months: far
    beyond the 28 digits of Python's default decimals, still an exact price (never
    InternalError)."""
    most = 2**64 - 1
    price = inquire(server, DiskChargeType="PREPAID", DiskType="CLOUD_TSSD", DiskSize=500,
                    DiskCount=50, ThroughputPerformance=1000, DiskBackupQuota=most,
                    DiskChargePrepaid={"Period": 36})
    # 500 GiB × 1.5 + 1000 MiB/s × 0.5 + 2^64-1 × 0.15, × 36 months × 50 disks; 36 months pay 50%.
    listed = (500 * Decimal("1.5") + 1000 * Decimal("0.5") + most * Decimal("0.15")) * 36 * 50
    assert price["OriginalPriceHigh"] == format(listed.normalize(), "f")
    assert price["DiscountPriceHigh"] == format((listed / 2).normalize(), "f")
    assert price["OriginalPrice"] == float(listed)


@pytest.mark.parametrize("params, code, words", [
    ({"DiskChargeType": "PREPAID", "DiskType": "CLOUD_SSD", "DiskSize": 50},
     "MissingParameter", "DiskChargePrepaid"),
    ({"DiskChargeType": "PREPAID", "DiskType": "CLOUD_SSD", "DiskSize": 50,
      "DiskChargePrepaid": {"Period": 13}}, "InvalidParameterValue", "Period"),
    # A wrong Period is refused even for a postpaid quote, as CreateDisks refuses it.
    ({"DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_SSD", "DiskSize": 50,
      "DiskChargePrepaid": {"Period": 13}}, "InvalidParameterValue", "Period"),
    ({"DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_SSD", "DiskSize": 15},
     "InvalidParameterValue", "DiskSize"),
    ({"DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_SSD", "DiskSize": 50,
      "DiskCount": 51}, "InvalidParameterValue", "DiskCount"),
    ({"DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_PREMIUM", "DiskSize": 500,
      "ThroughputPerformance": 100}, "InvalidParameterValue", "ThroughputPerformance"),
    # Above the ExtraPerformanceRange DescribeDiskConfigQuota advertises (0-1000 for TSSD).
    ({"DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_TSSD", "DiskSize": 500,
      "ThroughputPerformance": 1001}, "InvalidParameterValue", "0 to 1000"),
    ({"DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_HSSD", "DiskSize": 500,
      "ThroughputPerformance": 2**64 - 1}, "InvalidParameterValue", "0 to 650"),
    # CLOUD_BASIC is no longer sold in any zone: InvalidParameterValue here (§3.11).
    ({"DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_BASIC", "DiskSize": 50},
     "InvalidParameterValue", "CLOUD_BASIC"),
    ({"DiskChargeType": "MONTHLY", "DiskType": "CLOUD_SSD", "DiskSize": 50},
     "InvalidParameterValue", "DiskChargeType"),
    ({"DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_SSD", "DiskSize": 50,
      "ProjectId": 7}, "InvalidParameterValue", "ProjectId"),
    ({"DiskType": "CLOUD_SSD", "DiskSize": 50}, "MissingParameter", "DiskChargeType"),
])
def test_refusals(server, params, code, words):
    failure = call_error(cbs_client(server, language="en-US"), "InquiryPriceCreateDisks", params)
    assert failure.code == code and words in failure.message, failure.message


def test_disk_config_quota_prices_one_disk_of_the_smallest_size(server):
    """[inf] DiskConfig.Price: one disk of MinDiskSize GiB, for a month or an hour."""
    client = cbs_client(server)
    configs = call(client, "DescribeDiskConfigQuota", {
        "InquiryType": "INQUIRY_CBS_CONFIG", "Zones": ["ap-guangzhou-3"],
        "DiskTypes": ["CLOUD_SSD"]}, models)["DiskConfigSet"]
    by_charge = {c["DiskChargeType"]: c for c in configs}
    assert by_charge["PREPAID"]["MinDiskSize"] == 20
    assert by_charge["PREPAID"]["Price"] == {**NULL_POSTPAID, "OriginalPrice": 20.0,
                                             "DiscountPrice": 20.0, "OriginalPriceHigh": "20",
                                             "DiscountPriceHigh": "20"}
    assert by_charge["POSTPAID_BY_HOUR"]["Price"] == {
        **NULL_PREPAID, "UnitPrice": 0.03, "UnitPriceDiscount": 0.03, "UnitPriceHigh": "0.0278",
        "UnitPriceDiscountHigh": "0.0278", "ChargeUnit": "HOUR"}
