"""Prepaid disks on the virtual clock, through the official Python SDK: the deadline (expiry into
the recycle bin, destruction after the retention period, automatic renewal when the disk says so
and its account can pay), RenewDisk (more months, recovery from the recycle bin), and the refund
TerminateDisks pays — every balance and every refund checked to the fen."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from tencentcloud.cbs.v20170312 import models

from tests.e2e.server import ZONE, Server, cbs_client, cvm_client
from tests.e2e.test_billing import (billing, change_billing, client_of, create, entries,
                                    new_account, postpaid, prepaid)
from tests.e2e.test_lifecycle_shapes import call, run_instances
from tests.e2e.test_python_sdk import call_error

START = "2027-01-10 12:00:00"  # a 1-month disk bought now is due 2027-02-10 12:00:00
MONTH_FEN = 3500  # 100 GiB CLOUD_PREMIUM for a month


@pytest.fixture
def clocked(fresh_server):
    """A server of the test's own, its clock frozen at START, and an account of its own."""
    set_clock(fresh_server, mode="frozen")
    set_clock(fresh_server, set=START)
    account = new_account(fresh_server)
    return fresh_server, account, client_of(fresh_server, account)


def set_clock(server: Server, **change) -> None:
    response = server.control("POST", "/clock", change)
    assert response.status_code == 200, response.text


def disk(client, disk_id: str) -> dict | None:
    found = call(client, "DescribeDisks", {"DiskIds": [disk_id]}, models)["DiskSet"]
    return found[0] if found else None


def balance(server: Server, account: dict) -> int:
    return billing(server, account["AccountId"])["BalanceFen"]


def kinds(server: Server, account: dict) -> list[tuple[str, int]]:
    return [(e["Kind"], e["AmountFen"]) for e in entries(server, account["AccountId"])[1:]]


# --- the deadline ---------------------------------------------------------------------------------
def test_a_month_without_renewal_expires_is_isolated_then_destroyed(clocked):
    """Expired at the deadline but usable for the 7 days of grace; then in the recycle bin for
    7 days; then gone."""
    server, account, client = clocked
    [disk_id] = create(client, prepaid())
    shown = disk(client, disk_id)
    assert (shown["DeadlineTime"], shown["DifferDaysOfDeadline"], shown["IsReturnable"]) == (
        "2027-02-10 12:00:00", 31, True)
    set_clock(server, set="2027-02-10 11:59:59")
    shown = disk(client, disk_id)
    assert (shown["DiskState"], shown["DifferDaysOfDeadline"]) == ("UNATTACHED", 0)
    set_clock(server, set="2027-02-10 12:00:00")
    shown = disk(client, disk_id)
    assert (shown["DiskState"], shown["IsReturnable"], shown["ReturnFailCode"]) == (
        "UNATTACHED", False, 2)
    assert shown["DifferDaysOfDeadline"] == 0 and shown["RenewFlag"] == "NOTIFY_AND_MANUAL_RENEW"
    # The actions §7 names answer InvalidDisk.Expire.
    for action, params in (("ResizeDisk", {"DiskId": disk_id, "DiskSize": 200}),
                           ("TerminateDisks", {"DiskIds": [disk_id]})):
        assert call_error(client, action, params).code == "InvalidDisk.Expire", action
    set_clock(server, set="2027-02-17 11:59:59")
    assert disk(client, disk_id)["DiskState"] == "UNATTACHED"
    assert disk(client, disk_id)["DifferDaysOfDeadline"] == -7
    set_clock(server, set="2027-02-17 12:00:00")  # the grace is over
    assert disk(client, disk_id)["DiskState"] == "TORECYCLE"
    set_clock(server, set="2027-02-24 11:59:59")
    assert disk(client, disk_id)["DiskState"] == "TORECYCLE"
    set_clock(server, set="2027-02-24 12:00:00")  # the 7 days of the recycle bin are over
    assert disk(client, disk_id) is None
    assert kinds(server, account) == [("PURCHASE", -MONTH_FEN)]  # nothing else was paid


def test_an_attached_disk_is_detached_when_it_expires(clocked):
    server, account, client = clocked
    [instance_id] = run_instances(cvm_client(server, account["SecretId"], account["SecretKey"]))
    [disk_id] = create(client, prepaid())
    call(client, "AttachDisks", {"DiskIds": [disk_id], "InstanceId": instance_id}, models)
    assert disk(client, disk_id)["DiskState"] == "ATTACHED"
    set_clock(server, set="2027-02-10 12:00:01")
    assert disk(client, disk_id)["DiskState"] == "ATTACHED"  # expired, still usable
    set_clock(server, set="2027-02-17 12:00:01")
    shown = disk(client, disk_id)
    assert (shown["DiskState"], shown["Attached"], shown["InstanceId"]) == ("TORECYCLE", False, "")


