"""A property test of the money (Hypothesis, stateful): random sequences of purchases (prepaid and
postpaid), renewals, resizes, charge-type changes, returns, balance changes and clock moves, on a
real server through the official Python SDK. After every step:

- the ledger sums to the balance, entry by entry (each balance_after is the running sum);
- no order is applied twice (every deal name is unique) and a refused call writes no entry and
  moves no money;
- no amount has the wrong sign (a payment is never positive, a refund never negative) and no
  refund pays back more than the disk's orders paid;
- the consistency checker finds nothing.

Each example gets an account of its own, and the clock (frozen) only moves forward.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, consumes, initialize, invariant,
                                 rule)
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.e2e.server import ZONE, Server
from tests.e2e.test_billing import billing, change_billing, client_of, entries, new_account

SETTINGS = settings(max_examples=10, stateful_step_count=20, derandomize=True, deadline=None,
                    database=None, suppress_health_check=[HealthCheck.too_slow],
                    print_blob=False, phases=[Phase.explicit, Phase.reuse, Phase.generate])

PAID = {"PURCHASE", "RENEWAL", "UPGRADE", "USAGE"}
REFUNDED = {"REFUND", "FIVE_DAY_REFUND", "CONVERSION_REFUND"}
OPERATOR = {"OPENING", "TOP_UP", "ADJUSTMENT"}
# Refusals a random sequence may meet; anything else (an InternalError above all) fails the test.
EXPECTED_REFUSALS = {
    "InvalidAccount.InsufficientBalance", "InvalidDisk.Expire", "InvalidDisk.NotSupported",
    "InvalidDisk.RepeatRefund", "InvalidDiskId.NotFound", "InvalidParameterValue",
    "InsufficientRefundQuota", "TradeDealConflict", "InvalidDisk.Busy", "ResourceBusy",
    "InvalidDisk.NotSupportRefund",
}


class LedgerMachine(RuleBasedStateMachine):
    server: Server  # set by the test
    disks = Bundle("disks")

    @initialize()
    def open_account(self):
        self.account = new_account(self.server)
        self.client = client_of(self.server, self.account)
        self.seen: list[dict] = entries(self.server, self.account["AccountId"])

    # --- calls -----------------------------------------------------------------------------------
    def attempt(self, action: str, params: dict) -> dict | None:
        """The call's answer, or None when it was refused — and then it moved no money."""
        before = self._money()
        try:
            return self.client.call_json(action, params)["Response"]
        except TencentCloudSDKException as failure:
            assert failure.code in EXPECTED_REFUSALS, (action, params, failure)
            assert self._money() == before, f"{action} was refused but money moved"
            return None

    def _money(self) -> tuple[int, int]:
        """The balance, and how many entries came since the last step's."""
        account_id = self.account["AccountId"]
        return (billing(self.server, account_id)["BalanceFen"],
                len(entries(self.server, account_id, after=self.seen[-1]["Id"])))

    @rule(target=disks, prepaid=st.booleans(), size=st.sampled_from([10, 100, 500]),
          count=st.integers(1, 3), period=st.sampled_from([1, 2, 12]))
    def buy(self, prepaid, size, count, period):
        params = {"Placement": {"Zone": ZONE}, "DiskType": "CLOUD_PREMIUM", "DiskSize": size,
                  "DiskCount": count,
                  "DiskChargeType": "PREPAID" if prepaid else "POSTPAID_BY_HOUR"}
        if prepaid:
            params["DiskChargePrepaid"] = {"Period": period}
        answer = self.attempt("CreateDisks", params)
        return answer["DiskIdSet"][0] if answer else "disk-00000000"

    @rule(disk=disks, period=st.sampled_from([1, 3, 24]))
    def renew(self, disk, period):
        self.attempt("RenewDisk", {"DiskId": disk, "DiskChargePrepaid": {"Period": period}})

    @rule(disk=disks, more=st.sampled_from([10, 100]))
    def resize(self, disk, more):
        found = self.client.call_json("DescribeDisks", {"DiskIds": [disk]})["Response"]["DiskSet"]
        size = found[0]["DiskSize"] if found else 100
        self.attempt("ResizeDisk", {"DiskId": disk, "DiskSize": size + more})

    @rule(disk=disks, to_prepaid=st.booleans())
    def change_charge_type(self, disk, to_prepaid):
        params = {"DiskIds": [disk]}
        params.update({"DiskChargePrepaid": {"Period": 1}} if to_prepaid
                      else {"DiskChargePostpaid": True})
        self.attempt("ModifyDisksChargeType", params)

    @rule(disk=consumes(disks))
    def terminate(self, disk):
        self.attempt("TerminateDisks", {"DiskIds": [disk]})

    @rule(hours=st.sampled_from([1, 5, 24, 24 * 10, 24 * 40]))
    def advance(self, hours):
        response = self.server.control("POST", "/clock", {"advance": hours * 3600})
        assert response.status_code == 200, response.text

    @rule(fen=st.sampled_from([0, 500, 5000, 100_000_000]))
    def set_balance(self, fen):
        change_billing(self.server, self.account["AccountId"], balance=f"{fen / 100:.2f}")

    # --- what must always hold --------------------------------------------------------------------
    @invariant()
    def the_ledger_is_the_money(self):
        """The entries written since the last step carry on the running sum from the last one
        seen (read incrementally: a long clock move writes an entry per hour)."""
        if not hasattr(self, "account"):
            return
        account_id = self.account["AccountId"]
        new = entries(self.server, account_id, after=self.seen[-1]["Id"])
        ledger = self.seen + new
        running = self.seen[-1]["BalanceAfterFen"]
        for entry in new:
            running += entry["AmountFen"]
            assert entry["BalanceAfterFen"] == running, entry
            kind = entry["Kind"]
            if kind in PAID:
                assert entry["AmountFen"] <= 0, entry
            elif kind in REFUNDED:
                assert entry["AmountFen"] >= 0, entry
            else:
                assert kind in OPERATOR, entry
        assert billing(self.server, account_id)["BalanceFen"] == running
        deals = Counter(e["DealName"] for e in ledger if e["DealName"])
        assert not [d for d, n in deals.items() if n > 1], "an order applied twice"
        self.seen = ledger
        self._refunds_within_payments(ledger)

    def teardown(self):
        """Entries once written never change, and they sum to the balance from the first."""
        if hasattr(self, "account"):
            ledger = entries(self.server, self.account["AccountId"])
            assert ledger == self.seen
            assert sum(e["AmountFen"] for e in ledger) == ledger[-1]["BalanceAfterFen"]

    def _refunds_within_payments(self, ledger: list[dict]) -> None:
        """What a disk got back never exceeds what its orders paid (an order of several disks
        counted whole for each of them: an upper bound)."""
        paid: Counter = Counter()
        back: Counter = Counter()
        for entry in ledger:
            for disk_id in entry["ResourceIds"]:
                if entry["Kind"] in PAID:
                    paid[disk_id] -= entry["AmountFen"]
                elif entry["Kind"] in REFUNDED:
                    back[disk_id] += entry["AmountFen"]
        for disk_id, amount in back.items():
            assert amount <= paid[disk_id], (disk_id, amount, paid[disk_id])

    @invariant()
    def the_store_is_consistent(self):
        assert self.server.control("GET", "/check").json()["violations"] == []


@pytest.fixture(scope="module")
def money_server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("ledger-model") / "data").start()
    assert server.control("POST", "/clock", {"mode": "frozen"}).ok
    assert server.control("POST", "/config", {"billing": {"order_settle_seconds": 60,
                                                          "refunds_per_year": 3}}).ok
    yield server
    server.stop()


def test_the_ledger_always_is_the_money(money_server):
    from hypothesis.stateful import run_state_machine_as_test

    LedgerMachine.server = money_server
    run_state_machine_as_test(LedgerMachine, settings=SETTINGS)
