"""Money through the official Python SDK and the control plane: balances, payment permission and
the ledger; CreateDisks PREPAID paying for its disks to the fen, and refused when it cannot
(InvalidAccount.InsufficientBalance, UnauthorizedOperation); accounts in arrears refused the
actions that start billed snapshots. Every account here is the test's own."""

from __future__ import annotations

import json
import threading

import pytest
from tencentcloud.cbs.v20170312 import models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.e2e.server import REGION, ZONE, Server, cbs_client
from tests.e2e.test_admin import admin
from tests.e2e.test_lifecycle_shapes import call
from tests.e2e.test_python_sdk import call_error


def new_account(server: Server, **money) -> dict:
    """A new account's credentials; `money`: a billing change to make at once."""
    response = server.control("POST", "/accounts", {"name": "billing"})
    assert response.status_code == 200, response.text
    account = response.json()
    if money:
        change_billing(server, account["AccountId"], **money)
    return account


def change_billing(server: Server, account_id: str, **change) -> dict:
    response = server.control("POST", f"/accounts/{account_id}/billing", change)
    assert response.status_code == 200, response.text
    return response.json()


def billing(server: Server, account_id: str) -> dict:
    return server.control("GET", f"/accounts/{account_id}/billing").json()


def entries(server: Server, account_id: str, after: int = 0) -> list[dict]:
    """Every ledger entry after `after`, page by page."""
    found: list[dict] = []
    while True:
        path = f"/accounts/{account_id}/ledger?after={after}&limit=1000"
        page = server.control("GET", path).json()["entries"]
        found += page
        if len(page) < 1000:
            return found
        after = page[-1]["Id"]


def client_of(server: Server, account: dict, **profile):
    return cbs_client(server, account["SecretId"], account["SecretKey"], **profile)


def prepaid(size: int = 100, count: int = 1, period: int = 1, **extra) -> dict:
    return {"Placement": {"Zone": ZONE}, "DiskChargeType": "PREPAID", "DiskType": "CLOUD_PREMIUM",
            "DiskSize": size, "DiskCount": count, "DiskChargePrepaid": {"Period": period}, **extra}


def postpaid(size: int = 100, **extra) -> dict:
    return {"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR",
            "DiskType": "CLOUD_PREMIUM", "DiskSize": size, **extra}


def create(client, params: dict) -> list[str]:
    return call(client, "CreateDisks", params, models)["DiskIdSet"]


def disk_count(client) -> int:
    return call(client, "DescribeDisks", {}, models)["TotalCount"]


# --- accounts have money --------------------------------------------------------------------------
def test_a_new_account_opens_with_the_configured_balance(server):
    account = new_account(server)
    assert billing(server, account["AccountId"]) == {
        "AccountId": account["AccountId"], "Balance": "1000000.00", "BalanceFen": 100_000_000,
        "InArrears": False, "PaymentAllowed": True}
    [opening] = entries(server, account["AccountId"])
    assert (opening["Kind"], opening["AmountFen"], opening["BalanceAfterFen"],
            opening["DealName"]) == ("OPENING", 100_000_000, 100_000_000, "")


def test_top_ups_and_settings_are_ledger_entries_to_the_fen(server):
    account_id = new_account(server)["AccountId"]
    assert change_billing(server, account_id, balance="12.34", note="start small")["BalanceFen"] == 1234
    assert change_billing(server, account_id, top_up=0.66)["Balance"] == "13.00"
    assert change_billing(server, account_id, balance=-5)["InArrears"] is True
    kinds = [(e["Kind"], e["Amount"], e["BalanceAfter"], e["Description"])
             for e in entries(server, account_id)]
    assert kinds == [("OPENING", "1000000.00", "1000000.00", "opening balance"),
                     ("ADJUSTMENT", "-999987.66", "12.34", "start small"),
                     ("TOP_UP", "0.66", "13.00", ""),
                     ("ADJUSTMENT", "-18.00", "-5.00", "")]
    first = entries(server, account_id)[0]["Id"]
    assert next(e["Kind"] for e in entries(server, account_id, after=first)) == "ADJUSTMENT"