def test_auto_renewal_at_the_deadline_pays_a_month_when_it_can(clocked):
    server, account, client = clocked
    [disk_id] = create(client, prepaid(DiskChargePrepaid={"Period": 1,
                                                         "RenewFlag": "NOTIFY_AND_AUTO_RENEW"}))
    set_clock(server, set="2027-02-10 12:00:00")
    shown = disk(client, disk_id)
    assert (shown["DiskState"], shown["DeadlineTime"]) == ("UNATTACHED", "2027-03-10 12:00:00")
    assert kinds(server, account) == [("PURCHASE", -MONTH_FEN), ("RENEWAL", -MONTH_FEN)]
    renewal = entries(server, account["AccountId"])[-1]
    assert renewal["ResourceIds"] == [disk_id] and renewal["DealName"]
    # Too little for the next month: it expires instead, and nothing is taken.
    change_billing(server, account["AccountId"], balance="34.99")
    set_clock(server, set="2027-03-10 12:00:00")
    assert disk(client, disk_id)["ReturnFailCode"] == 2
    assert balance(server, account) == 3499


def test_auto_renewal_needs_payment_permission(clocked):
    server, account, client = clocked
    [disk_id] = create(client, prepaid(DiskChargePrepaid={"Period": 1,
                                                         "RenewFlag": "NOTIFY_AND_AUTO_RENEW"}))
    change_billing(server, account["AccountId"], payment_allowed=False)
    set_clock(server, set="2027-02-10 12:00:00")
    assert disk(client, disk_id)["ReturnFailCode"] == 2


# --- RenewDisk ------------------------------------------------------------------------------------
def test_renew_disk_adds_months_and_pays_for_them(clocked):
    server, account, client = clocked
    [disk_id] = create(client, prepaid())
    call(client, "RenewDisk", {"DiskId": disk_id, "DiskChargePrepaid": {
        "Period": 12, "RenewFlag": "NOTIFY_AND_AUTO_RENEW"}}, models)
    shown = disk(client, disk_id)
    assert (shown["DeadlineTime"], shown["RenewFlag"]) == ("2028-02-10 12:00:00",
                                                           "NOTIFY_AND_AUTO_RENEW")
    # 12 months of 35.00 at 83%: 348.60
    assert kinds(server, account) == [("PURCHASE", -MONTH_FEN), ("RENEWAL", -34860)]
    # The old deadline no longer expires it.
    set_clock(server, set="2027-02-11 00:00:00")
    assert disk(client, disk_id)["DiskState"] == "UNATTACHED"


def test_renew_disk_lines_up_with_the_instance(clocked):
    _server, _account, client = clocked
    [disk_id] = create(client, prepaid())
    call(client, "RenewDisk", {"DiskId": disk_id, "DiskChargePrepaid": {
        "Period": 2, "CurInstanceDeadline": "2027-03-01 08:00:00"}}, models)
    assert disk(client, disk_id)["DeadlineTime"] == "2027-05-01 08:00:00"


def test_renew_disk_refusals(clocked):
    server, account, client = clocked
    [prepaid_id] = create(client, prepaid())
    [postpaid_id] = create(client, postpaid())
    cases = [
        ({"DiskId": prepaid_id}, "MissingParameter"),
        ({"DiskChargePrepaid": {"Period": 1}}, "MissingParameter"),
        ({"DiskId": prepaid_id, "DiskChargePrepaid": {"Period": 13}}, "InvalidParameterValue"),
        ({"DiskId": prepaid_id, "DiskChargePrepaid": {"Period": 1, "RenewFlag": "SOMETIMES"}},
         "InvalidParameterValue"),
        ({"DiskId": prepaid_id, "DiskChargePrepaid": {"Period": 1,
                                                      "CurInstanceDeadline": "tomorrow"}},
         "InvalidParameterValue"),
        ({"DiskId": "disk-00000000", "DiskChargePrepaid": {"Period": 1}}, "InvalidDiskId.NotFound"),
        ({"DiskId": postpaid_id, "DiskChargePrepaid": {"Period": 1}}, "InvalidDisk.NotSupported"),
    ]
    for params, code in cases:
        assert call_error(client, "RenewDisk", params).code == code, params
    change_billing(server, account["AccountId"], balance="34.99")
    assert call_error(client, "RenewDisk", {"DiskId": prepaid_id, "DiskChargePrepaid": {
        "Period": 1}}).code == "InvalidAccount.InsufficientBalance"
    assert disk(client, prepaid_id)["DeadlineTime"] == "2027-02-10 12:00:00"
    assert balance(server, account) == 3499


def test_renew_disk_refuses_a_disk_bought_with_an_instance(clocked):
    server, _account, _client = clocked
    client = cbs_client(server)
    [instance_id] = run_instances(cvm_client(server))
    bundled = [d["DiskId"] for d in call(client, "DescribeDisks", {"Filters": [
        {"Name": "instance-id", "Values": [instance_id]},
        {"Name": "disk-usage", "Values": ["DATA_DISK"]}]}, models)["DiskSet"]]
    assert call_error(client, "RenewDisk", {"DiskId": bundled[0], "DiskChargePrepaid": {
        "Period": 1}}).code == "InvalidDisk.NotPortable"


