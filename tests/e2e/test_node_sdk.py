"""The official Node SDK (tencentcloud-sdk-nodejs 4.1.313) against a real cbslocal process.

Every call goes through `node/run.js`, the SDK's generated `cbs.v20170312.Client` (or its
`CommonClient` for another API version). Node starts in ~100 ms, so the calls are batched: one
Node process per module runs every call in order, and the tests read their own results.

Node-specific traits exercised here (protocol.md §1, §4.3, §7): it signs the service `127` (or
`localhost:PORT`) and the host without its port, sends unknown and wrongly-typed parameters as
given, sends `X-TC-Language` only when `profile.language` is set, and ignores `no_proxy` (so it
runs with `clean_env()`).
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e.server import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, REGION, ZONE, Server, clean_env

NODE_DIR = Path(__file__).with_name("node")
RUNNER = NODE_DIR / "run.js"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DISK_ID = re.compile(r"disk-[a-z0-9]{8}")
SDK_EXCEPTION = "TencentCloudSDKHttpException"

# The four request shapes Node can send (protocol.md §2: A, B, E, F).
SHAPES = {
    "post-tc3": {"reqMethod": "POST", "signMethod": "TC3-HMAC-SHA256"},
    "get-tc3": {"reqMethod": "GET", "signMethod": "TC3-HMAC-SHA256"},
    "post-v1-sha256": {"reqMethod": "POST", "signMethod": "HmacSHA256"},
    "get-v1-sha1": {"reqMethod": "GET", "signMethod": "HmacSHA1"},
}


def run_node(calls: list[dict], **defaults) -> list[dict]:
    """Run `calls` (dicts of run.js call keys) in one Node process; one result per call."""
    spec = {"defaults": defaults, "calls": calls}
    proc = subprocess.run(["node", str(RUNNER)], input=json.dumps(spec), capture_output=True,
                          text=True, env=clean_env(), cwd=NODE_DIR, timeout=120)
    assert proc.returncode == 0, f"run.js failed:\n{proc.stderr}"
    results = json.loads(proc.stdout)
    assert len(results) == len(calls)
    return results


def client_defaults(server: Server) -> dict:
    return {"endpoint": server.endpoint, "secretId": DEFAULT_SECRET_ID,
            "secretKey": DEFAULT_SECRET_KEY, "region": REGION}


def sdk_disk_fields() -> set[str]:
    from tencentcloud.cbs.v20170312 import models
    return {name.lstrip("_") for name in vars(models.Disk())}


class Batch:
    """Calls for one Node run, each under a name; `ref(name, path)` points at an earlier result."""

    def __init__(self):
        self.calls: list[dict] = []
        self.index: dict[str, int] = {}

    def add(self, name: str, action: str, params: dict | None = None, **call) -> None:
        assert name not in self.index, name
        self.index[name] = len(self.calls)
        self.calls.append({"action": action, "params": params or {}, **call})

    def ref(self, name: str, path: str) -> str:
        return f"$ref:{self.index[name]}.{path}"

    def run(self, **defaults) -> dict[str, dict]:
        results = run_node(self.calls, **defaults)
        return {name: results[i] for name, i in self.index.items()}


def create_params(name: str, zone: str = ZONE, disk_type: str = "CLOUD_PREMIUM", **extra) -> dict:
    return {"Placement": {"Zone": zone}, "DiskChargeType": "POSTPAID_BY_HOUR",
            "DiskType": disk_type, "DiskSize": 50, "DiskName": name, **extra}


# --- error cases: (name, call, expected code, text the message must contain) ---------------------
UNKNOWN_AKID = "AKID" + "Unknown0" * 4  # well-formed (36 characters), never issued
assert len(UNKNOWN_AKID) == 36
NOT_AN_AKID = "cbslocalNotAnApiKey00000000000000000"
WRONG_KEY = "wrongSecretKey000000000000000000"
GOOD_CREATE = create_params("node-error-case")

ERROR_CASES: list[tuple[str, dict, str, str | None]] = [
    # authentication, over each request shape
    *[(f"signature-failure-{shape}", {"action": "DescribeDisks", "secretKey": WRONG_KEY, **how},
       "AuthFailure.SignatureFailure", None) for shape, how in SHAPES.items()],
    *[(f"secret-id-not-found-{shape}", {"action": "DescribeDisks", "secretId": UNKNOWN_AKID, **how},
       "AuthFailure.SecretIdNotFound", None) for shape, how in SHAPES.items()],
    ("invalid-secret-id", {"action": "DescribeDisks", "secretId": NOT_AN_AKID},
     "AuthFailure.InvalidSecretId", None),
    ("invalid-secret-id-v1", {"action": "DescribeDisks", "secretId": NOT_AN_AKID,
                              "signMethod": "HmacSHA256"}, "AuthFailure.InvalidSecretId", None),
    ("token-with-permanent-key", {"action": "DescribeDisks", "token": "notIssuedForThisKey"},
     "AuthFailure.TokenFailure", None),
    ("token-with-permanent-key-v1", {"action": "DescribeDisks", "token": "notIssuedForThisKey",
                                     "signMethod": "HmacSHA1", "reqMethod": "GET"},
     "AuthFailure.TokenFailure", None),
    # the temporary-credential cases get their key filled in by the fixture
    ("temporary-key-wrong-token", {"action": "DescribeDisks", "temporary": "wrong-token"},
     "AuthFailure.TokenFailure", None),
    ("temporary-key-wrong-token-v1", {"action": "DescribeDisks", "temporary": "wrong-token",
                                      "signMethod": "HmacSHA256"}, "AuthFailure.TokenFailure", None),
    ("temporary-key-without-token", {"action": "DescribeDisks", "temporary": "no-token"},
     "AuthFailure.TokenFailure", None),
    # routing
    ("invalid-action", {"action": "DescribeDisk", "via": "request"}, "InvalidAction", "DescribeDisk"),
    ("invalid-action-v1", {"action": "DescribeDisk", "via": "request", "signMethod": "HmacSHA1"},
     "InvalidAction", "DescribeDisk"),
    ("no-such-version", {"action": "DescribeDisks", "version": "2099-01-01"},
     "NoSuchVersion", "2099-01-01"),
    ("unsupported-region", {"action": "DescribeDisks", "region": "ap-nowhere"},
     "UnsupportedRegion", "ap-nowhere"),
    ("unsupported-region-get", {"action": "DescribeDisks", "region": "ap-nowhere",
                                "reqMethod": "GET"}, "UnsupportedRegion", "ap-nowhere"),
    ("unsupported-operation", {"action": "DescribeDiskStoragePool", "language": "en-US",
                               "params": {}},
     "UnsupportedOperation", "DescribeDiskStoragePool is not implemented"),
    ("unsupported-protocol-put", {"action": "DescribeDisks", "reqMethod": "PUT"},
     "UnsupportedProtocol", None),
    # parameters
    ("missing-disk-type", {"action": "CreateDisks", "params": {
        k: v for k, v in GOOD_CREATE.items() if k != "DiskType"}}, "MissingParameter", "DiskType"),
    ("missing-zone", {"action": "CreateDisks", "params": {**GOOD_CREATE, "Placement": {}}},
     "MissingParameter", "Placement.Zone"),
    ("missing-disk-size", {"action": "CreateDisks", "params": {
        k: v for k, v in GOOD_CREATE.items() if k != "DiskSize"}}, "MissingParameter", "DiskSize"),
    ("limit-too-large", {"action": "DescribeDisks", "params": {"Limit": 101}},
     "InvalidParameterValue", "Limit"),
    ("limit-too-large-v1", {"action": "DescribeDisks", "params": {"Limit": 101},
                            "signMethod": "HmacSHA1", "reqMethod": "GET"},
     "InvalidParameterValue", "Limit"),
    ("unknown-disk-type", {"action": "CreateDisks", "params": {**GOOD_CREATE, "DiskType": "CLOUD_FOO"}},
     "InvalidParameterValue", "DiskType"),
    ("unknown-zone", {"action": "CreateDisks", "params": {**GOOD_CREATE,
                                                          "Placement": {"Zone": "ap-guangzhou-99"}}},
     "InvalidParameterValue", "Placement.Zone"),
    ("invalid-filter", {"action": "DescribeDisks", "params": {
        "Filters": [{"Name": "no-such-filter", "Values": ["x"]}]}}, "InvalidFilter", "no-such-filter"),
    ("invalid-filter-get", {"action": "DescribeDisks", "reqMethod": "GET", "params": {
        "Filters": [{"Name": "no-such-filter", "Values": ["x"]}]}}, "InvalidFilter", "no-such-filter"),
    ("config-not-supported-tssd", {"action": "CreateDisks", "params": {
        **GOOD_CREATE, "DiskType": "CLOUD_TSSD"}}, "InvalidParameter.DiskConfigNotSupported", None),
    ("config-not-supported-sold-out", {"action": "CreateDisks", "params": {
        **GOOD_CREATE, "Placement": {"Zone": "ap-guangzhou-1"}}},
     "InvalidParameter.DiskConfigNotSupported", None),
    # what only Node can send: undefined parameters and wrong JSON types
    ("unknown-top-level", {"action": "DescribeDisks", "params": {"Foo": 1}}, "UnknownParameter", "Foo"),
    ("unknown-top-level-get", {"action": "DescribeDisks", "reqMethod": "GET", "params": {"Foo": 1}},
     "UnknownParameter", "Foo"),
    ("unknown-top-level-v1", {"action": "DescribeDisks", "signMethod": "HmacSHA256",
                              "params": {"Foo": 1}}, "UnknownParameter", "Foo"),
    ("unknown-nested", {"action": "CreateDisks", "params": {
        **GOOD_CREATE, "Placement": {"Zone": ZONE, "Foo": "bar"}}}, "UnknownParameter", "Placement.Foo"),
    ("unknown-in-list", {"action": "DescribeDisks", "params": {
        "Filters": [{"Name": "zone", "Values": [ZONE], "Foo": 1}]}}, "UnknownParameter", "Foo"),
    ("limit-is-a-word", {"action": "DescribeDisks", "params": {"Limit": "ten"}},
     "InvalidParameter", "Limit"),
    ("disk-ids-not-a-list", {"action": "DescribeDisks", "params": {"DiskIds": "disk-aaaaaaaa"}},
     "InvalidParameter", "DiskIds"),
    ("disk-size-is-bool", {"action": "CreateDisks", "params": {**GOOD_CREATE, "DiskSize": True}},
     "InvalidParameter", "DiskSize"),
    ("placement-is-a-string", {"action": "CreateDisks", "params": {**GOOD_CREATE, "Placement": ZONE}},
     "InvalidParameter", "Placement"),
    ("filter-values-not-a-list", {"action": "DescribeDisks", "params": {
        "Filters": [{"Name": "zone", "Values": ZONE}]}}, "InvalidParameter", "Values"),
]


@pytest.fixture(scope="module")
def node(server):
    """Every Node call of this module, run once in one Node process; results by name."""
    reply = server.control("POST", "/accounts/100000000001/keys", {"ttl": 3600})
    assert reply.status_code == 200, reply.text
    temporary = reply.json()
    batch = Batch()
    run_id = uuid.uuid4().hex[:8]

    # happy path: create, then find it by ID and by filters, over each shape
    for shape, how in SHAPES.items():
        name = f"node-{shape}-{run_id}"
        batch.add(f"create-{shape}", "CreateDisks", create_params(
            name, Tags=[{"Key": "shape", "Value": shape}]), **how)
        batch.add(f"by-id-{shape}", "DescribeDisks",
                  {"DiskIds": [batch.ref(f"create-{shape}", "DiskIdSet.0")]}, **how)
        batch.add(f"by-filter-{shape}", "DescribeDisks", {"Filters": [
            {"Name": "disk-name", "Values": [name]}, {"Name": "tag:shape", "Values": [shape]}],
            "Limit": 5}, **how)

    # localhost:PORT: Node signs the service `localhost:PORT` and the host `localhost`
    local = f"localhost:{server.port}"
    batch.add("localhost-create", "CreateDisks", create_params(f"node-localhost-{run_id}"),
              endpoint=local)
    batch.add("localhost-describe", "DescribeDisks",
              {"DiskIds": [batch.ref("localhost-create", "DiskIdSet.0")]}, endpoint=local)
    batch.add("localhost-describe-v1", "DescribeDisks",
              {"DiskIds": [batch.ref("localhost-create", "DiskIdSet.0")]}, endpoint=local,
              signMethod="HmacSHA1", reqMethod="GET")

    # languages
    bad_filter = {"Filters": [{"Name": "no-such-filter", "Values": ["x"]}]}
    batch.add("english", "DescribeDisks", bad_filter, language="en-US")
    batch.add("english-v1", "DescribeDisks", bad_filter, language="en-US", signMethod="HmacSHA256")
    batch.add("chinese", "DescribeDisks", bad_filter, language="zh-CN")
    batch.add("no-language", "DescribeDisks", bad_filter)
    batch.add("english-auth", "DescribeDisks", secretKey=WRONG_KEY, language="en-US")

    # temporary credentials with their own token work, over TC3 and v1
    creds = {"secretId": temporary["SecretId"], "secretKey": temporary["SecretKey"]}
    batch.add("temporary-ok", "DescribeDisks", {"Limit": 1}, token=temporary["Token"], **creds)
    batch.add("temporary-ok-v1", "DescribeDisks", {"Limit": 1}, token=temporary["Token"],
              signMethod="HmacSHA1", reqMethod="GET", **creds)

    for name, call, _code, _text in ERROR_CASES:
        call = dict(call)
        how = call.pop("temporary", None)
        if how is not None:
            call.update(creds)
            if how == "wrong-token":
                call["token"] = temporary["Token"] + "x"
        batch.add(name, **call)
    return batch.run(**client_defaults(server))


def assert_ok(result: dict) -> dict:
    assert result["ok"], result
    assert UUID.fullmatch(result["result"]["RequestId"]), result
    return result["result"]


def assert_error(result: dict, code: str) -> dict:
    assert not result["ok"], result
    assert result["name"] == SDK_EXCEPTION, result
    assert result["code"] == code, result
    assert UUID.fullmatch(result["requestId"] or ""), result
    # the response echoes X-TC-TraceId, which Node reads into the exception
    assert UUID.fullmatch(result["traceId"] or ""), result
    assert result["message"], result
    return result


# --- happy path ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
def test_create_then_describe(node, shape):
    created = assert_ok(node[f"create-{shape}"])
    assert len(created["DiskIdSet"]) == 1
    disk_id = created["DiskIdSet"][0]
    assert DISK_ID.fullmatch(disk_id)

    by_id = assert_ok(node[f"by-id-{shape}"])
    assert by_id["TotalCount"] == 1
    [disk] = by_id["DiskSet"]
    assert disk["DiskId"] == disk_id
    assert disk["DiskName"].startswith(f"node-{shape}-")
    assert disk["DiskType"] == "CLOUD_PREMIUM"
    assert disk["DiskSize"] == 50
    assert disk["DiskChargeType"] == "POSTPAID_BY_HOUR"
    assert disk["DiskState"] == "UNATTACHED"
    assert disk["DiskUsage"] == "DATA_DISK"
    assert disk["Placement"]["Zone"] == ZONE
    assert disk["Placement"]["ProjectId"] == 0
    assert disk["Tags"] == [{"Key": "shape", "Value": shape}]
    assert disk["Attached"] is False and disk["Portable"] is True
    assert set(disk) == sdk_disk_fields()

    by_filter = assert_ok(node[f"by-filter-{shape}"])
    assert by_filter["TotalCount"] == 1
    assert [d["DiskId"] for d in by_filter["DiskSet"]] == [disk_id]


def test_localhost_endpoint(node):
    disk_id = assert_ok(node["localhost-create"])["DiskIdSet"][0]
    for name in ("localhost-describe", "localhost-describe-v1"):
        found = assert_ok(node[name])
        assert [d["DiskId"] for d in found["DiskSet"]] == [disk_id]


def test_temporary_credentials_with_their_token(node):
    for name in ("temporary-ok", "temporary-ok-v1"):
        assert isinstance(assert_ok(node[name])["TotalCount"], int)


# --- languages -------------------------------------------------------------------------------------
def test_english_messages(node):
    for name in ("english", "english-v1"):
        message = assert_error(node[name], "InvalidFilter")["message"]
        assert message.startswith("The specified filter is not supported."), message
        assert "no-such-filter" in message
        assert not re.search(r"[\u4e00-\u9fff]", message), message
    auth = assert_error(node["english-auth"], "AuthFailure.SignatureFailure")["message"]
    assert auth.startswith("The provided credentials could not be validated."), auth


def test_chinese_is_the_default(node):
    for name in ("chinese", "no-language"):
        message = assert_error(node[name], "InvalidFilter")["message"]
        assert message.startswith("指定的Filter不被支持。"), message


# --- error codes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,code,text", [(n, c, t) for n, _call, c, t in ERROR_CASES],
                         ids=[n for n, *_ in ERROR_CASES])
def test_error_code(node, name, code, text):
    error = assert_error(node[name], code)
    if text is not None:
        assert text in error["message"], error


def test_rejected_create_creates_nothing(node, server):
    # None of the failed CreateDisks calls above left a disk behind.
    [result] = run_node([{"action": "DescribeDisks", "params": {
        "Filters": [{"Name": "disk-name", "Values": [GOOD_CREATE["DiskName"]]}]}}],
        **client_defaults(server))
    assert assert_ok(result)["TotalCount"] == 0
