"""Accounts and keys through `cbslocal admin …` and the HTTP control plane."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.server import clean_env, cbs_client
from tests.e2e.test_python_sdk import create, describe


def admin(server, *args: str) -> subprocess.CompletedProcess:
    """`cbslocal admin` as the operator runs it beside the server: it finds the admin token (which
    answers holding secret keys need) in the data dir."""
    return subprocess.run([sys.executable, "-m", "cbslocal", "admin", "--endpoint", server.url,
                           "--data-dir", str(server.data_dir), *args],
                          capture_output=True, text=True, env=clean_env(), timeout=60)


def test_admin_account_create_gives_working_credentials(server):
    done = admin(server, "account", "create", "--name", "cli-team")
    assert done.returncode == 0, done.stderr
    account = json.loads(done.stdout)
    assert account["SecretId"].startswith("AKID") and len(account["SecretId"]) == 36
    assert account["AccountId"].isdigit()
    client = cbs_client(server, account["SecretId"], account["SecretKey"])
    (disk_id,) = create(client)
    assert describe(client).TotalCount == 1
    listed = json.loads(admin(server, "account", "list").stdout)["accounts"]
    assert {"AccountId": account["AccountId"], "AppId": account["AppId"], "Name": "cli-team"} in listed


def test_admin_create_key_and_temporary_credentials(server):
    key = json.loads(admin(server, "account", "create-key", "100000000001").stdout)
    assert key["AccountId"] == "100000000001" and "Token" not in key
    assert describe(cbs_client(server, key["SecretId"], key["SecretKey"])).TotalCount >= 0
    temp = json.loads(admin(server, "account", "create-key", "100000000001", "--ttl", "600").stdout)
    assert temp["Token"] and temp["ExpiresAt"] > 0
    client = cbs_client(server, temp["SecretId"], temp["SecretKey"], token=temp["Token"])
    assert describe(client).TotalCount >= 0


def test_admin_health(server):
    done = admin(server, "health")
    assert done.returncode == 0 and json.loads(done.stdout)["status"] == "ok"


@pytest.mark.parametrize("args,message", [
    (("account", "create-key", "999999999999"), "account 999999999999 does not exist"),
    (("account", "create-key", "100000000001", "--ttl", "-5"), "`ttl`"),
])
def test_admin_errors_exit_non_zero_with_a_message(server, args, message):
    done = admin(server, *args)
    assert done.returncode == 1
    assert message in done.stderr


def test_admin_unreachable_server():
    done = subprocess.run([sys.executable, "-m", "cbslocal", "admin", "--endpoint",
                           "http://127.0.0.1:1", "health"], capture_output=True, text=True,
                          env=clean_env(), timeout=60)
    assert done.returncode == 1 and "cannot reach cbslocal" in done.stderr


@pytest.mark.parametrize("method,path,body,status,message", [
    ("POST", "/accounts", {"colour": "red"}, 400, "unknown key 'colour'"),
    ("POST", "/accounts", {"name": 5}, 400, "`name`"),
    ("POST", "/accounts/100000000001/keys", {"ttl": "soon"}, 400, "`ttl`"),
    ("POST", "/accounts/100000000001/keys", {"ttl": True}, 400, "`ttl`"),
    ("POST", "/accounts/1/keys", {}, 404, "account 1 does not exist"),
    ("GET", "/nothing-here", None, 404, "no control endpoint"),
    ("DELETE", "/accounts", None, 405, "DELETE is not allowed"),
])
def test_control_plane_bad_input(server, method, path, body, status, message):
    reply = server.control(method, path, body)
    assert reply.status_code == status
    assert message in reply.json()["error"]


def test_control_plane_rejects_malformed_json(server):
    import requests

    reply = requests.post(f"{server.url}/_cbslocal/accounts", data=b"{not json", timeout=10,
                          headers={"Content-Type": "application/json",
                                   "Authorization": f"Bearer {server.admin_token}"},
                          proxies={"http": None, "https": None})
    assert reply.status_code == 400 and "not valid JSON" in reply.json()["error"]


def test_metrics_count_calls(server):
    describe(cbs_client(server))
    text = server.control("GET", "/metrics").text
    assert 'cbslocal_api_calls_total{action="DescribeDisks",code="OK",service="cbs"}' in text


def test_one_structured_log_line_per_call_without_secrets(fresh_server):
    client = cbs_client(fresh_server)
    describe(client)
    failure = None
    try:
        client.call_json("DescribeDisks", {"Limit": 500})
    except Exception as error:  # noqa: BLE001 - the SDK's exception carries the RequestId
        failure = error
    lines = [json.loads(line) for line in fresh_server.log_text().splitlines()
             if line.startswith('{"event":"api_call"')]
    assert [(l["action"], l["code"]) for l in lines] == [("DescribeDisks", "OK"),
                                                         ("DescribeDisks", "InvalidParameterValue")]
    assert lines[1]["request_id"] == failure.requestId
    assert lines[0]["account"] == "100000000001" and lines[0]["region"] == "ap-guangzhou"
    # Only the ready line shows the default key (it is published); no log line does.
    logged = [line for line in fresh_server.log_text().splitlines()
              if not line.startswith('{"event": "ready"')]
    assert not any("cbslocalDefaultSecretKey00000000" in line for line in logged)