def test_renew_disk_in_the_grace_period_counts_from_the_deadline(clocked):
    server, _account, client = clocked
    [disk_id] = create(client, prepaid())
    set_clock(server, set="2027-02-12 09:00:00")
    assert disk(client, disk_id)["ReturnFailCode"] == 2
    call(client, "RenewDisk", {"DiskId": disk_id, "DiskChargePrepaid": {"Period": 1}}, models)
    shown = disk(client, disk_id)
    assert (shown["DiskState"], shown["DeadlineTime"], shown["ReturnFailCode"]) == (
        "UNATTACHED", "2027-03-10 12:00:00", 0)
    set_clock(server, set="2027-02-20 09:00:00")  # past the old grace: it stays
    assert disk(client, disk_id)["DiskState"] == "UNATTACHED"


def test_renew_disk_recovers_an_expired_disk_from_the_recycle_bin(clocked):
    server, _account, client = clocked
    [disk_id] = create(client, prepaid())
    set_clock(server, set="2027-02-19 09:00:00")
    assert disk(client, disk_id)["DiskState"] == "TORECYCLE"
    call(client, "RenewDisk", {"DiskId": disk_id, "DiskChargePrepaid": {"Period": 1}}, models)
    shown = disk(client, disk_id)
    assert (shown["DiskState"], shown["DeadlineTime"], shown["IsReturnable"]) == (
        "UNATTACHED", "2027-03-19 09:00:00", True)
    set_clock(server, set="2027-02-27 09:00:00")  # past the old retention: it stays
    assert disk(client, disk_id)["DiskState"] == "UNATTACHED"


