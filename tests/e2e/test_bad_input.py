"""Bad input cannot hurt the server (property-based, against the real server process).

Hundreds of generated malformed requests, most of them CORRECTLY signed (tests/e2e/rawsign.py) so
that they get past authentication and reach the schema and domain checks; some unsigned or badly
signed. Families: invalid JSON, JSON that is not an object, wrong types and unknown fields for
CreateDisks/DescribeDisks, binary garbage, bad Authorization headers, bad timestamps, bad
SecretIds and tokens, wrong Content-Types, bad flattened GET/form parameters, multipart garbage,
methods other than GET/POST, unknown actions/versions/regions, and (deterministically) bodies over
the size limits of protocol.md §2 plus edge values.

Every reply must be HTTP 200, `Content-Type: application/json` exactly, and the envelope
`{"Response": {"Error": {"Code", "Message"}, "RequestId": uuid}}` with a code of the seed document
(and of the family's expected set: InternalError is never acceptable), or for oversized requests
Tencent's common `RequestSizeLimitExceeded`. Requests are built so that they are always invalid;
CreateDisks ones are otherwise valid wherever possible, so that a check that lets them through
creates a disk and the final state comparison catches it. At the end: at
least 500 requests were sent, the server is alive, its log holds no traceback, and nothing changed
(a paged DescribeDisks listing through the official Python SDK in several regions, and a dump of
every table of the database).
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import string
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.e2e import rawsign
from tests.e2e.rawsign import OMIT
from tests.e2e.server import DEFAULT_SECRET_ID as SID
from tests.e2e.server import DEFAULT_SECRET_KEY as SKEY
from tests.e2e.server import Server, cbs_client

# --- the seed's codes ----------------------------------------------------------------------------
SEED_FILE = Path(__file__).resolve().parents[2].parent / "shared/reference/seed-error-codes.md"


def _seed_codes() -> frozenset[str]:
    if SEED_FILE.exists():
        rows = re.findall(r"^\|\s*([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*)\s*\|",
                          SEED_FILE.read_text(encoding="utf-8"), re.M)
        return frozenset(rows)
    from cbslocal.api.errors import all_codes
    return frozenset(all_codes())


SEED_CODES = _seed_codes()
AUTH = frozenset(c for c in SEED_CODES if c.startswith("AuthFailure."))
SCHEMA = frozenset({"InvalidParameter", "InvalidParameterValue", "UnknownParameter",
                    "MissingParameter", "InvalidFilter", "InvalidParameterValue.LimitExceeded"})
# Tencent's common code for requests over the size limits; not a seed code (api/errors.py keeps it
# in the catalog of common codes).
TOO_LARGE = frozenset({"RequestSizeLimitExceeded"})

VERSION = "2017-03-12"
REGION = "ap-guangzhou"
ZONE = "ap-guangzhou-3"
STATE_REGIONS = ("ap-guangzhou", "ap-shanghai", "ap-beijing")


def _known_names() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    from cbslocal.api import contract
    from cbslocal.config import Settings
    return contract.actions("cbs"), contract.actions("cvm"), frozenset(Settings().topology.regions)


CBS_ACTIONS, CVM_ACTIONS, REGIONS = _known_names()

# --- sending and checking ------------------------------------------------------------------------
SENT: Counter = Counter()  # requests per family
CODES: Counter = Counter()  # (family, code) of the replies that passed the checks
MIN_REQUESTS = 500

SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])


def _describe(signed: rawsign.Signed) -> str:
    return (f"{signed.method} {signed.path[:400]!s}\nheaders={signed.headers!r}\n"
            f"body={signed.body[:400]!r}{' …' if len(signed.body) > 400 else ''} "
            f"({len(signed.body)} bytes)")


def check_reply(reply: rawsign.Reply, signed: rawsign.Signed, allowed: frozenset[str] | None,
                *, success_ok: bool = False) -> dict:
    """Assert the envelope; return `Response`. `allowed`: the codes this request may get."""
    where = _describe(signed)
    assert reply.status == 200, f"HTTP {reply.status} {reply.body[:300]!r} for\n{where}"
    assert reply.headers.get_all("Content-Type") == ["application/json"], (
        f"Content-Type {reply.headers.get_all('Content-Type')} for\n{where}")
    assert reply.headers.get("Content-Length") == str(len(reply.body)), where
    try:
        document = json.loads(reply.body)
    except ValueError:
        pytest.fail(f"reply is not JSON: {reply.body[:300]!r} for\n{where}")
    assert isinstance(document, dict) and set(document) == {"Response"}, (
        f"not an envelope: {document!r} for\n{where}")
    response = document["Response"]
    assert isinstance(response, dict), where
    request_id = response.get("RequestId")
    assert isinstance(request_id, str) and str(uuid.UUID(request_id)) == request_id, (
        f"RequestId {request_id!r} for\n{where}")
    if reply.headers.get("X-TC-RequestId") is not None:
        assert reply.headers["X-TC-RequestId"] == request_id, where
    if "Error" not in response:
        assert success_ok, f"a malformed request succeeded: {response!r}\nrequest:\n{where}"
        return response
    error = response["Error"]
    assert isinstance(error, dict) and {"Code", "Message"} <= set(error), (
        f"bad Error {error!r} for\n{where}")
    code, message = error["Code"], error["Message"]
    assert isinstance(code, str) and (code in SEED_CODES or allowed is TOO_LARGE), (
        f"code {code!r} not in the seed for\n{where}")
    assert isinstance(message, str) and message.strip(), f"empty Message for\n{where}"
    if allowed is not None:
        assert code in allowed, (f"code {code} ({message}) not among {sorted(allowed)} for\n"
                                 f"{where}")
    return response


def exchange(target: "Target", signed: rawsign.Signed, allowed: frozenset[str] | None, *,
             family: str, success_ok: bool = False) -> dict:
    reply = rawsign.send(target.server.url, signed)
    SENT[family] += 1
    response = check_reply(reply, signed, allowed, success_ok=success_ok)
    CODES[family, _code(response) or "OK"] += 1
    return response


def _code(response: dict) -> str | None:
    return response.get("Error", {}).get("Code")


# --- the server, its seeded state, and "nothing changed" -----------------------------------------
class Target:
    def __init__(self, server: Server, temp_key: dict):
        self.server = server
        self.host = server.endpoint
        self.temp_key = temp_key
        self.baseline: dict = {}

    def tc3(self, **kwargs) -> rawsign.Signed:
        kwargs.setdefault("host", self.host)
        secret_id = kwargs.pop("secret_id", SID)
        secret_key = kwargs.pop("secret_key", SKEY)
        return rawsign.tc3(secret_id, secret_key, **kwargs)

    def v1(self, **kwargs) -> rawsign.Signed:
        kwargs.setdefault("host", self.host)
        secret_id = kwargs.pop("secret_id", SID)
        secret_key = kwargs.pop("secret_key", SKEY)
        return rawsign.v1(secret_id, secret_key, **kwargs)


def _seed(server: Server) -> None:
    from tencentcloud.cbs.v20170312 import models

    def create(region: str, body: dict) -> list[str]:
        request = models.CreateDisksRequest()
        request.from_json_string(json.dumps(body))
        return cbs_client(server, region=region).CreateDisks(request).DiskIdSet

    base = {"DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_PREMIUM", "DiskSize": 50}
    create(REGION, {**base, "Placement": {"Zone": ZONE}, "DiskCount": 3,
                    "Tags": [{"Key": "env", "Value": "bad-input"}], "ClientToken": "seed-token-1"})
    create(REGION, {**base, "Placement": {"Zone": "ap-guangzhou-4"}, "DiskName": "seed-prepaid",
                    "DiskChargeType": "PREPAID", "DiskChargePrepaid": {"Period": 1}})
    create(REGION, {**base, "Placement": {"Zone": ZONE}, "DiskType": "CLOUD_SSD", "DiskSize": 100,
                    "DiskName": "seed-ssd"})
    create("ap-shanghai", {**base, "Placement": {"Zone": "ap-shanghai-2"}, "DiskCount": 2})
    deadline = time.monotonic() + 30
    while sum(len(disks) for _, disks in _listing(server).values()) < 7:
        assert time.monotonic() < deadline, "the seeded disks never became visible"
        time.sleep(0.05)


def _listing(server: Server) -> dict:
    """Every disk of STATE_REGIONS, all pages (Limit 2), through the official Python SDK."""
    from tencentcloud.cbs.v20170312 import models

    out = {}
    for region in STATE_REGIONS:
        client = cbs_client(server, region=region)
        disks, offset, total = [], 0, None
        while True:
            request = models.DescribeDisksRequest()
            request.Limit, request.Offset = 2, offset
            response = client.DescribeDisks(request)
            page = json.loads(response.to_json_string())["DiskSet"]
            total = response.TotalCount
            for disk in page:
                disk.pop("DifferDaysOfDeadline", None)  # moves with the wall clock
            disks += page
            offset += len(page)
            if not page or offset >= total:
                break
        out[region] = (total, disks)
    return out


def _database(server: Server) -> dict | None:
    path = server.data_dir / "cbslocal.db"
    if server.database_url or not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        return {t: sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{t}"'))
                for t in tables}
    finally:
        conn.close()


def _state(server: Server) -> dict:
    return {"listing": _listing(server), "database": _database(server)}


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("bad-input") / "data", timing="instant").start()
    try:
        server.wait_listening()
        account = server.control("POST", "/accounts", {"name": "bad-input"}).json()
        temp_key = server.control("POST", f"/accounts/{account['AccountId']}/keys",
                                  {"ttl": 3600}).json()
        assert temp_key.get("Token"), temp_key
        _seed(server)
        target = Target(server, temp_key)
        target.baseline = _state(server)
        yield target
    finally:
        rawsign.close_connections()
        server.stop()


# --- value strategies ----------------------------------------------------------------------------
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), finite_floats,
                    st.text(max_size=12))
junk = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)
letters = st.text(alphabet=string.ascii_letters, min_size=1, max_size=12)
_LAX_BOOLS = {"true", "false", "yes", "no", "on", "off", "y", "n", "t", "f", "1", "0"}


def not_int():
    """Never an acceptable unsigned 64-bit integer (numeric strings and 20.0 would be)."""
    return st.one_of(letters, st.integers(max_value=-1), st.integers(2**64, 2**200),
                     finite_floats.filter(lambda f: not f.is_integer()), st.booleans(),
                     st.lists(scalars, max_size=3), st.dictionaries(letters, scalars, max_size=3))


def not_bool():
    return st.one_of(letters.filter(lambda s: s.lower() not in _LAX_BOOLS),
                     st.integers().filter(lambda i: i not in (0, 1)),
                     finite_floats.filter(lambda f: f not in (0.0, 1.0)),
                     st.lists(scalars, max_size=3), st.dictionaries(letters, scalars, max_size=3))


def not_str():
    return st.one_of(st.integers(), finite_floats, st.booleans(), st.lists(scalars, max_size=3),
                     st.dictionaries(letters, scalars, max_size=3))


def not_list():
    return st.one_of(st.text(max_size=10), st.integers(), finite_floats, st.booleans(),
                     st.dictionaries(st.text(max_size=6), scalars, max_size=3))


def not_object():
    return st.one_of(st.text(max_size=10), st.integers(), finite_floats, st.booleans(),
                     st.lists(scalars, max_size=3))


def not_enum(allowed):
    return st.one_of(st.text(max_size=16).filter(lambda s: s not in allowed), st.integers(),
                     finite_floats, st.booleans(), st.lists(scalars, max_size=2),
                     st.dictionaries(letters, scalars, max_size=2))


def disk_ids():
    return st.text(alphabet=string.ascii_lowercase + string.digits, min_size=8, max_size=8).map(
        lambda s: "disk-" + s)


FILTER_NAMES = ["zone", "disk-type", "disk-name", "disk-state", "disk-usage", "tag-key"]
DD_VALID = {
    "Limit": st.integers(0, 100),
    "Offset": st.integers(0, 500),
    "OrderField": st.sampled_from(["CREATE_TIME", "DEADLINE"]),
    "Order": st.sampled_from(["ASC", "DESC"]),
    "ReturnBindAutoSnapshotPolicy": st.booleans(),
    "DiskIds": st.lists(disk_ids(), max_size=3),
}
bad_filter = st.one_of(
    st.fixed_dictionaries({"Name": not_str(), "Values": st.lists(st.text(max_size=8), max_size=2)}),
    st.fixed_dictionaries({"Name": st.sampled_from(FILTER_NAMES), "Values": not_list()}),
    st.fixed_dictionaries({"Name": st.sampled_from(FILTER_NAMES),
                           "Values": st.lists(not_str(), min_size=1, max_size=2)}),
    st.fixed_dictionaries({"Values": st.lists(st.text(max_size=8), max_size=2)}),
    st.fixed_dictionaries({"Name": st.sampled_from(FILTER_NAMES)}),
    st.fixed_dictionaries({"Name": st.text(max_size=12).filter(lambda s: s not in FILTER_NAMES),
                           "Values": st.lists(st.text(max_size=8), min_size=1, max_size=2)}),
)
DD_POISON = {
    "Limit": not_int(),
    "Offset": not_int(),
    "OrderField": not_enum({"CREATE_TIME", "CREATETIME", "DEADLINE"}),
    "Order": not_enum({"ASC", "DESC"}),
    "ReturnBindAutoSnapshotPolicy": not_bool(),
    "DiskIds": st.one_of(not_list(), st.lists(not_str(), min_size=1, max_size=3)),
    "Filters": st.one_of(not_list(), st.lists(not_object(), min_size=1, max_size=2),
                         st.lists(bad_filter, min_size=1, max_size=2)),
}

CD_TYPES = {"CLOUD_BASIC", "CLOUD_PREMIUM", "CLOUD_BSSD", "CLOUD_SSD", "CLOUD_HSSD", "CLOUD_TSSD"}
RENEW_FLAGS = {"NOTIFY_AND_AUTO_RENEW", "NOTIFY_AND_MANUAL_RENEW",
               "DISABLE_NOTIFY_AND_MANUAL_RENEW"}
CD_VALID = st.fixed_dictionaries(
    {"Placement": st.fixed_dictionaries({"Zone": st.sampled_from([ZONE, "ap-guangzhou-4"])},
                                        optional={"ProjectId": st.just(0)}),
     "DiskChargeType": st.just("POSTPAID_BY_HOUR"),
     "DiskType": st.sampled_from(["CLOUD_PREMIUM", "CLOUD_SSD", "CLOUD_HSSD"]),
     "DiskSize": st.sampled_from([20, 50, 100])},
    optional={"DiskName": st.text(alphabet=string.ascii_letters, max_size=10),
              "DiskCount": st.integers(1, 2),
              "Tags": st.lists(st.fixed_dictionaries({"Key": letters, "Value": letters}),
                               max_size=2, unique_by=lambda t: t["Key"]),
              "DeleteSnapshot": st.sampled_from([0, 1])})
CD_POISON = {
    "Placement": st.one_of(
        not_object(), st.fixed_dictionaries({"Zone": not_str()}),
        st.fixed_dictionaries({"Zone": st.just(ZONE), "ProjectId": not_int()}),
        st.fixed_dictionaries({"ProjectId": st.just(0)}),
        st.fixed_dictionaries({"Zone": st.just(ZONE), "CdcId": not_str()})),
    "DiskChargeType": not_enum({"PREPAID", "POSTPAID_BY_HOUR", "CDCPAID"}),
    "DiskType": not_enum(CD_TYPES),
    "DiskName": not_str(),
    "Tags": st.one_of(
        not_list(), st.lists(not_object(), min_size=1, max_size=2),
        st.lists(st.fixed_dictionaries({"Key": not_str(), "Value": letters}), min_size=1,
                 max_size=2),
        st.lists(st.fixed_dictionaries({"Key": letters}), min_size=1, max_size=2)),
    "SnapshotId": not_str(),
    "DiskCount": not_int(),
    "ThroughputPerformance": not_int(),
    "KmsKeyId": not_str(),
    "DiskSize": not_int(),
    "Shareable": not_bool(),
    "ClientToken": not_str(),
    "Encrypt": not_enum({"ENCRYPT"}),
    "DiskChargePrepaid": st.one_of(
        not_object(), st.fixed_dictionaries({"Period": not_int()}),
        st.fixed_dictionaries({"Period": st.just(1), "RenewFlag": not_enum(RENEW_FLAGS)})),
    # JSON true is not the integer 1 (the UInt fields reject booleans too).
    "DeleteSnapshot": st.one_of(st.integers().filter(lambda i: i not in (0, 1)), st.booleans(),
                                letters, finite_floats.filter(lambda f: f not in (0.0, 1.0))),
    "AutoMountConfiguration": st.one_of(
        not_object(), st.fixed_dictionaries({"InstanceId": not_list()}),
        st.fixed_dictionaries({"InstanceId": st.lists(not_str(), min_size=1, max_size=2)})),
    "DiskBackupQuota": not_int(),
    "BurstPerformance": not_bool(),
    "EncryptType": not_enum({"ENCRYPT_V1", "ENCRYPT_V2"}),
}
CD_REQUIRED = ("Placement", "DiskChargeType", "DiskType")


@st.composite
def bad_describe_disks(draw) -> dict:
    body = {name: draw(strategy) for name, strategy in DD_VALID.items() if draw(st.booleans())}
    for name in draw(st.lists(st.sampled_from(sorted(DD_POISON)), min_size=1, max_size=3,
                              unique=True)):
        body[name] = draw(DD_POISON[name])
    return dict(draw(st.permutations(list(body.items()))))


@st.composite
def bad_create_disks(draw) -> dict:
    body = dict(draw(CD_VALID))
    if draw(st.integers(0, 5)) == 0:  # a required field missing instead
        del body[draw(st.sampled_from(CD_REQUIRED))]
        if draw(st.booleans()):
            return body
    for name in draw(st.lists(st.sampled_from(sorted(CD_POISON)), min_size=1, max_size=3,
                              unique=True)):
        body[name] = draw(CD_POISON[name])
    return body


def valid_create_disks() -> dict:
    """A CreateDisks body the server would accept: only ever sent in requests that are wrong
    elsewhere (signature, method, size, …), so that a check letting one through shows up."""
    return {"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR",
            "DiskType": "CLOUD_PREMIUM", "DiskSize": 20, "DiskName": "must-not-exist"}


def strict_json(body: bytes):
    """The parsed value if `body` is strict RFC 8259 JSON (UTF-8, no NaN/Infinity, finite
    numbers, valid Unicode), else a sentinel."""
    def reject(_):
        raise ValueError

    def walk(value):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError
        if isinstance(value, str):
            value.encode("utf-8")
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=reject)
        walk(value)
        return value
    except (ValueError, UnicodeError, RecursionError):
        return NOT_JSON


NOT_JSON = object()


def _odd_whitespace(body: bytes) -> bool:
    # bytes.strip() also strips \v and \f, which JSON does not count as whitespace.
    return body.strip() != body.strip(b" \t\r\n")


# --- 1. malformed JSON ---------------------------------------------------------------------------
JSON_JUNK = [b"{'a': 1}", b"{a:1}", b'{"Limit":1,}', b'{"Limit":NaN}', b'{"Limit":Infinity}',
             b'{"Limit":-Infinity}', b'{"Limit":1e99999}', b"\xef\xbb\xbf{}", b'{"a":"\x00"}',
             b'{"Limit":01}', b'{"Limit":.5}', b'{"Limit":+1}', b'{"a":"\\x41"}', b'{"a": tru}',
             b'{"a":1}{"b":2}', b'{"a":1} x', b"[" * 5000, b'{"a":' * 3000, b"/*c*/{}",
             b'{"a":"\\ud800"}', b'{"DiskName":"\xff\xfe"}', b'{"Limit": 1', b"}", b'"',
             b'{"a"}', b"{,}", b"{\"a\":1\n//c\n}", b"\x00", b"\x00{}"]


@st.composite
def invalid_json(draw) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.sampled_from(JSON_JUNK))
    document = json.dumps(draw(st.dictionaries(st.text(max_size=8), junk, min_size=1,
                                               max_size=4))).encode()
    if kind == 1:  # truncated
        return document[:draw(st.integers(1, len(document) - 1))]
    if kind == 2:  # one byte replaced
        at = draw(st.integers(0, len(document) - 1))
        return document[:at] + bytes([draw(st.integers(0, 255))]) + document[at + 1:]
    return document + draw(st.sampled_from([b",", b"}", b"]", b"x", b"\xff", b'{"b":1}']))


@settings(max_examples=70, **SETTINGS)
@given(body=invalid_json(), action=st.sampled_from(["DescribeDisks", "CreateDisks"]),
       unsigned=st.booleans())
def test_invalid_json_bodies(target, body, action, unsigned):
    assume(strict_json(body) is NOT_JSON and body.strip() and not _odd_whitespace(body))
    signed = target.tc3(action=action, body=body, unsigned_payload=unsigned)
    exchange(target, signed, frozenset({"InvalidParameter"}), family="invalid-json")


@settings(max_examples=40, **SETTINGS)
@given(value=st.one_of(st.lists(junk, max_size=4), st.integers(-2**70, 2**70), finite_floats,
                       st.text(max_size=20), st.booleans(), st.none()),
       action=st.sampled_from(["DescribeDisks", "CreateDisks"]),
       pad=st.sampled_from(["", " ", "\n", "\t \r\n"]))
def test_json_that_is_not_an_object(target, value, action, pad):
    body = (pad + json.dumps(value) + pad).encode()
    signed = target.tc3(action=action, body=body)
    exchange(target, signed, frozenset({"InvalidParameter"}), family="json-not-object")


# --- 2. wrong types, unknown fields --------------------------------------------------------------
@settings(max_examples=100, **SETTINGS)
@given(body=bad_describe_disks(), language=st.sampled_from([None, "en-US", "zh-CN"]))
def test_describe_disks_wrong_types(target, body, language):
    signed = target.tc3(action="DescribeDisks", params=body, language=language)
    exchange(target, signed, SCHEMA, family="describe-types")


@settings(max_examples=130, **SETTINGS)
@given(body=bad_create_disks(), region=st.sampled_from([REGION, "ap-shanghai"]))
def test_create_disks_wrong_types(target, body, region):
    signed = target.tc3(action="CreateDisks", params=body, region=region)
    exchange(target, signed, SCHEMA, family="create-types")


KNOWN_FIELDS = {"Filters", "Limit", "OrderField", "Offset", "ReturnBindAutoSnapshotPolicy",
                "DiskIds", "Order", "Name", "Values", "Key", "Value", "Period", "RenewFlag",
                "CurInstanceDeadline", "InstanceId", "MountPoint", "FileSystemType",
                *CD_POISON, "Zone", "CageId", "CdcId", "CdcName", "DedicatedClusterId",
                "ProjectId", "ProjectName"}
unknown_names = st.one_of(st.text(min_size=1, max_size=16),
                          st.sampled_from(["limit", "LIMIT", "DiskId", "Filter", "Action",
                                           "Region", "Version", "RequestId", "DryRun", "zone",
                                           "Placement ", "__proto__", "constructor"])
                          ).filter(lambda s: s not in KNOWN_FIELDS)


@settings(max_examples=60, **SETTINGS)
@given(data=st.data(), where=st.sampled_from(["dd-top", "dd-filter", "cd-top", "cd-placement",
                                              "cd-tag", "cd-prepaid"]),
       name=unknown_names, value=junk)
def test_unknown_fields(target, data, where, name, value):
    if where.startswith("dd"):
        action = "DescribeDisks"
        body = {"Limit": 10, "Filters": [{"Name": "zone", "Values": [ZONE]}]}
        (body if where == "dd-top" else body["Filters"][0])[name] = value
    else:
        action = "CreateDisks"
        body = data.draw(CD_VALID)
        body["Tags"] = [{"Key": "k", "Value": "v"}]
        if where == "cd-prepaid":
            body.update(DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 1})
        {"cd-top": body, "cd-placement": body["Placement"], "cd-tag": body["Tags"][0],
         "cd-prepaid": body.get("DiskChargePrepaid")}[where][name] = value
    signed = target.tc3(action=action, params=body)
    exchange(target, signed, frozenset({"UnknownParameter"}), family="unknown-fields")


# --- 3. binary garbage ---------------------------------------------------------------------------
@settings(max_examples=60, **SETTINGS)
@given(body=st.binary(min_size=1, max_size=600),
       shape=st.sampled_from(["json", "json-charset", "multipart", "v1-form", "tc3-get"]))
def test_binary_garbage(target, body, shape):
    if shape in ("json", "json-charset"):
        assume(strict_json(body) is NOT_JSON and body.strip() and not _odd_whitespace(body))
        content_type = "application/json" + ("; charset=utf-8" if shape == "json-charset" else "")
        signed = target.tc3(action="DescribeDisks", body=body, content_type=content_type)
        allowed = frozenset({"InvalidParameter"})
    elif shape == "multipart":
        signed = target.tc3(action="CreateDisks", body=body,
                            content_type="multipart/form-data; boundary=" + uuid.uuid4().hex)
        allowed = SCHEMA
    elif shape == "v1-form":  # no TC3 Authorization: a v1 request, unsigned garbage
        signed = rawsign.Signed("POST", "/", {"Host": target.host,
                                              "Content-Type": rawsign.FORM}, body)
        allowed = AUTH | {"InvalidParameter", "MissingParameter"}
    else:
        from urllib.parse import quote_from_bytes
        signed = target.tc3(action="CreateDisks", method="GET",
                            raw_query=quote_from_bytes(body, safe="=&"))
        allowed = SCHEMA
    exchange(target, signed, allowed, family="binary-garbage")


# --- 4. authentication ---------------------------------------------------------------------------
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                      max_size=200).map(str.strip)
HEX = "0123456789abcdef"


@st.composite
def bad_authorization(draw, target) -> rawsign.Signed:
    body = valid_create_disks()
    # Mostly CreateDisks (a bypass would create a disk); sometimes an action name of the
    # attacker's choice, which an unauthenticated request must not get recorded anywhere.
    action = draw(st.one_of(st.just("CreateDisks"), st.just("CreateDisks"), latin1_text))
    kind = draw(st.sampled_from([
        "drop", "random", "skip", "flip", "truncate", "wrong-key", "wrong-date", "unknown-id",
        "signed-headers", "header-changed", "body-changed", "method-changed", "algorithm",
        "garbled-items", "v1-flip", "v1-method", "v1-missing", "v1-host"]))
    if kind.startswith("v1"):
        method = draw(st.sampled_from(["GET", "POST"]))
        if kind == "v1-method":  # announces HmacSHA256, signs with HmacSHA1
            return target.v1(action="CreateDisks", params=body, method=method,
                             digest_method="HmacSHA1")
        if kind == "v1-host":
            return target.v1(action="CreateDisks", params=body, method=method,
                             signed_host=draw(st.sampled_from(["localhost", "127.0.0.2:1",
                                                               "cbs.tencentcloudapi.com"])))
        if kind == "v1-missing":
            which = draw(st.sampled_from(["SecretId", "Timestamp", "Nonce", "Signature"]))
            signed = target.v1(action="CreateDisks", params=body, method=method)
            return _drop_v1_param(signed, which)
        signed = target.v1(action="CreateDisks", params=body, method=method)
        return _edit_v1_signature(signed, draw)
    signed = target.tc3(action=action, params=body)
    headers = dict(signed.headers)
    auth = headers["Authorization"]
    signature = auth.rsplit("Signature=", 1)[1]
    if kind == "drop":
        del headers["Authorization"]
    elif kind == "random":
        headers["Authorization"] = draw(header_text.filter(lambda s: s and s != auth))
    elif kind == "skip":
        headers["Authorization"] = draw(st.sampled_from(["SKIP", "skip", " SKIP"])).strip()
    elif kind == "flip":
        at = draw(st.integers(0, len(signature) - 1))
        new = draw(st.sampled_from(HEX).filter(lambda c: c != signature[at]))
        flipped = signature[:at] + new + signature[at + 1:]
        headers["Authorization"] = auth[:-len(signature)] + flipped
    elif kind == "truncate":
        headers["Authorization"] = auth[:-draw(st.integers(1, len(signature)))]
    elif kind == "wrong-key":
        return target.tc3(action="CreateDisks", params=body,
                          secret_key=draw(letters.filter(lambda s: s != SKEY)))
    elif kind == "wrong-date":
        now = int(time.time())
        return target.tc3(action="CreateDisks", params=body, timestamp=now,
                          date=rawsign.utc_date(now + draw(st.sampled_from([-86400, 86400,
                                                                            -86400 * 400]))))
    elif kind == "unknown-id":
        unknown = "AKID" + draw(st.text(alphabet=string.ascii_letters + string.digits,
                                        min_size=32, max_size=32))
        return target.tc3(action="CreateDisks", params=body, secret_id=unknown)
    elif kind == "signed-headers":
        names = draw(st.sampled_from([("host",), ("content-type",), ("x-tc-action", "host"),
                                      ("content-type", "host", "x-tc-action")]))
        signed = target.tc3(action="CreateDisks", params=body, signed_header_names=names)
        headers = dict(signed.headers)
        if "x-tc-action" in names and len(names) == 3:  # valid shape; then tamper the action
            headers["X-TC-Action"] = "DescribeDisks"
    elif kind == "header-changed":
        name, value = draw(st.sampled_from([
            ("Host", "127.0.0.1:1"), ("Host", "localhost"),
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Type", "Application/JSON ;")]))
        headers[name] = value
    elif kind == "body-changed":
        return signed._replace(body=signed.body + b" ")
    elif kind == "method-changed":
        signed = target.tc3(action="CreateDisks", params=body, sign_method="GET")
        return signed
    elif kind == "algorithm":
        algorithm = draw(st.sampled_from(["TC3-HMAC-SHA1", "tc3-hmac-sha256", "TC3-HMAC-SHA256x",
                                          "HMAC-SHA256", "TC3"]))
        headers["Authorization"] = algorithm + auth[len("TC3-HMAC-SHA256"):]
    elif kind == "garbled-items":
        headers["Authorization"] = draw(st.sampled_from([
            auth.replace("Credential=", "Credential "),
            auth.replace(", SignedHeaders=content-type;host", ""),
            auth.replace("/tc3_request", "/tc4_request"),
            auth.replace("Signature=", "Signature=\"") + "\"",
            auth + ", Signature=" + "0" * 64,
            "TC3-HMAC-SHA256 " + "Credential=a/b/c/tc3_request, " * 50,
            "TC3-HMAC-SHA256 Credential=/////, SignedHeaders=;;;, Signature=",
            "TC3-HMAC-SHA256 =,=,=",
            "TC3-HMAC-SHA256  ",
        ]))
    return signed._replace(headers=headers)


def _drop_v1_param(signed: rawsign.Signed, name: str) -> rawsign.Signed:
    from urllib.parse import parse_qsl
    encoded = signed.path[2:] if signed.method == "GET" else signed.body.decode()
    kept = rawsign.urlencode([(k, v) for k, v in parse_qsl(encoded) if k != name])
    if signed.method == "GET":
        return signed._replace(path="/?" + kept)
    return signed._replace(body=kept.encode())


def _edit_v1_signature(signed: rawsign.Signed, draw) -> rawsign.Signed:
    from urllib.parse import parse_qsl
    encoded = signed.path[2:] if signed.method == "GET" else signed.body.decode()
    pairs = parse_qsl(encoded)
    signature = dict(pairs)["Signature"]
    at = draw(st.integers(0, len(signature) - 2))
    alphabet = string.ascii_letters + string.digits + "+/"
    new = draw(st.sampled_from(alphabet).filter(lambda c: c != signature[at]))
    edited = signature[:at] + new + signature[at + 1:]
    kept = rawsign.urlencode([(k, edited if k == "Signature" else v) for k, v in pairs])
    if signed.method == "GET":
        return signed._replace(path="/?" + kept)
    return signed._replace(body=kept.encode())


@settings(max_examples=90, **SETTINGS)
@given(data=st.data())
def test_bad_authorization(target, data):
    signed = data.draw(bad_authorization(target))
    exchange(target, signed, AUTH | {"MissingParameter"}, family="authorization")


@settings(max_examples=30, **SETTINGS)
@given(kind=st.sampled_from(["temp-no-token", "temp-wrong-token", "permanent-with-token",
                             "v1-temp-no-token", "v1-permanent-with-token"]),
       token=st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1,
                     max_size=64))
def test_bad_tokens(target, kind, token):
    temp = target.temp_key
    assume(token != temp["Token"])
    body = valid_create_disks()
    if kind == "temp-no-token":
        signed = target.tc3(action="CreateDisks", params=body, secret_id=temp["SecretId"],
                            secret_key=temp["SecretKey"])
    elif kind == "temp-wrong-token":
        signed = target.tc3(action="CreateDisks", params=body, secret_id=temp["SecretId"],
                            secret_key=temp["SecretKey"], token=token)
    elif kind == "permanent-with-token":
        signed = target.tc3(action="CreateDisks", params=body, token=token)
    elif kind == "v1-temp-no-token":
        signed = target.v1(action="CreateDisks", params=body, secret_id=temp["SecretId"],
                           secret_key=temp["SecretKey"])
    else:
        signed = target.v1(action="CreateDisks", params=body, token=token, method="POST")
    exchange(target, signed, frozenset({"AuthFailure.TokenFailure"}), family="tokens")


# Latin-1 text for headers (the server decodes header bytes as Latin-1); ² ³ ¹ are digits to
# str.isdigit() but not to int().
latin1_text = st.text(alphabet=st.one_of(st.characters(min_codepoint=0x21, max_codepoint=0x7E),
                                         st.characters(min_codepoint=0xA0, max_codepoint=0xFF),
                                         st.just(" ")), max_size=24).map(str.strip)
NON_DECIMAL_DIGITS = ["\u00b2", "1\u00b2", "\u00b9" * 10, "17958351\u00b3\u00b3", "\u00bd"]


@st.composite
def bad_timestamp(draw, *, v1: bool) -> tuple[str, object]:
    """(kind, value): rendered against the clock by `render_timestamp`, so that what is drawn
    does not depend on the time."""
    kind = draw(st.integers(0, 5))
    if kind == 0:  # well-formed but outside ±300 s
        # (at least 400 s: the server reads its clock a moment after `now` was taken)
        return "skew", draw(st.sampled_from([-1, 1])) * draw(st.integers(400, 10**9))
    if kind == 1:
        return "text", draw(st.sampled_from(NON_DECIMAL_DIGITS))
    if kind == 2:
        return "template", draw(st.sampled_from([
            "", "-1", "-{now}", "{now}.0", "{now}.5", "{now}e0", "1e9", "0x6a000000", "9" * 13,
            "9" * 40, "+{now}", "{now} {now}", "NaN", "null", "{old}", "0", "00000000000"]))
    if kind == 3 and v1:  # other scripts' digits: a valid int() but an old time
        return "script", (draw(st.integers(3600, 10**9)),
                          draw(st.sampled_from([0xFF10, 0x0660, 0x0966])))
    return "text", draw(latin1_text if not v1 else st.text(max_size=24))


def render_timestamp(spec: tuple[str, object], now: int) -> str:
    kind, value = spec
    if kind == "skew":
        return str(now + value)
    if kind == "template":
        return value.format(now=now, old=now - 3600)
    if kind == "script":
        age, script = value
        return "".join(chr(script + int(d)) for d in str(now - age))
    return value


@settings(max_examples=60, **SETTINGS)
@given(data=st.data(), v1=st.booleans(), method=st.sampled_from(["GET", "POST"]))
def test_bad_timestamps(target, data, v1, method):
    now = int(time.time())
    timestamp = render_timestamp(data.draw(bad_timestamp(v1=v1)), now)
    assume(not (timestamp.isascii() and timestamp.isdigit() and abs(int(timestamp) - now) <= 400))
    body = valid_create_disks()
    if v1:
        signed = target.v1(action="CreateDisks", params=body, method=method,
                           timestamp=timestamp if timestamp else OMIT)
    else:
        signed = target.tc3(action="CreateDisks", params=body, method=method,
                            timestamp=timestamp if timestamp else OMIT,
                            date=rawsign.utc_date(now))
    exchange(target, signed, frozenset({"InvalidParameter", "MissingParameter",
                                        "AuthFailure.SignatureExpire",
                                        "AuthFailure.SignatureFailure"}), family="timestamps")


@settings(max_examples=50, **SETTINGS)
@given(v1=st.booleans(), secret_id=st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
            max_size=60),
    st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=140).map(
        lambda s: "AKID" + s),
    st.sampled_from([SID.lower(), SID[:-1], SID + "0", "AKID", SID.replace("AKID", "AKIS"),
                     "AKID" + "x" * 200, SID + "/"])))
def test_bad_secret_ids(target, v1, secret_id):
    assume(secret_id != SID)
    body = valid_create_disks()
    if v1:
        signed = target.v1(action="CreateDisks", params=body, secret_id=secret_id)
    else:
        signed = target.tc3(action="CreateDisks", params=body, secret_id=secret_id)
    exchange(target, signed, AUTH, family="secret-ids")


# --- 5. Content-Types ----------------------------------------------------------------------------
CONTENT_TYPES = ["text/plain", "application/xml", "application/x-www-form-urlencoded",
                 "application/octet-stream", "application/jsonx", "application/json-patch+json",
                 "json", "multipart/mixed; boundary=x", "multipart/form-data",
                 "application/javascript", "text/json", "*/*", ";", "application/x-json",
                 "application/json/extra"]


@settings(max_examples=50, **SETTINGS)
@given(content_type=st.one_of(st.sampled_from(CONTENT_TYPES),
                              st.tuples(letters, letters).map("/".join), latin1_text),
       v1=st.booleans())
def test_wrong_content_types(target, content_type, v1):
    media = content_type.split(";", 1)[0].strip().lower()
    if v1:
        assume(media != "application/x-www-form-urlencoded")
        signed = target.v1(action="CreateDisks", params=valid_create_disks(), method="POST",
                           content_type=content_type)
        allowed = frozenset({"InvalidParameter", "AuthFailure.SignatureFailure"})
    else:
        assume(media != "application/json")
        signed = target.tc3(action="CreateDisks", params=valid_create_disks(),
                            content_type=content_type)
        allowed = frozenset({"InvalidParameter"})
    exchange(target, signed, allowed, family="content-types")


# --- 6. flattened GET / form parameters ----------------------------------------------------------
LIST_FIELDS = {"DescribeDisks": ["Filters", "DiskIds"], "CreateDisks": ["Tags"]}
segment = st.text(alphabet=string.ascii_letters, min_size=1, max_size=6)
COMMON_V1 = {"Action", "Version", "Region", "Timestamp", "Nonce", "SecretId", "Signature",
             "SignatureMethod", "Token", "Language", "RequestClient"}


@st.composite
def flat_defect(draw, action: str) -> list[tuple[str, str]]:
    field = draw(st.sampled_from(LIST_FIELDS[action]))
    kind = draw(st.integers(0, 12))
    if kind == 0:  # a name where an index belongs
        return [(f"{field}.{draw(segment)}.Name", "zone")]
    if kind == 1:  # sparse: always with index 0, so that it also collides with a valid list
        return [(f"{field}.0", "a"), (f"{field}.{draw(st.integers(2, 50))}", "b")]
    if kind == 2:  # huge index
        return [(f"{field}.{draw(st.integers(10_001, 10**30))}", "x")]
    if kind == 3:  # deep nesting
        depth = draw(st.integers(9, 30))
        return [(".".join([field] + draw(st.lists(st.one_of(segment, st.integers(0, 3).map(str)),
                                                  min_size=depth, max_size=depth))), "x")]
    if kind == 4:  # empty segment
        return [(draw(st.sampled_from([f"{field}..0", f"{field}.", f".{field}", ".", "..",
                                       f"{field}.0..Name"])), "x")]
    if kind == 5:  # leading index
        return [(draw(st.sampled_from(["0", "12", "0.Limit", "1.Filters.0.Name"])), "x")]
    if kind == 6:  # a plain value and a nested one under the same name
        return [(field, "x"), (f"{field}.0", "y")]
    if kind == 7:  # the same name twice
        name = draw(st.sampled_from([f"{field}.0", "Limit", "DiskSize", "Placement.Zone"]))
        return [(name, "1"), (name, "2")]
    if kind == 8:  # indices and names mixed
        return [(f"{field}.0", "a"), (f"{field}.{draw(segment)}", "b")]
    if kind == 9:  # an unknown name
        name = draw(st.text(min_size=1, max_size=12).filter(
            lambda s: s.split(".")[0] not in KNOWN_FIELDS | COMMON_V1 and s.split(".")[0]))
        return [(name, draw(st.text(max_size=8)))]
    if kind == 10:  # wrong-typed values
        return [draw(st.sampled_from([
            ("Limit", "abc"), ("Limit", "-1"), ("Limit", "1.5"), ("Offset", "1e3"),
            ("ReturnBindAutoSnapshotPolicy", "maybe"), ("DiskSize", "x"), ("DiskCount", "-2"),
            ("Shareable", "2"), ("Placement.ProjectId", "p")]))]
    if kind == 11:  # a scalar where a list or object belongs, or the reverse
        return [draw(st.sampled_from([
            ("Filters.0.Values", "zone"), ("Filters", "zone"), ("DiskIds", "disk-aaaaaaaa"),
            ("Placement", ZONE), ("Tags", "a"), ("Limit.0", "1"), ("Filters.0.Name.0", "zone"),
            ("Tags.0", "k")]))]
    # digits that are not decimal digits (int() refuses them), and more digits than int() takes
    return [draw(st.sampled_from([(f"{field}.\u00b2", "x"), (f"{field}.0\u00b9", "x"),
                                  (f"{field}." + "9" * 5000, "x")]))]


def flat_valid(action: str):
    if action == "DescribeDisks":
        return st.lists(st.sampled_from([
            ("Limit", "5"), ("Offset", "0"), ("Order", "DESC"),
            ("ReturnBindAutoSnapshotPolicy", "True"), ("DiskIds.0", "disk-aaaaaaaa")]),
            max_size=3, unique_by=lambda p: p[0])
    return st.just([("Placement.Zone", ZONE), ("DiskChargeType", "POSTPAID_BY_HOUR"),
                    ("DiskType", "CLOUD_PREMIUM"), ("DiskSize", "20")])


RAW_JUNK = ["%zz", "%", "&&", "=", "a=b=c", "%E0%A4", "%00=x", "Limit=%FF", "==&==", "%2e%2e"]


@settings(max_examples=110, **SETTINGS)
@given(data=st.data(), action=st.sampled_from(["DescribeDisks", "CreateDisks"]),
       shape=st.sampled_from(["tc3-get", "tc3-get", "v1-get", "v1-post"]))
def test_bad_flattened_parameters(target, data, action, shape):
    pairs = list(data.draw(flat_valid(action)))
    for _ in range(data.draw(st.integers(1, 2))):
        pairs += data.draw(flat_defect(action))
    pairs = data.draw(st.permutations(pairs))
    allowed = SCHEMA
    if shape == "tc3-get":
        query = rawsign.urlencode(pairs)
        if data.draw(st.booleans()):
            query += "&" + data.draw(st.sampled_from(RAW_JUNK))
        signed = target.tc3(action=action, method="GET", raw_query=query)
    else:
        signed = target.v1(action=action, pairs=pairs, method=shape[3:].upper())
    exchange(target, signed, allowed, family="flattened")


# --- 7. multipart --------------------------------------------------------------------------------
def _part(boundary: str, name: str | None, value: bytes, json_part: bool) -> bytes:
    disposition = "form-data" + (f'; name="{name}"' if name is not None else "")
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    if json_part:
        head += "Content-Type: application/json\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


@st.composite
def bad_multipart(draw) -> tuple[str, bytes, str]:
    boundary = draw(st.sampled_from([uuid.uuid4().hex, "-" * 26 + "77f41d19020e6279013cc426",
                                     "x"]))
    kind = draw(st.integers(0, 9))
    if kind <= 2:  # a poisoned field, typed through a JSON part
        if draw(st.booleans()):
            action, body = "DescribeDisks", draw(bad_describe_disks())
        else:
            action, body = "CreateDisks", draw(bad_create_disks())
        out = b"".join(_part(boundary, k, json.dumps(v).encode(), True) for k, v in body.items())
        return action, out + f"--{boundary}--\r\n".encode(), \
            f"multipart/form-data; boundary={boundary}"
    # From here on the fields themselves are incomplete (no DiskType), so that no lenient
    # reading of a broken body can ever create a disk.
    fields = [("Placement", json.dumps({"Zone": ZONE}).encode(), True),
              ("DiskChargeType", b"POSTPAID_BY_HOUR", False), ("DiskSize", b"20", False)]
    parts = b"".join(_part(boundary, *f) for f in fields)
    closing = f"--{boundary}--\r\n".encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    if kind == 3:
        body = parts[:draw(st.integers(0, len(parts) - 1))]
    elif kind == 4:
        body = draw(st.binary(max_size=300)) + parts + closing
    elif kind == 5:
        body = parts + _part(boundary, None, b"1", False) + closing
    elif kind == 6:
        body = parts + _part(boundary, "DiskSize", b"30", False) + closing
    elif kind == 7:
        body = parts + _part(boundary, "Tags", draw(st.sampled_from(
            [b"[{", b"\xff", b"", b"nul", b"[1,"])), True) + closing
    elif kind == 8:
        body = parts + _part(boundary, "DiskName", b"\xff\xfe\xfd", False) + closing
    else:
        body = parts + closing
        content_type = draw(st.sampled_from([
            "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; "
            "boundary=" + "b" * 300, "multipart/form-data; boundary=other",
            "multipart/form-data; boundary=\"unterminated"]))
        if draw(st.booleans()):
            body = b"".join(_part(boundary, f"F{i}", b"1", False) for i in range(300)) + closing
            content_type = f"multipart/form-data; boundary={boundary}"
    return "CreateDisks", body, content_type


@settings(max_examples=60, **SETTINGS)
@given(case=bad_multipart())
def test_multipart_garbage(target, case):
    action, body, content_type = case
    signed = target.tc3(action=action, body=body, content_type=content_type)
    exchange(target, signed, SCHEMA, family="multipart")


# --- 8. methods, actions, versions, regions ------------------------------------------------------
# Methods the HTTP parser (llhttp) accepts; CONNECT is left out (it switches the connection).
OTHER_METHODS = ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "COPY", "LOCK", "MKCOL", "MOVE",
                 "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "REPORT", "MERGE", "NOTIFY",
                 "SUBSCRIBE", "UNSUBSCRIBE", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "QUERY"]


@settings(max_examples=40, **SETTINGS)
@given(method=st.sampled_from(OTHER_METHODS), sign_as=st.sampled_from([None, "POST", "GET"]),
       v1=st.booleans())
def test_methods_other_than_get_and_post(target, method, sign_as, v1):
    if v1:
        signed = target.v1(action="CreateDisks", params=valid_create_disks(), method="POST")
        signed = signed._replace(method=method)
    else:
        signed = target.tc3(action="CreateDisks", params=valid_create_disks(), method=method,
                            sign_method=sign_as)
    exchange(target, signed, frozenset({"UnsupportedProtocol"}), family="methods")


def expected_call_error(action: str | None, version: str | None, region: str | None,
                        v1: bool = False) -> str | None:
    """protocol.md §9: action, then version, then region. A v1 signature names no service: the
    action's name picks it (a CVM action goes to the CVM service)."""
    if not action:
        return "MissingParameter"
    if action not in CBS_ACTIONS and not (v1 and action in CVM_ACTIONS):
        return "InvalidAction"
    if not version:
        return "MissingParameter"
    if version != VERSION:
        return "NoSuchVersion"
    if not region:
        return "MissingParameter"
    if region not in REGIONS:
        return "UnsupportedRegion"
    return None


