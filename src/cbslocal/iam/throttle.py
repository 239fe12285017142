"""Request rates (cbs-behavior.md §6.4): at most N calls per second per account, action and
region, over a sliding second; the next one is answered RequestLimitExceeded (the SDKs' retryers
back off on it). Counted in this process: with several processes on one PostgreSQL, each applies
the limit to the calls it serves."""

from __future__ import annotations

from collections import deque

from cbslocal.api import errors
from cbslocal.api.errors import ApiError


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
            raise ApiError(errors.REQUEST_LIMIT_EXCEEDED,
                           f"{action} allows {limit} calls per second per account and region.",
                           f"{action} 每个账号每个地域每秒最多调用 {limit} 次。")
        times.append(wall)
