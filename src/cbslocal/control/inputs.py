"""Reading the control plane's inputs: every value bounded and checked, a 4xx naming what was
wrong otherwise (never a 500)."""

from __future__ import annotations

import re
from datetime import datetime

from cbslocal.engine.clock import CHINA_TZ, EARLIEST, LATEST, MAX_RATE, ClockOutOfRange, format_time, in_range

# Bounds of what reaches the store: fault rules' IDs are 32-bit integers (PostgreSQL refuses to
# compare them with more), account IDs (UINs) decimal strings of up to 20 digits, resource IDs
# like `disk-xxxxxxxx`.
MAX_RULE_ID = 2**31 - 1
ACCOUNT_ID = re.compile(r"[0-9]{1,20}")
RESOURCE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def limit(query: dict) -> int:
    limit = query.get("limit", "50")
    if not (isinstance(limit, str) and re.fullmatch(r"[0-9]{1,4}", limit)
            and 0 < int(limit) <= 1000):
        raise ControlError(400, "`limit` must be a whole number from 1 to 1000")
    return int(limit)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_text(value, max_length: int) -> bool:
    """A string the store takes: bounded, and without NUL (PostgreSQL refuses it)."""
    return isinstance(value, str) and len(value) <= max_length and "\x00" not in value


def check_resource_id(resource_id: str, kind: str) -> None:
    """An ID of a shape no resource has (a NUL, 5,000 characters) names none: 404, unread."""
    if not RESOURCE_ID.fullmatch(resource_id):
        raise ControlError(404, f"{kind} {resource_id[:64]!r} does not exist")


def within_range(key: str, move):
    """The clock's new state, or 400 when it would leave the times the API can show."""
    try:
        return move()
    except ClockOutOfRange as failure:
        raise ControlError(400, f"`{key}`: {failure}") from None


def imported_clock(clock) -> tuple[float, float] | None:
    """(now, rate) of an exported clock to run on from, or None for a real clock (or none)."""
    if clock is None:
        return None
    if not isinstance(clock, dict):
        raise ControlError(400, "`clock` must be the exported clock: {\"now\", \"mode\", \"rate\"}")
    if clock.get("mode") in (None, "real"):
        return None
    now, rate = clock.get("now"), clock.get("rate", 1.0)
    if not (is_number(now) and in_range(now)):
        raise ControlError(400, f"`clock.now` must be epoch seconds within the clock's range "
                           f"({format_time(EARLIEST)} to {format_time(LATEST)}, China time)")
    if not (is_number(rate) and 0 <= rate <= MAX_RATE):
        raise ControlError(400, f"`clock.rate` must be a number from 0 to {MAX_RATE:g}")
    return float(now), float(rate)


def number(body: dict, key: str, low: float, high: float, *, exclusive_low: bool = False):
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            (low < value if exclusive_low else low <= value) and value <= high):
        raise ControlError(400, f"`{key}` must be a number {'above' if exclusive_low else 'from'} "
                           f"{low:g} {'and at most' if exclusive_low else 'to'} {high:g}")
    return float(value)


def whole(body: dict, key: str, low: int, high: int):
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ControlError(400, f"`{key}` must be a whole number from {low} to {high}")
    return value


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def duration(value, key: str) -> float:
    """Seconds from a number or a text like `90s`, `10m`, `2h`, `3d`, `1w`, `1d12h`."""
    if isinstance(value, str) and re.fullmatch(r"\d+(?:\.\d+)?", value):
        value = float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and value and re.fullmatch(f"(?:{DURATION.pattern})+", value):
        seconds = sum(float(n) * UNITS[u] for n, u in DURATION.findall(value))
    else:
        raise ControlError(400, f"`{key}` must be seconds or a duration like 90s, 10m, 2h, 3d, 1w")
    if not 0 < seconds <= 10 * 366 * 86400:
        raise ControlError(400, f"`{key}` must be positive and at most ten years: time only moves "
                           "forward")
    return seconds


def time(value) -> float:
    """Epoch seconds from a number, `YYYY-MM-DD HH:MM:SS` (China time, as the API shows times) or
    ISO 8601 with an offset."""
    try:
        if is_number(value):
            return float(value)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA_TZ)).timestamp()
    except (ValueError, OverflowError):  # not a time, or one before year 1 in UTC
        pass
    raise ControlError(400, "`set` must be epoch seconds, `YYYY-MM-DD HH:MM:SS` (China time) or "
                       "ISO 8601")


def flag(body: dict, key: str) -> bool:
    if not isinstance(body[key], bool):
        raise ControlError(400, f"`{key}` must be true or false")
    return body[key]


def only_keys(body: dict, allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ControlError(400, f"unknown key {unknown[0]!r}; allowed: {sorted(allowed)}")
