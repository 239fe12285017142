"""When an automatic snapshot policy fires: cbslocal.cbs.schedule.next_trigger, the schedule
arithmetic of cbs-behavior.md §3.25 and §5.3 — China local time (UTC+8), DayOfWeek 0 = Sunday,
priority DayOfWeek > DayOfMonth > IntervalDays, months lacking a DayOfMonth skipped, IntervalDays
counted from the anchor's (China) day, several hours a day, the earliest of several entries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cbslocal.cbs.schedule import day_rule, next_trigger

CHINA = timezone(timedelta(hours=8))


def t(text: str) -> float:
    """Epoch seconds of a China-time `YYYY-MM-DD HH:MM[:SS]`."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(text, fmt).replace(tzinfo=CHINA).timestamp()


def shown(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, CHINA).strftime("%Y-%m-%d %H:%M:%S")


def entry(hours, *, week=(), month=(), interval=0) -> dict:
    return {"Hour": list(hours), "DayOfWeek": list(week), "DayOfMonth": list(month),
            "IntervalDays": interval}


def runs(entries, after: str, anchor: str | None = None, count: int = 1) -> list[str]:
    """The next `count` firings after `after`, each computed from the previous one as the engine
    does (the anchor stays)."""
    moment, anchor_at = t(after), t(anchor or after)
    found = []
    for _ in range(count):
        moment = next_trigger(entries, moment, anchor_at)
        found.append(shown(moment))
        if moment is None:
            break
    return found


EVERY_DAY = list(range(7))

# 2027-03-01 is a Monday; 2027-03-07 a Sunday; 2027 is not a leap year, 2028 is.


def test_the_calendar_used_by_these_tests():
    assert datetime(2027, 3, 1).strftime("%A") == "Monday"
    assert datetime(2027, 3, 7).strftime("%A") == "Sunday"


# --- China time --------------------------------------------------------------------------------------
def test_hours_are_china_time_and_the_result_is_epoch_seconds():
    found = next_trigger([entry([2], week=EVERY_DAY)], t("2027-03-01 12:00"), t("2027-03-01 12:00"))
    # 02:00 in China is 18:00 UTC of the day before.
    assert found == datetime(2027, 3, 1, 18, 0, tzinfo=timezone.utc).timestamp()
    assert isinstance(found, float)


def test_the_day_is_the_china_day_not_the_utc_day():
    # 2027-03-07 07:00 China is still Saturday 2027-03-06 23:00 UTC: Sunday (0) must fire at 08:00.
    assert runs([entry([8], week=[0])], "2027-03-07 07:00") == ["2027-03-07 08:00:00"]
    # and a Saturday-only rule does not fire that morning.
    assert runs([entry([8], week=[6])], "2027-03-07 07:00") == ["2027-03-13 08:00:00"]


# --- strictly after ------------------------------------------------------------------------------
def test_the_next_firing_is_strictly_after_the_given_moment():
    daily = [entry([2], week=EVERY_DAY)]
    assert runs(daily, "2027-03-01 01:59:59") == ["2027-03-01 02:00:00"]
    assert runs(daily, "2027-03-01 02:00:00") == ["2027-03-02 02:00:00"]
    assert runs(daily, "2027-03-01 02:00:01") == ["2027-03-02 02:00:00"]
    assert runs(daily, "2027-03-01 12:00", count=4) == [
        "2027-03-02 02:00:00", "2027-03-03 02:00:00", "2027-03-04 02:00:00", "2027-03-05 02:00:00"]


def test_midnight_and_the_last_hour_of_the_day():
    assert runs([entry([0, 23], week=EVERY_DAY)], "2027-03-01 12:00", count=3) == [
        "2027-03-01 23:00:00", "2027-03-02 00:00:00", "2027-03-02 23:00:00"]
    assert runs([entry([0], week=EVERY_DAY)], "2027-12-31 23:30") == ["2028-01-01 00:00:00"]


# --- DayOfWeek -----------------------------------------------------------------------------------
def test_day_of_week_zero_is_sunday_and_six_is_saturday():
    assert runs([entry([9], week=[0])], "2027-03-01 12:00") == ["2027-03-07 09:00:00"]
    assert runs([entry([9], week=[6])], "2027-03-01 12:00") == ["2027-03-06 09:00:00"]
    assert runs([entry([9], week=[1])], "2027-03-01 12:00") == ["2027-03-08 09:00:00"]
    assert runs([entry([9], week=[1])], "2027-03-01 08:00") == ["2027-03-01 09:00:00"]