def _maybe(valid, bad):
    # Mostly valid, so that each of the three gets to be the first (and only) thing wrong.
    return st.one_of(st.just(valid), st.just(valid), st.just(valid), st.just(None), st.just(""),
                     bad, bad)


actions = _maybe("CreateDisks", st.one_of(
    st.sampled_from(["createDisks", "CREATEDISKS", "CreateDisk", "Create Disks", "DescribeDisks2",
                     "DescribeInstances", "CreateDisks\u00a0", "\u00ffCreateDisks",
                     "Describe.Disks",
                     "../CreateDisks", "CreateDisks;DescribeDisks"]),
    latin1_text))
versions = _maybe(VERSION, st.one_of(
    st.sampled_from(["2017-03-13", "2017-3-12", "2017-03-12x", "2022-03-12", "2017/03/12",
                     "20170312", "v3", "2017-03-1"]),
    latin1_text))
regions = _maybe(REGION, st.one_of(
    st.sampled_from(["ap-guangzhou-3", "AP-GUANGZHOU", "ap_guangzhou", "guangzhou", "ap-mars",
                     "ap-guangzhou\u00a0", "*", "ap-guangzhou,ap-shanghai"]),
    latin1_text))


@settings(max_examples=70, **SETTINGS)
@given(action=actions, version=versions, region=regions, v1=st.booleans())
def test_unknown_actions_versions_regions(target, action, version, region, v1):
    expected = expected_call_error(action, version, region, v1)
    assume(expected is not None)
    body = valid_create_disks()
    common = dict(action=OMIT if action is None else action,
                  version=OMIT if version is None else version,
                  region=OMIT if region is None else region)
    if v1:
        signed = target.v1(params=body, method="POST", **common)
    else:
        signed = target.tc3(params=body, **common)
    response = exchange(target, signed, frozenset({expected}), family="action-version-region")
    assert _code(response) == expected


