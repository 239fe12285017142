"""What outlives a call: the store, the clock, the settings in force, the registry — and what a
process must do to stay one of several sharing a database (docs/architecture.md, "Several
processes on one PostgreSQL", "Long work in chunks").

- **Shared state** (store/shared.py): the clock, the configuration and timing in force, the fault
  rules, the admin token live in the store. `sync` takes in what other processes changed (one
  round trip per call on PostgreSQL); `change_shared` changes them under the write lock, from what
  the store holds, and takes in the result (others' changes included).
- **Writes** run where this process runs its write transactions (`Writer`): inline on SQLite (one
  thread runs every transaction), on one thread of their own on PostgreSQL, so that waiting for
  the write lock — another process's transaction — never holds the event loop: reads go on.
- **Due moves** are applied before a call reads (one chunk at most) or writes (all of them: a
  write sees every move due before it), by the engine loop, and by a clock advance, a chunk at a
  time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cbslocal.api.rendered import Rendered
from cbslocal.router.faults import FaultInjector
from cbslocal.router.registry import Registry
from cbslocal.config import Settings, Topology
from cbslocal.engine import transitions
from cbslocal.engine.clock import Clock, ClockState
from cbslocal.engine.timing import TimingProfile
from cbslocal.router.throttle import SharedThrottle, Throttle
from cbslocal.store import shared
from cbslocal.store.db import Store
from cbslocal.store.group_commit import GroupCommitter


class Writer:
    """Where this process runs its write transactions: inline on SQLite; on one thread of its own
    on PostgreSQL (its transactions then also keep their order)."""

    def __init__(self, store: Store):
        self._executor = None if store.is_sqlite else ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="cbslocal-writer", initializer=store.pin_connection)

    async def run(self, fn: Callable[..., Any], *args) -> Any:
        if self._executor is None:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)


@dataclass
class Runtime:
    store: Store
    clock: Clock
    settings: Settings
    registry: Registry
    writer: Writer = field(init=False)
    committer: GroupCommitter = field(init=False)
    # How long asynchronous moves take: from --timing, switchable through the control plane.
    timing: TimingProfile = field(init=False)
    faults: FaultInjector = field(init=False)
    # The generation of the shared state (store/shared.py) this process has taken in.
    generation: int = field(init=False, default=-1)
    catching_up: int = field(init=False, default=0)  # settle loops running (catch-up)
    # Disks and snapshots as last rendered, checked against their rows' versions at each use.
    rendered: Rendered = field(init=False, default_factory=Rendered)
    _caught_up: asyncio.Event | None = field(init=False, default=None)

    def __post_init__(self):
        self.writer = Writer(self.store)
        self.committer = GroupCommitter(self.store, self._begin_batch, self.writer.run)
        self.timing = self.settings.timing_profile
        self.faults = FaultInjector(self.store)
        self.throttle = Throttle() if self.store.is_sqlite else SharedThrottle(self.store)
        transitions.provide_environment(self.store.engine, lambda: transitions.Environment(
            self.settings.topology, self.timing))

    # --- what the processes sharing a database agree on ------------------------------------------
    def sync(self) -> float | None:
        """Take in what other processes may have changed (PostgreSQL: one round trip): the clock,
        and the configuration, timing and fault rules when their generation moved. Returns the
        earliest due time (None: nothing pending, or SQLite, where the engine's watch knows)."""
        if self.store.is_sqlite:
            return None
        with self.store.autocommit() as conn:
            row = shared.STATE.first(conn)
            stored = _stored_settings(conn) if row.generation != self.generation else None
        if stored is not None:
            self._take_in(row.generation, *stored)
        self.clock.state = ClockState(row.anchor_wall, row.anchor_virtual, row.rate)
        return row.next_due

    def _take_in(self, generation: int, config: dict | None, timing: dict | None) -> None:
        """The configuration and timing as stored; fault rules read again at the next call."""
        if config is not None and config != self.settings.topology.source:
            self.settings.topology = Topology.from_mapping(config)
        if timing is not None:
            self.timing = _timing(timing)
        self.faults.forget()
        self.generation = generation

    def change_shared(self, change: Callable[[Any], Any]) -> Any:
        """Run `change(conn)` in a write transaction — it reads what the store holds and changes
        what every process must agree on — and, once committed, take in the result with whatever
        other processes changed before: nothing is lost between two processes' changes."""
        with self.store.write() as conn:
            result = change(conn)
            shared.changed(conn)
            generation, stored, saved = (shared.generation(conn), _stored_settings(conn),
                                         transitions.load_clock(conn))
        self._take_in(generation, *stored)
        if saved is not None:
            self.clock.state = saved
        return result

    @staticmethod
    def publish(conn, topology: Topology, timing: TimingProfile) -> None:
        """This start's flags (inside `change_shared`): the configuration and timing of every
        process, and what a reset goes back to."""
        for name in (shared.CONFIG, shared.CONFIG_INITIAL):
            shared.put(conn, name, topology.source)
        for name in (shared.TIMING, shared.TIMING_INITIAL):
            shared.put(conn, name, timing_json(timing))

    def set_clock(self, state: "ClockState | Callable[[Clock], ClockState]", conn=None) -> ClockState:
        """Move the clock (the store keeps it, so a restart or another process agrees). Given a
        function, the new state is computed from the clock as the store has it, under the write
        lock: two processes advancing a day each at once advance two days. With `conn`, inside
        that write transaction."""
        if conn is None:
            with self.store.write() as conn:
                return self.set_clock(state, conn)
        if callable(state):
            saved = transitions.load_clock(conn)
            if saved is not None:
                self.clock.state = saved
            state = state(self.clock)
        transitions.save_clock(conn, state)
        self.clock.state = state
        return state

    # --- due moves ---------------------------------------------------------------------------------
    def _stored_now(self, conn) -> tuple[float, bool]:
        """Under the write lock: the clock as the store has it (PostgreSQL: another process may
        have moved it), and whether a move may be due at it."""
        if self.store.is_sqlite:
            now = self.clock.now()
            return now, transitions.may_be_due(conn, now)
        row = shared.STATE.first(conn)
        self.clock.state = ClockState(row.anchor_wall, row.anchor_virtual, row.rate)
        now = self.clock.now()
        return now, row.next_due is not None and row.next_due <= now

    def _begin_batch(self, conn) -> float:
        """The start of a write transaction: every move due before it applied (a write sees all
        of them; during this process's own catch-up, writes wait for its end: `caught_up`).
        Returns the batch's `now`."""
        now, due = self._stored_now(conn)
        if due:
            transitions.apply_due(conn, now, budget=None)
        return now

    def settle_chunk(self, target: float | None = None) -> tuple[int, bool]:
        """Apply one chunk of the moves due by `target` (default: now) in a transaction of its
        own; returns how many, and whether more may be due."""
        with self.store.write() as conn:
            now, due = self._stored_now(conn)
            if not due:
                return 0, False
            return transitions.apply_due(conn, now if target is None else min(target, now))

    async def settle(self) -> int:
        """Apply every move due now, a chunk per transaction, letting other requests through
        between chunks (a clock advance over thousands of disks never stalls the API). The moves
        due by the time it began: a fast scaled clock does not keep it running."""
        target, total = self.clock.now(), 0
        self.catching_up += 1
        try:
            while True:
                applied, more = await self.writer.run(self.settle_chunk, target)
                total += applied
                if not more:
                    return total
                await _let_others_run()
        finally:
            self.catching_up -= 1
            if not self.catching_up and self._caught_up is not None:
                self._caught_up.set()
                self._caught_up = None

    async def caught_up(self) -> None:
        """Until this process's catch-up (a clock advance) is over: a write then sees every move
        due before it, as if the advance had been one step."""
        while self.catching_up:
            if self._caught_up is None:
                self._caught_up = asyncio.Event()
            await self._caught_up.wait()

    def must_settle_before_read(self, next_due: float | None, now: float) -> bool:
        """A read sees every move due before it applied — one chunk of them at most (the caller
        then awaits `writer.run(settle_chunk, now)`), and none while this process works through
        a backlog: after a clock advance over thousands of resources, reads see the state at a
        chunk's end (consistent, just not caught up). Asked first, so that a read with nothing
        due (nearly all of them) awaits nothing."""
        return not self.catching_up and self.due(next_due, now)

    def due(self, next_due: float | None, now: float) -> bool:
        """Whether a move may be due at `now` (`next_due`: what sync read; SQLite's watch knows)."""
        if self.store.is_sqlite:
            known = transitions.known_due(self.store.engine, now)
            if known is not None:
                return known
            with self.store.read() as conn:
                return transitions.may_be_due(conn, now)
        return next_due is not None and next_due <= now

    def close(self) -> None:
        self.writer.close()


async def _let_others_run() -> None:
    """A few turns of the event loop: a request that arrived during a chunk is read, handled and
    answered before the next chunk (one turn would only let it begin)."""
    for _ in range(4):
        await asyncio.sleep(0)


def _stored_settings(conn) -> tuple[dict | None, dict | None]:
    return shared.get(conn, shared.CONFIG), shared.get(conn, shared.TIMING)


def timing_json(timing: TimingProfile) -> dict:
    return {"name": timing.name, "durations": timing.durations}


def _timing(stored: dict) -> TimingProfile:
    return TimingProfile(stored["name"], stored["durations"])


def stored_timing(conn, name: str = shared.TIMING) -> TimingProfile | None:
    stored = shared.get(conn, name)
    return None if stored is None else _timing(stored)