@pytest.mark.parametrize("body, words", [
    ({"balance": "1.234"}, "to the fen"),
    ({"balance": "1e12"}, "under"),
    ({"balance": True}, "amount"),
    ({"balance": "abc"}, "amount"),
    ({"top_up": -1}, "greater than 0"),
    ({"balance": 1, "top_up": 1}, "not both"),
    ({}, "nothing to change"),
    ({"balance": 1, "colour": "red"}, "unknown key"),
])
def test_billing_changes_refused_by_name(server, body, words):
    account_id = new_account(server)["AccountId"]
    response = server.control("POST", f"/accounts/{account_id}/billing", body)
    assert response.status_code == 400 and words in response.json()["error"], response.text
    assert billing(server, account_id)["BalanceFen"] == 100_000_000  # nothing changed


def test_top_ups_cannot_add_up_past_the_largest_balance(server):
    account_id = new_account(server, balance="999999999999.99")["AccountId"]
    response = server.control("POST", f"/accounts/{account_id}/billing", {"top_up": "0.01"})
    assert response.status_code == 400 and "balance would leave" in response.json()["error"]
    assert billing(server, account_id)["Balance"] == "999999999999.99"


def test_an_unknown_account_has_no_billing(server):
    for method, path in (("GET", "/accounts/999999999999/billing"),
                         ("GET", "/accounts/999999999999/ledger"),
                         ("GET", f"/accounts/{'9' * 400}/billing")):
        response = server.control(method, path)
        assert response.status_code == 404, response.text
    response = server.control("POST", "/accounts/999999999999/billing", {"top_up": 1})
    assert response.status_code == 404


# --- buying prepaid disks -------------------------------------------------------------------------
def test_prepaid_disks_are_paid_for_at_once_to_the_fen(server):
    """2 × 100 GiB CLOUD_PREMIUM for a month = 70.00; 3 × 100 GiB for 12 months = 1045.80 (83%)."""
    account = new_account(server)
    client = client_of(server, account)
    month = create(client, prepaid(count=2))
    year = create(client, prepaid(count=3, period=12))
    money = billing(server, account["AccountId"])
    assert money["BalanceFen"] == 100_000_000 - 7000 - 104580
    purchases = [e for e in entries(server, account["AccountId"]) if e["Kind"] == "PURCHASE"]
    assert [(e["AmountFen"], e["ResourceIds"], e["Action"], e["Region"]) for e in purchases] == [
        (-7000, month, "CreateDisks", REGION), (-104580, year, "CreateDisks", REGION)]
    assert purchases[-1]["BalanceAfterFen"] == money["BalanceFen"]
    assert purchases[0]["Description"] == "2 × CLOUD_PREMIUM 100 GiB for 1 month"
    assert all(len(e["DealName"]) == 20 and e["DealName"].isdigit() for e in purchases)


def test_the_price_paid_is_the_one_quoted(server):
    """What InquiryPriceCreateDisks quotes (DiscountPrice) is what CreateDisks takes."""
    account = new_account(server)
    client = client_of(server, account)
    params = {"DiskType": "CLOUD_HSSD", "DiskSize": 470, "DiskCount": 2, "ThroughputPerformance": 37,
              "DiskBackupQuota": 3, "DiskChargePrepaid": {"Period": 24}}
    quote = call(client, "InquiryPriceCreateDisks", {"DiskChargeType": "PREPAID", **params},
                 models)["DiskPrice"]
    create(client, {"Placement": {"Zone": ZONE}, "DiskChargeType": "PREPAID", **params})
    paid = 100_000_000 - billing(server, account["AccountId"])["BalanceFen"]
    assert paid == round(quote["DiscountPrice"] * 100)