# --- 9. sizes (deterministic: large bodies are slow to generate) ---------------------------------
def test_requests_over_the_size_limits(target):
    """GET query ≤ 32 KB, v1 POST ≤ 1 MB, TC3 POST ≤ 10 MB (protocol.md §2). Every oversized
    request below is otherwise VALID (padding the parsers ignore), so answering anything but an
    error would mean the limit is not enforced — and would create a disk."""
    body = valid_create_disks()
    flat = rawsign.urlencode(rawsign.flatten(body))
    oversized = [
        # TC3 GET: a query of 32 KB + 1 (empty `&` pairs are ignored by the parser)
        target.tc3(action="CreateDisks", method="GET",
                   raw_query=flat + "&" * (32 * 1024 + 1 - len(flat))),
        # v1 GET: the same padding in the signed query
        _pad_v1_get(target.v1(action="CreateDisks", params=body, method="GET"), 32 * 1024 + 1),
        # v1 POST: a form body of 1 MB + 1
        _pad_v1_post(target.v1(action="CreateDisks", params=body, method="POST"), 1024 * 1024 + 1),
        # TC3 POST JSON: 10 MB + 1 of JSON whitespace around a valid body
        target.tc3(action="CreateDisks",
                   body=_pad_json(rawsign.json_body(body), 10 * 1024 * 1024 + 1)),
        # TC3 multipart: 10 MB + 1
        _oversized_multipart(target, body, 10 * 1024 * 1024 + 1),
    ]
    for signed in oversized:
        exchange(target, signed, TOO_LARGE, family="sizes")
    # Within the limits the same padding is harmless: a read-only action succeeds.
    query = "Limit=5"
    within = [
        target.tc3(action="DescribeDisks", method="GET",
                   raw_query=query + "&" * (32 * 1024 - len(query))),
        _pad_v1_post(target.v1(action="DescribeDisks", params={"Limit": 5}, method="POST"),
                     1024 * 1024),
        # over the v1 limit, but TC3 allows 10 MB
        target.tc3(action="DescribeDisks", body=_pad_json(b'{"Limit": 5}', 2 * 1024 * 1024)),
    ]
    for signed in within:
        response = exchange(target, signed, None, family="sizes", success_ok=True)
        assert "Error" not in response, (response, _describe(signed))
    assert target.server.alive()


