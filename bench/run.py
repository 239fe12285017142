"""The cbslocal benchmark: one command, rerunnable, writes bench/RESULTS.md (between markers) and
bench/results.json.

    /work/main/.venv/bin/python bench/run.py [--quick] [--sizes 1000,100000] [--duration S]
        [--only describe,snapshots,create,attach,policy,startup]
        [--snapshot-sizes 1000,100000] [--policy-disks 10000] [--policy-days 10]

What it does (details in RESULTS.md, "Method"):
  1. installs wrk from Debian's packages if missing;
  2. starts three servers, each under uvicorn + uvloop + httptools, one worker, log level warning,
     no access log, on 127.0.0.1 ephemeral ports: bench/bare_app.py (fixed JSON),
     bench/floor_app.py (one TC3 verification + one SQLite primary-key SELECT) and
     `cbslocal serve --timing instant` on a fresh data dir;
  3. seeds cbslocal through the real signed protocol (CreateDisks, DiskCount 50) to each size;
  4. per size, drives pre-signed requests with wrk (Lua script, `--latency`) at 1 and 32
     connections: bare, floor, DescribeDisks by one DiskId, Limit 20 without / with a zone filter,
     Limit 20 with a tag filter, Limit 20 with an instance-id filter (20 instances made by CVM
     RunInstances, 10 disks of the seed attached to each); records req/s, p50/p99 and the
     server's CPU time per request (utime+stime from /proc/PID/stat around the run, divided by
     wrk's request count);
  5. CreateDisks (DiskCount 1 and 50) on a fresh cbslocal, in disks per second, checked against
     the disk count the server reports before and after;
  6. AttachDisks + DetachDisks cycles on a fresh cbslocal: wrk with one connection per thread,
     each alternating a pre-signed AttachDisks and DetachDisks of its own disk on its own instance
     (1 and 8 connections); every reply is checked for an Error, and the disks' final states
     against DescribeDisks;
  7. time from spawning `cbslocal serve` on a fresh data dir to the first successful signed
     DescribeDisks (median of several starts);
  8. ("snapshots") DescribeSnapshots on a fresh cbslocal seeded by a state import (POST
     /_cbslocal/state) with 1,000 and then 100,000 snapshots of one account in one region (50 per
     disk): by one SnapshotId, Limit 20, Limit 20 with a disk-id filter, Limit 20 with a
     snapshot-state filter, with wrk at 1 and 32 connections, beside the floor app as in step 4;
  9. ("policy") one daily automatic snapshot policy (RetentionDays 7) bound to 10,000 elastic
     disks attached to running instances, seeded by a state import, then the wall time of each of
     10 `POST /_cbslocal/clock {"advance": "1d"}` (instant timing), with the snapshots each day
     made and deleted, checked through the API.
Every scenario's exact request is sent once before and once after its wrk run and must be HTTP 200
without an "Error" in the Response, so no error path is ever measured.

The parts (describe = steps 3-4, snapshots, create, attach, policy, startup) run alone with
`--only`; when the results are written, the parts not run are carried over from results.json,
and the header says from which run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import tc3  # noqa: E402

PYTHON = sys.executable
CBSLOCAL = str(Path(sys.executable).parent / "cbslocal")
CLK_TCK = os.sysconf("SC_CLK_TCK")
RESULTS_MD = BENCH / "RESULTS.md"
RESULTS_JSON = BENCH / "results.json"
BEGIN, END = "<!-- BEGIN GENERATED RESULTS (bench/run.py) -->", "<!-- END GENERATED RESULTS -->"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "ALL_PROXY", "NO_PROXY")

ZONES = ("ap-guangzhou-3", "ap-guangzhou-4")
TYPES = ("CLOUD_PREMIUM", "CLOUD_SSD", "CLOUD_BSSD", "CLOUD_HSSD")
CONNECTIONS = (1, 32)
# CPU pinning (on by default with 2+ CPUs): every server on CPU 0, wrk on CPU 1. Without it the
# 1-connection numbers are bimodal (the scheduler sometimes puts wrk and the server on one core,
# which halves the round trip).
PIN = {"server": [], "wrk": []}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- wrk ---------------------------------------------------------------------------------------------
def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: apt-get install -y wrk")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk could not be installed")
    return found


def _lua_string(text: str) -> str:
    """A double-quoted Lua string literal (bytes outside printable ASCII as decimal escapes)."""
    out = []
    for byte in text.encode():
        ch = chr(byte)
        if ch in '\\"' or not 32 <= byte < 127:
            out.append(f"\\{byte:03d}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


WRK_DONE = r'''
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCHJSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"err_connect\":%d," ..
    "\"err_read\":%d,\"err_write\":%d,\"err_status\":%d,\"err_timeout\":%d,\"p50_us\":%d," ..
    "\"p90_us\":%d,\"p99_us\":%d,\"mean_us\":%.1f,\"max_us\":%d}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
'''


def wrk_script(headers: dict[str, str], body: bytes, path: Path) -> Path:
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body.decode())}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    path.write_text("\n".join(lines) + "\n" + WRK_DONE)
    return path


# --- servers -----------------------------------------------------------------------------------------
def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in PROXY_VARS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, argv: list[str], workdir: Path, env: dict | None = None):
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(PIN["server"] + argv, stdout=self.log_file, stderr=self.log_file,
                                     env=dict(clean_env(), **(env or {})), cwd=str(ROOT))
        self.pid = self.proc.pid
        self.port = self._wait_ready()

    def _wait_ready(self, timeout: float = 120.0) -> int:
        deadline = time.monotonic() + timeout
        port = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
            if port is None:
                for line in self.log_path.read_text().splitlines():
                    if line.startswith("{") and '"ready"' in line:
                        port = json.loads(line)["port"]
            if port is not None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    return port
                except OSError:
                    pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not become ready: {self.log_path.read_text()[-2000:]}")

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Until the server has drained what wrk left queued (it burns no CPU for 100 ms), so it
        does not steal the CPU from the next measurement."""
        deadline = time.monotonic() + timeout
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.cpu_seconds()
            if now - last < 0.005:
                return
            last = now

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


def start_cbslocal(workdir: Path, name: str) -> Server:
    data_dir = workdir / f"{name}-data"
    server = Server(name, [CBSLOCAL, "serve", "--port", "0", "--data-dir", str(data_dir),
                           "--timing", "instant", "--log-level", "WARNING"], workdir)
    server.data_dir = data_dir
    return server