def test_a_retried_purchase_is_paid_once(server):
    account = new_account(server)
    client = client_of(server, account)
    first = create(client, prepaid(ClientToken="buy-once"))
    assert create(client, prepaid(ClientToken="buy-once")) == first
    assert billing(server, account["AccountId"])["BalanceFen"] == 100_000_000 - 3500


def test_a_balance_short_by_one_fen_buys_nothing(server):
    """InvalidAccount.InsufficientBalance: no disk, no payment, no entry; the exact price buys."""
    account = new_account(server, balance="69.99")
    client = client_of(server, account, language="en-US")
    failure = call_error(client, "CreateDisks", prepaid(count=2))
    assert failure.code == "InvalidAccount.InsufficientBalance"
    assert "69.99" in failure.message and "70.00" in failure.message, failure.message
    assert disk_count(client) == 0
    assert billing(server, account["AccountId"])["BalanceFen"] == 6999
    assert [e["Kind"] for e in entries(server, account["AccountId"])] == ["OPENING", "ADJUSTMENT"]
    change_billing(server, account["AccountId"], top_up="0.01")
    create(client, prepaid(count=2))
    assert billing(server, account["AccountId"])["BalanceFen"] == 0


def test_a_postpaid_purchase_needs_its_first_hour(server):
    """[inf] 100 GiB CLOUD_PREMIUM costs 0.04 an hour: a balance of 0.03 buys none, 0.04 does, and
    nothing is taken at purchase (postpaid disks are billed as they run)."""
    account = new_account(server, balance="0.03")
    client = client_of(server, account)
    assert call_error(client, "CreateDisks", postpaid()).code == "InvalidAccount.InsufficientBalance"
    change_billing(server, account["AccountId"], top_up="0.01")
    create(client, postpaid())
    assert billing(server, account["AccountId"])["BalanceFen"] == 4


def test_an_account_in_arrears_buys_no_postpaid_disk_however_cheap(server):
    """A 10 GiB postpaid disk's hour rounds to 0.00: an account that owes money still gets none."""
    account = new_account(server, balance="-0.01")
    client = client_of(server, account)
    assert call_error(client, "CreateDisks", postpaid(size=10)).code == \
        "InvalidAccount.InsufficientBalance"


# --- payment permission ---------------------------------------------------------------------------
def test_an_account_without_payment_permission_buys_no_prepaid_disk(server):
    account = new_account(server, payment_allowed=False)
    client = client_of(server, account, language="en-US")
    failure = call_error(client, "CreateDisks", prepaid())
    assert failure.code == "UnauthorizedOperation" and "payment permission" in failure.message
    assert disk_count(client) == 0
    create(client, postpaid())  # postpaid disks are not bought up front
    assert change_billing(server, account["AccountId"], payment_allowed=True)["PaymentAllowed"]
    create(client, prepaid())


def test_a_key_without_payment_permission_buys_no_prepaid_disk(server):
    """The account may pay, one of its keys may not: that key's purchase is refused, before the
    balance is looked at; the account's other key buys."""
    account = new_account(server, balance=0)
    response = server.control("POST", f"/accounts/{account['AccountId']}/keys",
                              {"payment_allowed": False})
    assert response.status_code == 200, response.text
    key = response.json()
    failure = call_error(client_of(server, key), "CreateDisks", prepaid())
    assert failure.code == "UnauthorizedOperation" and key["SecretId"] in failure.message
    # The account's own key is refused by its balance instead.
    assert call_error(client_of(server, account), "CreateDisks", prepaid()).code == \
        "InvalidAccount.InsufficientBalance"


