"""What every process serving one database must agree on: the clock, the configuration and the
timing in force (and those a reset goes back to), the fault rules, the control plane's token.

Each lives in the store. A change bumps the clock row's `generation` in the same transaction;
a process that finds the generation moved (one indexed row read per call on PostgreSQL, where
other processes may write: `STATE`) reads them again. On SQLite one process owns the data dir, so
what it holds in memory is the truth.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select, update

from cbslocal.store.prepared import Prepared
from cbslocal.store.tables import clock, shared_settings, transitions

CONFIG, CONFIG_INITIAL = "config", "config_initial"
TIMING, TIMING_INITIAL = "timing", "timing_initial"
ADMIN_TOKEN_SHA256 = "admin_token_sha256"

# The clock, the generation and the earliest due move, in one round trip.
STATE = Prepared(select(
    clock.c.anchor_wall, clock.c.anchor_virtual, clock.c.rate, clock.c.generation,
    select(func.min(transitions.c.due_at)).scalar_subquery().label("next_due"),
).where(clock.c.id == 1))


def changed(conn: Connection) -> None:
    """Something shared changed in this transaction: every process reads it again."""
    conn.execute(update(clock).where(clock.c.id == 1).values(generation=clock.c.generation + 1))


def generation(conn: Connection) -> int:
    return conn.execute(select(clock.c.generation).where(clock.c.id == 1)).scalar() or 0


def get(conn: Connection, name: str) -> Any:
    """The setting's value, or None."""
    value = conn.execute(select(shared_settings.c.value)
                         .where(shared_settings.c.name == name)).scalar()
    return None if value is None else orjson.loads(value)


def put(conn: Connection, name: str, value: Any) -> None:
    text = orjson.dumps(value).decode()
    if conn.execute(update(shared_settings).where(shared_settings.c.name == name)
                    .values(value=text)).rowcount == 0:
        conn.execute(insert(shared_settings).values(name=name, value=text))
