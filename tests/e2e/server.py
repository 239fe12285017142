"""A real cbslocal server process for the e2e tests: `python -m cbslocal serve` on 127.0.0.1 with
an ephemeral port and its own data dir, and the official clients pointed at it."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

DEFAULT_SECRET_ID = "AKIDcbslocalDefault00000000000000000"
DEFAULT_SECRET_KEY = "cbslocalDefaultSecretKey00000000"
REGION = "ap-guangzhou"
ZONE = "ap-guangzhou-3"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                   "ALL_PROXY", "no_proxy", "NO_PROXY")


def clean_env(**extra: str) -> dict:
    """The environment without proxies: both SDKs would send our loopback traffic to them."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    env.update(extra)
    return env


for _name in PROXY_VARIABLES:  # the SDKs read os.environ directly
    os.environ.pop(_name, None)


@dataclass
class Server:
    data_dir: Path
    timing: str = "instant"
    database_url: str | None = None
    config: Path | None = None  # a TOML file for --config
    host: str = "127.0.0.1"  # --host; the tests connect to 127.0.0.1 whatever it is
    args: tuple[str, ...] = ()  # more `serve` options
    env: dict[str, str] = field(default_factory=dict)  # more environment for the server
    given_token: str | None = None  # passed by --admin-token
    # The control plane's token that control() sends: the given one, or the one generated at the
    # first start (in its ready line, and kept in the data dir's admin-token file).
    admin_token: str | None = field(init=False, default=None)
    process: subprocess.Popen | None = None
    port: int = 0
    ready: dict = field(init=False, default_factory=dict)  # the last start's ready line
    log_path: Path = field(init=False)

    def __post_init__(self):
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server.log"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def start(self, timeout: float = 20.0) -> "Server":
        # The port it had (a restart keeps its endpoint), or a free one the first time.
        args = [sys.executable, "-m", "cbslocal", "serve", "--port", str(self.port),
                "--data-dir", str(self.data_dir), "--timing", self.timing,
                "--host", self.host, *self.args]
        if self.database_url:
            args += ["--database-url", self.database_url]
        if self.config:
            args += ["--config", str(self.config)]
        if self.given_token:
            args += ["--admin-token", self.given_token]
        log = open(self.log_path, "ab")
        offset = log.tell()
        self.process = subprocess.Popen(args, stdout=log, stderr=log, env=clean_env(**self.env))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cbslocal exited early:\n{self.log_path.read_text()}")
            ready = self._ready_line(offset)
            if ready:
                self.port, self.ready = ready["port"], ready
                self.admin_token = (ready.get("admin_token") or self.given_token
                                    or self._saved_token() or self.admin_token)
                return self
            time.sleep(0.02)
        raise RuntimeError(f"cbslocal did not start:\n{self.log_path.read_text()}")

    def _saved_token(self) -> str | None:
        """The token a start generated, kept in the data dir for `cbslocal admin`."""
        path = self.data_dir / "admin-token"
        return path.read_text().strip() if path.exists() else None

    def _ready_line(self, offset: int) -> dict | None:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            for line in log:
                if line.startswith(b'{"event": "ready"'):
                    return json.loads(line)
        return None

    def stop(self) -> None:
        if self.alive():
            record_codes(self)
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def wait_listening(self, timeout: float = 20.0) -> None:
        """Until a connection to the server is accepted."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or not self.alive():
                    raise
                time.sleep(0.01)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def control(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        """A control-plane call as `cbslocal admin` makes it: JSON, with the admin token."""
        headers = {"Content-Type": "application/json"}
        if self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        return requests.request(method, f"{self.url}/_cbslocal{path}", json=body, timeout=30,
                                headers=headers, proxies={"http": None, "https": None})

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


# Error codes the servers of this test session answered on their own (not through a fault rule),
# read from each server's metrics when it stops; tests/e2e/conftest.py holds them against the seed.
PROVOKED: set[str] = set()
INJECTED: set[str] = set()  # answered through a fault rule
_METRIC = re.compile(r'^(cbslocal_api_calls_total|cbslocal_injected_faults_total)\{([^}]*)\} ([0-9.e+]+)$')


def record_codes(server: Server) -> None:
    try:
        text = server.control("GET", "/metrics").text
    except requests.RequestException:
        return
    counts: dict[tuple, float] = {}
    for line in text.splitlines():
        match = _METRIC.match(line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match[2]))
            key = (labels.get("service"), labels.get("action"), labels.get("code"))
            injected = match[1] == "cbslocal_injected_faults_total"
            if injected and float(match[3]) > 0:
                INJECTED.add(key[2])
            counts[key] = counts.get(key, 0) + (-1 if injected else 1) * float(match[3])
    PROVOKED.update(code for (_, _, code), n in counts.items() if n > 0)


def client_profile(server: Server, *, method: str = "POST", sign_method: str | None = None,
                   unsigned_payload: bool = False, language: str | None = None):
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    profile = ClientProfile(httpProfile=HttpProfile(endpoint=server.endpoint, protocol="http",
                                                    reqMethod=method))
    if sign_method:
        profile.signMethod = sign_method
    if language:
        profile.language = language
    profile.unsignedPayload = unsigned_payload
    return profile


def credential(secret_id: str = DEFAULT_SECRET_ID, secret_key: str = DEFAULT_SECRET_KEY,
               token: str | None = None):
    from tencentcloud.common import credential as sdk_credential

    return sdk_credential.Credential(secret_id, secret_key, token)


def cbs_client(server: Server, secret_id: str = DEFAULT_SECRET_ID,
               secret_key: str = DEFAULT_SECRET_KEY, region: str = REGION, *,
               token: str | None = None, **profile):
    """The official CbsClient pointed at `server` (profile: method, sign_method,
    unsigned_payload, language)."""
    from tencentcloud.cbs.v20170312 import cbs_client as cbs

    return cbs.CbsClient(credential(secret_id, secret_key, token), region,
                         client_profile(server, **profile))


def cvm_client(server: Server, secret_id: str = DEFAULT_SECRET_ID,
               secret_key: str = DEFAULT_SECRET_KEY, region: str = REGION, **profile):
    """The official CvmClient pointed at the same `server`."""
    from tencentcloud.cvm.v20170312 import cvm_client as cvm

    return cvm.CvmClient(credential(secret_id, secret_key), region, client_profile(server, **profile))


def common_client(server: Server, service: str = "cbs", version: str = "2017-03-12",
                  region: str = REGION, secret_id: str = DEFAULT_SECRET_ID,
                  secret_key: str = DEFAULT_SECRET_KEY, **profile):
    """The SDK's CommonClient: sends any action and any parameters (`call_json`)."""
    from tencentcloud.common.common_client import CommonClient

    return CommonClient(service, version, credential(secret_id, secret_key), region,
                        client_profile(server, **profile))
