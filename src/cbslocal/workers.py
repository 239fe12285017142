"""`cbslocal serve --workers N`: N server processes on one listening socket and one shared
PostgreSQL, watched by the process that started them.

The parent binds the socket and prepares the store (migrations, the default account, this start's
configuration and timing) once, then forks the workers; the kernel hands each new connection to
one of them. Everything they must agree on lives in the database (docs/architecture.md, "Several
processes"), so any worker may serve any call. A worker that dies is replaced; a stop signal
(SIGTERM, SIGINT) is passed on and waited for.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable

from cbslocal.app import build_runtime, listening_socket, make_server, open_store
from cbslocal.config import Settings

log = logging.getLogger("cbslocal.workers")
# A worker that dies this soon after its start, this many times in a row, is not started again.
EARLY_DEATH_SECONDS, EARLY_DEATHS_TO_GIVE_UP = 2.0, 5
STOP_GRACE = 30  # seconds the workers have to stop after a stop signal
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


class WorkersRefused(ValueError):
    """Several workers cannot serve this store."""


def check_workers(settings: Settings, workers: int) -> None:
    if workers < 1:
        raise WorkersRefused("--workers must be at least 1")
    if workers > 1 and settings.database_url is None:
        raise WorkersRefused(
            "--workers needs a database the processes can share (--database-url "
            "postgresql://…): a SQLite data dir is served by one process")


def serve_workers(settings: Settings, workers: int, on_ready: Callable[[int], None]) -> int:
    """Run `workers` server processes until a stop signal; returns the exit status."""
    sock = listening_socket(settings.host, settings.port)
    store = open_store(settings)
    build_runtime(settings, store)  # this start's configuration, for every worker
    store.dispose()  # the workers open their own connections: none may cross the fork
    supervisor = _Supervisor(settings, sock, workers)
    on_ready(sock.getsockname()[1])
    return supervisor.run()


class _Supervisor:
    def __init__(self, settings: Settings, sock, workers: int):
        self.settings, self.sock, self.workers = settings, sock, workers
        self.children: dict[int, float] = {}  # pid → when it started
        self.stopping = False
        self.early_deaths = 0

    def run(self) -> int:
        for signum in _STOP_SIGNALS:
            signal.signal(signum, self._stop)
        for _ in range(self.workers):
            self._spawn()
        status = 0
        while self.children:
            try:
                pid, wait_status = os.wait()
            except InterruptedError:
                continue
            except ChildProcessError:
                break
            started = self.children.pop(pid, None)
            if started is None or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(wait_status)
            log.error("worker %d exited (%d); starting another", pid, code)
            self.early_deaths = self.early_deaths + 1 if time.monotonic() - started < EARLY_DEATH_SECONDS else 0
            if self.early_deaths >= EARLY_DEATHS_TO_GIVE_UP:
                log.error("workers keep dying at start; stopping")
                self._stop(signal.SIGTERM, None)
                status = 1
                continue
            self._spawn()
        return status

    def _spawn(self) -> None:
        # Signals wait until the child has its own handlers: the parent's (stop every worker)
        # must not run in a child.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:
            for signum in _STOP_SIGNALS:
                signal.signal(signum, signal.SIG_DFL)  # uvicorn installs its own
            _die_with_parent()
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            os._exit(self._worker())
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self.children[pid] = time.monotonic()

    def _worker(self) -> int:
        try:
            runtime = build_runtime(self.settings, publish=False)
            server, sock = make_server(self.settings, sock=self.sock, runtime=runtime)
            server.run(sockets=[sock])
            return 0
        except BaseException:  # noqa: BLE001 — a worker reports and dies; the parent replaces it
            log.exception("worker %d failed", os.getpid())
            sys.stderr.flush()
            return 1

    def _stop(self, _signum, _frame) -> None:
        """Ask every worker to stop (they finish what they are answering); those still there
        after STOP_GRACE seconds are killed."""
        if not self.stopping:
            signal.signal(signal.SIGALRM, self._kill_the_rest)
            signal.alarm(STOP_GRACE)
        self.stopping = True
        self._signal_all(signal.SIGTERM)

    def _kill_the_rest(self, _signum, _frame) -> None:
        log.error("workers still running %d s after the stop signal; killing them", STOP_GRACE)
        self._signal_all(signal.SIGKILL)

    def _signal_all(self, signum: int) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass


def _die_with_parent() -> None:
    """A worker whose parent dies (even by SIGKILL) is sent SIGTERM (Linux); elsewhere it runs on
    until stopped."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)
