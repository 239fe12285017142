"""Pay-as-you-go charges on the virtual clock, through the official Python SDK: postpaid disks
billed to the second, settled every whole hour in whole fen (the fraction carried), a rate change
billed from its moment, and an account running into arrears — every amount checked to the fen."""

from __future__ import annotations

from tencentcloud.cbs.v20170312 import models

from tests.e2e.test_billing import billing, change_billing, create, entries, postpaid
from tests.e2e.test_lifecycle_shapes import call
from tests.e2e.test_prepaid import clocked, set_clock  # noqa: F401  (the fixture)
from tests.e2e.test_python_sdk import call_error

INITIAL_FEN = 100_000_000


def usage(server, account) -> list[int]:
    return [-e["AmountFen"] for e in entries(server, account["AccountId"]) if e["Kind"] == "USAGE"]


def test_thirty_days_of_a_postpaid_disk_are_charged_exactly(clocked):  # noqa: F811
    """100 GiB of CLOUD_PREMIUM at 0.042 an hour for 720 hours: 30.24, hour by hour in whole fen
    (4 fen, and a fifth fen every fifth hour as the fractions add up)."""
    server, account, client = clocked
    create(client, postpaid())
    set_clock(server, set="2027-02-09 12:00:00")
    charged = usage(server, account)
    assert len(charged) == 720 and sum(charged) == 3024
    assert charged[:5] == [4, 4, 4, 4, 5]
    assert billing(server, account["AccountId"])["BalanceFen"] == INITIAL_FEN - 3024
    last = entries(server, account["AccountId"])[-1]
    assert (last["Kind"], last["Time"]) == ("USAGE", "2027-02-09 12:00:00")
    assert last["Description"] == "postpaid disks, 2027-02-09 11:00:00 to 12:00:00: 1 disk"


def test_usage_is_billed_to_the_second(clocked):  # noqa: F811
    """Bought at 12:30, returned at 14:15: 1 h 45 min at 0.042 = 0.0735, charged 2 + 4 + 1 fen
    at 13:00, 14:00 and 15:00; then nothing more."""
    server, account, client = clocked
    set_clock(server, set="2027-01-10 12:30:00")
    [disk_id] = create(client, postpaid())
    set_clock(server, set="2027-01-10 14:15:00")
    call(client, "TerminateDisks", {"DiskIds": [disk_id]}, models)
    set_clock(server, set="2027-01-11 00:00:00")
    assert usage(server, account) == [2, 4, 1]


def test_a_resized_disk_is_billed_at_its_new_size_from_then(clocked):  # noqa: F811
    """100 GiB from 12:00, 200 GiB from 12:30 (instant timing): 0.021 + 0.042 by 13:00 → 6 fen,
    then 0.084 + the 0.003 carried → 8 fen by 14:00."""
    server, account, client = clocked
    [disk_id] = create(client, postpaid())
    set_clock(server, set="2027-01-10 12:30:00")
    call(client, "ResizeDisk", {"DiskId": disk_id, "DiskSize": 200}, models)
    set_clock(server, set="2027-01-10 14:00:00")
    assert usage(server, account) == [6, 8]


def test_several_disks_and_accounts_are_charged_apart(clocked):  # noqa: F811
    server, account, client = clocked
    create(client, {**postpaid(size=50), "DiskCount": 3})
    set_clock(server, set="2027-01-10 13:00:00")
    # 3 × 50 GiB × 0.00042 = 0.063 an hour; the default account, with no disk, pays nothing.
    assert usage(server, account) == [6]
    assert usage(server, {"AccountId": "100000000001"}) == []


