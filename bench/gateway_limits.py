"""How the gateway holds up against hostile clients (issue 10): precise numbers for what
tests/e2e/test_gateway_limits.py only bounds loosely.

    /work/main/.venv/bin/python bench/gateway_limits.py [--rounds 30]

Starts `cbslocal serve --timing instant` on a fresh data dir (default limits and timeouts) and
measures, printing one line per result:
  1. a normal signed DescribeDisks (one keep-alive connection), alone: the baseline;
  2. a request whose Authorization is `Credential=` + 100,000 spaces (over the head limit: 431),
     and one of 60,000 spaces (under it: it reaches the signature parser, AuthFailure envelope);
  3. the normal client while 4 threads send the 100,000- and 60,000-space requests in a loop;
  4. the normal client while 200 connections are held open (100 silent, 100 dripping a header);
  5. how long the server keeps a silent connection and an idle keep-alive connection.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import tc3  # noqa: E402

CBSLOCAL = str(Path(sys.executable).parent / "cbslocal")
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "ALL_PROXY", "NO_PROXY")


def start_server(data_dir: str) -> tuple[subprocess.Popen, int]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    process = subprocess.Popen(
        [CBSLOCAL, "serve", "--port", "0", "--data-dir", data_dir, "--timing", "instant",
         "--log-level", "WARNING"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
    for line in process.stderr:
        if line.startswith(b'{"event": "ready"'):
            port = json.loads(line)["port"]
            threading.Thread(target=process.stderr.read, daemon=True).start()  # keep it drained
            wait_listening(port)
            return process, port
    raise RuntimeError("cbslocal did not start")


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


# --- requests ------------------------------------------------------------------------------------
def hostile_request(port: int, spaces: int) -> bytes:
    body = tc3.encode({"Limit": 1})
    headers = tc3.signed_headers("DescribeDisks", body, host=f"127.0.0.1:{port}")
    headers["Authorization"] = "TC3-HMAC-SHA256 Credential=" + " " * spaces + "x"
    headers["Content-Length"] = str(len(body))
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + body


def hostile_exchange(port: int, request: bytes) -> tuple[float, str]:
    """(seconds until the whole answer arrived, its status and error code)."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it was all read: the answer is waiting
        status, body = read_answer(sock)
    elapsed = time.perf_counter() - started
    if status == "200":
        status += " " + json.loads(body)["Response"]["Error"]["Code"]
    return elapsed, status


def read_answer(sock: socket.socket) -> tuple[str, bytes]:
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        if not chunk:
            return "closed", b""
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head.split(b" ", 2)[1].decode(), body


def normal_latencies(port: int, rounds: int, pause: float = 0.0) -> list[float]:
    client = tc3.Client(port)
    latencies = []
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            client.call("DescribeDisks", {"Limit": 1})
            latencies.append(time.perf_counter() - started)
            time.sleep(pause)
    finally:
        client.close()
    return latencies


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (f"n={len(ordered)} p50={statistics.median(ordered) * 1000:.2f} ms "
            f"p99={p99 * 1000:.2f} ms max={ordered[-1] * 1000:.2f} ms")


# --- scenarios -----------------------------------------------------------------------------------
def under_hostile_load(port: int, rounds: int) -> tuple[list[float], int]:
    requests = [hostile_request(port, 100_000), hostile_request(port, 60_000)]
    stop = threading.Event()
    sent = [0]

    def attack(request: bytes) -> None:
        while not stop.is_set():
            hostile_exchange(port, request)
            sent[0] += 1

    attackers = [threading.Thread(target=attack, args=(requests[i % 2],)) for i in range(4)]
    for thread in attackers:
        thread.start()
    try:
        time.sleep(0.2)
        return normal_latencies(port, rounds, pause=0.02), sent[0]
    finally:
        stop.set()
        for thread in attackers:
            thread.join()


def under_held_connections(port: int, rounds: int) -> list[float]:
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
    try:
        for sock in slow:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        latencies = []
        for _ in range(rounds):
            for sock in slow:
                sock.send(b"s")
            latencies += normal_latencies(port, 1)
        return latencies
    finally:
        for sock in silent + slow:
            sock.close()


def kept_open_for(port: int, first: bytes = b"", give_up: float = 60.0) -> str:
    """How long the server keeps a connection that sent `first`, then nothing."""
    with socket.create_connection(("127.0.0.1", port), timeout=give_up) as sock:
        sock.sendall(first)
        started = time.perf_counter()
        try:
            while sock.recv(65536):
                pass
        except ConnectionResetError:
            pass
        except TimeoutError:
            return f"never (still open after {give_up:.0f} s)"
        return f"{time.perf_counter() - started:.2f} s"


def report(label: str, result: str) -> None:
    print(f"{label:<46}{result}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="cbslocal-gateway-bench-") as data_dir:
        process, port = start_server(data_dir)
        try:
            normal_latencies(port, 5)  # warm up
            report("1. normal DescribeDisks, alone", summary(normal_latencies(port, rounds)))
            for spaces in (100_000, 60_000):
                results = [hostile_exchange(port, hostile_request(port, spaces)) for _ in range(5)]
                statuses = ", ".join(sorted({status for _, status in results}))
                report(f"2. Authorization of {spaces:,} spaces",
                       f"{summary([elapsed for elapsed, _ in results])} -> {statuses}")
            latencies, sent = under_hostile_load(port, rounds)
            report("3. normal client, 4 hostile loops",
                   f"{summary(latencies)} ({sent} hostile requests meanwhile)")
            report("4. normal client, 200 held connections",
                   summary(under_held_connections(port, rounds)))
            report("5. a silent connection is closed after", kept_open_for(port))
            one_request = hostile_request(port, 0)  # answered; the connection stays open, idle
            report("   an idle keep-alive one, after", kept_open_for(port, one_request))
            report("   one that sent half its headers, after",
                   kept_open_for(port, b"POST / HTTP/1.1\r\nHost: x\r\n"))
        finally:
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