def _pad_json(document: bytes, size: int) -> bytes:
    return document[:1] + b" " * (size - len(document)) + document[1:]


def _pad_v1_get(signed: rawsign.Signed, size: int) -> rawsign.Signed:
    query = signed.path[2:]
    return signed._replace(path="/?" + "&" * (size - len(query)) + query)


def _pad_v1_post(signed: rawsign.Signed, size: int) -> rawsign.Signed:
    return signed._replace(body=b"&" * (size - len(signed.body)) + signed.body)


def _oversized_multipart(target: Target, body: dict, size: int) -> rawsign.Signed:
    boundary = uuid.uuid4().hex
    parts = b"".join(_part(boundary, k, json.dumps(v).encode(), True) for k, v in body.items())
    closing = f"--{boundary}--\r\n".encode()
    preamble = b"x" * (size - len(parts) - len(closing) - 2) + b"\r\n"  # ignored by MIME
    return target.tc3(action="CreateDisks", body=preamble + parts + closing,
                      content_type=f"multipart/form-data; boundary={boundary}")


# --- 10. edge values, each once ------------------------------------------------------------------
def _edge_cases(target: Target):
    now = str(int(time.time()))
    ts_superscript = target.tc3(action="DescribeDisks", params={})
    ts_superscript.headers["X-TC-Timestamp"] = "\u00b2"
    many_filters = [{"Name": "zone", "Values": [ZONE]}] * 2000
    return [
        # uint64 values the schema accepts: a page past the end is empty, never an InternalError
        ("Offset=2**63", target.tc3(action="DescribeDisks", params={"Offset": 2**63}),
         frozenset({"InvalidParameterValue"}), True),
        ("Offset=2**64-1", target.tc3(action="DescribeDisks", params={"Offset": 2**64 - 1}),
         frozenset({"InvalidParameterValue"}), True),
        ("project-id filter beyond int64",
         target.tc3(action="DescribeDisks", params={"Filters": [
             {"Name": "project-id", "Values": ["99999999999999999999999"]}]}),
         frozenset({"InvalidParameterValue"}), True),
        ("2000 filters", target.tc3(action="DescribeDisks", params={"Filters": many_filters}),
         frozenset({"InvalidParameterValue", "InvalidParameterValue.LimitExceeded"}), True),
        ("2000 tag:<key> filters", target.tc3(action="DescribeDisks", params={"Filters": [
            {"Name": f"tag:k{i}", "Values": ["v"]} for i in range(2000)]}),
         frozenset({"InvalidParameterValue", "InvalidParameterValue.LimitExceeded"}), True),
        ("X-TC-Timestamp ²", ts_superscript, frozenset({"InvalidParameter"}), False),
        ("v1 Timestamp ²", target.v1(action="DescribeDisks", timestamp="\u00b2"),
         frozenset({"InvalidParameter"}), False),
        ("flattened index ²", target.tc3(action="DescribeDisks", method="GET",
                                         raw_query="DiskIds.%C2%B2=disk-aaaaaaaa"),
         frozenset({"InvalidParameter"}), False),
        ("flattened index of 5000 digits",
         target.tc3(action="DescribeDisks", method="GET", raw_query="DiskIds." + "9" * 5000 + "=x"),
         frozenset({"InvalidParameter"}), False),
        ("CreateDisks DeleteSnapshot=true",
         target.tc3(action="CreateDisks", params={**valid_create_disks(), "DeleteSnapshot": True}),
         frozenset({"InvalidParameter"}), False),
        ("Limit=2**64", target.tc3(action="DescribeDisks", params={"Limit": 2**64}),
         frozenset({"InvalidParameter"}), False),
        ("deeply nested JSON", target.tc3(action="DescribeDisks", body=b"[" * 100_000),
         frozenset({"InvalidParameter"}), False),
        ("deeply nested Values", target.tc3(action="DescribeDisks", body=(
            b'{"Filters":[{"Name":"zone","Values":' + b"[" * 900 + b"]" * 900 + b"}]}")),
         frozenset({"InvalidParameter"}), False),
        ("100000 filter values", target.tc3(action="DescribeDisks", params={"Filters": [
            {"Name": "zone", "Values": ["a"] * 100_000}]}),
         frozenset({"InvalidParameterValue", "InvalidParameterValue.LimitExceeded"}), False),
        ("100000 DiskIds", target.tc3(action="DescribeDisks",
                                      params={"DiskIds": ["disk-aaaaaaaa"] * 100_000}),
         frozenset({"InvalidParameterValue", "InvalidParameterValue.LimitExceeded"}), False),
        ("empty X-TC-Action", target.tc3(action="", params={}),
         frozenset({"MissingParameter"}), False),
        ("v1 without Action", target.v1(action=OMIT, params={}),
         frozenset({"MissingParameter"}), False),
        ("TC3 timestamp with the date of another day",
         target.tc3(action="DescribeDisks", timestamp=now,
                    date=rawsign.utc_date(int(now) - 86400)),
         frozenset({"AuthFailure.SignatureFailure"}), False),
    ]


