"""Several cbslocal server processes on one database, as a team shares one emulator: each its own
port (so a test chooses which process serves a call), all on one PostgreSQL; and what the race and
crash suites need to call them at the same moment and to check the store afterwards."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tencentcloud.cbs.v20170312 import models as cbs_models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import cvm_client as cvm_module
from tencentcloud.cvm.v20170312 import models as cvm_models

from tests.e2e.server import REGION, Server, cbs_client, client_profile, credential

OK = "OK"


@dataclass
class Cluster:
    servers: list[Server]

    @classmethod
    def start(cls, base: Path, count: int, database_url: str, timing: str = "instant") -> "Cluster":
        """`count` servers on `database_url`, started at once (they take turns to migrate)."""
        servers = [Server(base / f"p{n}", timing=timing, database_url=database_url)
                   for n in range(count)]
        with ThreadPoolExecutor(max_workers=count) as pool:
            list(pool.map(lambda s: s.start(), servers))
        return cls(servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def __getitem__(self, n: int) -> Server:
        return self.servers[n]

    def check(self, n: int = 0) -> list[dict]:
        """The consistency checker's violations, asked of process `n`."""
        answer = self.servers[n].control("GET", "/check")
        assert answer.status_code == 200, answer.text
        return answer.json()["violations"]


def request(model, **fields):
    req = model()
    req.from_json_string(json.dumps(fields))
    return req


def call(server: Server, action: str, **fields):
    """A CBS action (or a CVM one: RunInstances, DescribeInstances, …) through the official SDK."""
    if hasattr(cbs_models, f"{action}Request"):
        client, models = cbs_client(server), cbs_models
    else:
        client = cvm_module.CvmClient(credential(), REGION, client_profile(server))
        models = cvm_models
    return getattr(client, action)(request(getattr(models, f"{action}Request"), **fields))


def outcome(server: Server, action: str, **fields) -> tuple[str, object]:
    """(OK, the response) or (the error code, None)."""
    try:
        return OK, call(server, action, **fields)
    except TencentCloudSDKException as failure:
        return failure.code, None


def at_once(calls: list[tuple[Server, str, dict]]) -> list[tuple[str, object]]:
    """Every (server, action, fields) call sent at the same moment, each from its own thread;
    their outcomes in the same order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(position: int, server: Server, action: str, fields: dict) -> None:
        try:
            barrier.wait(timeout=30)
            results[position] = outcome(server, action, **fields)
        except BaseException as failure:  # noqa: BLE001 — reported by the assertion below
            results[position] = ("(exception)", failure)

    threads = [threading.Thread(target=worker, args=(i, *c), daemon=True)
               for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(r is not None for r in results), "a racing call never returned"
    return results
