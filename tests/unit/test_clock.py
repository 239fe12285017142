from __future__ import annotations

import math

import pytest

from cbslocal.cbs.schedule import next_trigger
from cbslocal.engine.clock import (EARLIEST, LATEST, Clock, ClockOutOfRange, ClockState, add_months,
                                   format_iso, format_time)


class FakeWall:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_real_clock_follows_the_wall():
    wall = FakeWall(1000.0)
    clock = Clock(wall=wall)
    assert clock.state.mode == "real" and clock.now() == 1000.0
    wall.t = 1005.0
    assert clock.now() == 1005.0


def test_offset_frozen_and_scaled_modes():
    wall = FakeWall(1000.0)
    clock = Clock(wall=wall)
    clock.state = clock.advanced(3600)
    assert clock.state.mode == "offset" and clock.now() == 4600.0
    wall.t = 1010.0
    assert clock.now() == 4610.0
    clock.state = clock.with_rate(0)
    assert clock.state.mode == "frozen"
    wall.t = 2000.0
    assert clock.now() == 4610.0
    clock.state = clock.with_rate(60)
    wall.t = 2001.0
    assert clock.state.mode == "scaled" and clock.now() == 4670.0
    clock.state = clock.set_to(0)
    assert clock.now() == 0
    clock.state = clock.real()
    assert clock.now() == 2001.0


def test_times_are_shown_in_china_time():
    assert format_time(0) == "1970-01-01 08:00:00"
    assert format_time(None) == ""


def test_add_months_keeps_day_and_time():
    start = 1663903650  # 2022-09-23 11:27:30 +08:00, a real prepaid disk's CreateTime
    assert format_time(add_months(start, 1)) == "2022-10-23 11:27:30"
    assert format_time(add_months(start, 36)) == "2025-09-23 11:27:30"
    jan31 = 1706673600  # 2024-01-31 12:00:00 +08:00
    assert format_time(add_months(jan31, 1)) == "2024-02-29 12:00:00"


DAY = 86400
# The furthest ahead of the clock the domain shows a time: a policy's snapshots kept RetentionDays
# (at most MAX_RETENTION_DAYS, see below) after a firing up to 800 days on (cbs/schedule.py).
MAX_RETENTION_DAYS = 366 * 100


def test_the_range_is_1970_to_9000_china_time():
    assert format_time(EARLIEST) == "1970-01-01 08:00:00"
    assert format_time(LATEST) == "9000-01-01 00:00:00"


def test_every_time_derived_from_the_end_of_the_range_still_formats():
    assert format_time(add_months(LATEST, 36)) == "9003-01-01 00:00:00"  # a prepaid deadline
    firing = next_trigger([{"Hour": [23], "DayOfWeek": [], "DayOfMonth": [31], "IntervalDays": 0}],
                          LATEST, LATEST)
    assert format_time(firing) == "9000-01-31 23:00:00"
    assert format_time(LATEST + 800 * DAY + MAX_RETENTION_DAYS * DAY).startswith("91")
    assert format_iso(LATEST + 800 * DAY).startswith("9002-")


def test_moves_beyond_the_range_are_refused():
    wall = FakeWall(1000.0)
    clock = Clock(wall=wall)
    clock.state = clock.set_to(LATEST - 10)
    clock.state = clock.advanced(10)
    assert clock.now() == LATEST
    for move in (lambda: clock.advanced(1), lambda: clock.set_to(LATEST + 1),
                 lambda: clock.set_to(1e300), lambda: clock.set_to(math.nan),
                 lambda: clock.set_to(-1.0)):
        with pytest.raises(ClockOutOfRange, match="9000-01-01 00:00:00"):
            move()
    assert clock.now() == LATEST


def test_a_scaled_clock_stops_at_the_end_of_the_range():
    wall = FakeWall(1000.0)
    clock = Clock(ClockState(1000.0, LATEST - 60, 100000.0), wall=wall)
    wall.t = 1001.0
    assert clock.now() == LATEST
    assert clock.with_rate(1.0).anchor_virtual == LATEST


@pytest.mark.parametrize("anchor_virtual, rate", [
    (1e300, 1.0), (-1e300, 1.0), (math.inf, 0.0), (math.nan, 1.0), (2e9, math.nan),
    (2e9, -5.0), (2e9, math.inf),
])
def test_a_stored_clock_out_of_range_loads_clamped(anchor_virtual, rate):
    wall = FakeWall(2000.0)
    state = ClockState.loaded(1000.0, anchor_virtual, rate, wall=wall)
    clock = Clock(state, wall=wall)
    assert EARLIEST <= clock.now() <= LATEST
    assert 0.0 <= state.rate <= 100000.0
    format_time(clock.now())


def test_a_stored_clock_in_range_loads_as_it_was():
    assert ClockState.loaded(1000.0, 5000.0, 60.0, wall=FakeWall(2000.0)) == \
        ClockState(1000.0, 5000.0, 60.0)
