"""Where does cbslocal spend its time? Samples the server with py-spy while wrk drives one scenario
of bench/run.py, then prints the hottest functions (self and inclusive time).

    .venv/bin/pip install py-spy        # once; sampling another process needs root
    .venv/bin/python bench/profile.py --scenario id --size 100000 [--connections 32] [--duration 10]

Scenarios: id, limit20, zone, tag (DescribeDisks as in run.py), create1, create50 (CreateDisks).
Writes the collapsed stacks (for flamegraph.pl or speedscope) to
bench/out/profiles/<scenario>-<size>.txt, which git ignores, unless --out is given.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402


def hot_spots(collapsed: Path, top: int, focus: str) -> str:
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        self_time[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    out = [f"{total} samples", "", f"top {top} by self time (all code):"]
    out += [f"  {n / total:6.1%}  {frame}" for frame, n in self_time.most_common(top)]
    out += ["", f"top {top} by inclusive time (frames in {focus}):"]
    mine = [(frame, n) for frame, n in inclusive.most_common() if focus in frame]
    out += [f"  {n / total:6.1%}  {frame}" for frame, n in mine[:top]]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="id",
                        choices=["id", "limit20", "zone", "tag", "create1", "create50"])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    for var in run.PROXY_VARS:
        os.environ.pop(var, None)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        sys.exit("py-spy is missing: .venv/bin/pip install py-spy")
    wrk = run.ensure_wrk()
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        run.PIN["server"], run.PIN["wrk"] = ["taskset", "-c", "0"], ["taskset", "-c", "1"]
    workdir = Path(tempfile.mkdtemp(prefix="cbslocal-profile-"))
    out = args.out or run.BENCH / "out" / "profiles" / f"{args.scenario}-{args.size}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    server = run.start_cbslocal(workdir, "cbslocal")
    try:
        seed = run.Seed()
        if args.scenario.startswith("create"):
            count = int(args.scenario[len("create"):])
            action, params = "CreateDisks", run.batch_params(0, count)
        else:
            run.seed_to(server, seed, args.size)
            names = dict(zip(["id", "limit20", "zone", "tag"], run.describe_scenarios(seed)))
            action, params = "DescribeDisks", names[args.scenario][1]
        body = run.tc3.encode(params)
        headers = run.tc3.signed_headers(action, body, host=f"127.0.0.1:{server.port}")
        run.check_sample(server, action, headers, body, args.scenario)
        script = run.wrk_script(headers, body, workdir / "scenario.lua")
        threads = 1 if args.connections == 1 else 2
        load = subprocess.Popen(run.PIN["wrk"] + [
            wrk, f"-t{threads}", f"-c{args.connections}", f"-d{args.duration + 2}s", "--latency",
            "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{server.port}/"],
            stdout=subprocess.PIPE, text=True, env=run.clean_env())
        time.sleep(1)
        subprocess.run([py_spy, "record", "-p", str(server.pid), "-d", str(args.duration),
                        "-r", str(args.rate), "-f", "raw", "--nolineno", "-o", str(out)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        report = load.communicate()[0]
        line = next(l for l in report.splitlines() if l.startswith("BENCHJSON "))
        print(f"{action} {args.scenario} at {args.size:,} disks, c={args.connections} "
              f"(under py-spy): {line[len('BENCHJSON '):]}")
        print(hot_spots(out, args.top, "cbslocal"))
        print(f"\ncollapsed stacks: {out}")
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
