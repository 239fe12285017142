"""Benchmarks of one emulator shared by a team (issue 10): a mixed read/write workload at 1, 2 and
4 server processes on one PostgreSQL (and one process on SQLite), and the API's latency while the
clock is advanced over thousands of bound disks.

    /work/main/.venv/bin/python bench/concurrency.py [--only mixed,advance] [--duration 10]
        [--connections 1,16] [--workers 1,2,4] [--policy-disks 10000] [--days 10]
        [--source DIR] [--no-write]

Writes its section of bench/RESULTS.md (between its own markers) and bench/concurrency.json.
`--source DIR` runs the servers from another checkout's `src` (e.g. the previous release, for a
before/after in the same conditions); the results are then printed, not written.

mixed: `cbslocal serve --timing instant` (with `--workers N` on PostgreSQL: N processes on one
  port, the kernel spreading connections over them), seeded with 1,000 disks; wrk with one
  connection per thread, each cycling through its own pre-signed sequence — DescribeDisks of its
  own disk, DescribeDisks Limit 20, its own disk again, AttachDisks of its disk to its instance,
  its disk, Limit 20 with a zone filter, its disk, DetachDisks — so 6 reads for 2 writes. Every
  reply is checked for an Error; the disks' final states are checked through the API. CPU time
  is read from /proc for the cbslocal processes and for PostgreSQL's.
advance: one daily policy bound to `--policy-disks` attached disks (seeded by a state import, as
  in bench/run.py's policy part), then `--days` times POST /_cbslocal/clock {"advance": "1d"}
  while another client sends DescribeDisks of one disk in a loop; the latencies of those reads
  during the advances, and each advance's wall time. Target: p99 below 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (the main benchmark: servers, wrk, seeding, the control plane)
import tc3  # noqa: E402

RESULTS_JSON = BENCH / "concurrency.json"
BEGIN = "<!-- BEGIN CONCURRENCY RESULTS (bench/concurrency.py) -->"
END = "<!-- END CONCURRENCY RESULTS -->"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
SEED_DISKS = 1000
ADVANCE_TARGET_P99_MS = 100.0

def log(message: str) -> None:
    run.log(message)


# --- servers -----------------------------------------------------------------------------------------
def start(workdir: Path, name: str, *, database_url: str | None = None, workers: int = 1,
          source: Path | None = None) -> run.Server:
    args = [sys.executable, "-m", "cbslocal", "serve", "--port", "0", "--data-dir",
            str(workdir / f"{name}-data"), "--timing", "instant", "--log-level", "WARNING"]
    if database_url:
        args += ["--database-url", database_url]
    if workers > 1:
        args += ["--workers", str(workers)]
    env = {"PYTHONPATH": str(source)} if source else None
    server = run.Server(name, args, workdir, env=env)
    server.data_dir = workdir / f"{name}-data"
    return server


def process_tree(pid: int) -> list[int]:
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                              text=True).stdout.split()
    return [pid] + [int(c) for c in children]


def cpu_of(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) of each process still there."""
    found = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        found[pid] = (int(fields[11]) + int(fields[12])) / run.CLK_TCK
    return found


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings by the processes there at the end (a process that
    started meanwhile counts whole; one that ended is not counted)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def postgres_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout
    return [int(p) for p in found.split()]


class Database:
    """A database of its own on the machine's PostgreSQL, dropped afterwards."""

    def __init__(self):
        import psycopg

        self.name = f"cbslocal_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        self.url = f"postgresql://postgres@127.0.0.1:5432/{self.name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- mixed read/write --------------------------------------------------------------------------------