def test_an_account_runs_into_arrears_and_is_refused_billed_snapshots(clocked):  # noqa: F811
    server, account, client = clocked
    change_billing(server, account["AccountId"], balance="0.05")
    [disk_id] = create(client, postpaid())
    set_clock(server, set="2027-01-10 14:00:00")
    money = billing(server, account["AccountId"])
    assert (money["BalanceFen"], money["InArrears"]) == (-3, True)
    assert call_error(client, "CreateSnapshot", {"DiskId": disk_id}).code == \
        "InvalidAccount.InsufficientBalance"
    assert call_error(client, "CreateDisks", postpaid(size=10)).code == \
        "InvalidAccount.InsufficientBalance"
    set_clock(server, set="2027-01-10 15:00:00")  # still charged while in arrears
    assert billing(server, account["AccountId"])["BalanceFen"] == -7


def test_one_long_clock_move_settles_every_hour_exactly(clocked):  # noqa: F811
    """90 days in one move, with other moves of the account on the way (a prepaid disk expiring,
    then going to the recycle bin): 2,160 hourly entries, 90.72 in all, each hour at its time."""
    server, account, client = clocked
    create(client, postpaid())
    create(client, {**postpaid(), "DiskChargeType": "PREPAID", "DiskChargePrepaid": {"Period": 1}})
    set_clock(server, set="2027-04-10 12:00:00")
    hours = [e for e in entries(server, account["AccountId"]) if e["Kind"] == "USAGE"]
    assert len(hours) == 2160 and -sum(e["AmountFen"] for e in hours) == 9072
    assert [e["Time"] for e in hours[:2]] == ["2027-01-10 13:00:00", "2027-01-10 14:00:00"]
    assert hours[-1]["Time"] == "2027-04-10 12:00:00"
    assert all(a["Id"] < b["Id"] for a, b in zip(hours, hours[1:]))
    assert billing(server, account["AccountId"])["BalanceFen"] == INITIAL_FEN - 3500 - 9072


def test_charges_and_changes_on_postgresql(tmp_path, postgres_url):
    """The same sums on a shared PostgreSQL: a resize set aside mid-hour, then a week in one
    clock move."""
    from tests.e2e.server import Server
    from tests.e2e.test_billing import client_of, new_account

    server = Server(tmp_path / "data", database_url=postgres_url).start()
    try:
        set_clock(server, mode="frozen")
        set_clock(server, set="2027-01-10 12:00:00")
        account = new_account(server)
        client = client_of(server, account)
        [disk_id] = create(client, postpaid())
        set_clock(server, set="2027-01-10 12:30:00")
        call(client, "ResizeDisk", {"DiskId": disk_id, "DiskSize": 200}, models)
        set_clock(server, set="2027-01-17 12:00:00")
        charged = usage(server, account)
        # 0.063 for the first hour, then 167 hours at 0.084: 14.091 in all, carried fen by fen.
        assert len(charged) == 168 and sum(charged) == 1409
        assert server.control("GET", "/check").json()["violations"] == []
    finally:
        server.stop()


def test_snapshot_storage_beyond_the_free_quota_is_charged_hourly(clocked):  # noqa: F811
    """A 100 GiB snapshot of a prepaid disk: 50 GiB beyond the region's 50 free, at 0.00017 an
    hour: 0.0085 an hour, 20 fen for a day (0.204, the fraction carried); deleted, nothing more."""
    server, account, client = clocked
    [disk_id] = create(client, {**postpaid(), "DiskChargeType": "PREPAID",
                                "DiskChargePrepaid": {"Period": 1}})
    snapshot_id = call(client, "CreateSnapshot", {"DiskId": disk_id}, models)["SnapshotId"]
    set_clock(server, set="2027-01-11 12:00:00")
    assert sum(usage(server, account)) == 20  # (an entry for each hour that reached a fen)
    assert entries(server, account["AccountId"])[-1]["Description"].endswith(
        ": 0 disks; 50 GiB of snapshots beyond the free quota")
    call(client, "DeleteSnapshots", {"SnapshotIds": [snapshot_id]}, models)
    set_clock(server, set="2027-01-12 12:00:00")
    assert sum(usage(server, account)) == 20
