"""Assembles cbslocal: the store, the clock, the Tencent endpoint at `/`, the control plane under
`/_cbslocal/`, and the engine loop that applies due transitions in the background."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging

from cbslocal.router.dispatch import dispatch
from cbslocal.router.services import build_registry
from cbslocal.config import Settings
from cbslocal.control.auth import prepare_token
from cbslocal.control import PREFIX
from cbslocal.engine import transitions
from cbslocal.engine.clock import Clock
from cbslocal.gateway.http import ApiEndpoint
from cbslocal.billing import ledger, usage
from cbslocal.iam import accounts
from cbslocal.observe import RecentCalls, make_observer
from cbslocal.router.runtime import Runtime
from cbslocal.store.db import Store, sqlite_url

log = logging.getLogger("cbslocal.app")


def open_store(settings: Settings) -> Store:
    """The store of `settings`, created or migrated: ready to serve."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.database_url or sqlite_url(settings.data_dir))
    store.lock_data_dir()
    store.migrate()
    return store


def build_runtime(settings: Settings, store: Store | None = None, *, publish: bool = True) -> Runtime:
    """The runtime over the store (opened here unless given). `publish`: this start's flags
    become the configuration and timing of every process sharing the store (and what a reset
    goes back to); a worker of `serve --workers` takes in what its parent published."""
    store = store or open_store(settings)
    runtime = Runtime(store=store, clock=Clock(), settings=settings, registry=build_registry())
    if not publish:  # a worker: its parent did all this
        runtime.sync()
        return runtime

    def start(conn) -> None:  # one transaction, one flush to disk
        saved = transitions.load_clock(conn)
        if saved is not None:
            runtime.clock.state = saved
        transitions.save_clock(conn, runtime.clock.state)  # (saved repaired, if it had to be)
        ledger.ensure_default_account(conn, runtime.clock.now(),
                                      settings.topology.billing.initial_balance)
        usage.resume_all(conn, runtime.clock.now())
        settings.generated_admin_token = prepare_token(conn, settings.data_dir, settings.admin_token)
        runtime.publish(conn, settings.topology, settings.timing_profile)
    runtime.change_shared(start)
    return runtime


class App:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        settings = runtime.settings
        self.recent = RecentCalls()
        observe = make_observer(settings.log_requests, self.recent)

        self.api = ApiEndpoint(
            resolve_key=lambda secret_id: accounts.find_key(runtime.store, secret_id),
            handle=lambda call, request_id, language: dispatch(call, runtime, request_id, language),
            wall=runtime.clock.wall, max_skew=settings.signature_max_skew,
            default_language=settings.default_language,
            observe=observe)
        self._control = None  # built at its first request: the API's first answer does not wait
        self._engine_task: asyncio.Task | None = None

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"].startswith(PREFIX + "/") or scope["path"] == PREFIX:
                await self.control()(scope, receive, send)
            else:
                await self.api(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    def control(self):
        """The control plane (its endpoints, their models, the checker: tens of milliseconds of
        imports, paid by its first caller)."""
        if self._control is None:
            from cbslocal.control.http import ControlPlane

            self._control = ControlPlane(self.runtime, self.recent)
        return self._control

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.runtime.store.pin_connection()
                # Everything built so far lives as long as the server: keep the cyclic garbage
                # collector from walking it again and again under load. (`serve` turned the
                # collector off while starting: it is on from here.)
                gc.freeze()
                gc.enable()
                self._engine_task = asyncio.create_task(self._engine_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._engine_task:
                    self._engine_task.cancel()
                self.runtime.close()
                self.runtime.store.dispose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _engine_loop(self) -> None:
        """Apply due transitions even when nobody asks, so "later" happens on time: a chunk at a
        time, letting requests through between chunks. With several processes on one database,
        each one's loop may take a chunk; the write lock and the claim of each move by its
        DELETE (engine/transitions.py) make every move happen once."""
        runtime = self.runtime
        interval = runtime.settings.engine_interval
        while True:
            await asyncio.sleep(interval)
            try:
                next_due = runtime.sync()
                if not runtime.catching_up and runtime.due(next_due, runtime.clock.now()):
                    await runtime.settle()
            except Exception:
                log.exception("engine loop iteration failed")


class CannotListen(RuntimeError):
    """The address or port cannot be listened on (in use, not this host's, not permitted)."""


def listening_socket(host: str, port: int):
    """The server's socket, bound and listening: taken first, so that a busy port is found before
    anything (a data dir, a database) is created."""
    import socket

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as failure:
        sock.close()
        why = "is already in use" if failure.errno == errno.EADDRINUSE else \
            f"cannot be listened on ({failure.strerror or failure})"
        raise CannotListen(f"{host}:{port} {why}") from None
    return sock


def make_server(settings: Settings, *, log_level: str = "warning", sock=None,
                runtime: Runtime | None = None):
    """The uvicorn server of cbslocal (uvloop, httptools) and its listening socket, bound before
    anything is served: a client may connect as soon as this returns, and is queued. Signal
    handlers are installed only when run in the main thread."""
    import uvicorn

    sock = sock or listening_socket(settings.host, settings.port)
    try:
        runtime = runtime or build_runtime(settings)
    except BaseException:
        sock.close()
        raise
    from cbslocal.gateway.protocol import protocol_from_environment, raise_open_file_limit

    raise_open_file_limit()  # every connection holds a file descriptor
    # httptools with limits on the head's size and on slow clients (gateway/protocol.py). No
    # WebSocket: the API has none, and no upgrade may hand a connection to an unlimited protocol.
    # No proxy headers: cbslocal is reached directly, and uvicorn's default would let any local
    # client rename itself in the logs and recent calls with X-Forwarded-For, at a cost per request.
    config = uvicorn.Config(App(runtime), log_level=log_level, access_log=False, loop="uvloop",
                            http=protocol_from_environment(), ws="none", lifespan="on",
                            server_header=False, proxy_headers=False)
    return uvicorn.Server(config), sock
