"""The control plane never answers 5xx, and always answers JSON: Hypothesis sends every endpoint
arbitrary bodies (any JSON value, huge and tiny numbers, wrong types, unknown keys, long strings,
NULs, bytes that are not UTF-8), path IDs and query strings, and arbitrary headers, to a real
server process. Derandomized (the same examples every run) and bounded; the server is reset after
every example that may have changed it."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_from_bytes

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbslocal.store.migrations import HEAD_REVISION
from tests.e2e.conftest import postgres_database
from tests.e2e.server import Server
from tests.e2e.test_lifecycle import World

NO_PROXY = {"http": None, "https": None}


def fuzz(examples: int):
    return settings(derandomize=True, database=None, deadline=None, max_examples=examples,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# Every endpoint, with the keys it reads ({id}: an arbitrary path segment), so that most bodies
# get past the unknown-key check and reach the values' checks.
FAULT_KEYS = ["service", "action", "account", "region", "code", "message", "latency", "close",
              "times", "probability", "seed"]
ENDPOINTS = {
    ("GET", "/health"): [], ("GET", "/check"): [], ("GET", "/metrics"): [], ("GET", "/accounts"): [],
    ("POST", "/accounts"): ["name"], ("POST", "/accounts/{id}/keys"): ["ttl"],
    ("POST", "/settle"): [], ("POST", "/reset"): ["account", "region"],
    ("GET", "/clock"): [], ("POST", "/clock"): ["advance", "set", "mode", "rate"],
    ("GET", "/state"): ["account"],
    ("POST", "/state"): ["format", "version", "schema", "tables", "clock"],
    ("GET", "/config"): [],
    ("POST", "/config"): ["limits", "stock", "regions", "disk_types", "rate_limits", "projects",
                          "defaults", "system_disk", "instance_types", "images"],
    ("GET", "/timing"): [], ("POST", "/timing"): ["profile", "durations"],
    ("GET", "/calls"): ["limit"], ("GET", "/faults"): [], ("POST", "/faults"): FAULT_KEYS,
    ("DELETE", "/faults"): [], ("DELETE", "/faults/{id}"): [],
    ("GET", "/faults/firings"): ["limit"],
    ("POST", "/instances/{id}"): ["state", "supports_cbs", "online_resize", "max_attach_count"],
    ("POST", "/disks/{id}"): ["dumping", "returnable", "snapshot_ability"],
    ("POST", "/policies/{id}"): ["state"],
}
NESTED_KEYS = ["enabled", "per_second", "actions", "disk.attach", "ap-guangzhou",
               "ap-guangzhou-3", "CLOUD_SSD", "create_disks_max_count", "zones", "sold_disk_types",
               "now", "mode", "rate", "disks", "accounts", "min_size", "max_size"]
TRICKY_TEXT = ["", "0", "-1", "1e300", "NaN", "Infinity", "-0", "9" * 40, "\u00b2", "\x00",
               "\u0661", "2031-06-01 08:00:00", "9999-12-31T23:59:59-23:59",
               "0001-01-01T00:00:00+23:59", "1d12h", "99999999999999999d", "ap-guangzhou",
               "DescribeDisks", "InternalError", "cbs", "scaled", "real", "frozen", "running",
               "instant", "custom", "RUNNING", "ISOLATED", "NORMAL", "100000000001",
               "cbslocal-state", "0005", "x" * 70000]
TRICKY_NUMBERS = [0, 1, -1, 2**31, 2**63, 2**64, 10**30, -10**30, 1e300, -1e300, 5e-324, 0.5,
                  1796193820.33, 221845363200, 221845363201, 100000, 100001]

scalars = (st.none() | st.booleans() | st.integers() | st.sampled_from(TRICKY_NUMBERS)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
           | st.sampled_from(TRICKY_TEXT))
nested_keys = st.sampled_from(NESTED_KEYS) | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nested_keys, inner, max_size=4),
    max_leaves=12)
path_ids = (st.sampled_from(["0", "1", "100000000001", "99999999999999999999999",
                             "9223372036854775808", "9" * 5000, "-1", "ins-00000000",
                             "disk-00000000", "asp-00000000", "%00", "%ff%fe", "%2e%2e", ".."])
            | st.text(min_size=1, max_size=40).map(lambda t: quote(t, safe=""))
            | st.binary(min_size=1, max_size=20).map(lambda b: quote_from_bytes(b, safe="")))
query_values = st.sampled_from(TRICKY_TEXT[:-1] + ["1000", "1001"]) | st.text(max_size=20)


def bodies(keys: list[str]):
    """Mostly objects of the endpoint's keys (now and then an unknown one), or any JSON value."""
    known = st.sampled_from(keys) if keys else st.nothing()
    return (st.dictionaries(known | st.text(max_size=8), json_values, max_size=4)
            | st.dictionaries(known, json_values, min_size=1, max_size=len(keys) or 1)
            | json_values)