def test_edge_values(target):
    failures = []
    for name, signed, allowed, success_ok in _edge_cases(target):
        try:
            exchange(target, signed, allowed, family="edge", success_ok=success_ok)
        except AssertionError as failure:
            failures.append(f"[{name}] {str(failure).splitlines()[0]}")
    assert not failures, "\n".join(failures)


def test_head_gets_headers_only(target):
    signed = target.tc3(action="DescribeDisks", method="HEAD")
    reply = rawsign.send(target.server.url, signed)
    SENT["head"] += 1
    assert reply.status == 200
    assert reply.headers.get_all("Content-Type") == ["application/json"]
    assert reply.body == b""


# --- 11. the end: enough requests, the server alive, clean and unchanged -------------------------
def test_zz_server_survived_unchanged(target):
    total = sum(SENT.values())
    print(f"\n{total} requests sent by family: {dict(sorted(SENT.items()))}")
    print("codes by family:", dict(sorted(CODES.items())))
    problems = []
    if total < MIN_REQUESTS:
        problems.append(f"only {total} requests were sent (at least {MIN_REQUESTS} expected)")
    if not target.server.alive():
        pytest.fail("the server process died")
    health = requests.get(f"{target.server.url}/_cbslocal/health", timeout=10,
                          proxies={"http": None, "https": None})
    if health.status_code != 200 or health.json().get("status") != "ok":
        problems.append(f"health check: {health.status_code} {health.text[:200]}")
    after = _state(target.server)
    if after["listing"] != target.baseline["listing"]:
        problems.append("the DescribeDisks listing changed:\n"
                        f"before: {_summary(target.baseline['listing'])}\n"
                        f"after:  {_summary(after['listing'])}")
    if after["database"] is not None:
        before_db = target.baseline["database"]
        changed = sorted(t for t in set(after["database"]) | set(before_db)
                         if after["database"].get(t) != before_db.get(t))
        if changed:
            problems.append(f"database tables changed: {changed}")
    log = target.server.log_text()
    tracebacks = log.count("Traceback (most recent call last)")
    if tracebacks:
        problems.append(f"the server logged {tracebacks} traceback(s):\n" + _tracebacks(log))
    assert not problems, "\n\n".join(problems)


