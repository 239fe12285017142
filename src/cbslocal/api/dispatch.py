"""From a verified ApiCall to a response: action → version → region → schema → handler, inside
one transaction, after every asynchronous move that has come due (protocol.md §9 order)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from cbslocal.api import errors, schema
from cbslocal.api.context import Context
from cbslocal.api.errors import ApiError, CloseConnection
from cbslocal.api.faults import FaultInjector
from cbslocal.iam.throttle import SharedThrottle, Throttle
from cbslocal.api.registry import Registry
from cbslocal.config import Settings, Topology
from cbslocal.engine import transitions
from cbslocal.engine.clock import Clock, ClockState
from cbslocal.engine.timing import TimingProfile
from cbslocal.gateway.request import ApiCall
from cbslocal.store import shared
from cbslocal.store.db import Store
from cbslocal.store.group_commit import GroupCommitter


@dataclass
class Runtime:
    """What outlives a call: the store, the clock, the settings and the registry."""
    store: Store
    clock: Clock
    settings: Settings
    registry: Registry
    committer: GroupCommitter = field(init=False)
    # How long asynchronous moves take: from --timing, switchable through the control plane.
    timing: TimingProfile = field(init=False)
    faults: FaultInjector = field(init=False)
    # The generation of the shared state (store/shared.py) this process has taken in.
    generation: int = field(init=False, default=-1)
    catching_up: int = field(init=False, default=0)  # settle loops running (see may_be_due)

    def __post_init__(self):
        self.committer = GroupCommitter(self.store, self._begin_batch)
        self.timing = self.settings.timing_profile
        self.faults = FaultInjector(self.store)
        self.throttle = Throttle() if self.store.is_sqlite else SharedThrottle(self.store)
        transitions.provide_environment(self.store.engine, lambda: transitions.Environment(
            self.settings.topology, self.timing))

    # --- what the processes sharing a database agree on (store/shared.py) ---------------------
    def sync(self) -> float | None:
        """Take in what other processes may have changed (PostgreSQL: one round trip): the clock,
        and the configuration, timing and fault rules when their generation moved. Returns the
        earliest due time (None: nothing pending, or SQLite, where the engine's watch knows)."""
        if self.store.is_sqlite:
            return None
        with self.store.autocommit() as conn:
            row = shared.STATE.first(conn)
            if row.generation != self.generation:
                self._take_shared(conn, row.generation)
        self.clock.state = ClockState(row.anchor_wall, row.anchor_virtual, row.rate)
        return row.next_due

    def _take_shared(self, conn, generation: int) -> None:
        config, timing = shared.get(conn, shared.CONFIG), shared.get(conn, shared.TIMING)
        if config is not None and config != self.settings.topology.source:
            self.settings.topology = Topology.from_mapping(config)
        if timing is not None:
            self.timing = TimingProfile(timing["name"], timing["durations"])
        self.faults.forget()
        self.generation = generation

    def publish(self, *, topology: Topology | None = None, timing: TimingProfile | None = None,
                initial: bool = False, faults_changed: bool = False) -> None:
        """Make a configuration and/or timing the one in force for every process (`initial`: also
        the one a reset goes back to); `faults_changed`: the rules were changed."""
        with self.store.write() as conn:
            if topology is not None:
                _put_both(conn, shared.CONFIG, shared.CONFIG_INITIAL, topology.source, initial)
            if timing is not None:
                _put_both(conn, shared.TIMING, shared.TIMING_INITIAL,
                          {"name": timing.name, "durations": timing.durations}, initial)
            shared.changed(conn)
            self.generation = shared.generation(conn)
        if topology is not None:
            self.settings.topology = topology
        if timing is not None:
            self.timing = timing
        if faults_changed:
            self.faults.forget()

    def initial(self) -> tuple[Topology, TimingProfile]:
        """The configuration and timing a reset goes back to (the flags of the last start)."""
        with self.store.read() as conn:
            config, timing = shared.get(conn, shared.CONFIG_INITIAL), shared.get(conn, shared.TIMING_INITIAL)
        return (Topology.from_mapping(config) if config is not None else self.settings.topology,
                TimingProfile(timing["name"], timing["durations"]) if timing is not None
                else self.settings.timing_profile)

    def set_clock(self, state: "ClockState | Callable[[Clock], ClockState]") -> ClockState:
        """Move the clock (the store keeps it, so a restart or another process agrees). Given a
        function, the new state is computed from the clock as the store has it, under the write
        lock: two processes advancing a day each at once advance two days."""
        with self.store.write() as conn:
            if callable(state):
                saved = transitions.load_clock(conn)
                if saved is not None:
                    self.clock.state = saved
                state = state(self.clock)
            transitions.save_clock(conn, state)
        self.clock.state = state
        return state

    # --- due moves -----------------------------------------------------------------------------
    def _begin_batch(self, conn) -> float:
        """The start of a write transaction: the clock as the store has it (another process may
        have moved it), and one chunk of due moves applied. Returns the batch's `now`."""
        if self.store.is_sqlite:
            now = self.clock.now()
            due = transitions.may_be_due(conn, now)
        else:  # under the write lock: what every other process committed is seen
            row = shared.STATE.first(conn)
            self.clock.state = ClockState(row.anchor_wall, row.anchor_virtual, row.rate)
            now = self.clock.now()
            due = row.next_due is not None and row.next_due <= now
        if due and not self.catching_up:  # (a backlog is being worked through: see may_be_due)
            transitions.apply_due(conn, now)
        return now

    def settle_chunk(self, now: float | None = None) -> tuple[int, bool]:
        """Apply one chunk of the moves due at `now` (default: the clock's now) in a transaction
        of its own; returns how many, and whether more may be due."""
        with self.store.write() as conn:
            return transitions.apply_due(conn, self.clock.now() if now is None else now)

    async def settle(self) -> int:
        """Apply every due move, a chunk per transaction, letting other requests through between
        chunks (a clock advance over thousands of disks never stalls the API). On PostgreSQL the
        chunks run on a thread of their own: reads, each in its own snapshot on its own
        connection, go on while a chunk waits for the database."""
        total = 0
        self.catching_up += 1
        try:
            while True:
                if self.store.is_sqlite:  # one thread runs every transaction (docs/architecture.md)
                    applied, more = self.settle_chunk()
                else:
                    applied, more = await asyncio.to_thread(self.settle_chunk)
                total += applied
                if not more:
                    return total
                await _let_others_run()
        finally:
            self.catching_up -= 1

    def may_be_due(self, next_due: float | None, now: float) -> bool:
        """Whether a read should apply due moves first. Not while this process works through a
        backlog (a clock advance): the read then sees the state at the end of the last chunk."""
        if self.catching_up:
            return False
        if self.store.is_sqlite:
            with self.store.read() as conn:
                return transitions.may_be_due(conn, now)
        return next_due is not None and next_due <= now


async def _let_others_run() -> None:
    """A few turns of the event loop: a request that arrived during a chunk is read, handled and
    answered before the next chunk (one turn would only let it begin)."""
    for _ in range(4):
        await asyncio.sleep(0)


def _put_both(conn, name: str, initial_name: str, value, initial: bool) -> None:
    shared.put(conn, name, value)
    if initial:
        shared.put(conn, initial_name, value)


async def dispatch(call: ApiCall, runtime: Runtime, request_id: str, language: str) -> dict:
    v1 = call.signature_method != "TC3-HMAC-SHA256"
    if not call.action:
        raise errors.missing_parameter("Action" if v1 else "X-TC-Action")
    service = runtime.registry.service_for(call.scope_service, call.action)
    if service is None or call.action not in service.known_actions:
        raise ApiError(errors.INVALID_ACTION, f"The action {call.action!r} does not exist.",
                       f"接口 {call.action!r} 不存在。")
    call.service = service.name
    if not call.version:
        raise errors.missing_parameter("Version" if v1 else "X-TC-Version")
    if call.version != service.version:
        raise ApiError(errors.NO_SUCH_VERSION,
                       f"{service.name} has no version {call.version!r}; use {service.version}.",
                       f"{service.name} 没有版本 {call.version!r}，请使用 {service.version}。")
    if not call.region:
        raise errors.missing_parameter("Region" if v1 else "X-TC-Region")
    next_due = runtime.sync()
    if call.region not in runtime.settings.topology.regions:
        raise ApiError(errors.UNSUPPORTED_REGION, f"Region {call.region!r} is not supported.",
                       f"不支持地域 {call.region!r}。")
    if runtime.faults.may_fire():
        await _inject_faults(call, runtime, request_id)
    rates = runtime.settings.topology.rate_limits
    if rates is not None:  # protocol.md §9: the rate limit comes before the parameters
        runtime.throttle.admit(call.account_id, call.action, call.region, rates.of(call.action),
                               runtime.clock.wall())
    action = service.actions.get(call.action)
    if action is None:
        raise ApiError(errors.UNSUPPORTED_OPERATION,
                       f"cbslocal does not implement {call.action} yet.",
                       f"cbslocal 尚未实现 {call.action}。")
    request = schema.parse(action.request, call.params)
    if action.mutating:
        return await runtime.committer.run(lambda conn, now: action.handler(
            _context(call, runtime, request_id, language, now, conn), request))
    return _read(action, request, call, runtime, request_id, language, next_due)


async def _inject_faults(call: ApiCall, runtime: Runtime, request_id: str) -> None:
    """A matching fault rule acts here: once the call is known to be well addressed, and before
    its parameters are read or anything changes."""
    fault = runtime.faults.check(service=call.service, action=call.action,
                                 account_id=call.account_id, region=call.region,
                                 request_id=request_id, now=runtime.clock.now())
    if fault is None:
        return
    if fault.latency:
        await asyncio.sleep(fault.latency)
    if fault.close:
        raise CloseConnection()
    if fault.error is not None:
        raise fault.error


def _read(action, request, call: ApiCall, runtime: Runtime, request_id: str, language: str,
          next_due: float | None) -> dict:
    """A read sees every move due before it applied — one chunk of them at most: after a clock
    advance over thousands of resources, the engine works through the rest while reads see the
    state at a chunk's end (consistent, just not caught up)."""
    now = runtime.clock.now()
    if runtime.may_be_due(next_due, now):
        runtime.settle_chunk(now)
    with runtime.store.read() as conn:
        return action.handler(_context(call, runtime, request_id, language, now, conn), request)


def _context(call: ApiCall, runtime: Runtime, request_id: str, language: str, now: float,
             conn) -> Context:
    return Context(account_id=call.account_id, region=call.region, language=language,
                   request_id=request_id, now=now, conn=conn, topology=runtime.settings.topology,
                   timing=runtime.timing)
