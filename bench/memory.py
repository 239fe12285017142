"""How much memory does cbslocal hold? Resident memory of one server process (instant timing,
SQLite) idle after start, then with 10,000 and 100,000 disks, each after the same read traffic.

    .venv/bin/python bench/memory.py [--sizes 10000,100000] [--json bench/out/memory.json]

The disks are created through the API (CreateDisks, DiskCount 50, as bench/run.py seeds them);
after each size, every disk is listed once (DescribeDisks, Limit 100, page by page: whatever the
process caches per disk or per statement shape is then in memory) and each of 200 disks is read by
its ID. VmRSS and VmHWM (peak) come from /proc/<pid>/status. Issue 12's targets: ≤ 75 MiB at
10,000 disks, ≤ 120 MiB at 100,000.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402
import tc3  # noqa: E402

TARGETS_MIB = {10_000: 75, 100_000: 120}


def memory_mib(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mib": fields["VmRSS"], "peak_mib": fields["VmHWM"]}


def read_everything(server: run.Server, disk_ids: list[str]) -> int:
    """Every disk listed once, and 200 read by ID; how many calls that took."""
    def list_all(client: tc3.Client) -> int:
        calls, offset = 0, 0
        while True:
            page = client.call("DescribeDisks", {"Limit": 100, "Offset": offset})["DiskSet"]
            calls += 1
            if not page:
                return calls
            offset += len(page)

    sample = disk_ids[::max(1, len(disk_ids) // 200)][:200]
    calls = run.with_client(server, list_all)
    run.with_client(server, lambda c: [c.call("DescribeDisks", {"DiskIds": [d]}) for d in sample])
    return calls + len(sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="cbslocal-memory-"))
    server = run.start_cbslocal(workdir, "memory")
    results = []
    try:
        time.sleep(0.5)
        results.append({"disks": 0, **memory_mib(server.pid)})
        run.log(f"idle: {results[-1]}")
        seed = run.Seed()
        for size in sizes:
            run.seed_to(server, seed, size)
            calls = read_everything(server, seed.disk_ids)
            server.wait_idle()
            results.append({"disks": size, "read_calls": calls, **memory_mib(server.pid)})
            target = TARGETS_MIB.get(size)
            verdict = "" if target is None else \
                f" (target ≤ {target} MiB: {'PASS' if results[-1]['rss_mib'] <= target else 'FAIL'})"
            run.log(f"{size:,} disks: {results[-1]}{verdict}")
    finally:
        server.stop()
    print("| disks | resident MiB | peak MiB | target |")
    print("|---|---|---|---|")
    for row in results:
        target = TARGETS_MIB.get(row["disks"])
        print(f"| {row['disks']:,} | {row['rss_mib']} | {row['peak_mib']} | "
              f"{'≤ %d' % target if target else '—'} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
