"""The one clock of the emulator.

The domain asks `clock.now()`; nothing else reads the time. The clock is real, scaled (e.g. 60x
faster), frozen, or moved by an offset — one formula covers all four:

    now = anchor_virtual + (wall - anchor_wall) * rate

real: anchor_virtual == anchor_wall, rate 1; offset: rate 1; scaled: rate k; frozen: rate 0.
Signature timestamps are always checked against `wall()`, never the emulator's time.
"""

from __future__ import annotations

import math
import time
from calendar import monthrange
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

# The times the clock may read. Every time the API shows is the clock's or derived from it, and
# must format as `YYYY-MM-DD HH:MM:SS` — Python's dates end with 9999. Ending the range in 9000
# leaves a thousand years for what is derived: a prepaid deadline (36 months on), a policy's next
# firings (within 800 days, cbs/schedule.py), the snapshots' retention and the recycle bin.
EARLIEST = 0.0  # 1970-01-01 00:00:00 UTC: the wall clock never reads less
LATEST = datetime(9000, 1, 1, tzinfo=CHINA_TZ).timestamp()
MAX_RATE = 100000.0  # virtual seconds per real second: a day in under a second


class ClockOutOfRange(ValueError):
    """A move that would take the clock out of [EARLIEST, LATEST]."""


def in_range(epoch: float) -> bool:
    return EARLIEST <= epoch <= LATEST  # False for NaN


def clamped(epoch: float) -> float:
    """`epoch` within the clock's range (NaN: its start)."""
    return min(epoch, LATEST) if epoch >= EARLIEST else EARLIEST


def _checked(epoch: float) -> float:
    if not in_range(epoch):
        raise ClockOutOfRange(f"the emulator's clock stays between {format_time(EARLIEST)} and "
                              f"{format_time(LATEST)} (China time), the times the API can show")
    return epoch


@dataclass(frozen=True, slots=True)
class ClockState:
    anchor_wall: float
    anchor_virtual: float
    rate: float

    @classmethod
    def loaded(cls, anchor_wall: float, anchor_virtual: float, rate: float, *,
               wall=time.time) -> "ClockState":
        """The state as stored, repaired if it reads outside the range or is not a number (a
        data dir saved before the range was kept): then re-anchored now, at the nearest end."""
        rate = float(rate) if 0 <= rate <= MAX_RATE else (MAX_RATE if rate > MAX_RATE else 0.0)
        now = wall()
        reading = anchor_virtual + (now - anchor_wall) * rate
        if math.isfinite(anchor_wall) and in_range(anchor_virtual) and in_range(reading):
            return cls(anchor_wall, anchor_virtual, rate)
        return cls(now, clamped(reading) if not math.isnan(reading) else now, rate)

    @property
    def mode(self) -> str:
        if self.rate == 0:
            return "frozen"
        if self.rate != 1:
            return "scaled"
        return "real" if self.anchor_virtual == self.anchor_wall else "offset"


def real_state(wall: float) -> ClockState:
    return ClockState(anchor_wall=wall, anchor_virtual=wall, rate=1.0)


class Clock:
    def __init__(self, state: ClockState | None = None, wall=time.time):
        self._wall = wall
        self.state = state or real_state(wall())

    def wall(self) -> float:
        return self._wall()

    def now(self) -> float:
        s = self.state
        if s.rate == 1.0 and s.anchor_virtual == s.anchor_wall:
            return self._wall()
        # A scaled clock stops at the end of the range rather than run past what can be shown.
        return clamped(s.anchor_virtual + (self._wall() - s.anchor_wall) * s.rate)

    # Changes return the new state; the caller persists it (the store is the truth). A move out
    # of the range raises ClockOutOfRange.
    def advanced(self, seconds: float) -> ClockState:
        return ClockState(self._wall(), _checked(self.now() + seconds), self.state.rate)

    def set_to(self, when: float) -> ClockState:
        return ClockState(self._wall(), _checked(when), self.state.rate)

    def with_rate(self, rate: float) -> ClockState:
        return ClockState(self._wall(), self.now(), rate)

    def real(self) -> ClockState:
        return real_state(self._wall())


def format_time(epoch: float | None) -> str:
    """`YYYY-MM-DD HH:MM:SS` in China local time, as the CBS API shows times."""
    if epoch is None:
        return ""
    return _format_second(int(epoch // 1))


@lru_cache(maxsize=65536)
def _format_second(second: int) -> str:
    # Disks made together share their second: listing twenty of them formats it once.
    return datetime.fromtimestamp(second, CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def format_iso(epoch: float) -> str:
    """ISO-8601 in China local time (`2026-12-02T17:00:00+08:00`), for the fields the API gives
    in that form."""
    return _iso_second(int(epoch // 1))


@lru_cache(maxsize=65536)
def _iso_second(second: int) -> str:
    return datetime.fromtimestamp(second, CHINA_TZ).isoformat()


def parse_api_time(text: str) -> float:
    """A time as the API shows one (`2018-03-30 20:15:03`, China time). Raises ValueError."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ).timestamp()


def parse_iso(text: str) -> float:
    """An ISO-8601 time as the API takes it (`2022-01-08T09:47:55+00:00`, `...Z`); without an
    offset it is UTC. Raises ValueError."""
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def add_months(epoch: float, months: int) -> float:
    """The same day and time `months` later in China time (clamped to the month's last day)."""
    start = datetime.fromtimestamp(epoch, CHINA_TZ)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day).astimezone(timezone.utc).timestamp()