# --- seeding -----------------------------------------------------------------------------------------
def batch_params(i: int, count: int = 50) -> dict:
    """Batch i of the seed: zones alternate, types rotate, 2 of 3 batches carry tags."""
    disk_type = TYPES[(i // 2) % len(TYPES)]
    params = {"Placement": {"Zone": ZONES[i % 2]}, "DiskChargeType": "POSTPAID_BY_HOUR",
              "DiskType": disk_type, "DiskSize": 20 + 10 * (i % 20), "DiskCount": count,
              "DiskName": f"bench-{i}"}
    if i % 3 == 0:
        params["Tags"] = [{"Key": "team", "Value": "blue"}]
    elif i % 3 == 1:
        params["Tags"] = [{"Key": "team", "Value": "red"}, {"Key": "env", "Value": "prod"}]
    return params


def total_disks(client: tc3.Client) -> int:
    return client.call("DescribeDisks", {"Limit": 1})["TotalCount"]


@dataclass
class Seed:
    batches: int = 0
    disk_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    instance_ids: list[str] = field(default_factory=list)


SEED_INSTANCES, DISKS_PER_INSTANCE = 20, 10


def seed_instances(server: Server, seed: Seed) -> None:
    """20 instances (CVM RunInstances) in the first zone, 10 disks of the seed attached to each."""
    def work(client: tc3.Client) -> None:
        run = {"Placement": {"Zone": ZONES[0]}, "ImageId": "img-pmqg1cw7",
               "InstanceType": "S5.MEDIUM4", "InstanceCount": SEED_INSTANCES}
        seed.instance_ids = client.call("RunInstances", run, service="cvm")["InstanceIdSet"]
        free = []
        while len(free) < SEED_INSTANCES * DISKS_PER_INSTANCE:
            page = client.call("DescribeDisks", {"Filters": [
                {"Name": "zone", "Values": [ZONES[0]]}, {"Name": "disk-state", "Values": ["UNATTACHED"]}],
                "Limit": 100, "Offset": len(free)})["DiskSet"]
            free += [d["DiskId"] for d in page]
        for n, instance_id in enumerate(seed.instance_ids):
            disks = free[n * DISKS_PER_INSTANCE:(n + 1) * DISKS_PER_INSTANCE]
            client.call("AttachDisks", {"InstanceId": instance_id, "DiskIds": disks})
    with_client(server, work)
    log(f"{SEED_INSTANCES} instances with {DISKS_PER_INSTANCE} attached disks each")


def seed_to(server: Server, seed: Seed, target: int) -> None:
    """CreateDisks (DiskCount 50, signed, through the real protocol) until `target` disks exist.
    Four client threads keep the one server worker busy while the clients sign and parse."""
    from concurrent.futures import ThreadPoolExecutor

    have = len(seed.disk_ids)
    need = target - have
    if need <= 0:
        return
    started = time.perf_counter()
    batches = [(seed.batches + k, min(50, need - 50 * k)) for k in range((need + 49) // 50)]
    seed.batches += len(batches)
    clients: dict[int, tc3.Client] = {}

    import threading

    def one(job: tuple[int, int]) -> list[str]:
        tid = threading.get_ident()
        client = clients.get(tid) or clients.setdefault(tid, tc3.Client(server.port))
        return client.call("CreateDisks", batch_params(*job))["DiskIdSet"]

    with ThreadPoolExecutor(4) as pool:
        for ids in pool.map(one, batches):
            seed.disk_ids.extend(ids)
    for client in clients.values():
        client.close()
    elapsed = time.perf_counter() - started
    seed.seconds += elapsed
    # the seeded instances brought one system disk each
    with_client(server, lambda c: _check_total(c, target + len(seed.instance_ids)))
    log(f"seeded {need} disks in {elapsed:.1f} s ({need / elapsed:.0f} disks/s); total {target}")


def _check_total(client: tc3.Client, target: int) -> None:
    total = total_disks(client)
    if total != target:
        raise RuntimeError(f"expected {target} disks, the server reports {total}")


def with_client(server: Server, fn):
    client = tc3.Client(server.port)
    try:
        return fn(client)
    finally:
        client.close()


# --- one measurement ---------------------------------------------------------------------------------
@dataclass
class Run:
    scenario: str
    group: str
    size: int | None
    connections: int
    threads: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    cpu_us_per_req: float
    cpu_util: float
    errors: int
    disks_per_request: int = 0
    disks_per_second: float = 0.0
    response_bytes: int = 0
    rps_samples: list[float] = field(default_factory=list)


def check_sample(server: Server, action: str, headers: dict, body: bytes, what: str) -> int:
    client = tc3.Client(server.port)
    try:
        status, payload = client.raw(action, body, headers)
    finally:
        client.close()
    answer = payload.get("Response", {})
    if status != 200 or "Error" in answer or "RequestId" not in answer:
        raise RuntimeError(f"{what}: the sampled request failed: HTTP {status} {payload}")
    return len(json.dumps(payload, separators=(",", ":")).encode())


def wrk_run(wrk: str, server: Server, *, scenario: str, group: str, size: int | None,
            action: str, params: dict, connections: int, duration: float, warmup: float,
            workdir: Path, check: bool = True, disks_per_request: int = 0) -> Run:
    body = tc3.encode(params)
    headers = tc3.signed_headers(action, body, host=f"127.0.0.1:{server.port}")
    sample_bytes = check_sample(server, action, headers, body, scenario) if check else 0
    script = wrk_script(headers, body, workdir / "scenario.lua")
    threads = 1 if connections == 1 else 2
    url = f"http://127.0.0.1:{server.port}/"
    base = PIN["wrk"] + [wrk, f"-t{threads}", f"-c{connections}", "--timeout", "10s", "-s", str(script)]
    if warmup > 0:
        warm = subprocess.run(base + [f"-d{int(warmup)}s", url], env=clean_env(), check=True,
                              capture_output=True, text=True)
        if warm.stderr.strip():
            raise RuntimeError(f"wrk failed:\n{warm.stderr}")
        server.wait_idle()
    cpu_before = server.cpu_seconds()
    done = subprocess.run(base + ["--latency", f"-d{int(duration)}s", url], env=clean_env(),
                          check=True, capture_output=True, text=True)
    cpu_after = server.cpu_seconds()
    server.wait_idle()
    line = next((l for l in done.stdout.splitlines() if l.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary:\n{done.stdout}\n{done.stderr}")
    s = json.loads(line[len("BENCHJSON "):])
    errors = sum(v for k, v in s.items() if k.startswith("err_"))
    if check:
        check_sample(server, action, headers, body, scenario + " (after the run)")
    secs = s["duration_us"] / 1e6
    requests = s["requests"]
    cpu = cpu_after - cpu_before
    run = Run(scenario=scenario, group=group, size=size, connections=connections, threads=threads,
              seconds=round(secs, 2), requests=requests, rps=round(requests / secs, 1),
              p50_ms=s["p50_us"] / 1000, p90_ms=s["p90_us"] / 1000, p99_ms=s["p99_us"] / 1000,
              mean_ms=round(s["mean_us"] / 1000, 3), max_ms=s["max_us"] / 1000,
              cpu_us_per_req=round(cpu * 1e6 / max(requests, 1), 1),
              cpu_util=round(cpu / secs, 2), errors=errors, response_bytes=sample_bytes,
              disks_per_request=disks_per_request)
    if errors:
        log(f"  WARNING: wrk reported {errors} errors: {s}")
    log(f"  {scenario:<34} c={connections:<2} {run.rps:>9.0f} req/s  p50 {run.p50_ms:6.2f} ms  "
        f"p99 {run.p99_ms:6.2f} ms  cpu {run.cpu_us_per_req:7.1f} us/req")
    return run


# --- scenarios ---------------------------------------------------------------------------------------
FLOOR = "floor app (TC3 + 1 SELECT)"


def describe_scenarios(seed: Seed) -> list[tuple[str, dict]]:
    probe = seed.disk_ids[len(seed.disk_ids) // 2]
    instance = seed.instance_ids[len(seed.instance_ids) // 2] if seed.instance_ids else "ins-00000000"
    return [
        ("DescribeDisks by one DiskId", {"DiskIds": [probe]}),
        ("DescribeDisks Limit 20", {"Limit": 20, "Offset": 0}),
        ("DescribeDisks Limit 20, zone filter",
         {"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}], "Limit": 20, "Offset": 0}),
        ("DescribeDisks Limit 20, tag filter",
         {"Filters": [{"Name": "tag:team", "Values": ["red"]}], "Limit": 20, "Offset": 0}),
        ("DescribeDisks Limit 20, instance-id filter",
         {"Filters": [{"Name": "instance-id", "Values": [instance]}], "Limit": 20, "Offset": 0}),
    ]


REF_PARAMS = {"DiskIds": ["disk-00000042"]}  # a row of the floor app's table


def best_of(samples: list[Run]) -> Run:
    """The fastest of the repeats (req/s); the others are only noise from the shared machine."""
    best = max(samples, key=lambda r: r.rps)
    best.rps_samples = [r.rps for r in samples]
    return best


def size_phase(wrk, bare: Server, floor: Server, cbs: Server, seed: Seed, size: int, args,
               workdir: Path) -> list[Run]:
    """Every scenario at one data size, `--repeat` interleaved rounds, best round kept."""
    plan = [(bare, "bare ASGI app (fixed JSON)", "reference", "DescribeDisks", REF_PARAMS),
            (floor, FLOOR, "reference", "DescribeDisks", REF_PARAMS)]
    plan += [(cbs, name, "describe", "DescribeDisks", params)
             for name, params in describe_scenarios(seed)]
    return measure_plan(wrk, plan, size, args, workdir)


def measure_plan(wrk, plan: list[tuple], size: int, args, workdir: Path) -> list[Run]:
    """plan: (server, scenario, group, action, params) rows, all measured at one data size, at
    every connection count, in `--repeat` interleaved rounds; the best round of each is kept."""
    samples: dict[tuple[str, int], list[Run]] = {}
    for round_no in range(args.repeat):
        if args.repeat > 1:
            log(f"round {round_no + 1}/{args.repeat}")
        for c in CONNECTIONS:
            for server, name, group, action, params in plan:
                samples.setdefault((name, c), []).append(wrk_run(
                    wrk, server, scenario=name, group=group, size=size, action=action,
                    params=params, connections=c, duration=args.duration, warmup=args.warmup,
                    workdir=workdir))
    return [best_of(runs) for runs in samples.values()]


def create_runs(wrk, workdir: Path, args) -> list[Run]:
    server = start_cbslocal(workdir, "cbslocal-create")
    samples: dict[tuple[int, int], list[Run]] = {}
    try:
        for _ in range(args.repeat):
            for count in (1, 50):
                for c in CONNECTIONS:
                    before = with_client(server, total_disks)
                    params = batch_params(0, count)
                    params["DiskName"] = "bench-create"
                    run = wrk_run(wrk, server, scenario=f"CreateDisks DiskCount={count}",
                                  group="create", size=None, action="CreateDisks", params=params,
                                  connections=c, duration=args.duration, warmup=0,
                                  workdir=workdir, disks_per_request=count)
                    after = with_client(server, total_disks)
                    # Every request wrk counted (and the two samples) must have created `count`
                    # disks; requests still in flight when wrk stopped may add a few more.
                    expected = (run.requests + 2) * count
                    if after - before < expected:
                        raise RuntimeError(f"CreateDisks: {after - before} disks created, wrk "
                                           f"counted {run.requests} requests x {count}")
                    run.disks_per_second = round(run.rps * count, 1)
                    samples.setdefault((count, c), []).append(run)
    finally:
        server.stop()
    return [best_of(runs) for runs in samples.values()]


CYCLE_CONNECTIONS = (1, 8)
SEQUENCE_LUA = r'''
local slots, threads, counter = SLOTS, {}, 0
setup = function(thread)
  counter = counter + 1
  thread:set("slot", counter)
  table.insert(threads, thread)
end
init = function(args)
  local s = slots[slot]
  sequence = {}
  for i, r in ipairs(s) do sequence[i] = wrk.format("POST", "/", r[1], r[2]) end
  nxt, api_errors = 1, 0
end
-- The next request follows the last reply, not a count of request() calls: wrk may call
-- request() once without sending what it returns.
request = function()
  return sequence[nxt]
end
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"Error"', 1, true) then
    api_errors = api_errors + 1
    if api_errors <= 3 then io.write("BENCHERROR " .. status .. " " .. nxt .. " " .. body .. "\n") end
  end
  nxt = nxt % #sequence + 1
end
'''


def _lua_table(headers: dict[str, str], body: bytes) -> str:
    pairs = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    return f"{{{{{pairs}}}, {_lua_string(body.decode())}}}"


def sequence_script(slots: list[list[tuple[dict, bytes]]], path: Path) -> Path:
    """wrk, one connection per thread: thread i sends the requests of slots[i] in turn, again and
    again; every reply that is not HTTP 200 without an Error is counted (BENCHAPIERRORS) and the
    first three are printed (BENCHERROR)."""
    table = "{" + ", ".join("{" + ", ".join(_lua_table(*r) for r in s) + "}" for s in slots) + "}"
    done = WRK_DONE.replace("latency.mean, latency.max))", "latency.mean, latency.max))\n"
                            "  local bad = 0\n  for _, t in ipairs(threads) do bad = bad + "
                            "t:get(\"api_errors\") end\n"
                            "  io.write(string.format(\"BENCHAPIERRORS %d\\n\", bad))")
    path.write_text(SEQUENCE_LUA.replace("SLOTS", table) + done)
    return path


def attach_detach_runs(wrk, workdir: Path, args) -> list[Run]:
    server = start_cbslocal(workdir, "cbslocal-attach")
    samples: dict[int, list[Run]] = {}
    try:
        for _ in range(args.repeat):
            for c in CYCLE_CONNECTIONS:
                samples.setdefault(c, []).append(_cycle_run(wrk, server, c, args, workdir))
    finally:
        server.stop()
    return [best_of(runs) for runs in samples.values()]


def _cycle_run(wrk, server: Server, connections: int, args, workdir: Path) -> Run:
    host = f"127.0.0.1:{server.port}"

    def prepare(client: tc3.Client):
        instances = client.call("RunInstances", {
            "Placement": {"Zone": ZONES[0]}, "ImageId": "img-pmqg1cw7", "InstanceType": "S5.MEDIUM4",
            "InstanceCount": connections}, service="cvm")["InstanceIdSet"]
        disks = client.call("CreateDisks", {**batch_params(0, connections), "DiskName": "bench-attach"})["DiskIdSet"]
        return instances, disks

    instances, disks = with_client(server, prepare)
    slots = []
    for instance_id, disk_id in zip(instances, disks):
        attach = tc3.encode({"InstanceId": instance_id, "DiskIds": [disk_id]})
        detach = tc3.encode({"DiskIds": [disk_id]})
        slots.append(((tc3.signed_headers("AttachDisks", attach, host=host), attach),
                      (tc3.signed_headers("DetachDisks", detach, host=host), detach)))
    script = sequence_script([list(pair) for pair in slots], workdir / "cycle.lua")
    base = PIN["wrk"] + [wrk, f"-t{connections}", f"-c{connections}", "--timeout", "10s", "-s",
                         str(script), "--latency", f"-d{int(args.duration)}s",
                         f"http://{host}/"]
    cpu_before = server.cpu_seconds()
    done = subprocess.run(base, env=clean_env(), check=True, capture_output=True, text=True)
    cpu_after = server.cpu_seconds()
    server.wait_idle()
    summary = next(l for l in done.stdout.splitlines() if l.startswith("BENCHJSON "))
    api_errors = int(next(l for l in done.stdout.splitlines()
                          if l.startswith("BENCHAPIERRORS ")).split()[1])
    s = json.loads(summary[len("BENCHJSON "):])
    errors = api_errors + sum(v for k, v in s.items() if k.startswith("err_"))
    errors += with_client(server, lambda client: _check_cycle_states(client, instances, disks))
    secs, requests = s["duration_us"] / 1e6, s["requests"]
    cpu = cpu_after - cpu_before
    run = Run(scenario="AttachDisks + DetachDisks", group="attach", size=None,
              connections=connections, threads=connections, seconds=round(secs, 2),
              requests=requests, rps=round(requests / secs, 1), p50_ms=s["p50_us"] / 1000,
              p90_ms=s["p90_us"] / 1000, p99_ms=s["p99_us"] / 1000,
              mean_ms=round(s["mean_us"] / 1000, 3), max_ms=s["max_us"] / 1000,
              cpu_us_per_req=round(cpu * 1e6 / max(requests, 1), 1),
              cpu_util=round(cpu / secs, 2), errors=errors)
    log(f"  AttachDisks + DetachDisks          c={connections:<2} {run.rps / 2:>9.0f} cycles/s  "
        f"p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms  errors {errors}")
    return run


def _check_cycle_states(client: tc3.Client, instances: list[str], disks: list[str]) -> int:
    """Each disk is either on its own instance or on none; the instances' counts agree."""
    listed = {d["DiskId"]: d for d in client.call("DescribeDisks", {"DiskIds": disks, "Limit": 100})["DiskSet"]}
    counts = {a["InstanceId"]: a["AttachedDiskCount"] for a in client.call(
        "DescribeInstancesDiskNum", {"InstanceIds": instances})["AttachDetail"]}
    bad = 0
    for instance_id, disk_id in zip(instances, disks):
        disk = listed.get(disk_id)
        on = disk is not None and disk["DiskState"] == "ATTACHED" and disk["InstanceIdList"] == [instance_id]
        off = disk is not None and disk["DiskState"] == "UNATTACHED" and disk["InstanceIdList"] == []
        bad += not (on or off) or counts.get(instance_id) != int(on)
    if bad:
        log(f"  inconsistent final states: {listed} {counts}")
    return bad


def byte_compile_cbslocal() -> None:
    """Write cbslocal's compiled modules beside its sources, as `pip install .` does at install
    time: otherwise, with PYTHONDONTWRITEBYTECODE set (as on this project's machines) and an
    editable install, every start compiles some 80 modules from source, and the measurement is
    of the compiler, not of what a user starts."""
    import compileall

    import cbslocal

    compileall.compile_dir(Path(cbslocal.__file__).parent, quiet=1)


def startup_times(workdir: Path, samples: int, existing: Path | None) -> dict:
    byte_compile_cbslocal()

    def once(data_dir: Path) -> float:
        port = free_port()
        body = tc3.encode({"Limit": 1})
        started = time.perf_counter()
        proc = subprocess.Popen([CBSLOCAL, "serve", "--port", str(port), "--data-dir",
                                 str(data_dir), "--timing", "instant", "--log-level", "WARNING"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=clean_env())
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError("cbslocal exited during the start-up measurement")
                try:
                    client = tc3.Client(port, timeout=5)
                    try:
                        status, payload = client.raw("DescribeDisks", body)
                    finally:
                        client.close()
                except (ConnectionRefusedError, ConnectionResetError,
                        __import__("http.client").client.RemoteDisconnected):
                    time.sleep(0.002)
                    continue
                elapsed = time.perf_counter() - started
                if status != 200 or "Error" in payload.get("Response", {}):
                    raise RuntimeError(f"first response is an error: {payload}")
                return elapsed
        finally:
            proc.terminate()
            proc.wait(10)

    fresh = [once(Path(tempfile.mkdtemp(prefix="fresh-", dir=workdir))) for _ in range(samples)]
    out = {"fresh_samples_s": [round(x, 3) for x in fresh],
           "fresh_median_s": round(statistics.median(fresh), 3)}
    if existing is not None:
        try:
            warm = [once(existing) for _ in range(max(1, samples // 2))]
            out["existing_samples_s"] = [round(x, 3) for x in warm]
            out["existing_median_s"] = round(statistics.median(warm), 3)
        except RuntimeError as failure:  # informational only: never lose the run for it
            out["existing_error"] = str(failure)[:300]
            log(f"restart on the existing data dir failed: {failure}")
    log(f"first response after start: fresh data dir median {out['fresh_median_s']} s "
        f"(samples {out['fresh_samples_s']})"
        + (f"; existing data dir median {out['existing_median_s']} s"
           if "existing_median_s" in out else ""))
    return out


# --- seeding through a state document (the control plane) -----------------------------------------
def control(server: Server, method: str, path: str, body: dict | None = None,
            timeout: float = 1800.0) -> dict:
    """One call of the control plane (/_cbslocal/…, plain JSON, not signed); an error answer
    raises."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        # The control plane's token (a state export needs it), kept in the data dir at first start.
        token_file = getattr(server, "data_dir", None) and server.data_dir / "admin-token"
        if token_file and token_file.exists():
            headers["Authorization"] = f"Bearer {token_file.read_text().strip()}"
        conn.request(method, "/_cbslocal" + path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
    finally:
        conn.close()
    answer = json.loads(payload) if payload else {}
    if response.status != 200:
        raise RuntimeError(f"{method} /_cbslocal{path} -> HTTP {response.status}: "
                           f"{str(answer)[:500]}")
    return answer


_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def seeded_id(prefix: str, n: int) -> str:
    """The n-th seeded resource ID: `<prefix>-` + 8 characters of [a-z0-9], like the server's."""
    digits = []
    for _ in range(8):
        n, rest = divmod(n, 36)
        digits.append(_BASE36[rest])
    return f"{prefix}-{''.join(reversed(digits))}"


def _empty_document(template: dict) -> dict:
    """The template's document (format, schema, clock) with its accounts and keys only."""
    document = {k: v for k, v in template.items() if k != "tables"}
    document["tables"] = {name: [] for name in template["tables"]}
    for name in ("accounts", "api_keys"):
        document["tables"][name] = template["tables"][name]
    return document


def load_state(server: Server, document: dict) -> tuple[float, dict]:
    """POST /reset, then POST /state with the document: (seconds, rows inserted per table)."""
    started = time.perf_counter()
    control(server, "POST", "/reset", {})
    answer = control(server, "POST", "/state", document)
    return time.perf_counter() - started, answer["inserted"]


# --- DescribeSnapshots at 100,000 snapshots ----------------------------------------------------------
# Every row of the seed is a copy of a row the server itself wrote (one disk and one snapshot made
# through the API, exported with GET /state), with new IDs, sequence numbers and times: the seed
# follows the schema as it is, whatever columns it gains.
SNAPSHOTS_PER_DISK = 50
SNAPSHOT_SPACING = 30.0  # emulator seconds between two seeded snapshots


@dataclass
class SnapshotSeed:
    size: int = 0
    disks: int = 0
    probe_snapshot: str = "snap-00000000"
    probe_disk: str = "disk-00000000"
    probe_disk_snapshots: int = 0
    seconds: float = 0.0


def snapshot_template(server: Server) -> dict:
    """One data disk and one snapshot of it, made through the signed API, as the server exports
    them."""
    def work(client: tc3.Client) -> None:
        disk = client.call("CreateDisks", {
            "Placement": {"Zone": ZONES[0]}, "DiskChargeType": "POSTPAID_BY_HOUR",
            "DiskType": "CLOUD_PREMIUM", "DiskSize": 50, "DiskCount": 1,
            "DiskName": "bench-snap"})["DiskIdSet"][0]
        client.call("CreateSnapshot", {"DiskId": disk, "SnapshotName": "bench-snap"})
    with_client(server, work)
    return control(server, "GET", "/state")


def snapshot_document(template: dict, count: int) -> tuple[dict, SnapshotSeed]:
    """`count` NORMAL, permanent snapshots of one account in one region, over count/50 unattached
    data disks (50 each, within the 64 a disk may have). Snapshot i is of disk i mod D, every
    30 s of the clock, all in the past: each disk's snapshots spread over the whole history, as a
    daily policy over many disks would leave them. The disks' snapshot counts and sizes agree."""
    tables = template["tables"]
    disk_t = next(d for d in tables["disks"] if d["disk_usage"] == "DATA_DISK")
    snap_t = tables["snapshots"][0]
    n_disks = max(1, -(-count // SNAPSHOTS_PER_DISK))
    start = template["clock"]["now"] - (count + 100) * SNAPSHOT_SPACING - n_disks
    per_disk = [count // n_disks + (k < count % n_disks) for k in range(n_disks)]
    disk_ids = [seeded_id("disk", k) for k in range(n_disks)]
    mib = disk_t["disk_size"] * 1024
    document = _empty_document(template)
    document["tables"]["disks"] = [
        dict(disk_t, seq=k + 1, disk_id=disk_ids[k], disk_name=f"bench-snap-{k}",
             created_at=start + k, snapshot_count=per_disk[k], snapshot_size=per_disk[k] * mib)
        for k in range(n_disks)]
    first = start + n_disks
    document["tables"]["snapshots"] = [
        dict(snap_t, seq=i + 1, snapshot_id=seeded_id("snap", i), snapshot_name=f"bench-snap-{i}",
             disk_id=disk_ids[i % n_disks], created_at=first + i * SNAPSHOT_SPACING,
             modified_at=first + i * SNAPSHOT_SPACING)
        for i in range(count)]
    probe = n_disks // 2
    seed = SnapshotSeed(size=count, disks=n_disks, probe_snapshot=seeded_id("snap", count // 2),
                        probe_disk=disk_ids[probe], probe_disk_snapshots=per_disk[probe])
    return document, seed


def snapshot_scenarios(seed: SnapshotSeed) -> list[tuple[str, dict]]:
    return [
        ("DescribeSnapshots by one SnapshotId", {"SnapshotIds": [seed.probe_snapshot]}),
        ("DescribeSnapshots Limit 20", {"Limit": 20, "Offset": 0}),
        ("DescribeSnapshots Limit 20, disk-id filter",
         {"Filters": [{"Name": "disk-id", "Values": [seed.probe_disk]}], "Limit": 20, "Offset": 0}),
        ("DescribeSnapshots Limit 20, snapshot-state filter",
         {"Filters": [{"Name": "snapshot-state", "Values": ["NORMAL"]}], "Limit": 20, "Offset": 0}),
    ]


def _check_snapshot_seed(client: tc3.Client, seed: SnapshotSeed) -> None:
    """Each scenario's answer is the one the seed implies (TotalCount, page size, disk)."""
    expect = {"DescribeSnapshots by one SnapshotId": (1, 1),
              "DescribeSnapshots Limit 20": (seed.size, min(20, seed.size)),
              "DescribeSnapshots Limit 20, disk-id filter":
                  (seed.probe_disk_snapshots, min(20, seed.probe_disk_snapshots)),
              "DescribeSnapshots Limit 20, snapshot-state filter": (seed.size, min(20, seed.size))}
    for name, params in snapshot_scenarios(seed):
        answer = client.call("DescribeSnapshots", params)
        got = (answer["TotalCount"], len(answer["SnapshotSet"]))
        if got != expect[name]:
            raise RuntimeError(f"{name}: TotalCount and page size {got}, expected {expect[name]}")
        if "disk-id" in name and any(s["DiskId"] != seed.probe_disk for s in answer["SnapshotSet"]):
            raise RuntimeError(f"{name}: a snapshot of another disk in the page")


def snapshot_phase(wrk, floor: Server, args, workdir: Path,
                   sizes: list[int]) -> tuple[list[Run], dict[int, float]]:
    """DescribeSnapshots on a fresh cbslocal seeded by state import, at each size; the floor app
    measured in the same rounds for the ratios."""
    server = start_cbslocal(workdir, "cbslocal-snapshots")
    runs: list[Run] = []
    seconds: dict[int, float] = {}
    try:
        template = snapshot_template(server)
        for size in sizes:
            started = time.perf_counter()
            document, seed = snapshot_document(template, size)
            import_s, inserted = load_state(server, document)
            seed.seconds = seconds[size] = round(time.perf_counter() - started, 2)
            with_client(server, lambda client: _check_snapshot_seed(client, seed))
            log(f"--- {size:,} snapshots over {seed.disks:,} disks: built and imported in "
                f"{seed.seconds:.1f} s (import {import_s:.1f} s: {inserted['snapshots']:,} "
                f"snapshots, {inserted['disks']:,} disks)")
            server.wait_idle()
            plan = [(floor, FLOOR, "snapshots-reference", "DescribeDisks", REF_PARAMS)]
            plan += [(server, name, "snapshots", "DescribeSnapshots", params)
                     for name, params in snapshot_scenarios(seed)]
            runs += measure_plan(wrk, plan, size, args, workdir)
    finally:
        server.stop()
    return runs, seconds


# --- an automatic snapshot policy firing over 10,000 disks ----------------------------------------
POLICY_RETENTION_DAYS = 7
# The target: a simulated day over 10,000 bound disks within this many wall seconds (scaled
# linearly for another disk count). See RESULTS.md, "Automatic snapshot policy".
POLICY_DAY_TARGET_S, POLICY_TARGET_DISKS = 10.0, 10_000
CHINA = timezone(timedelta(hours=8))


def policy_template(server: Server) -> dict:
    """One running instance, one elastic data disk attached to it, one daily policy (RetentionDays
    7, at the hour half a day away, so that it fires once per simulated day) bound to the disk:
    made through the signed API, as the server exports them."""
    hour = (datetime.now(CHINA).hour + 12) % 24

    def work(client: tc3.Client) -> None:
        instance = client.call("RunInstances", {
            "Placement": {"Zone": ZONES[0]}, "ImageId": "img-pmqg1cw7", "InstanceType": "S5.MEDIUM4",
            "InstanceCount": 1}, service="cvm")["InstanceIdSet"][0]
        disk = client.call("CreateDisks", {
            "Placement": {"Zone": ZONES[0]}, "DiskChargeType": "POSTPAID_BY_HOUR",
            "DiskType": "CLOUD_PREMIUM", "DiskSize": 50, "DiskCount": 1,
            "DiskName": "bench-policy"})["DiskIdSet"][0]
        client.call("AttachDisks", {"InstanceId": instance, "DiskIds": [disk]})
        policy = client.call("CreateAutoSnapshotPolicy", {
            "AutoSnapshotPolicyName": "bench-daily", "RetentionDays": POLICY_RETENTION_DAYS,
            "Policy": [{"DayOfWeek": list(range(7)), "Hour": [hour]}]})["AutoSnapshotPolicyId"]
        client.call("BindAutoSnapshotPolicy", {"AutoSnapshotPolicyId": policy, "DiskIds": [disk]})
    with_client(server, work)
    return control(server, "GET", "/state")


def policy_document(template: dict, n_disks: int) -> tuple[dict, int]:
    """n_disks elastic data disks attached to running instances (as many per instance as an
    instance takes, 20; each instance with its system disk), all bound to the template's policy;
    its `policy.fire` move due at its next trigger; the clock frozen where the template left it.
    Returns (document, instances)."""
    import uuid

    tables = template["tables"]
    inst_t = tables["instances"][0]
    sys_t = next(d for d in tables["disks"] if d["disk_usage"] == "SYSTEM_DISK")
    data_t = next(d for d in tables["disks"] if d["disk_usage"] == "DATA_DISK")
    attach_t = {a["disk_usage"]: a for a in tables["disk_attachments"]}
    bound_t = tables["policy_disks"][0]
    per = inst_t["max_attach_count"]
    n_instances = -(-n_disks // per)
    rows = {name: [] for name in ("instances", "disks", "disk_attachments", "policy_disks")}
    data = 0
    for j in range(n_instances):
        instance_id = seeded_id("ins", j)
        on = json.dumps([instance_id])
        rows["instances"].append(dict(
            inst_t, seq=j + 1, instance_id=instance_id, instance_name=f"bench-policy-{j}",
            uuid=str(uuid.UUID(int=j + 1, version=4)),
            private_ip=f"10.{(j >> 16) & 255}.{(j >> 8) & 255}.{j & 255}",
            host_name=f"VM-{(j >> 8) & 255}-{j & 255}-linux"))
        members = [(sys_t, seeded_id("disk", j), f"bench-policy-{j}_SYSTEM_DISK")]
        while data < n_disks and len(members) <= per:
            members.append((data_t, seeded_id("disk", n_instances + data), f"bench-policy-{data}"))
            data += 1
        for template_row, disk_id, name in members:
            rows["disks"].append(dict(
                template_row, seq=len(rows["disks"]) + 1, disk_id=disk_id, disk_name=name,
                instance_id=instance_id, last_attach_ins_id=instance_id, instance_ids=on,
                snapshot_count=0, snapshot_size=0))
            rows["disk_attachments"].append(dict(attach_t[template_row["disk_usage"]],
                                                 disk_id=disk_id, instance_id=instance_id))
            if template_row is data_t:
                rows["policy_disks"].append(dict(bound_t, disk_id=disk_id))
    document = _empty_document(template)
    document["tables"].update(rows)
    document["tables"]["auto_snapshot_policies"] = tables["auto_snapshot_policies"]
    document["tables"]["transitions"] = [t for t in tables["transitions"] if t["kind"] == "policy.fire"]
    document["clock"] = dict(template["clock"], mode="frozen", rate=0.0)
    return document, n_instances




def policy_phase(workdir: Path, args) -> dict:
    """One daily policy bound to `--policy-disks` attached elastic disks, seeded by state import;
    then `--policy-days` times POST /clock {"advance": "1d"}, timed from the client. Each day
    must make one snapshot per bound disk and, after RetentionDays, delete those of RetentionDays
    before."""
    n_disks, days = args.policy_disks, args.policy_days
    server = start_cbslocal(workdir, "cbslocal-policy")

    def api(action: str, params: dict) -> dict:
        # a new connection each time: an advance outlasts the server's keep-alive timeout
        return with_client(server, lambda client: client.call(action, params))

    try:
        template = policy_template(server)
        started = time.perf_counter()
        document, n_instances = policy_document(template, n_disks)
        import_s, inserted = load_state(server, document)
        seed_s = time.perf_counter() - started
        policy_id = template["tables"]["auto_snapshot_policies"][0]["policy_id"]

        def policy() -> dict:
            return api("DescribeAutoSnapshotPolicies",
                       {"AutoSnapshotPolicyIds": [policy_id]})["AutoSnapshotPolicySet"][0]

        def snapshots_total() -> int:
            return api("DescribeSnapshotOverview", {})["TotalNums"]

        clock = control(server, "GET", "/clock")
        bound = len(policy()["DiskIdSet"])
        disks_total = with_client(server, total_disks)
        if clock["mode"] != "frozen" or bound != n_disks or disks_total != n_disks + n_instances:
            raise RuntimeError(f"policy seed: clock {clock['mode']}, {bound} disks bound (expected "
                               f"{n_disks}), {disks_total} disks (expected {n_disks + n_instances})")
        log(f"--- policy over {n_disks:,} disks on {n_instances:,} instances: built and imported "
            f"in {seed_s:.1f} s (import {import_s:.1f} s, {sum(inserted.values()):,} rows)")
        records = []
        for day in range(1, days + 1):
            before = snapshots_total()
            trigger = policy()["NextTriggerTime"]  # "YYYY-MM-DD HH:MM:SS", China time
            name = f"snap_{trigger[0:4]}{trigger[5:7]}{trigger[8:10]}_{trigger[11:13]}"
            server.wait_idle()
            cpu_before = server.cpu_seconds()
            t0 = time.perf_counter()
            answer = control(server, "POST", "/clock", {"advance": "1d"})
            wall = time.perf_counter() - t0
            cpu = server.cpu_seconds() - cpu_before
            after = snapshots_total()
            created = api("DescribeSnapshots", {
                "Filters": [{"Name": "snapshot-name", "Values": [name]}], "Limit": 1})["TotalCount"]
            deleted = before + created - after
            expect_deleted = n_disks if day > POLICY_RETENTION_DAYS else 0
            record = {"day": day, "wall_s": round(wall, 3), "server_cpu_s": round(cpu, 2),
                      "applied": answer["applied"], "created": created, "deleted": deleted,
                      "snapshots_after": after, "fired_at": trigger,
                      "ok": created == n_disks and deleted == expect_deleted}
            records.append(record)
            log(f"  day {day:>2}: {wall:7.2f} s wall, {cpu:6.2f} s server CPU, {created:,} "
                f"created, {deleted:,} deleted, {after:,} snapshots, {answer['applied']:,} moves"
                + ("" if record["ok"] else f"  WRONG (expected {n_disks:,} created, "
                                            f"{expect_deleted:,} deleted)"))
    finally:
        server.stop()

    def mean(values):
        return round(statistics.mean(values), 3) if values else None

    create_only = [r["wall_s"] for r in records if r["day"] <= POLICY_RETENTION_DAYS]
    with_deletes = [r["wall_s"] for r in records if r["day"] > POLICY_RETENTION_DAYS]
    return {"disks": n_disks, "instances": n_instances, "retention_days": POLICY_RETENTION_DAYS,
            "days": records, "seed_seconds": round(seed_s, 2), "import_seconds": round(import_s, 2),
            "create_only_mean_s": mean(create_only), "create_delete_mean_s": mean(with_deletes),
            "max_s": max(r["wall_s"] for r in records) if records else None,
            "ok": bool(records) and all(r["ok"] for r in records)}


# --- evaluation & report -----------------------------------------------------------------------------
def find(runs: list[Run], scenario: str, size, c: int, group: str | None = None) -> Run | None:
    return next((r for r in runs if r.scenario == scenario and r.size == size
                 and r.connections == c and (group is None or r.group == group)), None)


REFERENCE_GROUP = {"describe": "reference", "snapshots": "snapshots-reference"}
SNAPSHOT_GROUPS = ("snapshots", "snapshots-reference")
FLOOR_OF = {"reference": "reference", "describe": "reference",  # the group of a run's floor
            "snapshots": "snapshots-reference", "snapshots-reference": "snapshots-reference"}


def evaluate(data: dict) -> list[dict]:
    """The targets of every part measured (or carried over), from the raw results."""
    runs = data["runs"]
    targets = []

    def vs_floor(scenario: str, need: float, label: str, sizes: list[int], group: str, unit: str):
        details, ok = [], True
        for size in sizes:
            for c in CONNECTIONS:
                run = find(runs, scenario, size, c, group)
                floor = find(runs, FLOOR, size, c, REFERENCE_GROUP[group])
                if run is None or floor is None:
                    ok = False
                    details.append(f"{size:,} {unit} c={c}: not measured")
                    continue
                ratio = run.rps / floor.rps
                ok &= ratio >= need
                details.append(f"{size:,} {unit} c={c}: {ratio:.0%}")
        targets.append({"target": label, "pass": ok, "details": "; ".join(details)})

    def vs_smaller(name: str, sizes: list[int], group: str, unit: str):
        small, large = sizes[0], sizes[-1]
        details, ok = [], True
        for c in CONNECTIONS:
            a, b = find(runs, name, small, c, group), find(runs, name, large, c, group)
            if a is None or b is None:
                ok = False
                details.append(f"c={c}: not measured")
                continue
            ratio = b.rps / a.rps
            ok &= ratio >= 0.85
            details.append(f"c={c}: {ratio:.0%}")
        targets.append({"target": f"{name} at {large:,} {unit} >= 85% of its rate at {small:,}",
                        "pass": ok, "details": "; ".join(details)})

    def p99_at_most(group: str, sizes: list[int], limit_ms: float):
        worst = [r for r in runs if r.group == group and r.size in sizes
                 and r.connections == max(CONNECTIONS)]
        ok = bool(worst) and all(r.p99_ms <= limit_ms for r in worst)
        details = "; ".join(f"{r.scenario.removeprefix('DescribeDisks ')} at {r.size:,}: "
                            f"{r.p99_ms:g} ms" for r in worst if r.p99_ms > limit_ms / 2)
        targets.append({"target": f"p99 at {max(CONNECTIONS)} connections <= {limit_ms:g} ms for "
                                  f"every {group} scenario",
                        "pass": ok, "details": details or f"all <= {limit_ms / 2:g} ms"})

    # Issue 12's targets (the ratios to the floor app, p99, 100,000 against 1,000).
    sizes = data.get("sizes") or []
    if sizes and any(r.group == "describe" for r in runs):
        names = [name for name, _ in describe_scenarios(Seed(disk_ids=["disk-00000000"]))]
        vs_floor(names[0], 0.70,
                 f"{names[0]} >= 70% of the floor app's req/s (equal concurrency)",
                 sizes, "describe", "disks")
        for name in names[1:]:
            vs_floor(name, 0.40, f"{name} >= 40% of the floor app's req/s (equal concurrency)",
                     sizes, "describe", "disks")
        p99_at_most("describe", sizes, 40)
        if sizes[-1] != sizes[0]:
            for name in names:
                vs_smaller(name, sizes, "describe", "disks")
    snapshot_sizes = data.get("snapshot_sizes") or []
    if snapshot_sizes and any(r.group == "snapshots" for r in runs):
        names = [name for name, _ in snapshot_scenarios(SnapshotSeed())]
        vs_floor(names[0], 0.70,
                 f"{names[0]} >= 70% of the floor app's req/s (equal concurrency)",
                 snapshot_sizes, "snapshots", "snapshots")
        for name in names[1:]:
            vs_floor(name, 0.40, f"{name} >= 40% of the floor app's req/s (equal concurrency)",
                     snapshot_sizes, "snapshots", "snapshots")
        if snapshot_sizes[-1] != snapshot_sizes[0]:
            for name in names:
                vs_smaller(name, snapshot_sizes, "snapshots", "snapshots")
    creates = [r for r in runs if r.group == "create"]
    batched = [r for r in creates if r.disks_per_request == 50]
    single = [r for r in creates if r.disks_per_request == 1]
    if creates:
        targets.append({"target": "CreateDisks >= 1,000 disks/s (DiskCount=50, at 1 and 32 connections)",
                        "pass": bool(batched) and all(r.disks_per_second >= 1000 for r in batched),
                        "details": "; ".join(f"DiskCount={r.disks_per_request} c={r.connections}: "
                                             f"{r.disks_per_second:,.0f} disks/s"
                                             for r in batched + single)
                        + "".join(f" (DiskCount=1 at c={r.connections} is below 1,000/s)"
                                  for r in single if r.disks_per_second < 1000)})
    busiest = [r for r in single if r.connections == max(CONNECTIONS)]
    if busiest:
        r = busiest[0]
        targets.append({"target": f"CreateDisks DiskCount=1 at {r.connections} connections: "
                                  ">= 2,500 disks/s, <= 400 µs of server CPU per call",
                        "pass": r.disks_per_second >= 2500 and r.cpu_us_per_req <= 400,
                        "details": f"{r.disks_per_second:,.0f} disks/s, {r.cpu_us_per_req:g} µs"})
    for r in (r for r in runs if r.group == "attach"):
        targets.append({"target": f"AttachDisks + DetachDisks, {r.connections} connection(s): "
                                  "every reply a success, final states consistent",
                        "pass": r.errors == 0,
                        "details": f"{r.rps / 2:,.0f} cycles/s, {r.errors} errors"})
        if r.connections == max(CYCLE_CONNECTIONS):
            targets.append({"target": f"AttachDisks + DetachDisks at {r.connections} connections: "
                                      ">= 500 cycles/s, <= 400 µs of server CPU per call",
                            "pass": r.rps / 2 >= 500 and r.cpu_us_per_req <= 400,
                            "details": f"{r.rps / 2:,.0f} cycles/s, {r.cpu_us_per_req:g} µs"})
    startup = data.get("startup")
    if startup:
        targets.append({"target": "first response <= 0.3 s after start (fresh data dir, median)",
                        "pass": startup["fresh_median_s"] <= 0.3,
                        "details": f"median {startup['fresh_median_s']} s of {startup['fresh_samples_s']}"})
    policy = data.get("policy")
    if policy:
        targets += policy_targets(policy)
    return targets


def policy_targets(policy: dict) -> list[dict]:
    n, keep = policy["disks"], policy["retention_days"]
    days = policy["days"]
    wrong = [r for r in days if not r["ok"]]
    shown = "; ".join(f"day {r['day']}: {r['created']:,} created, {r['deleted']:,} deleted"
                      for r in (wrong or days[keep - 1:keep + 1] or days[-2:]))
    limit = POLICY_DAY_TARGET_S * n / POLICY_TARGET_DISKS
    phases = [f"days 1-{min(keep, len(days))} (creation only) mean {policy['create_only_mean_s']} s"]
    if policy.get("create_delete_mean_s") is not None:
        phases.append(f"days {keep + 1}-{len(days)} (creation + deletion) mean "
                      f"{policy['create_delete_mean_s']} s")
    return [
        {"target": f"automatic snapshot policy over {n:,} disks: every simulated day one snapshot "
                   f"per bound disk, and from day {keep + 1} the snapshots of {keep} days before "
                   f"deleted", "pass": policy["ok"],
         "details": ("wrong on " if wrong else "e.g. ") + shown},
        {"target": f"a simulated day (POST /clock advance 1d) over {n:,} bound disks < "
                   f"{limit:g} s wall, every day, deletions included",
         "pass": bool(days) and policy["max_s"] < limit,
         "details": "; ".join(phases) + f"; slowest {policy['max_s']} s"},
    ]


def src_fingerprint() -> str:
    """A hash of the server's source, to notice src/ changing under a running benchmark."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((ROOT / "src").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".toml", ".ini"):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def machine_info() -> dict:
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
                           capture_output=True, text=True).stdout.strip()
    found = shutil.which("wrk")
    wrk_version = (subprocess.run([found, "-v"], capture_output=True, text=True) if found
                   else subprocess.CompletedProcess([], 0, "wrk not installed", ""))
    import uvicorn

    return {"cpus": os.cpu_count(), "cpu_model": cpu, "python": platform.python_version(),
            "kernel": platform.release(), "uvicorn": uvicorn.__version__,
            "wrk": (wrk_version.stdout + wrk_version.stderr).split("\n")[0].split(" Copyright")[0].strip(),
            "commit": git + (" (src/ modified)" if dirty else ""),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def fmt_size(size) -> str:
    return "-" if size is None else f"{size:,}"


def _run_rows(runs: list[Run], all_runs: list[Run]) -> list[str]:
    rows = []
    for r in runs:
        reference = FLOOR_OF.get(r.group)
        floor = find(all_runs, FLOOR, r.size, r.connections, reference) if reference else None
        ratio = f"{r.rps / floor.rps:.0%}" if floor else "-"
        rate = (f"{r.rps:,.0f} ({r.disks_per_second:,.0f} disks/s)" if r.group == "create"
                else f"{r.rps:,.0f} ({r.rps / 2:,.0f} cycles/s)" if r.group == "attach"
                else f"{r.rps:,.0f}")
        rows.append(f"| {r.scenario} | {fmt_size(r.size)} | {r.connections} | {rate} | "
                    f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.cpu_us_per_req:,.0f} | "
                    f"{r.cpu_util:.0%} | {ratio} | {r.response_bytes or '-'} | "
                    f"{', '.join(f'{x:,.0f}' for x in r.rps_samples)} |")
    return rows


def _ratio_table(runs: list[Run], names: list[str], sizes: list[int], group: str,
                 unit: str) -> list[str]:
    small, large = sizes[0], sizes[-1]
    out = ["", f"### {large:,} {unit} vs {small:,} {unit} (req/s ratio)", "",
           "| scenario | c=1 | c=32 |", "|---|---:|---:|"]
    for name in names:
        cells = []
        for c in CONNECTIONS:
            a, b = find(runs, name, small, c, group), find(runs, name, large, c, group)
            cells.append(f"{b.rps / a.rps:.0%}" if a and b else "-")
        out.append(f"| {name} | {' | '.join(cells)} |")
    return out


def render(data: dict, targets: list[dict], info: dict, args) -> str:
    runs, sizes, startup = data["runs"], data.get("sizes") or [], data.get("startup")
    flags = (" --quick" if args.quick else "") + (f" --only {args.only}" if args.only else "")
    out = [BEGIN, "", f"Generated by `bench/run.py{flags}` on "
           f"{info['date']}, commit {info['commit']}: {info['cpus']} CPUs ({info['cpu_model']}), "
           f"Python {info['python']}, uvicorn {info['uvicorn']}, {info['wrk']}. "
           f"{args.duration:g} s per run after a {args.warmup:g} s warm-up, best of "
           f"{args.repeat} interleaved round(s); "
           + ("servers pinned to CPU 0, wrk to CPU 1." if args.pinned else "no CPU pinning.")
           + f" Total time {info['total_seconds']:.0f} s. Source fingerprint "
           f"{info['src_fingerprint']}.", ""]
    if info.get("carried"):
        out += ["The settings above are this run's, for the parts it measured. Carried over "
                "from earlier runs, not measured by this one: "
                + "; ".join(f"{part} ({p.get('date')}, commit {p.get('commit')}, source "
                            f"fingerprint {p.get('src_fingerprint')})"
                            for part, p in info["carried"].items()) + ".", ""]
    if info.get("warning"):
        out += [f"**Warning:** {info['warning']}", ""]
    out += ["### Targets", "", "| target | result | measured |", "|---|---|---|"]
    out += [f"| {t['target']} | **{'PASS' if t['pass'] else 'FAIL'}** | {t['details']} |"
            for t in targets]
    header = ("| scenario | {unit} | conn | req/s | p50 ms | p99 ms | server CPU µs/req | "
              "server CPU use | vs floor | reply bytes | req/s of each round |")
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    main_runs = [r for r in runs if r.group not in SNAPSHOT_GROUPS]
    if main_runs:
        out += ["", "### All runs", "", header.format(unit="disks"), rule]
        out += _run_rows(main_runs, runs)
    if len(sizes) > 1 and any(r.group == "describe" for r in runs):
        out += _ratio_table(runs, [name for name, _ in describe_scenarios(Seed(disk_ids=["x"]))],
                            sizes, "describe", "disks")
    snapshot_runs = [r for r in runs if r.group in SNAPSHOT_GROUPS]
    snapshot_sizes = data.get("snapshot_sizes") or []
    if snapshot_runs:
        out += ["", "### DescribeSnapshots", "", header.format(unit="snapshots"), rule]
        out += _run_rows(snapshot_runs, runs)
        if len(snapshot_sizes) > 1:
            out += _ratio_table(runs, [n for n, _ in snapshot_scenarios(SnapshotSeed())],
                                snapshot_sizes, "snapshots", "snapshots")
        seeded = data.get("snapshot_seed_seconds") or {}
        out += ["", "- Seeding through a state import (POST /reset, then POST /state; document "
                "built by the script): " + "; ".join(f"{k:,} snapshots in {v:.1f} s"
                                                      for k, v in seeded.items()) + "."]
    policy = data.get("policy")
    if policy:
        out += ["", "### Automatic snapshot policy", "",
                f"One daily policy (RetentionDays {policy['retention_days']}) bound to "
                f"{policy['disks']:,} elastic disks attached to {policy['instances']:,} running "
                f"instances, instant timing, clock frozen between advances; seeded by state import "
                f"in {policy['seed_seconds']:.1f} s. Each row is one `POST /_cbslocal/clock "
                '{"advance": "1d"}`, timed by the client.', "",
                "| day | wall s | server CPU s | snapshots created | snapshots deleted | "
                "snapshots after | moves applied | (created + deleted) / wall s |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in policy["days"]:
            rate = (r["created"] + r["deleted"]) / r["wall_s"] if r["wall_s"] else 0
            out.append(f"| {r['day']}{'' if r['ok'] else ' (wrong)'} | {r['wall_s']:.2f} | "
                       f"{r['server_cpu_s']:.2f} | {r['created']:,} | {r['deleted']:,} | "
                       f"{r['snapshots_after']:,} | {r['applied']:,} | {rate:,.0f} |")
    seeded = data.get("seed_seconds") or {}
    if startup:
        out += ["", "### Start-up", "",
                f"- First successful signed DescribeDisks after spawning `cbslocal serve` on a fresh "
                f"data dir: median **{startup['fresh_median_s']} s** (samples "
                f"{', '.join(map(str, startup['fresh_samples_s']))} s)."]
        if "existing_error" in startup:
            out.append(f"- Restart on the existing {sizes[-1]:,}-disk data dir **failed**: "
                       f"{startup['existing_error']}")
        if "existing_median_s" in startup:
            out.append(f"- On the existing data dir with {sizes[-1]:,} disks: median "
                       f"{startup['existing_median_s']} s (samples "
                       f"{', '.join(map(str, startup['existing_samples_s']))} s).")
    elif seeded:
        out += ["", "### Seeding", ""]
    if seeded:
        out.append("- Seeding through signed CreateDisks (DiskCount 50, 4 client threads): "
                   + "; ".join(f"to {k:,} disks in {v:.1f} s" for k, v in seeded.items()) + ".")
    out += ["", END]
    return "\n".join(out)


def write_results(section: str, results_md: Path) -> None:
    if results_md.exists():
        text = results_md.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            results_md.write_text(head + section + tail)
            return
        results_md.write_text(text.rstrip() + "\n\n## Results\n\n" + section + "\n")
        return
    results_md.write_text("# cbslocal benchmark results\n\n## Results\n\n" + section + "\n")


# --- parts, and carrying the parts not run over from the last results -------------------------------
PARTS = ("describe", "snapshots", "create", "attach", "policy", "startup")
PART_GROUPS = {"describe": ("reference", "describe"), "snapshots": SNAPSHOT_GROUPS,
               "create": ("create",), "attach": ("attach",)}


def carry_over(results_json: Path, selected: set[str], data: dict) -> dict[str, dict]:
    """Fill `data` with what the existing results.json holds for the parts this run does not
    measure; returns {part: where it came from (date, commit, source fingerprint)}."""
    try:
        old = json.loads(results_json.read_text())
    except (OSError, ValueError):
        return {}
    machine = old.get("machine") or {}
    fallback = {k: machine.get(k) for k in ("date", "commit", "src_fingerprint")}
    origins = old.get("parts") or {}
    carried: dict[str, dict] = {}
    runs = {part: [] for part in PART_GROUPS}
    for raw in old.get("runs") or []:
        for part, groups in PART_GROUPS.items():
            if raw.get("group") in groups and part not in selected:
                runs[part].append(Run(**raw))
    for part, part_runs in runs.items():
        if part_runs:
            data["part_runs"][part] = part_runs
            carried[part] = origins.get(part, fallback)
    if "describe" in carried:
        data["sizes"] = old.get("sizes") or []
        data["seed_seconds"] = {int(k): v for k, v in (old.get("seed_seconds") or {}).items()}
    if "snapshots" in carried:
        data["snapshot_sizes"] = old.get("snapshot_sizes") or []
        data["snapshot_seed_seconds"] = {int(k): v for k, v in
                                         (old.get("snapshot_seed_seconds") or {}).items()}
    for part in ("startup", "policy"):
        if part not in selected and old.get(part):
            data[part] = old[part]
            carried[part] = origins.get(part, fallback)
    return carried


# --- main --------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 s runs, one round, fewer start-up samples")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated parts to run, of {','.join(PARTS)} (default: all); "
                             "when writing, the other parts are carried over from results.json")
    parser.add_argument("--sizes", default="1000,100000",
                        help="disk counts to measure DescribeDisks at (ascending)")
    parser.add_argument("--snapshot-sizes", default="1000,100000",
                        help="snapshot counts to measure DescribeSnapshots at (ascending)")
    parser.add_argument("--policy-disks", type=int, default=10000,
                        help="disks bound to the automatic snapshot policy")
    parser.add_argument("--policy-days", type=int, default=10,
                        help="simulated days to advance the clock by, one at a time (more than "
                             f"RetentionDays={POLICY_RETENTION_DAYS} to see deletions)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of warm-up per run")
    parser.add_argument("--repeat", type=int, default=None,
                        help="interleaved rounds per scenario; the best is kept (default 2)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the servers to CPU 0 and wrk to CPU 1")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--no-write", action="store_true",
                        help="print the results instead of writing RESULTS.md and results.json")
    parser.add_argument("--results-dir", type=Path, default=BENCH,
                        help="where RESULTS.md and results.json are read and written (default: "
                             "bench/)")
    args = parser.parse_args()
    args.duration = args.duration or (3 if args.quick else 5)
    args.warmup = args.warmup if args.warmup is not None else 1
    args.repeat = args.repeat or (1 if args.quick else 2)
    args.pinned = not args.no_pin and (os.cpu_count() or 1) >= 2 and bool(shutil.which("taskset"))
    if args.pinned:
        PIN["server"], PIN["wrk"] = ["taskset", "-c", "0"], ["taskset", "-c", "1"]
    selected = set(PARTS) if not args.only else {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = selected - set(PARTS)
    if unknown or not selected:
        parser.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}; "
                     f"choose among {', '.join(PARTS)}")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    snapshot_sizes = sorted(int(s) for s in args.snapshot_sizes.split(","))
    if args.policy_days < 1 or args.policy_disks < 1:
        parser.error("--policy-days and --policy-disks must be at least 1")
    results_md = args.results_dir / RESULTS_MD.name
    results_json = args.results_dir / RESULTS_JSON.name
    for var in PROXY_VARS:
        os.environ.pop(var, None)

    tc3._self_test()
    wrk = ensure_wrk() if selected & {"describe", "snapshots", "create", "attach"} else None
    workdir = Path(tempfile.mkdtemp(prefix="cbslocal-bench-"))
    log(f"scratch directory {workdir}; parts: {', '.join(p for p in PARTS if p in selected)}")
    servers: list[Server] = []
    data: dict = {"part_runs": {}, "sizes": [], "seed_seconds": {}, "startup": None,
                  "snapshot_sizes": [], "snapshot_seed_seconds": {}, "policy": None}
    started = time.perf_counter()
    fingerprint = src_fingerprint()
    commit_at_start = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                     capture_output=True, text=True).stdout.strip()
    try:
        floor = None
        if selected & {"describe", "snapshots"}:
            floor = Server("floor", [PYTHON, str(BENCH / "floor_app.py")], workdir,
                           env={"FLOOR_DB": str(workdir / "floor.db")})
            servers.append(floor)
        if "describe" in selected:
            bare = Server("bare", [PYTHON, str(BENCH / "bare_app.py")], workdir)
            cbs = start_cbslocal(workdir, "cbslocal")
            servers += [bare, cbs]
            log(f"bare :{bare.port}  floor :{floor.port}  cbslocal :{cbs.port}")
            seed = Seed()
            runs: list[Run] = []
            for size in sizes:
                seed_to(cbs, seed, size)
                data["seed_seconds"][size] = seed.seconds
                if not seed.instance_ids:
                    seed_instances(cbs, seed)
                log(f"--- {size:,} disks")
                runs += size_phase(wrk, bare, floor, cbs, seed, size, args, workdir)
            data["part_runs"]["describe"], data["sizes"] = runs, sizes
            cbs.stop()
            servers.remove(cbs)
        if "snapshots" in selected:
            log("--- DescribeSnapshots (fresh data dir, seeded by state import)")
            data["part_runs"]["snapshots"], data["snapshot_seed_seconds"] = snapshot_phase(
                wrk, floor, args, workdir, snapshot_sizes)
            data["snapshot_sizes"] = snapshot_sizes
        for server in servers:
            server.stop()
        servers.clear()
        if "create" in selected:
            log("--- CreateDisks (fresh data dir)")
            data["part_runs"]["create"] = create_runs(wrk, workdir, args)
        if "attach" in selected:
            log("--- AttachDisks + DetachDisks (fresh data dir)")
            data["part_runs"]["attach"] = attach_detach_runs(wrk, workdir, args)
        if "policy" in selected:
            log(f"--- automatic snapshot policy over {args.policy_disks:,} disks, "
                f"{args.policy_days} simulated days (fresh data dir, seeded by state import)")
            data["policy"] = policy_phase(workdir, args)
        if "startup" in selected:
            log("--- start-up")
            data["startup"] = startup_times(
                workdir, 3 if args.quick else 7,
                workdir / "cbslocal-data" if "describe" in selected else None)
    except BaseException:
        log(f"failed; the scratch directory {workdir} (server logs) is kept")
        raise
    finally:
        for server in servers:
            server.stop()
    info = machine_info()
    info["total_seconds"] = round(time.perf_counter() - started, 1)
    info["src_fingerprint"] = fingerprint
    if src_fingerprint() != fingerprint:
        info["warning"] = (f"src/ changed while the benchmark ran (commit {commit_at_start} at the "
                           f"start, {info['commit']} at the end): the servers started at different "
                           "times may run different code. Rerun on a quiet tree.")
        log("WARNING: " + info["warning"])
    origin = {k: info[k] for k in ("date", "commit", "src_fingerprint")}
    parts = {p: dict(origin, args=sys.argv[1:]) for p in PARTS if p in selected}
    if not args.no_write and selected != set(PARTS):
        info["carried"] = carry_over(results_json, selected, data)
        parts.update(info["carried"])
    data["runs"] = [r for part in PARTS for r in data["part_runs"].get(part, [])]
    targets = evaluate(data)
    section = render(data, targets, info, args)
    if not args.no_write:
        results_json.write_text(json.dumps({
            "machine": info, "args": {k: str(v) if isinstance(v, Path) else v
                                      for k, v in vars(args).items()},
            "parts": {p: parts[p] for p in PARTS if p in parts},
            "sizes": data["sizes"], "runs": [asdict(r) for r in data["runs"]],
            "startup": data["startup"], "targets": targets, "seed_seconds": data["seed_seconds"],
            "snapshot_sizes": data["snapshot_sizes"],
            "snapshot_seed_seconds": data["snapshot_seed_seconds"], "policy": data["policy"]},
            indent=2) + "\n")
        write_results(section, results_md)
    else:
        print(section)
    for t in targets:
        log(f"{'PASS' if t['pass'] else 'FAIL'}  {t['target']}  ({t['details']})")
    log(f"done in {info['total_seconds']} s"
        + ("" if args.no_write else f"; results in {results_md} and {results_json}"))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
