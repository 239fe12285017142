"""When an automatic snapshot policy fires (cbs-behavior.md §3.25, §5.3): its Policy entries, in
China local time, the time every CBS API time is given in.

Each entry has hours and one day rule, chosen by priority when several are given:
DayOfWeek (0 = Sunday) > DayOfMonth (days a month lacks are skipped) > IntervalDays (every n days
from the policy's anchor day: its creation, or the last change of its schedule).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from cbslocal.engine.clock import CHINA_TZ

# Past the longest gap between two runs (IntervalDays 365; a DayOfMonth 31 in a leap cycle).
_HORIZON_DAYS = 800


def day_rule(entry: dict) -> tuple[str, object]:
    """The entry's rule that applies: ("week", days), ("month", days) or ("interval", n)."""
    if entry.get("DayOfWeek"):
        return "week", frozenset(entry["DayOfWeek"])
    if entry.get("DayOfMonth"):
        return "month", frozenset(entry["DayOfMonth"])
    return "interval", entry["IntervalDays"]


def _matches(rule: tuple[str, object], day: date, anchor: date) -> bool:
    kind, value = rule
    if kind == "week":
        return (day.weekday() + 1) % 7 in value  # Python: Monday = 0; the API: Sunday = 0
    if kind == "month":
        return day.day in value
    return day >= anchor and (day - anchor).days % value == 0


def next_trigger(entries: list[dict], after: float, anchor: float) -> float | None:
    """The first firing strictly after `after` (epoch seconds) of any of the entries; None if
    none comes within the horizon (an entry that cannot fire)."""
    start = datetime.fromtimestamp(after, CHINA_TZ).date()
    anchor_day = datetime.fromtimestamp(anchor, CHINA_TZ).date()
    best = None
    for entry in entries:
        rule, hours = day_rule(entry), sorted(set(entry["Hour"]))
        found = _first_after(rule, hours, start, anchor_day, after)
        if found is not None and (best is None or found < best):
            best = found
    return best


def _first_after(rule, hours: list[int], start: date, anchor: date, after: float) -> float | None:
    for offset in range(_HORIZON_DAYS):
        day = start + timedelta(days=offset)
        if not _matches(rule, day, anchor):
            continue
        for hour in hours:
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=CHINA_TZ).timestamp()
            if moment > after:
                return moment
    return None