def query_parts(keys: list[str]):
    known = st.sampled_from(keys) if keys else st.nothing()
    return st.lists(st.tuples(known | st.text(max_size=8), query_values | st.binary(max_size=8)),
                    max_size=4)


def query_string(parts: list[tuple[str, str | bytes]]) -> str:
    return "&".join(f"{quote(k, safe='')}="
                    + (quote_from_bytes(v, safe="") if isinstance(v, bytes) else quote(v, safe=""))
                    for k, v in parts)


@pytest.fixture(scope="module")
def module_database():
    """A database of this module's own, dropped afterwards."""
    with postgres_database("cbslocal_fuzz") as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """Both stores: PostgreSQL refuses what SQLite takes (a NUL, an integer beyond 32 bits)."""
    url = request.getfixturevalue("module_database") if request.param == "postgresql" else None
    srv = Server(tmp_path_factory.mktemp("control-fuzz") / "data", database_url=url).start()
    yield srv
    srv.stop()
    assert "Traceback" not in srv.log_text()


@pytest.fixture(scope="module")
def exported(server):
    """A real state document (an instance, disks, a fault rule) to mutate for imports."""
    world = World(server)
    world.attach(world.run()[0], world.create())
    world.create(DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 1})
    assert server.control("POST", "/faults", {"action": "ResizeDisk", "code": "InternalError"}).ok
    document = server.control("GET", "/state").json()
    assert server.control("POST", "/reset", {}).ok
    return document


def send(server: Server, method: str, path: str, *, body: bytes | None = None,
         headers: dict | None = None, token: bool = True) -> requests.Response:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {server.admin_token}"
    return requests.request(method, f"{server.url}/_cbslocal{path}", data=body, headers=sent,
                            timeout=60, proxies=NO_PROXY)


def answered_well(reply: requests.Response) -> None:
    assert reply.status_code < 500, (reply.status_code, reply.text[:500])
    if reply.status_code == 200 and reply.request.path_url.startswith("/_cbslocal/metrics"):
        return  # Prometheus text
    assert reply.headers["content-type"] == "application/json"
    answer = reply.json()
    assert isinstance(answer, dict)
    if reply.status_code != 200:
        assert isinstance(answer["error"], str) and answer["error"]


def reset_after(server: Server, method: str, reply: requests.Response | None = None) -> None:
    """Back to a fresh state after a change (a refused request changed nothing)."""
    if method != "GET" and (reply is None or reply.status_code == 200):
        assert server.control("POST", "/reset", {}).status_code == 200


# --- every key of every endpoint with every tricky value, one at a time ------------------------------
HOLE = "<value>"
# Bodies where a value only matters beside others (a rate with its mode), or deep inside.
TEMPLATES = {
    ("POST", "/clock"): [{"mode": "scaled", "rate": HOLE}],
    ("POST", "/faults"): [{"code": "InternalError", "message": HOLE},
                          {"latency": 0.001, "times": HOLE}, {"latency": 0.001, "probability": HOLE},
                          {"latency": 0.001, "seed": HOLE}],
    ("POST", "/timing"): [{"durations": {"disk.attach": HOLE}}, {"durations": {HOLE: 1}}],
    ("POST", "/config"): [{"limits": {"create_disks_max_count": HOLE}},
                          {"limits": {"recycle_retention_days": HOLE}},
                          {"stock": {"ap-guangzhou-3": {"CLOUD_SSD": HOLE}}},
                          {"rate_limits": {"enabled": True, "per_second": HOLE}},
                          {"rate_limits": {"enabled": True, "actions": {"DescribeDisks": HOLE}}},
                          {"regions": {"ap-guangzhou": {"sold_disk_types": {"ap-guangzhou-3": HOLE}}}},
                          {"regions": {"ap-guangzhou": {"sold_out_zones": HOLE}}},
                          {"projects": {"ids": HOLE}}, {"images": {"img-00000000": HOLE}}],
    ("POST", "/state"): [{"format": "cbslocal-state", "version": 1, "schema": HEAD_REVISION,
                          "tables": {}, "clock": {"mode": "frozen", "now": HOLE, "rate": 0}},
                         {"format": "cbslocal-state", "version": 1, "schema": HEAD_REVISION,
                          "tables": {}, "clock": {"mode": "scaled", "now": 1.8e9, "rate": HOLE}},
                         {"format": "cbslocal-state", "version": 1, "schema": HEAD_REVISION,
                          "tables": {"disks": HOLE}}],
}
SWEEP_VALUES = ([v for v in TRICKY_TEXT if len(v) < 100] + TRICKY_NUMBERS
                + [None, True, False, [], {}, [1], ["ap-guangzhou"], {"x": 1}, "x" * 1000])


def filled(template, value):
    if template == HOLE:
        return value
    if isinstance(template, dict):
        return {k if k != HOLE else str(value): filled(v, value) for k, v in template.items()}
    return template


