"""Group commit: the writes that arrive together share one transaction and one fsync.

A durable commit costs a disk flush (milliseconds), far more than the write itself. Calls queued
while the event loop was busy run one after the other in one transaction, each inside its own
savepoint — a call that fails rolls back only its own changes — and are answered only after the
common COMMIT, so nothing is acknowledged before it is durable. Their order is the order of
arrival, as if they had run alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from cbslocal.store.db import Store

MAX_BATCH = 64


Work = Callable[[Connection, float], Any]  # (the transaction, the batch's now) → its answer


class GroupCommitter:
    def __init__(self, store: Store, before_batch: Callable[[Connection], float]):
        self.store = store
        # Once per transaction, e.g. apply due transitions; returns the batch's `now`.
        self.before_batch = before_batch
        self._pending: list[tuple[Work, asyncio.Future]] = []
        self._scheduled = False

    async def run(self, work: Work) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((work, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            self._scheduled = False
        try:
            with self.store.write() as conn:
                now = self.before_batch(conn)
                if len(batch) == 1:  # alone: a failure rolls the transaction back, no savepoint
                    outcomes = [(True, batch[0][0](conn, now))]
                else:
                    outcomes = _each_in_its_savepoint(conn, now, [work for work, _ in batch])
        except Exception as failure:  # the transaction failed: nobody's write is durable
            outcomes = [(False, failure)] * len(batch)
        for (_, future), (ok, value) in zip(batch, outcomes):
            if future.cancelled():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


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
