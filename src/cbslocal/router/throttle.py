"""Request rates (cbs-behavior.md §6.4): at most N calls per second per account, action and
region, over a sliding second; the next one is answered RequestLimitExceeded (the SDKs' retryers
back off on it).

One process owns a SQLite data dir, so it counts in memory (`Throttle`). Processes sharing a
PostgreSQL count in the database (`SharedThrottle`): the limit is the emulator's, not each
process's. In the database rather than in Redis: no second service for a team to run, and the
count is one statement on a row of its own, outside the write lock.
"""

from __future__ import annotations

from collections import deque

from sqlalchemy import delete, text

from cbslocal.api import messages as msg
from cbslocal.api.errors import ApiError
from cbslocal.store.db import Store
from cbslocal.store.tables import request_rates


class Throttle:
    def __init__(self):
        self._recent: dict[tuple[str, str, str], deque[float]] = {}

    def admit(self, account_id: str, action: str, region: str, limit: int, wall: float) -> None:
        key = (account_id, action, region)
        times = self._recent.get(key)
        if times is None:
            if len(self._recent) > 100_000:  # forget idle keys rather than grow without bound
                self._recent.clear()
            times = self._recent[key] = deque()
        while times and times[0] <= wall - 1.0:
            times.popleft()
        if len(times) >= limit:
            raise over_limit(action, limit)
        times.append(wall)

    def reset(self) -> None:
        self._recent.clear()


def over_limit(action: str, limit: int) -> ApiError:
    return msg.RATE_LIMITED(action=action, limit=limit)


# One statement counts a call: the row's lock (ON CONFLICT DO UPDATE) orders the processes'
# calls; the calls of the last second are kept, and this one is added if they are fewer than the
# limit. Every expression of the UPDATE reads the row as it was.
_RECENT = ("(SELECT jsonb_agg(t.v::float8) FROM jsonb_array_elements_text(r.recent::jsonb) "
           "AS t(v) WHERE t.v::float8 > :since)")
_ADMIT = text(f"""
INSERT INTO request_rates AS r (account_id, action, region, recent, admitted)
VALUES (:account, :action, :region, jsonb_build_array(:wall)::text, true)
ON CONFLICT (account_id, action, region) DO UPDATE SET
    admitted = COALESCE(jsonb_array_length({_RECENT}), 0) < :limit,
    recent = (COALESCE({_RECENT}, '[]'::jsonb) || CASE
        WHEN COALESCE(jsonb_array_length({_RECENT}), 0) < :limit THEN jsonb_build_array(:wall)
        ELSE '[]'::jsonb END)::text
RETURNING admitted""")


class SharedThrottle:
    """The rates of every process sharing one PostgreSQL, counted in its `request_rates`."""

    def __init__(self, store: Store):
        self.store = store

    def admit(self, account_id: str, action: str, region: str, limit: int, wall: float) -> None:
        with self.store.autocommit() as conn:
            admitted = conn.execute(_ADMIT, {
                "account": account_id, "action": action, "region": region, "wall": wall,
                "since": wall - 1.0, "limit": limit}).scalar_one()
        if not admitted:
            raise over_limit(action, limit)

    def reset(self) -> None:
        with self.store.autocommit() as conn:
            conn.execute(delete(request_rates))
