"""Asynchronous moves as data: each is stored with its due time and applied once the clock
reaches it — before any request reads state, and by the background loop.

The domain registers what each kind of move does (`on("disk.create", apply_fn)`); the engine
only knows when. A move is applied in the same transaction that deletes it, so it happens once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import threading
import time
import weakref
from itertools import groupby
from typing import Any

import orjson

from sqlalchemy import Connection, Engine, delete, insert, select

from cbslocal.engine.clock import ClockState
from cbslocal.store.prepared import Prepared, PreparedInsert
from cbslocal.store.tables import clock as clock_table
from cbslocal.store.tables import transitions

Applier = Callable[[Connection, str, dict, float], None]
_APPLIERS: dict[str, Applier] = {}


# Kinds of bookkeeping (an hour's billing settled), not moves of a resource: not counted among
# the moves a settle or a clock move reports as applied.
_UNCOUNTED: set[str] = set()


def on(kind: str, *, counted: bool = True) -> Callable[[Applier], Applier]:
    def register(fn: Applier) -> Applier:
        _APPLIERS[kind] = fn
        if not counted:
            _UNCOUNTED.add(kind)
        return fn
    return register


def known_kinds() -> frozenset[str]:
    """Every kind of move something applies (a state import takes no other)."""
    return frozenset(_APPLIERS)


# A move of a kind that comes due by the thousand (a policy's snapshots expiring together) may be
# applied a run at a time: fn(conn, [(resource_id, payload, due_at), ...]).
BatchApplier = Callable[[Connection, list], None]
_BATCH_APPLIERS: dict[str, BatchApplier] = {}


def on_batch(kind: str) -> Callable[[BatchApplier], BatchApplier]:
    def register(fn: BatchApplier) -> BatchApplier:
        _BATCH_APPLIERS[kind] = fn
        _APPLIERS[kind] = lambda conn, resource_id, payload, due_at: fn(
            conn, [(resource_id, payload, due_at)])
        return fn
    return register


def schedule(conn: Connection, kind: str, *, resource_id: str, account_id: str, region: str,
             due_at: float, payload: dict | None = None) -> None:
    schedule_many(conn, kind, [dict(resource_id=resource_id, account_id=account_id, region=region,
                                    due_at=due_at, payload=payload)])


_INSERT_MOVES = PreparedInsert(transitions)


def schedule_many(conn: Connection, kind: str, moves: list[dict]) -> None:
    """Several moves of one kind at once: each a dict of resource_id, account_id, region, due_at
    (and payload)."""
    if not moves:
        return
    if kind not in _APPLIERS:
        raise KeyError(f"no applier registered for transition {kind!r}")
    _INSERT_MOVES.run(conn, [
        dict(kind=kind, resource_id=m["resource_id"], account_id=m["account_id"],
             region=m["region"], due_at=m["due_at"],
             payload=orjson.dumps(m.get("payload") or {}).decode()) for m in moves])
    _watch(conn).lower(min(m["due_at"] for m in moves))


def reschedule(conn: Connection, kind: str, *, resource_id: str, account_id: str, region: str,
               due_at: float | None) -> None:
    """The resource's one pending move of `kind` is now due at `due_at` (None: no longer
    pending) — a deadline moved, a schedule changed."""
    conn.execute(delete(transitions).where(transitions.c.resource_id == resource_id,
                                           transitions.c.kind == kind))
    if due_at is not None:
        schedule(conn, kind, resource_id=resource_id, account_id=account_id, region=region,
                 due_at=due_at)


def later(conn: Connection, kind: str, *, resource_id: str, account_id: str, region: str,
          now: float, duration: float, payload: dict | None = None) -> None:
    """A move `duration` seconds from `now`: scheduled, or applied at once when the duration is
    zero (instant timing)."""
    if duration > 0:
        schedule(conn, kind, resource_id=resource_id, account_id=account_id, region=region,
                 due_at=now + duration, payload=payload)
    else:
        _APPLIERS[kind](conn, resource_id, payload or {}, now)


@dataclass(frozen=True)
class Environment:
    """What a move may need to know besides the database: the configuration in force (quotas)
    and the timing profile (how long the moves it starts take)."""
    topology: Any
    timing: Any


_ENVIRONMENTS: "weakref.WeakKeyDictionary[Engine, Callable[[], Environment]]" = \
    weakref.WeakKeyDictionary()


def provide_environment(engine: Engine, provider: Callable[[], Environment]) -> None:
    """The runtime that owns `engine` says where its moves find the configuration in force."""
    _ENVIRONMENTS[engine] = provider


def environment(conn: Connection) -> Environment:
    return _ENVIRONMENTS[conn.engine]()


class _DueWatch:
    """The earliest due time of a database, known without asking it on every read.

    Every move scheduled through this process lowers it at once (even if that transaction later
    rolls back: it may only err early), and applying moves re-reads it. That is the whole truth
    for SQLite, which one process owns (Store.lock_data_dir); PostgreSQL may be shared by several
    processes, so there every read asks the database."""

    def __init__(self, trusted: bool):
        self.trusted = trusted
        self.earliest: float | None = None
        self.known = False
        self.scheduled = 0  # moves scheduled through this process so far (apply_due looks)

    def lower(self, due_at: float) -> None:
        self.scheduled += 1
        if self.known and (self.earliest is None or due_at < self.earliest):
            self.earliest = due_at

    def may_be_due(self, conn: Connection, now: float) -> bool:
        if not (self.trusted and self.known):
            self.earliest, self.known = next_due(conn), True
        return self.earliest is not None and self.earliest <= now


_WATCHES: "weakref.WeakKeyDictionary[Engine, _DueWatch]" = weakref.WeakKeyDictionary()


def _watch(conn: Connection) -> _DueWatch:
    watch = _WATCHES.get(conn.engine)
    if watch is None:
        watch = _WATCHES[conn.engine] = _DueWatch(trusted=conn.dialect.name == "sqlite")
    return watch


def rows_changed(conn: Connection) -> None:
    """Moves were written without `schedule` (a state import, a reset): read the earliest again."""
    _watch(conn).known = False


def may_be_due(conn: Connection, now: float) -> bool:
    return _watch(conn).may_be_due(conn, now)


def known_due(engine: Engine, now: float) -> bool | None:
    """may_be_due when it needs no query (the watch of an SQLite database knows); else None."""
    watch = _WATCHES.get(engine)
    if watch is None or not (watch.trusted and watch.known):
        return None
    return watch.earliest is not None and watch.earliest <= now


_NEXT_DUE = Prepared(select(transitions.c.due_at).order_by(transitions.c.due_at).limit(1))
# Moves looked at a time: a batch applier (snapshots expiring together) gets up to this many.
_PEEK = 50
# How long one call of apply_due may keep applying moves (seconds of the process's own time)
# before it lets the caller commit and answer others: a chunk, after which the state is
# consistent (every move is applied whole or not at all) and more may still be due. A move that
# does much at once splits itself (a policy firing over thousands of disks: cbs/policies.py).
CHUNK_SECONDS = 0.01


def next_due(conn: Connection) -> float | None:
    return _NEXT_DUE.scalar(conn)


# The time the moves being applied are due up to (apply_due's `now`), for an applier that may do
# at once what would otherwise be many moves (billing/usage.py: many hours with nothing between).
_applying = threading.local()


def applying_until() -> float | None:
    """While moves are being applied: the time they are applied up to; else None."""
    return getattr(_applying, "until", None)


def apply_due(conn: Connection, now: float, *,
              budget: float | None = CHUNK_SECONDS) -> tuple[int, bool]:
    """Apply the moves due at `now`, oldest first, including those that applying schedules (a
    policy that fired daily over a week of virtual time), for about `budget` seconds (None: until
    none is due). Returns how many were applied and whether more may be due: the caller commits
    this chunk, lets other work through, and calls again."""
    _applying.until = now
    try:
        return _apply_due(conn, now, budget)
    finally:
        _applying.until = None


def _apply_due(conn: Connection, now: float, budget: float | None) -> tuple[int, bool]:
    started, applied, watch = time.perf_counter(), 0, _watch(conn)
    while True:
        due = conn.execute(select(transitions).where(transitions.c.due_at <= now)
                           .order_by(transitions.c.due_at, transitions.c.id).limit(_PEEK)).all()
        if not due:  # (applying may have scheduled more that are due: a daily policy's next day)
            watch.known = False  # read it again at the next read
            return applied, False
        for run in _runs(due):
            scheduled = watch.scheduled
            applied += _claim_and_apply(conn, run)
            if budget is not None and time.perf_counter() - started >= budget:
                return applied, True
            if watch.scheduled != scheduled:
                break  # a move it scheduled may be due before the rest looked at: look again


def _runs(rows: list) -> Iterator[list]:
    """The moves in order: a batch applier's kind in runs, any other kind one by one (so that a
    chunk can end after any of them)."""
    for kind, run in groupby(rows, key=lambda r: r.kind):
        if kind in _BATCH_APPLIERS:
            yield list(run)
        else:
            yield from ([row] for row in run)


def _claim_and_apply(conn: Connection, rows: list) -> int:
    """Take the moves out of the table, then apply those this DELETE removed: the DELETE decides
    who applies a move (with several processes, a row another transaction took is not returned).
    Deleted before they are applied, too: a move may schedule another, and SQLite may give the new
    row the ID of one deleted here."""
    claimed = set(conn.execute(delete(transitions).where(
        transitions.c.id.in_([r.id for r in rows])).returning(transitions.c.id)).scalars())
    rows = [r for r in rows if r.id in claimed]
    if len(rows) > 1:
        _BATCH_APPLIERS[rows[0].kind](conn, [(r.resource_id, orjson.loads(r.payload), r.due_at)
                                             for r in rows])
    elif rows:
        row = rows[0]
        _APPLIERS[row.kind](conn, row.resource_id, orjson.loads(row.payload), row.due_at)
    return len(rows) if rows and rows[0].kind not in _UNCOUNTED else 0


def load_clock(conn: Connection) -> ClockState | None:
    row = conn.execute(select(clock_table).where(clock_table.c.id == 1)).first()
    # Repaired if a damaged data dir holds a time out of the clock's range (engine/clock.py).
    return ClockState.loaded(row.anchor_wall, row.anchor_virtual, row.rate) if row else None


def save_clock(conn: Connection, state: ClockState) -> None:
    values = dict(anchor_wall=state.anchor_wall, anchor_virtual=state.anchor_virtual, rate=state.rate)
    if conn.execute(clock_table.update().where(clock_table.c.id == 1).values(**values)).rowcount == 0:
        conn.execute(insert(clock_table).values(id=1, **values))