def sweep_bodies(endpoint) -> list:
    templates = [{key: HOLE} for key in ENDPOINTS[endpoint]] + TEMPLATES.get(endpoint, [])
    return [filled(template, value) for template in templates for value in SWEEP_VALUES]


@pytest.mark.parametrize("endpoint", sorted(e for e in ENDPOINTS if e[0] != "GET" and ENDPOINTS[e]
                                            or e in TEMPLATES), ids="{0[0]} {0[1]}".format)
def test_every_key_with_every_tricky_value(server, endpoint):
    method, path = endpoint
    path = path.replace("{id}", "100000000001" if path.startswith("/accounts") else "1")
    for body in sweep_bodies(endpoint):
        reply = send(server, method, path, body=json.dumps(body).encode())
        answered_well(reply)
        reset_after(server, method, reply)


@pytest.mark.parametrize("endpoint", sorted(e for e in ENDPOINTS if e[0] == "GET" and ENDPOINTS[e]),
                         ids="{0[0]} {0[1]}".format)
def test_every_query_key_with_every_tricky_text(server, endpoint):
    method, path = endpoint
    for key in ENDPOINTS[endpoint]:
        for value in [v for v in SWEEP_VALUES if isinstance(v, str)]:
            answered_well(send(server, method, f"{path}?{query_string([(key, value)])}"))


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS), ids="{0[0]} {0[1]}".format)
@fuzz(100)
@given(data=st.data())
def test_any_json_body_on_any_endpoint(server, endpoint, data):
    method, path = endpoint
    path = path.replace("{id}", data.draw(path_ids, label="id"))
    body = data.draw(bodies(ENDPOINTS[endpoint]), label="body")
    reply = send(server, method, path, body=json.dumps(body).encode())
    answered_well(reply)
    reset_after(server, method, reply)


@pytest.mark.parametrize("endpoint", sorted(e for e in ENDPOINTS if e[0] == "GET"),
                         ids="{0[0]} {0[1]}".format)
@fuzz(40)
@given(data=st.data())
def test_any_query_string_on_a_get(server, endpoint, data):
    method, path = endpoint
    parts = data.draw(query_parts(ENDPOINTS[endpoint]), label="query")
    answered_well(send(server, method, f"{path}?{query_string(parts)}"))


@fuzz(150)
@given(endpoint=st.sampled_from(sorted(ENDPOINTS)), data=st.binary(max_size=300))
def test_any_bytes_as_a_body(server, endpoint, data):
    method, path = endpoint
    reply = send(server, method, path.replace("{id}", "1"), body=data)
    answered_well(reply)
    reset_after(server, method, reply)


@fuzz(150)
@given(method=st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"]),
       segments=st.lists(path_ids | st.sampled_from(["faults", "accounts", "keys", "state",
                                                     "firings", "clock", ""]), max_size=4))
def test_any_path(server, method, segments):
    reply = send(server, method, "/" + "/".join(segments), body=b"{}" if method != "GET" else None)
    answered_well(reply)
    reset_after(server, method, reply)


header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                               exclude_characters="\x7f"), max_size=40)


@fuzz(200)
@given(endpoint=st.sampled_from(sorted(ENDPOINTS)),
       headers=st.dictionaries(st.sampled_from(["Host", "Origin", "Content-Type", "Authorization",
                                                "X-CBSLocal-Token"]),
                               header_values | st.sampled_from([
                                   "127.0.0.1", "localhost:1", "application/json", "text/plain",
                                   "Bearer ", "Bearer x", "null", "http://127.0.0.1"]),
                               max_size=5),
       token=st.booleans())
def test_any_headers(server, endpoint, headers, token):
    method, path = endpoint
    data = None if method == "GET" else b"{}"
    reply = send(server, method, path.replace("{id}", "1"), body=data,
                 headers={k: v.strip() for k, v in headers.items()}, token=token)
    answered_well(reply)
    reset_after(server, method, reply)


@fuzz(200)
@given(data=st.data())
def test_any_value_in_an_imported_state(server, exported, data):
    """A real document with one value changed — a row's column, or a part of the clock — into
    the emptied server: imported, or refused as a whole."""
    document = json.loads(json.dumps(exported))
    tables = {name: rows for name, rows in document["tables"].items() if rows}
    if data.draw(st.booleans()):
        name = data.draw(st.sampled_from(sorted(tables)))
        row = data.draw(st.sampled_from(tables[name]))
        column = data.draw(st.sampled_from(sorted(row)))
        row[column] = data.draw(json_values)
    else:
        document["clock"][data.draw(st.sampled_from(["now", "mode", "rate"]))] = data.draw(json_values)
    reply = send(server, "POST", "/state", body=json.dumps(document).encode())
    answered_well(reply)
    reset_after(server, "POST", reply)