def _summary(listing: dict) -> str:
    return ", ".join(f"{region}: {total} {sorted(d['DiskId'] for d in disks)}"
                     for region, (total, disks) in listing.items())


def test_zz_metrics_labels_stay_bounded(target):
    """Unauthenticated garbage must not mint new metric series: an attacker-chosen X-TC-Action
    label per request grows the server's memory without bound."""
    text = target.server.control("GET", "/metrics").text
    labels = set(re.findall(r'^cbslocal_api_calls_total\{[^}]*action="([^"]*)"', text, re.M))
    unexpected = sorted(labels - CBS_ACTIONS - CVM_ACTIONS - {"", "(unknown)"})
    assert not unexpected, (f"{len(unexpected)} attacker-chosen action labels in /metrics, "
                            f"e.g. {unexpected[:5]}")


def _tracebacks(log: str) -> str:
    """The distinct exceptions (with counts), then the first traceback in full."""
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    finals: Counter = Counter()
    for i in starts:
        for line in lines[i + 1:i + 80]:
            if line and not line.startswith((" ", "Traceback")):
                finals[line[:200]] += 1
                break
    summary = "\n".join(f"{n} x {text}" for text, n in finals.most_common())
    first = "\n".join(lines[starts[0]:starts[0] + 40]) if starts else ""
    return f"{summary}\n--- first traceback ---\n{first}"