# --- arrears --------------------------------------------------------------------------------------
def test_an_account_in_arrears_starts_no_billed_snapshot(server):
    """CreateSnapshot, CreateAutoSnapshotPolicy, ModifyAutoSnapshotPolicyAttribute and
    CopySnapshotCrossRegions refuse an account whose balance is below zero; all work again once
    it is topped up."""
    account = new_account(server)
    client = client_of(server, account)
    [disk_id] = create(client, postpaid())
    snapshot_id = call(client, "CreateSnapshot", {"DiskId": disk_id}, models)["SnapshotId"]
    policy_id = call(client, "CreateAutoSnapshotPolicy", {"Policy": [{"Hour": [1], "DayOfWeek": [1]}]},
                     models)["AutoSnapshotPolicyId"]
    change_billing(server, account["AccountId"], balance="-0.01")
    refused = [
        ("CreateSnapshot", {"DiskId": disk_id}),
        ("CreateAutoSnapshotPolicy", {"Policy": [{"Hour": [1], "DayOfWeek": [1]}]}),
        ("ModifyAutoSnapshotPolicyAttribute", {"AutoSnapshotPolicyId": policy_id,
                                               "AutoSnapshotPolicyName": "renamed"}),
        ("CopySnapshotCrossRegions", {"SnapshotId": snapshot_id,
                                      "DestinationRegions": ["ap-shanghai"]}),
    ]
    for action, params in refused:
        assert call_error(client, action, params).code == "InvalidAccount.InsufficientBalance", action
    change_billing(server, account["AccountId"], top_up="0.01")
    for action, params in refused:
        call(client, action, params, models)


# --- several processes, one balance ---------------------------------------------------------------
def test_racing_purchases_across_processes_never_spend_a_fen_twice(tmp_path, postgres_url):
    """Four server processes on one PostgreSQL, 24 simultaneous purchases of 35.00 from a balance
    of 350.00: exactly ten are paid, the others refused with InsufficientBalance, the balance ends
    at 0.00 and the ledger says the same."""
    server = Server(tmp_path / "data", database_url=postgres_url, args=("--workers", "4")).start()
    try:
        account = new_account(server, balance="350.00")
        barrier = threading.Barrier(24)
        outcomes: list[str] = []

        def buy() -> None:
            client = client_of(server, account)
            barrier.wait(timeout=30)
            try:
                client.call_json("CreateDisks", prepaid())
                outcomes.append("paid")
            except TencentCloudSDKException as failure:
                outcomes.append(failure.code)

        threads = [threading.Thread(target=buy) for _ in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["InvalidAccount.InsufficientBalance"] * 14 + ["paid"] * 10
        assert billing(server, account["AccountId"])["BalanceFen"] == 0
        purchases = [e for e in entries(server, account["AccountId"]) if e["Kind"] == "PURCHASE"]
        assert [e["BalanceAfterFen"] for e in purchases] == list(range(31500, -1, -3500))
        assert disk_count(client_of(server, account)) == 10
        assert server.control("GET", "/check").json()["violations"] == []
    finally:
        server.stop()


# --- cbslocal admin -------------------------------------------------------------------------------
def test_cbslocal_admin_shows_and_changes_money(server):
    account_id = new_account(server)["AccountId"]
    done = admin(server, "account", "billing", account_id, "--balance", "5", "--no-payment",
                 "--note", "from the CLI")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"AccountId": account_id, "Balance": "5.00",
                                       "BalanceFen": 500, "InArrears": False,
                                       "PaymentAllowed": False}
    done = admin(server, "account", "billing", account_id, "--top-up", "0.5", "--payment")
    assert json.loads(done.stdout)["Balance"] == "5.50"
    done = admin(server, "account", "ledger", account_id, "--after", "0")
    assert [(e["Kind"], e["Description"]) for e in json.loads(done.stdout)["entries"]] == [
        ("OPENING", "opening balance"), ("ADJUSTMENT", "from the CLI"), ("TOP_UP", "")]
    done = admin(server, "account", "create-key", account_id, "--no-payment")
    key = json.loads(done.stdout)
    assert call_error(client_of(server, key), "CreateDisks", prepaid()).code == \
        "UnauthorizedOperation"
    done = admin(server, "account", "billing", account_id, "--balance", "1.234")
    assert done.returncode == 1 and "to the fen" in done.stderr