def test_day_of_week_with_several_days_and_hours():
    monday_thursday = [entry([13, 1], week=[4, 1])]  # order given does not matter
    assert runs(monday_thursday, "2027-03-01 00:30", count=9) == [
        "2027-03-01 01:00:00", "2027-03-01 13:00:00",
        "2027-03-04 01:00:00", "2027-03-04 13:00:00",
        "2027-03-08 01:00:00", "2027-03-08 13:00:00",
        "2027-03-11 01:00:00", "2027-03-11 13:00:00",
        "2027-03-15 01:00:00"]


def test_day_of_week_every_day_equals_interval_of_one_day():
    by_week = runs([entry([2], week=EVERY_DAY)], "2027-03-01 12:00", count=10)
    by_interval = runs([entry([2], interval=1)], "2027-03-01 12:00", count=10)
    assert by_week == by_interval
    assert by_week[0] == "2027-03-02 02:00:00" and by_week[-1] == "2027-03-11 02:00:00"


def test_day_of_week_crosses_the_year():
    assert runs([entry([3], week=[5])], "2027-12-31 04:00") == ["2028-01-07 03:00:00"]  # Fridays


def test_duplicate_hours_fire_once():
    assert runs([entry([5, 5, 5], week=EVERY_DAY)], "2027-03-01 12:00", count=2) == [
        "2027-03-02 05:00:00", "2027-03-03 05:00:00"]


def test_twenty_four_hours_a_day_fire_every_hour():
    assert runs([entry(range(24), week=EVERY_DAY)], "2027-03-01 22:30", count=4) == [
        "2027-03-01 23:00:00", "2027-03-02 00:00:00", "2027-03-02 01:00:00", "2027-03-02 02:00:00"]


# --- DayOfMonth ----------------------------------------------------------------------------------
def test_day_of_month_fires_on_those_days():
    assert runs([entry([6], month=[1, 15])], "2027-03-01 12:00", count=4) == [
        "2027-03-15 06:00:00", "2027-04-01 06:00:00", "2027-04-15 06:00:00", "2027-05-01 06:00:00"]


def test_day_of_month_skips_months_without_that_day():
    the_31st = [entry([3], month=[31])]
    assert runs(the_31st, "2027-01-31 12:00", count=5) == [
        "2027-03-31 03:00:00",  # no 31 February
        "2027-05-31 03:00:00",  # no 31 April
        "2027-07-31 03:00:00",  # no 31 June
        "2027-08-31 03:00:00",
        "2027-10-31 03:00:00"]  # no 31 September


def test_day_of_month_29_in_february_only_in_leap_years():
    the_29th = [entry([0], month=[29])]
    assert runs(the_29th, "2027-02-01 12:00") == ["2027-03-29 00:00:00"]
    assert runs(the_29th, "2028-02-01 12:00") == ["2028-02-29 00:00:00"]


def test_day_of_month_30_31_both_and_the_month_end():
    assert runs([entry([12], month=[30, 31])], "2027-04-01 00:00", count=4) == [
        "2027-04-30 12:00:00", "2027-05-30 12:00:00", "2027-05-31 12:00:00", "2027-06-30 12:00:00"]


# --- priority of the rules -----------------------------------------------------------------------
def test_day_of_week_wins_over_day_of_month_and_interval():
    both = [{"Hour": [4], "DayOfWeek": [0], "DayOfMonth": [2], "IntervalDays": 1}]
    assert day_rule(both[0]) == ("week", frozenset({0}))
    assert runs(both, "2027-03-01 12:00", count=2) == ["2027-03-07 04:00:00", "2027-03-14 04:00:00"]


def test_day_of_month_wins_over_interval():
    both = [{"Hour": [4], "DayOfWeek": [], "DayOfMonth": [20], "IntervalDays": 1}]
    assert day_rule(both[0]) == ("month", frozenset({20}))
    assert runs(both, "2027-03-01 12:00", count=2) == ["2027-03-20 04:00:00", "2027-04-20 04:00:00"]


def test_interval_applies_when_the_lists_are_empty_or_absent():
    assert day_rule(entry([4], interval=2)) == ("interval", 2)
    assert day_rule({"Hour": [4], "IntervalDays": 2}) == ("interval", 2)
    assert runs([{"Hour": [4], "IntervalDays": 2}], "2027-03-01 12:00", count=2) == [
        "2027-03-03 04:00:00", "2027-03-05 04:00:00"]


# --- IntervalDays --------------------------------------------------------------------------------
def test_interval_runs_on_the_anchor_day_when_the_hour_has_not_passed():
    assert runs([entry([23], interval=3)], "2027-03-01 12:00", count=3) == [
        "2027-03-01 23:00:00", "2027-03-04 23:00:00", "2027-03-07 23:00:00"]