def mixed_run(wrk: str, server: run.Server, connections: int, duration: float,
              workdir: Path) -> dict:
    host = f"127.0.0.1:{server.port}"

    def prepare(client: tc3.Client):
        instances = client.call("RunInstances", {
            "Placement": {"Zone": run.ZONES[0]}, "ImageId": "img-pmqg1cw7",
            "InstanceType": "S5.MEDIUM4", "InstanceCount": connections}, service="cvm")["InstanceIdSet"]
        disks = client.call("CreateDisks", {**run.batch_params(0, connections),
                                            "Placement": {"Zone": run.ZONES[0]},
                                            "DiskName": "bench-mixed"})["DiskIdSet"]
        return instances, disks

    instances, disks = run.with_client(server, prepare)

    def signed(action: str, params: dict):
        body = tc3.encode(params)
        return tc3.signed_headers(action, body, host=host), body

    slots = []
    for instance_id, disk_id in zip(instances, disks):
        own = signed("DescribeDisks", {"DiskIds": [disk_id]})
        page = signed("DescribeDisks", {"Limit": 20})
        zone_page = signed("DescribeDisks", {"Limit": 20, "Filters": [
            {"Name": "zone", "Values": [run.ZONES[0]]}]})
        attach = signed("AttachDisks", {"InstanceId": instance_id, "DiskIds": [disk_id]})
        detach = signed("DetachDisks", {"DiskIds": [disk_id]})
        slots.append([own, page, own, attach, own, zone_page, own, detach])
    script = run.sequence_script(slots, workdir / "mixed.lua")
    pids = process_tree(server.pid)
    server_before, pg_before = cpu_of(pids), cpu_of(postgres_pids())
    finished = subprocess.run(
        run.PIN["wrk"] + [wrk, f"-t{connections}", f"-c{connections}", "--timeout", "10s", "-s",
                          str(script), "--latency", f"-d{int(duration)}s", f"http://{host}/"],
        env=run.clean_env(), check=True, capture_output=True, text=True)
    server_cpu = cpu_spent(server_before, cpu_of(process_tree(server.pid)))
    pg_cpu = cpu_spent(pg_before, cpu_of(postgres_pids()))
    summary = json.loads(next(line for line in finished.stdout.splitlines()
                              if line.startswith("BENCHJSON "))[len("BENCHJSON "):])
    api_errors = int(next(line for line in finished.stdout.splitlines()
                          if line.startswith("BENCHAPIERRORS ")).split()[1])
    for line in finished.stdout.splitlines():
        if line.startswith("BENCHERROR "):
            log(f"    {line[:400]}")
    errors = api_errors + sum(v for k, v in summary.items() if k.startswith("err_"))
    # Calls wrk sent before it stopped may still be answered (by any worker): let them land.
    time.sleep(1.0)
    errors += run.with_client(server, lambda c: run._check_cycle_states(c, instances, disks))
    violations = run.control(server, "GET", "/check")["violations"]
    if violations:
        log(f"    consistency check: {violations[:3]}")
    errors += len(violations)
    seconds, requests = summary["duration_us"] / 1e6, summary["requests"]
    return {"connections": connections, "seconds": round(seconds, 2), "requests": requests,
            "rps": round(requests / seconds, 1), "reads_per_s": round(requests * 6 / 8 / seconds, 1),
            "writes_per_s": round(requests * 2 / 8 / seconds, 1),
            "p50_ms": summary["p50_us"] / 1000, "p99_ms": summary["p99_us"] / 1000,
            "max_ms": summary["max_us"] / 1000,
            "server_cpu_us_per_req": round(server_cpu * 1e6 / max(requests, 1), 1),
            "postgres_cpu_us_per_req": round(pg_cpu * 1e6 / max(requests, 1), 1),
            "server_cpu_util": round(server_cpu / seconds, 2),
            "postgres_cpu_util": round(pg_cpu / seconds, 2), "errors": errors}


