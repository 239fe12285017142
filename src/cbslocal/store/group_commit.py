"""Group commit: the writes that arrive together share one transaction and one fsync.

A durable commit costs a disk flush (milliseconds), far more than the write itself. Calls queued
while the event loop was busy run one after the other in one transaction, each inside its own
savepoint — a call that fails rolls back only its own changes — and are answered only after the
common COMMIT, so nothing is acknowledged before it is durable. Their order is the order of
arrival, as if they had run alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Connection

from cbslocal.store.db import Store

MAX_BATCH = 64


Work = Callable[[Connection, float], Any]  # (the transaction, the batch's now) → its answer


class GroupCommitter:
    def __init__(self, store: Store, before_batch: Callable[[Connection], float],
                 run_write: Callable[..., Awaitable[Any]]):
        self.store = store
        # Once per transaction, e.g. apply due transitions; returns the batch's `now`.
        self.before_batch = before_batch
        # Where the transaction runs (runtime.Writer: inline, or the process's writer thread).
        self.run_write = run_write
        self._pending: list[tuple[Work, asyncio.Future]] = []
        self._draining: asyncio.Task | None = None  # (held: a task nobody holds may be collected)

    async def run(self, work: Work) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((work, future))
        if self._draining is None:
            self._draining = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        """Batch after batch until none waits: the calls that arrive while one commits form the
        next."""
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                outcomes = await self.run_write(self._commit, [work for work, _ in batch])
                for (_, future), (ok, value) in zip(batch, outcomes):
                    if future.cancelled():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
                await asyncio.sleep(0)  # let the loop read what arrived meanwhile
        finally:
            self._draining = None

    def _commit(self, works: list[Work]) -> list[tuple[bool, Any]]:
        try:
            with self.store.write() as conn:
                now = self.before_batch(conn)
                if len(works) == 1:  # alone: a failure rolls the transaction back, no savepoint
                    return [(True, works[0](conn, now))]
                return _each_in_its_savepoint(conn, now, works)
        except Exception as failure:  # the transaction failed: nobody's write is durable
            return [(False, failure)] * len(works)


def _each_in_its_savepoint(conn: Connection, now: float, works: list[Work]) -> list[tuple[bool, Any]]:
    """Run each call in a savepoint of its own: one that fails rolls back only its own changes
    and is answered its own failure."""
    outcomes: list[tuple[bool, Any]] = []
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        for work in works:
            cursor.execute("SAVEPOINT call")
            try:
                outcomes.append((True, work(conn, now)))
                cursor.execute("RELEASE SAVEPOINT call")
            except Exception as failure:  # answered to its own caller only
                cursor.execute("ROLLBACK TO SAVEPOINT call")
                cursor.execute("RELEASE SAVEPOINT call")
                outcomes.append((False, failure))
    finally:
        cursor.close()
    return outcomes
