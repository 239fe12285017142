"""Writes that arrive together share one transaction (group commit), yet each keeps its own
outcome: a refused call changes nothing, an accepted one is durable once answered."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.e2e.server import Server, cbs_client
from tests.e2e.test_python_sdk import create, describe


def attempt(server, **fields):
    try:
        return ("ok", create(cbs_client(server), **fields))
    except TencentCloudSDKException as failure:
        return ("error", failure.code)


def test_concurrent_creates_keep_their_own_outcomes(fresh_server):
    mark = uuid.uuid4().hex
    tags = [{"Key": "batch", "Value": mark}]
    calls = [dict(DiskCount=2, Tags=tags) if i % 3 else dict(DiskType="CLOUD_TSSD", Tags=tags)
             for i in range(48)]
    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = list(pool.map(lambda fields: attempt(fresh_server, **fields), calls))
    accepted = [ids for kind, ids in outcomes if kind == "ok"]
    refused = [code for kind, code in outcomes if kind == "error"]
    assert len(accepted) == 32 and all(len(ids) == 2 for ids in accepted)
    assert refused == ["InvalidParameter.DiskConfigNotSupported"] * 16
    listed = describe(cbs_client(fresh_server), Filters=[{"Name": "tag:batch", "Values": [mark]}],
                      Limit=100)
    assert listed.TotalCount == 64
    assert sorted(d.DiskId for d in listed.DiskSet) == sorted(i for ids in accepted for i in ids)


def test_concurrent_retries_of_one_client_token_create_once(fresh_server):
    token = f"tok-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda _: attempt(fresh_server, DiskCount=3, ClientToken=token),
                                 range(16)))
    answers = {tuple(ids) for kind, ids in outcomes if kind == "ok"}
    assert len(answers) == 1 and all(kind == "ok" for kind, _ in outcomes)
    assert describe(cbs_client(fresh_server)).TotalCount == 3


def test_acknowledged_writes_survive_a_kill(tmp_path):
    server = Server(tmp_path / "data").start()
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            outcomes = list(pool.map(lambda _: attempt(server), range(40)))
        acknowledged = {ids[0] for kind, ids in outcomes if kind == "ok"}
        assert len(acknowledged) == 40
    finally:
        server.process.kill()  # no shutdown: what was answered must already be on disk
        server.process.wait()
    restarted = Server(tmp_path / "data").start()
    try:
        listed = describe(cbs_client(restarted), Limit=100)
        assert {d.DiskId for d in listed.DiskSet} == acknowledged
    finally:
        restarted.stop()
