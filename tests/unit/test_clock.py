from __future__ import annotations

from cbslocal.cbs.disks import add_months
from cbslocal.engine.clock import Clock, format_time


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
