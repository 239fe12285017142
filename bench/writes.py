"""What does one write cost the server? Server CPU per call (utime+stime of the server process
from /proc, divided by the calls) of each write issue 12 names, on a fresh cbslocal (SQLite,
instant timing, CPU-pinned as bench/run.py pins it):

    .venv/bin/python bench/writes.py [--calls 600] [--threads 8] [--json bench/out/writes.json]

In this order, `--calls` calls each, from `--threads` client threads with keep-alive connections,
every request signed before the clock starts (the client's work stays out of the measurement and
off the server's CPU): CreateDisks (DiskCount 1, one disk per call), AttachDisks (one disk per
call, 20 per instance, on instances made by RunInstances), DetachDisks, CreateSnapshot (one per
disk), DeleteSnapshots (one per call), TerminateDisks (one per call). Every reply must be a
success, and the end state is checked (no disk, no snapshot left). Concurrent writers share
commits (group commit), as they do under a real test suite. Issue 12's target: ≤ 400 µs each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402
import tc3  # noqa: E402

TARGET_US = 400
DISKS_PER_INSTANCE = 20


def send_all(server: run.Server, requests: list[tuple[str, bytes]], threads: int) -> dict:
    """Each (action, body) once, signed beforehand, from `threads` threads; the server's CPU per
    call, the calls per second, and the replies that were not a success."""
    host = f"127.0.0.1:{server.port}"
    signed = [(action, body, tc3.signed_headers(action, body, host=host))
              for action, body in requests]
    shares = [signed[i::threads] for i in range(threads)]
    failures: list[str] = []
    results: list[dict] = [{} for _ in signed]
    start = threading.Barrier(threads + 1)

    def worker(n: int) -> None:
        client = tc3.Client(server.port)
        try:
            start.wait()
            for position, (action, body, headers) in enumerate(shares[n]):
                status, payload = client.raw(action, body, headers)
                answer = payload.get("Response", {})
                if status != 200 or "Error" in answer:
                    failures.append(f"{action}: HTTP {status} {answer.get('Error')}")
                results[n + position * threads] = answer
        finally:
            client.close()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    server.wait_idle()
    cpu_before, started = server.cpu_seconds(), time.perf_counter()
    start.wait()
    for thread in pool:
        thread.join()
    seconds = time.perf_counter() - started
    cpu = server.cpu_seconds() - cpu_before
    return {"calls": len(signed), "cpu_us_per_call": round(cpu * 1e6 / len(signed), 1),
            "calls_per_s": round(len(signed) / seconds, 1), "errors": len(failures),
            "first_errors": failures[:3], "answers": results}


def phases(server: run.Server, calls: int, threads: int) -> list[dict]:
    rows = []

    def measure(name: str, requests: list[tuple[str, bytes]]) -> list[dict]:
        result = send_all(server, requests, threads)
        answers = result.pop("answers")
        rows.append({"action": name, "threads": threads, **result,
                     "pass": result["errors"] == 0 and result["cpu_us_per_call"] <= TARGET_US})
        run.log(f"  {name:<28} {result['cpu_us_per_call']:>7.1f} us CPU/call  "
                f"{result['calls_per_s']:>7.0f} calls/s  errors {result['errors']} "
                f"{result['first_errors']}")
        return answers

    create = {**run.batch_params(0, 1), "DiskName": "bench-writes"}
    answers = measure("CreateDisks (DiskCount 1)", [("CreateDisks", tc3.encode(create))] * calls)
    disks = [a["DiskIdSet"][0] for a in answers if a.get("DiskIdSet")]
    instances = run.with_client(server, lambda c: c.call("RunInstances", {
        "Placement": {"Zone": run.ZONES[0]}, "ImageId": "img-pmqg1cw7",
        "InstanceType": "S5.MEDIUM4",
        "InstanceCount": -(-len(disks) // DISKS_PER_INSTANCE)}, service="cvm")["InstanceIdSet"])
    pairs = [(instances[i // DISKS_PER_INSTANCE], d) for i, d in enumerate(disks)]
    measure("AttachDisks", [("AttachDisks", tc3.encode({"InstanceId": i, "DiskIds": [d]}))
                            for i, d in pairs])
    measure("DetachDisks", [("DetachDisks", tc3.encode({"DiskIds": [d]})) for d in disks])
    answers = measure("CreateSnapshot", [("CreateSnapshot", tc3.encode({"DiskId": d}))
                                         for d in disks])
    snapshots = [a["SnapshotId"] for a in answers if a.get("SnapshotId")]
    measure("DeleteSnapshots", [("DeleteSnapshots", tc3.encode({"SnapshotIds": [s]}))
                                for s in snapshots])
    measure("TerminateDisks", [("TerminateDisks", tc3.encode({"DiskIds": [d]})) for d in disks])
    left = run.with_client(server, lambda c: (
        c.call("DescribeDisks", {"Filters": [{"Name": "disk-name", "Values": ["bench-writes"]}],
                                 "Limit": 1})["TotalCount"],
        c.call("DescribeSnapshots", {"Limit": 1})["TotalCount"]))
    if left != (0, 0):
        rows.append({"action": "end state", "pass": False, "errors": 1,
                     "first_errors": [f"{left[0]} disks, {left[1]} snapshots left"]})
        run.log(f"  end state: {left[0]} disks, {left[1]} snapshots left")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="fresh servers; the median is kept")
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    for var in run.PROXY_VARS:
        os.environ.pop(var, None)
    if not args.no_pin and (os.cpu_count() or 1) >= 2:
        run.PIN["server"] = ["taskset", "-c", "0"]
        os.sched_setaffinity(0, {1})  # the clients: off the server's CPU
    runs = []
    for attempt in range(args.repeat):
        run.log(f"round {attempt + 1}/{args.repeat}")
        workdir = Path(tempfile.mkdtemp(prefix="cbslocal-writes-"))
        server = run.start_cbslocal(workdir, "writes")
        try:
            runs.append(phases(server, args.calls, args.threads))
        finally:
            server.stop()
    table = []
    for position, first in enumerate(runs[0]):
        same = [r[position] for r in runs]
        cpu = [r["cpu_us_per_call"] for r in same if "cpu_us_per_call" in r]
        table.append({**first, "cpu_us_per_call": statistics.median(cpu) if cpu else None,
                      "cpu_us_samples": cpu, "errors": sum(r["errors"] for r in same),
                      "pass": all(r["pass"] for r in same) if not cpu else
                      statistics.median(cpu) <= TARGET_US and all(r["errors"] == 0 for r in same)})
    print(f"| write ({args.calls} calls, {args.threads} threads) | server CPU µs/call (median) "
          f"| rounds | calls/s | errors | ≤ {TARGET_US} µs |")
    print("|---|---:|---|---:|---:|---|")
    for row in table:
        if row["cpu_us_per_call"] is None:
            print(f"| {row['action']} | — | — | — | {row['errors']} | FAIL |")
            continue
        print(f"| {row['action']} | {row['cpu_us_per_call']:.0f} | "
              f"{', '.join(f'{c:.0f}' for c in row['cpu_us_samples'])} | "
              f"{row['calls_per_s']:,.0f} | {row['errors']} | {'PASS' if row['pass'] else 'FAIL'} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(table, indent=1) + "\n")


if __name__ == "__main__":
    main()