# --- returning a prepaid disk ---------------------------------------------------------------------
def test_one_disk_returned_within_five_days_is_refunded_in_full(clocked):
    """The first return within five days of the purchase is refunded in full; the account's
    next one, however soon, is a regular return (what is left: 360/365 of 348.60 → 343.82)."""
    server, account, client = clocked
    first, second = create(client, prepaid(count=2, period=12))
    set_clock(server, set="2027-01-15 12:00:00")
    call(client, "TerminateDisks", {"DiskIds": [first]}, models)
    call(client, "TerminateDisks", {"DiskIds": [second]}, models)
    assert kinds(server, account) == [("PURCHASE", -69720), ("FIVE_DAY_REFUND", 34860),
                                      ("REFUND", 34860 * 360 // 365)]
    refund = entries(server, account["AccountId"])[-2]
    assert (refund["Action"], refund["ResourceIds"]) == ("TerminateDisks", [first])


def test_a_disk_returned_later_is_refunded_what_is_left_of_its_term(clocked):
    """31 days paid (2027-01-10 to 02-10); returned after 10 days: 21/31 of 35.00 = 23.70."""
    server, account, client = clocked
    assert server.control("POST", "/config", {"billing": {"five_day_returns": 0}}).ok
    [disk_id] = create(client, prepaid())
    set_clock(server, set="2027-01-20 12:00:00")
    call(client, "TerminateDisks", {"DiskIds": [disk_id]}, models)
    assert kinds(server, account) == [("PURCHASE", -MONTH_FEN), ("REFUND", 3500 * 21 // 31)]
    assert balance(server, account) == 100_000_000 - MONTH_FEN + 2370


def test_an_order_of_several_disks_is_refunded_disk_by_disk_to_the_fen(clocked):
    """3 × 100 GiB for 12 months = 1045.80, split 348.60 each; two returned at once after 73 days
    (292/365 left): each 348.60 × 292/365 = 278.88."""
    server, account, client = clocked
    assert server.control("POST", "/config", {"billing": {"five_day_returns": 0}}).ok
    disk_ids = create(client, prepaid(count=3, period=12))
    set_clock(server, set="2027-03-24 12:00:00")
    call(client, "TerminateDisks", {"DiskIds": disk_ids[:2]}, models)
    assert kinds(server, account) == [("PURCHASE", -104580), ("REFUND", 27888), ("REFUND", 27888)]


def test_a_returned_disk_recovered_cannot_be_returned_again(clocked):
    server, _account, client = clocked
    [disk_id] = create(client, prepaid())
    call(client, "TerminateDisks", {"DiskIds": [disk_id]}, models)
    assert disk(client, disk_id)["DiskState"] == "TORECYCLE"
    call(client, "RenewDisk", {"DiskId": disk_id, "DiskChargePrepaid": {"Period": 1}}, models)
    shown = disk(client, disk_id)
    assert (shown["DiskState"], shown["IsReturnable"], shown["ReturnFailCode"]) == (
        "UNATTACHED", False, 1)
    assert call_error(client, "TerminateDisks", {"DiskIds": [disk_id]}).code == \
        "InvalidDisk.RepeatRefund"


def test_the_refund_quota(clocked):
    """refunds_per_year = 1: the second return within 365 days is refused, the year after it
    is allowed again."""
    server, account, client = clocked
    assert server.control("POST", "/config", {"billing": {"refunds_per_year": 1,
                                                          "five_day_returns": 0}}).ok
    first, second = create(client, prepaid(count=2, period=36))
    call(client, "TerminateDisks", {"DiskIds": [first]}, models)
    failure = call_error(client_of(server, account, language="en-US"), "TerminateDisks",
                         {"DiskIds": [second]})
    assert failure.code == "InsufficientRefundQuota" and "1 of its 1" in failure.message
    assert disk(client, second)["DiskState"] == "UNATTACHED"
    set_clock(server, set="2028-01-10 12:00:01")
    call(client, "TerminateDisks", {"DiskIds": [second]}, models)


# --- ModifyDisksRenewFlag -------------------------------------------------------------------------
def test_modify_disks_renew_flag_turns_automatic_renewal_on_for_months(clocked):
    """NOTIFY_AND_AUTO_RENEW with AutoRenewPeriod 3: at the deadline, 3 months at 35.00."""
    server, account, client = clocked
    disk_ids = create(client, prepaid(count=2))
    call(client, "ModifyDisksRenewFlag", {"DiskIds": disk_ids, "RenewFlag": "NOTIFY_AND_AUTO_RENEW",
                                          "AutoRenewPeriod": 3}, models)
    assert {disk(client, d)["RenewFlag"] for d in disk_ids} == {"NOTIFY_AND_AUTO_RENEW"}
    set_clock(server, set="2027-02-10 12:00:00")
    assert {disk(client, d)["DeadlineTime"] for d in disk_ids} == {"2027-05-10 12:00:00"}
    assert kinds(server, account)[1:] == [("RENEWAL", -3 * MONTH_FEN)] * 2
    call(client, "ModifyDisksRenewFlag", {"DiskIds": disk_ids[:1],
                                          "RenewFlag": "DISABLE_NOTIFY_AND_MANUAL_RENEW"}, models)
    set_clock(server, set="2027-05-10 12:00:00")
    assert [disk(client, d)["ReturnFailCode"] for d in disk_ids] == [2, 0]
    assert [disk(client, d)["DeadlineTime"] for d in disk_ids] == ["2027-05-10 12:00:00",
                                                                   "2027-08-10 12:00:00"]


def test_modify_disks_renew_flag_refusals(clocked):
    _server, _account, client = clocked
    [prepaid_id] = create(client, prepaid())
    [postpaid_id] = create(client, postpaid())
    cases = [
        ({"DiskIds": [prepaid_id]}, "MissingParameter"),
        ({"RenewFlag": "NOTIFY_AND_AUTO_RENEW"}, "MissingParameter"),
        ({"DiskIds": [prepaid_id], "RenewFlag": "ALWAYS"}, "InvalidParameterValue"),
        ({"DiskIds": [prepaid_id], "RenewFlag": "NOTIFY_AND_AUTO_RENEW", "AutoRenewPeriod": 13},
         "InvalidParameterValue"),
        ({"DiskIds": [prepaid_id, postpaid_id], "RenewFlag": "NOTIFY_AND_AUTO_RENEW"},
         "InvalidParameterValue"),
        ({"DiskIds": ["disk-00000000"], "RenewFlag": "NOTIFY_AND_AUTO_RENEW"},
         "InvalidDiskId.NotFound"),
    ]
    for params, code in cases:
        assert call_error(client, "ModifyDisksRenewFlag", params).code == code, params
    assert disk(client, prepaid_id)["RenewFlag"] == "NOTIFY_AND_MANUAL_RENEW"  # nothing changed


# --- InquiryPriceRenewDisks -----------------------------------------------------------------------
def test_inquiry_price_renew_disks_details_what_each_month_costs(clocked):
    """Two disks: 100 GiB PREMIUM with 2 backup points for 12 months (83%), and 500 GiB HSSD with
    100 MiB/s for 1 month; DetailPrices sum the disks by what is billed."""
    _server, _account, client = clocked
    [premium] = create(client, prepaid(DiskBackupQuota=2))
    [hssd] = create(client, {"Placement": {"Zone": ZONE}, "DiskChargeType": "PREPAID",
                             "DiskType": "CLOUD_HSSD", "DiskSize": 500, "ThroughputPerformance": 100,
                             "DiskChargePrepaid": {"Period": 1}})
    price = call(client, "InquiryPriceRenewDisks", {
        "DiskIds": [premium, hssd],
        "DiskChargePrepaids": [{"Period": 12}, {"Period": 1}]}, models)["DiskPrice"]
    # PREMIUM: space 35 × 12 = 420 (348.60), points 2 × 0.15 × 12 = 3.60 (2.988);
    # HSSD: space 500 × 1 = 500, throughput 100 × 0.5 = 50.
    assert (price["OriginalPrice"], price["DiscountPrice"]) == (973.6, 901.59)
    assert (price["OriginalPriceHigh"], price["DiscountPriceHigh"]) == ("973.6", "901.588")
    assert price["UnitPrice"] is None and price["ChargeUnit"] is None
    details = {d["PriceName"]: d for d in price["DetailPrices"]}
    assert [d["PriceName"] for d in price["DetailPrices"]] == [
        "DiskBackupQuota", "DiskSpace", "DiskExtraPerformance"]
    assert (details["DiskSpace"]["OriginalPrice"], details["DiskSpace"]["DiscountPrice"]) == (
        920.0, 848.6)
    assert details["DiskBackupQuota"]["DiscountPrice"] == 2.99
    assert details["DiskSpace"]["PriceTitle"] == "云硬盘空间"
    assert details["DiskSpace"]["OriginalPriceHigh"] is None  # as the vendor's example


def test_inquiry_price_renew_disks_to_a_new_deadline_counts_whole_months(clocked):
    """Due 2027-02-10 12:00; renewing to 2027-04-01 takes 2 months (70.00)."""
    _server, _account, client = clocked
    [disk_id] = create(client, prepaid())
    price = call(client, "InquiryPriceRenewDisks", {
        "DiskIds": [disk_id], "NewDeadline": "2027-04-01 00:00:00"}, models)["DiskPrice"]
    assert price["DiscountPrice"] == 70.0
    [detail] = [d for d in price["DetailPrices"] if d["PriceName"] == "DiskBackupQuota"]
    assert (detail["OriginalPrice"], detail["DiscountPrice"]) == (0.0, 0.0)


def test_inquiry_price_renew_disks_refusals(clocked):
    server, _account, client = clocked
    [prepaid_id] = create(client, prepaid())
    [postpaid_id] = create(client, postpaid())
    one = [{"Period": 1}]
    cases = [
        ({"DiskIds": [prepaid_id]}, "MissingParameter"),
        ({"DiskIds": [prepaid_id], "DiskChargePrepaids": one, "NewDeadline": "2027-05-01 00:00:00"},
         "InvalidParameterValue"),
        ({"DiskIds": [prepaid_id], "DiskChargePrepaids": one * 2}, "InvalidParameterValue"),
        ({"DiskIds": [prepaid_id], "DiskChargePrepaids": [{"Period": 25}]}, "InvalidParameterValue"),
        ({"DiskIds": [prepaid_id], "NewDeadline": "soon"}, "InvalidParameterValue"),
        ({"DiskIds": [prepaid_id], "NewDeadline": "2027-02-01 00:00:00"}, "InvalidParameterValue"),
        ({"DiskIds": [prepaid_id], "NewDeadline": "2031-01-01 00:00:00"}, "InvalidParameterValue"),
        ({"DiskIds": [prepaid_id], "DiskChargePrepaids": one, "ProjectId": 9},
         "InvalidParameterValue"),
        ({"DiskIds": ["disk-00000000"], "DiskChargePrepaids": one}, "InvalidDiskId.NotFound"),
        ({"DiskIds": [postpaid_id], "DiskChargePrepaids": one}, "InvalidDisk.NotSupported"),
    ]
    for params, code in cases:
        assert call_error(client, "InquiryPriceRenewDisks", params).code == code, params
    client = cbs_client(server)
    [instance_id] = run_instances(cvm_client(server))
    bundled = call(client, "DescribeDisks", {"Filters": [
        {"Name": "instance-id", "Values": [instance_id]},
        {"Name": "disk-usage", "Values": ["DATA_DISK"]}]}, models)["DiskSet"][0]["DiskId"]
    assert call_error(client, "InquiryPriceRenewDisks", {
        "DiskIds": [bundled], "DiskChargePrepaids": one}).code == "InvalidDisk.NotPortable"


# --- paid changes: ResizeDisk, the type upgrade, InquiryPriceResizeDisk ---------------------------
# A 1-month disk bought at START has 31 days left: 31 / (365 / 12) months = 1.01917808… months.
MONTHS_LEFT = Decimal(31 * 12) / 365


def test_resizing_a_prepaid_disk_pays_the_difference_to_its_deadline(clocked):
    """100 → 200 GiB of CLOUD_PREMIUM: 35.00 more a month, for the months left: 35.67; what
    InquiryPriceResizeDisk quotes is what ResizeDisk takes."""
    server, account, client = clocked
    [disk_id] = create(client, prepaid())
    price = call(client, "InquiryPriceResizeDisk", {"DiskId": disk_id, "DiskSize": 200},
                 models)["DiskPrice"]
    exact = 35 * MONTHS_LEFT
    assert (price["OriginalPrice"], price["DiscountPrice"]) == (35.67, 35.67)
    assert price["DiscountPriceHigh"] == format(exact.quantize(Decimal("0.00000001")), "f")
    assert [d["PriceName"] for d in price["DetailPrices"]] == ["DiskBackupQuota", "DiskSpace"]
    call(client, "ResizeDisk", {"DiskId": disk_id, "DiskSize": 200}, models)
    assert kinds(server, account) == [("PURCHASE", -MONTH_FEN), ("UPGRADE", -3567)]
    assert disk(client, disk_id)["DiskSize"] == 200
    # Returned within five days: everything paid comes back, the upgrade too.
    call(client, "TerminateDisks", {"DiskIds": [disk_id]}, models)
    assert kinds(server, account)[-1] == ("FIVE_DAY_REFUND", MONTH_FEN + 3567)


def test_a_prepaid_resize_the_balance_cannot_pay_changes_nothing(clocked):
    server, account, client = clocked
    [disk_id] = create(client, prepaid())
    change_billing(server, account["AccountId"], balance="35.66")
    assert call_error(client, "ResizeDisk", {"DiskId": disk_id, "DiskSize": 200}).code == \
        "InvalidAccount.InsufficientBalance"
    shown = disk(client, disk_id)
    assert (shown["DiskSize"], shown["DiskState"]) == (100, "UNATTACHED")
    assert balance(server, account) == 3566


def test_a_prepaid_type_upgrade_pays_the_difference(clocked):
    """CLOUD_PREMIUM → CLOUD_SSD, 100 GiB: 0.65 more per GiB and month."""
    server, account, client = clocked
    [disk_id] = create(client, prepaid())
    call(client, "ModifyDiskAttributes", {"DiskIds": [disk_id], "DiskType": "CLOUD_SSD"}, models)
    fen = int((65 * MONTHS_LEFT * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert kinds(server, account) == [("PURCHASE", -MONTH_FEN), ("UPGRADE", -fen)]
    assert disk(client, disk_id)["DiskType"] == "CLOUD_SSD"


def test_inquiry_price_resize_disk_of_postpaid_disks_is_their_new_hourly_price(clocked):
    _server, _account, client = clocked
    disk_ids = create(client, postpaid(DiskCount=2))
    price = call(client, "InquiryPriceResizeDisk", {"DiskIds": disk_ids, "DiskSize": 150},
                 models)["DiskPrice"]
    assert (price["UnitPrice"], price["UnitPriceHigh"], price["ChargeUnit"]) == (0.13, "0.126", "HOUR")
    assert price["OriginalPrice"] is None


def test_inquiry_price_resize_disk_refusals(clocked):
    server, _account, client = clocked
    [disk_id] = create(client, prepaid())
    cases = [
        ({"DiskSize": 200}, "MissingParameter"),
        ({"DiskId": disk_id, "DiskIds": [disk_id], "DiskSize": 200}, "InvalidParameterValue"),
        ({"DiskId": disk_id, "DiskSize": 50}, "InvalidParameterValue"),
        ({"DiskId": disk_id, "DiskSize": 32010}, "InvalidParameterValue"),
        ({"DiskId": "disk-00000000", "DiskSize": 200}, "InvalidDiskId.NotFound"),
    ]
    for params, code in cases:
        assert call_error(client, "InquiryPriceResizeDisk", params).code == code, params
    # The same size is allowed here, and costs nothing.
    price = call(client, "InquiryPriceResizeDisk", {"DiskId": disk_id, "DiskSize": 100},
                 models)["DiskPrice"]
    assert price["DiscountPrice"] == 0.0
    set_clock(server, set="2027-02-11 00:00:00")
    assert call_error(client, "InquiryPriceResizeDisk", {"DiskId": disk_id, "DiskSize": 200}).code \
        == "InvalidDisk.Expire"


# --- ModifyDisksChargeType ------------------------------------------------------------------------
def test_postpaid_disks_turn_prepaid_and_back(clocked):
    """Two postpaid disks from 12:00; at 12:30 to prepaid for a month (their half hour billed,
    70.00 paid, due 2027-02-10 12:30); ten days later one back to postpaid: 21/31 of its 35.00
    refunded, and billed by the hour from then."""
    server, account, client = clocked
    disk_ids = create(client, postpaid(DiskCount=2))
    set_clock(server, set="2027-01-10 12:30:00")
    call(client, "ModifyDisksChargeType", {"DiskIds": disk_ids, "DiskChargePrepaid": {
        "Period": 1, "RenewFlag": "NOTIFY_AND_AUTO_RENEW"}}, models)
    shown = disk(client, disk_ids[0])
    assert (shown["DiskChargeType"], shown["DeadlineTime"], shown["RenewFlag"]) == (
        "PREPAID", "2027-02-10 12:30:00", "NOTIFY_AND_AUTO_RENEW")
    set_clock(server, set="2027-01-20 12:30:00")
    call(client, "ModifyDisksChargeType", {"DiskIds": disk_ids[:1], "DiskChargePostpaid": True},
         models)
    shown = disk(client, disk_ids[0])
    assert (shown["DiskChargeType"], shown["DeadlineTime"], shown["RenewFlag"]) == (
        "POSTPAID_BY_HOUR", "", "")
    set_clock(server, set="2027-01-20 14:00:00")
    # 2 × half an hour at 0.042 = 0.042, charged at 13:00 (0.002 carried); then one disk from
    # 01-20 12:30: 0.021 + 0.002 → 2 fen at 13:00, 0.042 + 0.003 → 4 fen at 14:00.
    assert kinds(server, account) == [("PURCHASE", -2 * MONTH_FEN), ("USAGE", -4),
                                      ("CONVERSION_REFUND", 3500 * 21 // 31),
                                      ("USAGE", -2), ("USAGE", -4)]


def test_modify_disks_charge_type_refusals(clocked):
    server, account, client = clocked
    [prepaid_id] = create(client, prepaid())
    [postpaid_id] = create(client, postpaid())
    one = {"Period": 1}
    cases = [
        ({"DiskIds": [postpaid_id]}, "InvalidParameter"),
        ({"DiskIds": [postpaid_id], "DiskChargePostpaid": False}, "InvalidParameter"),
        ({"DiskIds": [postpaid_id], "DiskChargePrepaid": one, "DiskChargePostpaid": True},
         "InvalidParameter"),
        ({"DiskIds": [postpaid_id], "DiskChargePrepaid": {"Period": 13}}, "InvalidParameterValue"),
        ({"DiskIds": ["disk-00000000"], "DiskChargePrepaid": one}, "InvalidDiskId.NotFound"),
        ({"DiskIds": [prepaid_id], "DiskChargePrepaid": one}, "InvalidDisk.NotSupported"),
        ({"DiskIds": [postpaid_id], "DiskChargePostpaid": True}, "InvalidDisk.NotSupported"),
    ]
    for params, code in cases:
        assert call_error(client, "ModifyDisksChargeType", params).code == code, params
    change_billing(server, account["AccountId"], balance="34.99")
    assert call_error(client, "ModifyDisksChargeType", {"DiskIds": [postpaid_id],
                                                        "DiskChargePrepaid": one}).code == \
        "InvalidAccount.InsufficientBalance"
    assert disk(client, postpaid_id)["DiskChargeType"] == "POSTPAID_BY_HOUR"
    [instance_id] = run_instances(cvm_client(server))
    bundled = call(cbs_client(server), "DescribeDisks", {"Filters": [
        {"Name": "instance-id", "Values": [instance_id]},
        {"Name": "disk-usage", "Values": ["DATA_DISK"]}]}, models)["DiskSet"][0]["DiskId"]
    assert call_error(cbs_client(server), "ModifyDisksChargeType", {
        "DiskIds": [bundled], "DiskChargePrepaid": one}).code == "InvalidDisk.NotPortable"


# --- orders that settle later ---------------------------------------------------------------------
def test_a_second_order_before_the_first_settles_is_a_trade_deal_conflict(clocked):
    """order_settle_seconds = 60: a disk just bought can be neither renewed, resized, returned
    nor turned postpaid for a minute; then it can, and each order starts its own minute."""
    server, account, client = clocked
    assert server.control("POST", "/config", {"billing": {"order_settle_seconds": 60}}).ok
    [disk_id] = create(client, prepaid())
    renew = {"DiskId": disk_id, "DiskChargePrepaid": {"Period": 1}}
    for action, params in (("RenewDisk", renew),
                           ("ResizeDisk", {"DiskId": disk_id, "DiskSize": 200}),
                           ("TerminateDisks", {"DiskIds": [disk_id]}),
                           ("ModifyDisksChargeType", {"DiskIds": [disk_id],
                                                      "DiskChargePostpaid": True})):
        failure = call_error(client_of(server, account, language="en-US"), action, params)
        assert failure.code == "TradeDealConflict" and "2027-01-10 12:01:00" in failure.message
    assert kinds(server, account) == [("PURCHASE", -MONTH_FEN)]  # nothing else happened
    set_clock(server, set="2027-01-10 12:01:00")
    call(client, "RenewDisk", renew, models)
    assert call_error(client, "RenewDisk", renew).code == "TradeDealConflict"
    set_clock(server, set="2027-01-10 12:02:00")
    call(client, "RenewDisk", renew, models)


# --- extra performance ----------------------------------------------------------------------------
HSSD = {"Placement": {"Zone": ZONE}, "DiskType": "CLOUD_HSSD", "DiskSize": 500}


def test_more_throughput_for_a_prepaid_disk_pays_the_difference(clocked):
    """+100 MiB/s at 0.5 a month, for the months left: what the inquiry quotes is what is paid."""
    server, account, client = clocked
    [disk_id] = create(client, {**HSSD, "DiskChargeType": "PREPAID",
                                "DiskChargePrepaid": {"Period": 1}})
    params = {"DiskId": disk_id, "ThroughputPerformance": 100}
    price = call(client, "InquirePriceModifyDiskExtraPerformance", params, models)["DiskPrice"]
    fen = int((50 * MONTHS_LEFT * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert price["DiscountPrice"] == fen / 100 and price["UnitPrice"] is None
    call(client, "ModifyDiskExtraPerformance", params, models)
    assert disk(client, disk_id)["ThroughputPerformance"] == 100
    assert kinds(server, account)[-1] == ("UPGRADE", -fen)
    # Less throughput pays nothing back.
    call(client, "ModifyDiskExtraPerformance", {"DiskId": disk_id, "ThroughputPerformance": 0},
         models)
    assert [k for k, _ in kinds(server, account)] == ["PURCHASE", "UPGRADE"]


def test_more_throughput_for_a_postpaid_disk_is_billed_from_then(clocked):
    """500 GiB HSSD at 0.00139 = 0.695 an hour; +100 MiB/s at 0.0007 = 0.07 more from 12:30."""
    server, account, client = clocked
    [disk_id] = create(client, {**HSSD, "DiskChargeType": "POSTPAID_BY_HOUR"})
    price = call(client, "InquirePriceModifyDiskExtraPerformance", {
        "DiskId": disk_id, "ThroughputPerformance": 100}, models)["DiskPrice"]
    assert (price["UnitPriceHigh"], price["ChargeUnit"]) == ("0.765", "HOUR")
    set_clock(server, set="2027-01-10 12:30:00")
    call(client, "ModifyDiskExtraPerformance", {"DiskId": disk_id, "ThroughputPerformance": 100},
         models)
    set_clock(server, set="2027-01-10 13:00:00")
    # 0.695 + 0.035 = 0.73 for the hour.
    assert kinds(server, account) == [("USAGE", -73)]


def test_extra_performance_refusals(clocked):
    server, _account, client = clocked
    [premium] = create(client, prepaid())
    [small] = create(client, {**HSSD, "DiskSize": 100, "DiskChargeType": "POSTPAID_BY_HOUR"})
    [hssd] = create(client, {**HSSD, "DiskChargeType": "PREPAID",
                             "DiskChargePrepaid": {"Period": 1}})
    for action in ("ModifyDiskExtraPerformance", "InquirePriceModifyDiskExtraPerformance"):
        for params, code in (
                ({"DiskId": premium, "ThroughputPerformance": 10}, "InvalidParameter"),
                ({"DiskId": small, "ThroughputPerformance": 10}, "InvalidParameter"),
                ({"DiskId": hssd, "ThroughputPerformance": 651}, "InvalidParameter"),
                ({"DiskId": "disk-00000000", "ThroughputPerformance": 10},
                 "InvalidDiskId.NotFound"),
                ({"DiskId": hssd}, "MissingParameter")):
            assert call_error(client, action, params).code == code, (action, params)
    set_clock(server, set="2027-02-11 00:00:00")
    assert call_error(client, "ModifyDiskExtraPerformance", {
        "DiskId": hssd, "ThroughputPerformance": 10}).code == "InvalidDisk.Expire"


# --- CVM's prepaid instances pay for their disks --------------------------------------------------
def test_a_prepaid_instance_pays_for_its_disks(clocked):
    """RunInstances PREPAID for 1 month with a 50 GiB system and a 50 GiB data disk (CLOUD_PREMIUM):
    35.00, with CVM's own codes when the account cannot pay."""
    server, account, _client = clocked
    cvm = cvm_client(server, account["SecretId"], account["SecretKey"])
    prepaid_run = {"InstanceChargeType": "PREPAID", "InstanceChargePrepaid": {"Period": 1}}
    [instance_id] = run_instances(cvm, **prepaid_run)
    purchase = entries(server, account["AccountId"])[-1]
    assert (purchase["Kind"], purchase["AmountFen"], purchase["ResourceIds"],
            purchase["Action"]) == ("PURCHASE", -3500, [instance_id], "RunInstances")
    change_billing(server, account["AccountId"], balance="34.99")
    params = {"Placement": {"Zone": ZONE}, "ImageId": "img-pmqg1cw7", "InstanceType": "S5.MEDIUM4",
              "DataDisks": [{"DiskSize": 50}], **prepaid_run}
    assert call_error(cvm, "RunInstances", params).code == "InvalidAccount.InsufficientBalance"
    assert call_error(cvm, "RunInstances", {**params, "DryRun": True}).code == \
        "InvalidAccount.InsufficientBalance"
    change_billing(server, account["AccountId"], balance="100", payment_allowed=False)
    assert call_error(cvm, "RunInstances", params).code == "UnauthorizedOperation"
    assert balance(server, account) == 10000


def test_a_busy_disk_is_neither_renewed_nor_converted(clocked):
    """While a resize runs (EXPANDING), RenewDisk and ModifyDisksChargeType answer
    InvalidDisk.Busy and take nothing."""
    server, account, client = clocked
    assert server.control("POST", "/timing", {"durations": {"disk.resize": 600}}).ok
    [disk_id] = create(client, prepaid())
    call(client, "ResizeDisk", {"DiskId": disk_id, "DiskSize": 200}, models)
    assert disk(client, disk_id)["DiskState"] == "EXPANDING"
    before = balance(server, account)
    assert call_error(client, "RenewDisk", {"DiskId": disk_id, "DiskChargePrepaid": {
        "Period": 1}}).code == "InvalidDisk.Busy"
    assert call_error(client, "ModifyDisksChargeType", {
        "DiskIds": [disk_id], "DiskChargePostpaid": True}).code == "InvalidDisk.Busy"
    assert balance(server, account) == before