# Where the time of a cbslocal process goes, from py-spy's samples: by the frame a sample ends in
# (a call into the SQLite library shows as its Python caller)...
_DOING = (
    ("waiting for PostgreSQL (a round trip)",
     lambda f: "psycopg/" in f and f.split(" (")[0].endswith("wait")),
    ("the database driver otherwise", lambda f: "psycopg/" in f or "sqlite3" in f),
    ("SQLAlchemy (building and running statements)", lambda f: "sqlalchemy/" in f),
    ("validation and JSON (pydantic, orjson)", lambda f: "pydantic" in f or "orjson" in f),
    ("cbslocal's own code", lambda f: "cbslocal/" in f),
    ("HTTP and the event loop (uvicorn, httptools, asyncio)",
     lambda f: any(m in f for m in ("uvicorn/", "httptools", "asyncio/"))),
)
# ... and by the phase of a call it was in (a sample counts in each phase its stack passes).
_PHASES = (("the gateway: request shape and signature", "cbslocal/gateway/request.py"),
           ("finding the API key", "find_key ("),
           ("the shared-state check (PostgreSQL)", "Runtime.sync ("),
           ("read handlers (DescribeDisks)", "describe_disks ("),
           ("write transactions (group commit: AttachDisks, DetachDisks)",
            "GroupCommitter._commit ("))


def where_time_goes(collapsed: Path) -> dict:
    """Shares (%) of the samples: by what the process was doing, and by phase of a call."""
    doing, phases, total = {}, {}, 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n, last = int(count), stack.rsplit(";", 1)[-1]
        total += n
        kind = next((name for name, test in _DOING if test(last)), "other (the standard library)")
        doing[kind] = doing.get(kind, 0) + n
        for name, mark in _PHASES:
            if mark in stack:
                phases[name] = phases.get(name, 0) + n

    def share(counts: dict) -> dict:
        return {k: round(100 * v / max(total, 1), 1)
                for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}
    return {"samples": total, "doing": share(doing), "phases": share(phases)}


