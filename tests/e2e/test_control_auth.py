"""The control plane answers its operator only (docs/admin-api.md, "Authentication"): the admin
token (generated at the first start, kept hashed in the store, printed once and saved in the data
dir), required for everything beyond loopback and for every answer holding a secret; on loopback,
the Host and Origin of a browser's request and the JSON content type of every change."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys

import pytest
import requests

from tests.e2e.server import DEFAULT_SECRET_KEY, Server, clean_env

NO_PROXY = {"http": None, "https": None}
DEFAULT_ACCOUNT = "100000000001"
# Every endpoint with a harmless call of it (nothing here changes what another test sees).
HARMLESS_CALLS = [
    ("GET", "/metrics", None), ("GET", "/accounts", None), ("GET", "/clock", None),
    ("GET", "/config", None), ("GET", "/timing", None), ("GET", "/calls", None),
    ("GET", "/faults", None), ("GET", "/faults/firings", None), ("POST", "/settle", {}),
    ("GET", "/state", None),
]


def call(server: Server, method: str, path: str, body=None, *, token: str | None = None,
         headers: dict | None = None, content_type: str | None = "application/json",
         data: bytes | None = None) -> requests.Response:
    """A control-plane call with exactly the headers given (the token only when passed)."""
    sent = dict(headers or {})
    if content_type is not None:
        sent["Content-Type"] = content_type
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    payload = data if data is not None else (None if body is None else json.dumps(body).encode())
    return requests.request(method, f"{server.url}/_cbslocal{path}", data=payload, headers=sent,
                            timeout=30, proxies=NO_PROXY)


def refused(reply: requests.Response, status: int, *words: str) -> str:
    assert reply.status_code == status, (reply.status_code, reply.text)
    message = reply.json()["error"]
    for word in words:
        assert word in message, message
    return message


def admin(server: Server, *args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cbslocal", "admin", "--endpoint", server.url,
                           *args], capture_output=True, text=True, env=clean_env(**(env or {})),
                          timeout=60, cwd=cwd)


@pytest.fixture(scope="module")
def loopback(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("auth-loopback") / "data",
                    args=("--admin-host", "emulator.test")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def beyond(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("auth-beyond") / "data", host="0.0.0.0").start()
    yield server
    server.stop()


# --- the token ---------------------------------------------------------------------------------------
def test_the_token_is_generated_printed_once_and_saved_for_the_operator(tmp_path):
    server = Server(tmp_path / "data").start()
    try:
        token = server.ready["admin_token"]
        assert len(token) >= 40
        saved = tmp_path / "data" / "admin-token"
        assert saved.read_text().strip() == token
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        first_start = server.log_text()
        assert first_start.count(token) == 2  # the ready line and one readable line
        assert "admin token" in first_start.replace(token, "")
        server.stop()
        server.start()  # a restart keeps the token: nothing printed again
        assert "admin_token" not in server.ready
        assert server.log_text().count(token) == 2
        assert call(server, "GET", "/state", token=token).status_code == 200
    finally:
        server.stop()


def test_a_given_token_replaces_the_stored_one_and_is_never_printed(tmp_path):
    first = "given-token-number-one-0123456789"
    server = Server(tmp_path / "data", given_token=first).start()
    try:
        assert "admin_token" not in server.ready and first not in server.log_text()
        assert not (tmp_path / "data" / "admin-token").exists()
        assert call(server, "GET", "/state", token=first).status_code == 200
        server.stop()
        server.given_token = None
        server.start()  # no flag: the stored one stays in force
        assert "admin_token" not in server.ready
        assert call(server, "GET", "/state", token=first).status_code == 200
        server.stop()
        server.given_token = "given-token-number-two-0123456789"
        server.start()
        refused(call(server, "GET", "/state", token=first), 401, "not valid")
        assert call(server, "GET", "/state", token=server.given_token).status_code == 200
    finally:
        server.stop()


def test_a_given_token_takes_the_place_of_a_saved_one(tmp_path):
    server = Server(tmp_path / "data").start()
    generated = server.admin_token
    server.stop()
    server.given_token = "replacement-token-0123456789abcdef"
    server.start()
    try:
        # The saved file would no longer work: it goes, so that `cbslocal admin` does not send it.
        assert not (tmp_path / "data" / "admin-token").exists()
        refused(call(server, "GET", "/state", token=generated), 401)
    finally:
        server.stop()


@pytest.mark.parametrize("token", ["short", "has spaces in it 0123456789", "tøken-with-non-ascii-0123456789"])
def test_a_bad_given_token_is_refused_at_start(tmp_path, token):
    done = subprocess.run([sys.executable, "-m", "cbslocal", "serve", "--port", "0", "--data-dir",
                           str(tmp_path / "data"), "--admin-token", token],
                          capture_output=True, text=True, env=clean_env(), timeout=60)
    assert done.returncode != 0 and "--admin-token" in done.stderr


def test_the_token_comes_from_the_environment_too(tmp_path):
    token = "token-from-the-environment-0123456789"
    server = Server(tmp_path / "data", env={"CBSLOCAL_ADMIN_TOKEN": token}).start()
    try:
        assert "admin_token" not in server.ready
        assert call(server, "GET", "/state", token=token).status_code == 200
    finally:
        server.stop()


# --- beyond loopback ---------------------------------------------------------------------------------
def test_beyond_loopback_a_warning_is_printed(beyond):
    assert "beyond loopback" in beyond.log_text()


def test_beyond_loopback_every_endpoint_but_health_needs_the_token(beyond):
    assert call(beyond, "GET", "/health").status_code == 200
    for method, path, body in HARMLESS_CALLS + [("POST", "/faults", {"code": "InternalError"}),
                                                ("POST", "/reset", {}), ("DELETE", "/faults", None),
                                                ("GET", "/nothing-here", None)]:
        refused(call(beyond, method, path, body), 401, "admin token")
        refused(call(beyond, method, path, body, token="not-the-token-0123456789"), 401, "not valid")
    assert call(beyond, "GET", "/faults", token=beyond.admin_token).json() == {"faults": []}


def test_beyond_loopback_the_token_opens_every_endpoint(beyond):
    for method, path, body in HARMLESS_CALLS:
        assert call(beyond, method, path, body, token=beyond.admin_token).status_code == 200, path
        reply = call(beyond, method, path, body,
                     headers={"X-CBSLocal-Token": beyond.admin_token})
        assert reply.status_code == 200, path
    # Any Host and Origin: the token is what counts there.
    reply = call(beyond, "GET", "/clock", token=beyond.admin_token,
                 headers={"Host": "cbslocal.example:80", "Origin": "http://elsewhere.example"})
    assert reply.status_code == 200


def test_beyond_loopback_the_admin_cli_reads_the_token_file(beyond, tmp_path):
    done = admin(beyond, "clock", "show", cwd=tmp_path)  # ./cbslocal-data holds nothing here
    assert done.returncode == 1 and "401" in done.stderr and "admin-token" in done.stderr
    done = admin(beyond, "--data-dir", str(beyond.data_dir), "clock", "show")
    assert done.returncode == 0, done.stderr
    done = admin(beyond, "clock", "show", env={"CBSLOCAL_DATA_DIR": str(beyond.data_dir)})
    assert done.returncode == 0, done.stderr
    done = admin(beyond, "--token", beyond.admin_token, "clock", "show", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = admin(beyond, "clock", "show", env={"CBSLOCAL_ADMIN_TOKEN": beyond.admin_token},
                 cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert admin(beyond, "health", cwd=tmp_path).returncode == 0


# --- on loopback: DNS rebinding and web pages --------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:{port}", "localhost:{port}",
                                  "LOCALHOST", "[::1]:{port}", "emulator.test:{port}"])
def test_on_loopback_the_host_may_name_the_server(loopback, host):
    reply = call(loopback, "GET", "/clock", headers={"Host": host.format(port=loopback.port)})
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("host", ["attacker.example:{port}", "attacker.example", "localhost:1",
                                  "127.0.0.1:{port}.attacker.example", "10.0.0.1:{port}", ""])
def test_on_loopback_another_host_is_refused(loopback, host):
    before = call(loopback, "GET", "/timing").json()
    refused(call(loopback, "POST", "/timing", {"profile": "realistic"},
                 headers={"Host": host.format(port=loopback.port)}), 403, "Host")
    refused(call(loopback, "GET", "/clock", headers={"Host": host.format(port=loopback.port)}),
            403, "Host")
    assert call(loopback, "GET", "/timing").json() == before


def test_on_loopback_a_request_without_host_is_refused(loopback):
    with socket.create_connection(("127.0.0.1", loopback.port), timeout=10) as conn:
        conn.sendall(b"GET /_cbslocal/clock HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403") and "Host" in json.loads(body)["error"]


@pytest.mark.parametrize("origin", ["http://attacker.example", "null", "http://localhost:1",
                                    "https://127.0.0.1:{port}", "http://127.0.0.1:{port}.evil"])
def test_on_loopback_another_origin_is_refused(loopback, origin):
    # A web page's fetch: the browser sets Origin (and the Host the page aimed at).
    refused(call(loopback, "POST", "/faults", {"action": "DescribeDisks", "code": "InternalError"},
                 headers={"Origin": origin.format(port=loopback.port)}), 403, "Origin")
    assert call(loopback, "GET", "/faults").json() == {"faults": []}


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "http://localhost:{port}",
                                    "http://emulator.test:{port}"])
def test_on_loopback_the_servers_own_origin_passes(loopback, origin):
    reply = call(loopback, "GET", "/clock", headers={"Origin": origin.format(port=loopback.port)})
    assert reply.status_code == 200, reply.text


def test_on_loopback_the_token_passes_any_host_and_origin(loopback):
    reply = call(loopback, "GET", "/clock", token=loopback.admin_token,
                 headers={"Host": "attacker.example", "Origin": "http://attacker.example"})
    assert reply.status_code == 200


@pytest.mark.parametrize("method,path,content_type", [
    ("POST", "/faults", "text/plain"),  # a browser's "simple request": no preflight
    ("POST", "/faults", "application/x-www-form-urlencoded"),
    ("POST", "/faults", "multipart/form-data; boundary=x"),
    ("POST", "/faults", None),
    ("POST", "/reset", None),
    ("DELETE", "/faults", None),
    ("DELETE", "/faults", "text/plain"),
    ("POST", "/settle", "application/jsonp"),
])
def test_changes_must_be_json(loopback, method, path, content_type):
    body = {"action": "DescribeDisks", "code": "InternalError"} if path == "/faults" else None
    for token in (None, loopback.admin_token):  # the token does not exempt from it
        refused(call(loopback, method, path, body, content_type=content_type, token=token),
                415, "application/json")
    assert call(loopback, "GET", "/faults").json() == {"faults": []}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON"])
def test_json_with_or_without_parameters_and_body(loopback, content_type):
    assert call(loopback, "POST", "/settle", content_type=content_type).status_code == 200
    assert call(loopback, "DELETE", "/faults", content_type=content_type).status_code == 200


# --- secrets -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method,path,body", [
    ("GET", "/state", None),
    ("GET", f"/state?account={DEFAULT_ACCOUNT}", None),
    ("POST", "/accounts", {"name": "nobody"}),
    ("POST", f"/accounts/{DEFAULT_ACCOUNT}/keys", {}),
    ("POST", f"/accounts/{DEFAULT_ACCOUNT}/keys", {"ttl": 600}),
])
def test_answers_with_secrets_need_the_token_even_on_loopback(loopback, method, path, body):
    accounts = call(loopback, "GET", "/accounts").json()
    message = refused(call(loopback, method, path, body), 401, "admin-token", "--data-dir")
    assert "Bearer" in message
    refused(call(loopback, method, path, body, token="not-the-token-0123456789"), 401, "not valid")
    assert call(loopback, "GET", "/accounts").json() == accounts  # nothing made
    assert call(loopback, method, path, body, token=loopback.admin_token).status_code == 200


def test_no_other_answer_holds_a_secret(loopback):
    account = call(loopback, "POST", "/accounts", {"name": "secretive"},
                   token=loopback.admin_token).json()
    temporary = call(loopback, "POST", f"/accounts/{account['AccountId']}/keys", {"ttl": 600},
                     token=loopback.admin_token).json()
    secrets = [DEFAULT_SECRET_KEY, account["SecretKey"], temporary["SecretKey"], temporary["Token"],
               loopback.admin_token]
    answers = [call(loopback, "GET", "/health").text]
    for method, path, body in HARMLESS_CALLS:
        if path != "/state":
            answers.append(call(loopback, method, path, body).text)
    answers.append(call(loopback, "POST", "/state", {"format": "nothing"}).text)
    answers.append(call(loopback, "POST", "/clock", {"advance": "1s"}).text)
    for answer in answers:
        for secret in secrets:
            assert secret not in answer


def test_the_admin_cli_reads_the_token_for_secrets(loopback, tmp_path):
    done = admin(loopback, "account", "create", cwd=tmp_path)
    assert done.returncode == 1 and "admin-token" in done.stderr
    done = admin(loopback, "--data-dir", str(loopback.data_dir), "account", "create")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["SecretKey"]


# --- several processes on one PostgreSQL -------------------------------------------------------------
def test_processes_sharing_postgresql_accept_the_same_token(tmp_path, postgres_url):
    first = Server(tmp_path / "first", database_url=postgres_url).start()
    second = Server(tmp_path / "second", database_url=postgres_url).start()
    third = None
    try:
        token = first.admin_token
        assert "admin_token" not in second.ready  # the store had one: nothing generated
        assert call(second, "GET", "/state", token=token).status_code == 200
        third = Server(tmp_path / "third", database_url=postgres_url,
                       given_token="a-token-for-all-of-them-0123456789").start()
        for server in (first, second, third):  # the given token replaced it everywhere
            refused(call(server, "GET", "/state", token=token), 401)
            assert call(server, "GET", "/state", token=third.given_token).status_code == 200
    finally:
        for server in (first, second, third):
            if server is not None:
                server.stop()


def test_workers_accept_the_token_of_the_ready_line(tmp_path, postgres_url):
    server = Server(tmp_path / "data", database_url=postgres_url, args=("--workers", "3")).start()
    try:
        token = server.ready["admin_token"]
        for _ in range(12):  # a new connection each: the kernel spreads them over the workers
            assert call(server, "GET", "/state", token=token,
                        headers={"Connection": "close"}).status_code == 200
    finally:
        server.stop()
