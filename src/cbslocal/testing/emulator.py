"""A cbslocal for one test session: started on 127.0.0.1 with an ephemeral port and a temporary
data dir, in a thread of the test process or as a subprocess, with a handle on its control plane
and preconfigured official clients."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cbslocal.control import client as control_client
from cbslocal.iam.accounts import DEFAULT_ACCOUNT_ID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                   "ALL_PROXY")


class CbsLocal:
    """`with CbsLocal() as emulator:` — or start()/stop(). `mode` is "thread" (fast to start,
    shares the test process) or "subprocess" (isolated)."""

    def __init__(self, *, mode: str = "thread", timing: str = "instant",
                 region: str = "ap-guangzhou", config: Path | None = None,
                 data_dir: Path | None = None):
        if mode not in ("thread", "subprocess"):
            raise ValueError(f"mode must be 'thread' or 'subprocess', not {mode!r}")
        self.mode, self.timing, self.region, self.config = mode, timing, region, config
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="cbslocal-"))
        self.port = 0
        self.secret_id, self.secret_key = DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
        # The control plane's token, given to the server (it replaces one a reused data dir has)
        # and sent on every control call.
        self.admin_token = secrets.token_urlsafe(32)
        self._server = self._thread = self._process = None

    # --- life ------------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        """host:port, as the SDKs' HttpProfile(endpoint=…) wants it."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def start(self) -> "CbsLocal":
        for name in PROXY_VARIABLES:  # the SDKs would send loopback traffic to a proxy
            os.environ.pop(name, None)
        os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
        (self._start_thread if self.mode == "thread" else self._start_process)()
        return self

    def _start_thread(self) -> None:
        from cbslocal.app import make_server
        from cbslocal.config import Settings, topology_from_file

        settings = Settings(port=0, data_dir=self.data_dir, timing=self.timing, log_requests=False,
                            admin_token=self.admin_token)
        if self.config is not None:
            settings.topology = topology_from_file(Path(self.config))
        self._server, sock = make_server(settings)
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="cbslocal", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("cbslocal did not start")
            time.sleep(0.01)

    def _start_process(self) -> None:
        args = [sys.executable, "-m", "cbslocal", "serve", "--port", "0", "--data-dir",
                str(self.data_dir), "--timing", self.timing, "--log-level", "WARNING"]
        if self.config is not None:
            args += ["--config", str(self.config)]
        self._log = open(self.data_dir / "server.log", "w+b")
        # By the environment rather than an argument, which other users of the machine can read.
        env = {**os.environ, "CBSLOCAL_ADMIN_TOKEN": self.admin_token}
        self._process = subprocess.Popen(args, stdout=self._log, stderr=self._log, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("cbslocal exited: " + self.log_text())
            for line in self.log_text().splitlines():
                if line.startswith('{"event": "ready"'):
                    self.port = json.loads(line)["port"]
                    return
            time.sleep(0.02)
        raise RuntimeError("cbslocal did not start: " + self.log_text())

    def log_text(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None
            self._log.close()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "CbsLocal":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- official clients --------------------------------------------------------------------------
    def profile(self):
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile

        return ClientProfile(httpProfile=HttpProfile(endpoint=self.endpoint, protocol="http"))

    def credential(self):
        from tencentcloud.common import credential

        return credential.Credential(self.secret_id, self.secret_key)

    def cbs_client(self, region: str | None = None):
        """The official CbsClient (tencentcloud-sdk-python-cbs) pointed at this emulator."""
        from tencentcloud.cbs.v20170312 import cbs_client

        return cbs_client.CbsClient(self.credential(), region or self.region, self.profile())

    def cvm_client(self, region: str | None = None):
        """The official CvmClient (tencentcloud-sdk-python-cvm) pointed at this emulator."""
        from tencentcloud.cvm.v20170312 import cvm_client

        return cvm_client.CvmClient(self.credential(), region or self.region, self.profile())

    # --- the control plane (docs/admin-api.md) ------------------------------------------------------
    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        """The control plane's answer; ControlFailed (status, message) when it refuses."""
        return control_client.call(self.url, self.admin_token, method, path, body)

    def reset(self, **scope) -> dict:
        """Back to a fresh state (or only `account=` / `region=`)."""
        return self.control("POST", "/reset", scope)

    def settle(self) -> int:
        return self.control("POST", "/settle", {})["applied"]

    def advance(self, duration: str | float) -> dict:
        """Move the emulator's clock forward: seconds, or "90s", "10m", "2h", "3d", "1w"."""
        return self.control("POST", "/clock", {"advance": duration})

    def set_clock(self, **change) -> dict:
        """set="2031-01-01 00:00:00", or mode="frozen" / "running" / "scaled" (with rate=)."""
        return self.control("POST", "/clock", change)

    def clock(self) -> dict:
        return self.control("GET", "/clock")

    def set_timing(self, profile: str | None = None, **durations: float) -> dict:
        """Switch the profile and/or set durations: set_timing(disk_attach=30) for "disk.attach"."""
        body: dict = {"profile": profile} if profile else {}
        if durations:
            body["durations"] = {k.replace("_", ".", 1): v for k, v in durations.items()}
        return self.control("POST", "/timing", body)

    def fault(self, **rule) -> dict:
        """A fault rule: code=, message=, latency=, close=, times=, probability=, seed=, and the
        matchers service=, action=, account=, region=."""
        return self.control("POST", "/faults", rule)

    def clear_faults(self) -> dict:
        return self.control("DELETE", "/faults")

    def instance(self, instance_id: str, **change) -> dict:
        """state=, supports_cbs=, online_resize=, max_attach_count=."""
        return self.control("POST", f"/instances/{instance_id}", change)

    def disk(self, disk_id: str, **change) -> dict:
        """dumping=, returnable=, snapshot_ability=."""
        return self.control("POST", f"/disks/{disk_id}", change)

    def policy(self, policy_id: str, **change) -> dict:
        """state="ISOLATED" or "NORMAL"."""
        return self.control("POST", f"/policies/{policy_id}", change)

    def configure(self, **tables) -> dict:
        """Lay tables over the configuration: configure(limits={"create_disks_max_count": 2})."""
        return self.control("POST", "/config", tables)

    def calls(self, limit: int = 50) -> list[dict]:
        return self.control("GET", f"/calls?limit={limit}")["calls"]

    def export_state(self, account: str | None = None) -> dict:
        return self.control("GET", "/state" + (f"?account={account}" if account else ""))

    def import_state(self, document: dict) -> dict:
        return self.control("POST", "/state", document)

    def create_account(self, name: str = "") -> dict:
        return self.control("POST", "/accounts", {"name": name} if name else {})

    def billing(self, account: str = DEFAULT_ACCOUNT_ID, **change) -> dict:
        """The account's balance and payment permission; with balance=, top_up= (CNY, e.g.
        "12.50"), payment_allowed= or note=, change them first."""
        path = f"/accounts/{account}/billing"
        return self.control("POST", path, change) if change else self.control("GET", path)

    def ledger(self, account: str = DEFAULT_ACCOUNT_ID, after: int = 0) -> list[dict]:
        """The account's ledger entries after the entry numbered `after`, oldest first."""
        path = f"/accounts/{account}/ledger?after={after}&limit=1000"
        return self.control("GET", path)["entries"]
