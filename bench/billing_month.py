"""A simulated month of money (issue 13): 10,000 postpaid disks charged every hour and 10,000
prepaid disks reaching their deadline in the same hour (half renewing themselves, half expiring),
one simulated day at a time, while a reader keeps calling DescribeDisks.

    /work/main/.venv/bin/python bench/billing_month.py [--postpaid 10000] [--prepaid 10000]
        [--days 31]

What it does:
  1. starts `cbslocal serve --timing instant` on a fresh data dir (as bench/run.py does);
  2. makes one postpaid and one prepaid disk through the signed API, exports the state, and
     builds from it a document with --postpaid and --prepaid disks of the default account (every
     row a copy of one the server wrote; the prepaid disks all due at the template's deadline,
     every other one set to renew itself), their deadline moves and the account's settlement;
  3. imports it (POST /_cbslocal/state), the clock frozen at the template's time;
  4. advances the clock a day at a time (POST /_cbslocal/clock {"advance": "1d"}), timing each,
     while a thread calls DescribeDisks (Limit 20) over its own connection and records each
     call's latency;
  5. checks through the control plane and the API: one USAGE entry per hour, their sum exactly
     the postpaid disks' hourly price times the hours; one RENEWAL per self-renewing disk, the
     others expired (ReturnFailCode 2); the ledger summing to the balance (GET /check).
Prints a JSON summary; bench/RESULTS.md, "A simulated month of money", records a run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tc3  # noqa: E402
from run import ZONES, control, seeded_id, start_cbslocal, with_client  # noqa: E402

HOUR, DAY = 3600, 86400
HOURLY_100_GIB_PREMIUM = Decimal("0.042")  # the default price table: 100 × 0.00042
START = "2027-01-01 00:00:00"  # the prepaid disks are due a month later, 2027-02-01 00:00


def template(server) -> dict:
    def work(client: tc3.Client) -> None:
        for charge in ("POSTPAID_BY_HOUR", "PREPAID"):
            params = {"Placement": {"Zone": ZONES[0]}, "DiskChargeType": charge,
                      "DiskType": "CLOUD_PREMIUM", "DiskSize": 100, "DiskCount": 1}
            if charge == "PREPAID":
                params["DiskChargePrepaid"] = {"Period": 1}
            client.call("CreateDisks", params)
    control(server, "POST", "/clock", {"mode": "frozen"})
    control(server, "POST", "/clock", {"set": START})  # a whole hour: every hour billed whole
    with_client(server, work)
    return control(server, "GET", "/state")


def month_document(template: dict, n_postpaid: int, n_prepaid: int) -> dict:
    tables = template["tables"]
    post_t = next(d for d in tables["disks"] if d["charge_type"] == "POSTPAID_BY_HOUR")
    pre_t = next(d for d in tables["disks"] if d["charge_type"] == "PREPAID")
    deadline_t = next(t for t in tables["transitions"] if t["kind"] == "disk.deadline")
    settle_t = next(t for t in tables["transitions"] if t["kind"] == "account.usage")
    disks, moves = [], [dict(settle_t, id=1)]
    for n in range(n_postpaid + n_prepaid):
        disk_id = seeded_id("disk", n)
        row = post_t if n < n_postpaid else pre_t
        disk = dict(row, seq=n + 1, disk_id=disk_id, disk_name=f"bench-month-{n}")
        if row is pre_t:
            disk["renew_flag"] = "NOTIFY_AND_AUTO_RENEW" if n % 2 else "NOTIFY_AND_MANUAL_RENEW"
            moves.append(dict(deadline_t, id=len(moves) + 1, resource_id=disk_id))
        disks.append(disk)
    # The template's two purchases stay in the ledger (the default account's money, as exported);
    # the seeded disks are as if bought before the template's time.
    document = {k: v for k, v in template.items() if k != "tables"}
    document["tables"] = {name: [] for name in tables}
    for name in ("accounts", "api_keys", "ledger"):
        document["tables"][name] = tables[name]
    document["tables"]["disks"] = disks
    document["tables"]["transitions"] = moves
    return document


def reader(server, stop: threading.Event, latencies: list[float]) -> None:
    client = tc3.Client(server.port, timeout=600)
    try:
        while not stop.is_set():
            started = time.perf_counter()
            client.call("DescribeDisks", {"Limit": 20})
            latencies.append(time.perf_counter() - started)
    finally:
        client.close()


def ledger(server, account: str = "100000000001") -> list[dict]:
    found, after = [], 0
    while True:
        page = control(server, "GET", f"/accounts/{account}/ledger?after={after}&limit=1000")
        found += page["entries"]
        if len(page["entries"]) < 1000:
            return found
        after = page["entries"][-1]["Id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postpaid", type=int, default=10_000)
    parser.add_argument("--prepaid", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=45,
                        help="31: to the deadline hour; 38: past the 7 days of grace; 45: past "
                             "the 7 days of the recycle bin")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cbslocal-billing-"))
    server = start_cbslocal(workdir, "cbslocal-billing")
    try:
        seed = template(server)
        started = time.perf_counter()
        control(server, "POST", "/reset", {})
        control(server, "POST", "/clock", {"mode": "frozen"})
        control(server, "POST", "/clock", {"set": START})
        imported = control(server, "POST", "/state",
                           month_document(seed, args.postpaid, args.prepaid))["inserted"]
        import_s = time.perf_counter() - started
        start_entries = len(ledger(server))
        days = []
        for day in range(1, args.days + 1):
            stop, latencies = threading.Event(), []
            thread = threading.Thread(target=reader, args=(server, stop, latencies))
            thread.start()
            cpu = server.cpu_seconds()
            t0 = time.perf_counter()
            answer = control(server, "POST", "/clock", {"advance": "1d"})
            wall = time.perf_counter() - t0
            stop.set()
            thread.join()
            days.append({"day": day, "wall_s": round(wall, 3),
                         "server_cpu_s": round(server.cpu_seconds() - cpu, 2),
                         "applied": answer["applied"], "reads": len(latencies),
                         "read_max_ms": round(max(latencies) * 1000, 1) if latencies else None,
                         "read_median_ms": round(statistics.median(latencies) * 1000, 1)
                         if latencies else None})
            print(json.dumps(days[-1]), flush=True)
        entries = ledger(server)[start_entries:]
        usage = [e for e in entries if e["Kind"] == "USAGE"]
        renewals = [e for e in entries if e["Kind"] == "RENEWAL"]
        hours = args.days * 24
        expected_fen = int(HOURLY_100_GIB_PREMIUM * args.postpaid * hours * 100)
        expired = control(server, "GET", "/check")
        summary = {
            "postpaid": args.postpaid, "prepaid": args.prepaid, "days": args.days,
            "import_s": round(import_s, 2), "rows": sum(imported.values()),
            "wall_per_day_mean_s": round(statistics.mean(d["wall_s"] for d in days), 3),
            "wall_per_day_max_s": max(d["wall_s"] for d in days),
            "read_max_ms": max(d["read_max_ms"] or 0 for d in days),
            "usage_entries": len(usage), "usage_fen": -sum(e["AmountFen"] for e in usage),
            "expected_usage_fen": expected_fen, "renewals": len(renewals),
            "check_violations": len(expired["violations"]),
        }
        summary["ok"] = (len(usage) == hours and summary["usage_fen"] == expected_fen
                         and len(renewals) == args.prepaid // 2
                         and summary["check_violations"] == 0)
        print(json.dumps(summary, indent=1))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