def profiled(server: run.Server, seconds: float, out: Path):
    """py-spy recording the server (its first worker with --workers) in the background, or None
    when py-spy is not installed (`.venv/bin/pip install py-spy`)."""
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        return None
    target = process_tree(server.pid)[-1]
    return subprocess.Popen([str(py_spy), "record", "-p", str(target), "-d", str(int(seconds)),
                             "-r", "200", "-f", "raw", "--nolineno", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_run(wrk: str, server: run.Server, connections: int, args, workdir: Path) -> dict | None:
    """One more run of the mixed workload with py-spy sampling the server: where its time goes."""
    out = workdir / "profile.txt"
    spy = profiled(server, args.duration - 1, out)
    if spy is None:
        log("  (py-spy is not installed: no profile; .venv/bin/pip install py-spy)")
        return None
    mixed_run(wrk, server, connections, args.duration, workdir)
    spy.wait()
    found = where_time_goes(out)
    log(f"  where the time goes (c={connections}): {found}")
    return found


def seed(server: run.Server, disks: int) -> None:
    def work(client: tc3.Client) -> None:
        for i in range(disks // 50):
            client.call("CreateDisks", run.batch_params(i))
    run.with_client(server, work)


def mixed_phase(wrk: str, workdir: Path, args) -> list[dict]:
    setups = [("sqlite", 1)] + [("postgresql", n) for n in args.workers]
    results = []
    for backend, workers in setups:
        database = Database() if backend == "postgresql" else None
        server = start(workdir, f"mixed-{backend}-{workers}", workers=workers, source=args.source,
                       database_url=database.url if database else None)
        try:
            seed(server, SEED_DISKS)
            for connections in args.connections:
                measured = mixed_run(wrk, server, connections, args.duration, workdir)
                measured.update(backend=backend, processes=workers)
                results.append(measured)
                log(f"  mixed {backend:<10} processes={workers} c={connections:<3} "
                    f"{measured['rps']:>8.0f} req/s ({measured['writes_per_s']:.0f} writes/s)  "
                    f"p50 {measured['p50_ms']:6.2f} ms  p99 {measured['p99_ms']:7.2f} ms  "
                    f"cbslocal {measured['server_cpu_us_per_req']:6.0f} us/req  "
                    f"postgres {measured['postgres_cpu_us_per_req']:5.0f} us/req  "
                    f"errors {measured['errors']}")
            if args.profile and workers == 1:
                measured["profile"] = profile_run(wrk, server, max(args.connections), args,
                                                  workdir)
        finally:
            server.stop()
            if database:
                database.drop()
    return results


# --- reads while the clock is advanced ------------------------------------------------------------
class Reader(threading.Thread):
    """DescribeDisks of one disk, in a loop, on its own connection; each latency recorded."""

    def __init__(self, server: run.Server, disk_id: str):
        super().__init__(daemon=True)
        self.server, self.disk_id = server, disk_id
        self.latencies: list[tuple[float, float]] = []  # (when it was sent, seconds)
        self.stop = threading.Event()
        self.errors = 0

    def run(self) -> None:
        client = tc3.Client(self.server.port)
        try:
            while not self.stop.is_set():
                sent = time.perf_counter()
                try:
                    answer = client.call("DescribeDisks", {"DiskIds": [self.disk_id]})
                    self.errors += len(answer["DiskSet"]) != 1
                except Exception:  # noqa: BLE001 — counted; the connection is made again
                    self.errors += 1
                    client.close()
                    client = tc3.Client(self.server.port)
                self.latencies.append((sent, time.perf_counter() - sent))
        finally:
            client.close()


def advance_phase(workdir: Path, args) -> list[dict]:
    results = []
    for backend in ("sqlite", "postgresql"):
        database = Database() if backend == "postgresql" else None
        server = start(workdir, f"advance-{backend}", source=args.source,
                       database_url=database.url if database else None)
        try:
            results.append(_advance_on(server, backend, args))
        finally:
            server.stop()
            if database:
                database.drop()
    return results


def _advance_on(server: run.Server, backend: str, args) -> dict:
    template = run.policy_template(server)
    document, instances = run.policy_document(template, args.policy_disks)
    run.load_state(server, document)
    probe = run.seeded_id("disk", instances + args.policy_disks // 2)
    reader = Reader(server, probe)
    reader.start()
    time.sleep(1.0)  # the reads' own latency first, with nothing else going on
    windows, advances = [], []
    for day in range(args.days):
        began = time.perf_counter()
        answer = run.control(server, "POST", "/clock", {"advance": "1d"})
        ended = time.perf_counter()
        windows.append((began, ended))
        advances.append({"day": day + 1, "wall_s": round(ended - began, 3),
                         "applied": answer["applied"]})
        time.sleep(0.3)
    reader.stop.set()
    reader.join()
    during = [lat for sent, lat in reader.latencies
              if any(began <= sent <= ended for began, ended in windows)]
    quiet = [lat for sent, lat in reader.latencies
             if not any(began - 0.05 <= sent <= ended + 0.05 for began, ended in windows)]
    measured = {"backend": backend, "disks": args.policy_disks, "days": args.days,
                "advance_wall_s": [a["wall_s"] for a in advances],
                "applied": [a["applied"] for a in advances],
                "reads_during": len(during), "reads_quiet": len(quiet),
                **_percentiles("during", during), **_percentiles("quiet", quiet),
                "errors": reader.errors}
    measured["pass"] = bool(during) and measured["during_p99_ms"] < ADVANCE_TARGET_P99_MS \
        and not reader.errors
    log(f"  advance {backend:<10} {args.policy_disks:,} disks: advances "
        f"{measured['advance_wall_s']} s; DescribeDisks during them: {len(during)} reads, p50 "
        f"{measured['during_p50_ms']} ms, p99 {measured['during_p99_ms']} ms, max "
        f"{measured['during_max_ms']} ms (quiet p99 {measured['quiet_p99_ms']} ms) "
        f"{'PASS' if measured['pass'] else 'FAIL'}")
    return measured


def _percentiles(prefix: str, latencies: list[float]) -> dict:
    if not latencies:
        return {f"{prefix}_p50_ms": None, f"{prefix}_p99_ms": None, f"{prefix}_max_ms": None}
    ordered = sorted(latencies)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)  # noqa: E731
    return {f"{prefix}_p50_ms": pick(0.5), f"{prefix}_p99_ms": pick(0.99),
            f"{prefix}_max_ms": round(ordered[-1] * 1000, 2)}


# --- report --------------------------------------------------------------------------------------
def render(data: dict) -> str:
    lines = [BEGIN, "", f"Run {data['when']} on {data['machine']}, `{' '.join(data['argv'])}`.", ""]
    if data.get("mixed"):
        lines += ["Mixed workload (6 reads : 2 writes per connection, see the method above):", "",
                  "| backend | processes | connections | req/s | writes/s | p50 ms | p99 ms | "
                  "cbslocal CPU µs/req | PostgreSQL CPU µs/req | errors |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in data["mixed"]:
            lines.append(f"| {r['backend']} | {r['processes']} | {r['connections']} | {r['rps']:.0f} "
                         f"| {r['writes_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                         f"{r['server_cpu_us_per_req']:.0f} | {r['postgres_cpu_us_per_req']:.0f} | "
                         f"{r['errors']} |")
        lines.append("")
        for r in data["mixed"]:
            if r.get("profile"):
                p = r["profile"]
                lines += [f"Where one {r['backend']} process's time goes at {r['connections']} "
                          f"connections ({p['samples']} py-spy samples of the busy process):", "",
                          "| doing | % | | phase of a call | % |", "|---|---|---|---|---|"]
                doing, phases = list(p["doing"].items()), list(p["phases"].items())
                for i in range(max(len(doing), len(phases))):
                    d = doing[i] if i < len(doing) else ("", "")
                    f = phases[i] if i < len(phases) else ("", "")
                    lines.append(f"| {d[0]} | {d[1]} | | {f[0]} | {f[1]} |")
                lines.append("")
    if data.get("advance"):
        lines += ["DescribeDisks of one disk by another client while the clock is advanced a day "
                  "at a time over a daily policy's bound disks (target: p99 < 100 ms):", "",
                  "| backend | disks | advance wall s (per day) | reads during | p50 ms | p99 ms | "
                  "max ms | quiet p99 ms | |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in data["advance"]:
            lines.append(f"| {r['backend']} | {r['disks']:,} | {', '.join(map(str, r['advance_wall_s']))} "
                         f"| {r['reads_during']} | {r['during_p50_ms']} | {r['during_p99_ms']} | "
                         f"{r['during_max_ms']} | {r['quiet_p99_ms']} | "
                         f"{'PASS' if r['pass'] else 'FAIL'} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write_section(section: str) -> None:
    text = run.RESULTS_MD.read_text()
    if BEGIN in text:
        before, rest = text.split(BEGIN, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    run.RESULTS_MD.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="mixed,advance")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", default="1,16")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--policy-disks", type=int, default=10000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--source", type=Path, default=None,
                        help="run the servers from this `src` directory (printed, not written)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="profile one process of each backend with py-spy (if installed)")
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    args.workers = [int(w) for w in args.workers.split(",")]
    parts = set(args.only.split(","))
    wrk = run.ensure_wrk()
    data = {"when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()} CPUs", "argv": ["bench/concurrency.py", *sys.argv[1:]]}
    with tempfile.TemporaryDirectory(prefix="cbslocal-concurrency-") as tmp:
        workdir = Path(tmp)
        if "mixed" in parts:
            log("--- mixed read/write workload")
            data["mixed"] = mixed_phase(wrk, workdir, args)
        if "advance" in parts:
            log("--- reads while the clock is advanced")
            data["advance"] = advance_phase(workdir, args)
    section = render(data)
    if args.no_write or args.source:
        print(section)
        return
    previous = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    previous.update({k: v for k, v in data.items() if k in ("mixed", "advance")})
    previous.update(when=data["when"], machine=data["machine"], argv=data["argv"])
    RESULTS_JSON.write_text(json.dumps(previous, indent=2) + "\n")
    write_section(render(previous))


if __name__ == "__main__":
    main()