def test_interval_waits_a_whole_cycle_when_the_hour_has_passed():
    assert runs([entry([23], interval=3)], "2027-03-01 23:30", count=3) == [
        "2027-03-04 23:00:00", "2027-03-07 23:00:00", "2027-03-10 23:00:00"]
    assert runs([entry([23], interval=3)], "2027-03-01 23:00:00", count=1) == ["2027-03-04 23:00:00"]


def test_interval_with_several_hours_on_the_anchor_day():
    # 01:00 has passed at 12:00, 13:00 has not: the anchor day still runs at 13:00.
    assert runs([entry([1, 13], interval=2)], "2027-03-01 12:00", count=4) == [
        "2027-03-01 13:00:00", "2027-03-03 01:00:00", "2027-03-03 13:00:00", "2027-03-05 01:00:00"]


def test_interval_counts_from_the_anchor_not_from_the_given_moment():
    # Anchored on 03-01: cycle days 03-01, 03-04, 03-07, 03-10 …
    assert runs([entry([23], interval=3)], "2027-03-05 12:00", anchor="2027-03-01 10:00") == [
        "2027-03-07 23:00:00"]
    assert runs([entry([23], interval=3)], "2027-03-07 23:00", anchor="2027-03-01 10:00") == [
        "2027-03-10 23:00:00"]
    # before the anchor day nothing fires
    assert runs([entry([23], interval=3)], "2027-02-20 12:00", anchor="2027-03-01 10:00") == [
        "2027-03-01 23:00:00"]


def test_interval_counts_china_days():
    # 2027-03-01 00:30 China is 2027-02-28 16:30 UTC: the anchor day is 03-01, so 01:00 that day.
    assert runs([entry([1], interval=2)], "2027-03-01 00:30", count=2) == [
        "2027-03-01 01:00:00", "2027-03-03 01:00:00"]
    # 2027-03-01 23:30 China is 15:30 UTC the same day; 23:00 has passed: the next cycle.
    assert runs([entry([23], interval=1)], "2027-03-01 23:30") == ["2027-03-02 23:00:00"]


def test_interval_of_365_days_is_within_reach():
    # 2027-03-01 + 365 days is 2028-02-29 (2028 is a leap year).
    assert runs([entry([2], interval=365)], "2027-03-01 12:00", count=2) == [
        "2028-02-29 02:00:00", "2029-02-28 02:00:00"]


# --- several entries -----------------------------------------------------------------------------
def test_several_entries_give_the_earliest():
    entries = [entry([1], week=[4]), entry([5], month=[2])]
    assert runs(entries, "2027-03-01 12:00", count=4) == [
        "2027-03-02 05:00:00",  # DayOfMonth 2
        "2027-03-04 01:00:00",  # Thursday
        "2027-03-11 01:00:00",
        "2027-03-18 01:00:00"]
    assert next_trigger(list(reversed(entries)), t("2027-03-01 12:00"), t("2027-03-01 12:00")) \
        == t("2027-03-02 05:00")


def test_several_entries_of_each_rule_kind():
    entries = [entry([22], interval=5), entry([6], week=[0]), entry([12], month=[3])]
    assert runs(entries, "2027-03-01 12:00", count=5) == [
        "2027-03-01 22:00:00",  # the interval's anchor day
        "2027-03-03 12:00:00",  # DayOfMonth 3
        "2027-03-06 22:00:00",  # the interval's next cycle
        "2027-03-07 06:00:00",  # Sunday
        "2027-03-11 22:00:00"]


def test_entries_firing_at_the_same_moment_give_it_once():
    entries = [entry([2], week=[2]), entry([2], month=[2])]  # Tuesday 2027-03-02 both ways
    assert runs(entries, "2027-03-01 12:00", count=2) == ["2027-03-02 02:00:00", "2027-03-09 02:00:00"]


def test_no_entries_never_fire():
    assert next_trigger([], t("2027-03-01 12:00"), t("2027-03-01 12:00")) is None


@pytest.mark.parametrize("after", ["2027-03-01 12:00", "2027-06-15 03:00", "2028-02-28 23:59:59"])
def test_the_result_is_on_the_hour_and_after(after):
    for entries in ([entry([7, 19], week=[2, 5])], [entry([7], month=[31])], [entry([19], interval=9)]):
        found = next_trigger(entries, t(after), t("2027-01-01 00:00"))
        assert found > t(after)
        assert found % 3600 == 0  # UTC+8 is a whole number of hours
