"""The control plane's inputs, as pydantic models like the API's: every value typed and bounded,
unknown keys refused, and a failure a 4xx naming the key (never a 500). What depends on the
running emulator (a known region, service, action or code) is checked by the endpoint."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      ValidationError, model_validator)

from cbslocal.cbs.instance_state import POKABLE_STATES
from cbslocal.config_schema import MAX_BALANCE
from cbslocal.cbs.policies import ISOLATED, NORMAL
from cbslocal.engine.clock import (CHINA_TZ, EARLIEST, LATEST, MAX_RATE, ClockOutOfRange,
                                   format_time, in_range)
from cbslocal.engine.timing import PROFILES

# Bounds of what reaches the store: fault rules' IDs are 32-bit integers (PostgreSQL refuses to
# compare them with more), account IDs (UINs) decimal strings of up to 20 digits, resource IDs
# like `disk-xxxxxxxx`.
MAX_RULE_ID = 2**31 - 1
ACCOUNT_ID = re.compile(r"[0-9]{1,20}")
RESOURCE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_KEY_TTL = 366 * 86400
MAX_ADVANCE = 10 * 366 * 86400  # ten years at a time


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# --- value types ---------------------------------------------------------------------------------
def _no_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL refuses it
        raise ValueError("must not contain NUL")
    return value


def text(max_length: int):
    """A string the store takes: bounded, without NUL."""
    return Annotated[str, Field(max_length=max_length), AfterValidator(_no_nul)]


AccountId = Annotated[str, Field(pattern=r"^[0-9]{1,20}$")]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def _seconds(value: Any) -> float:
    """Seconds from a number or a text like `90s`, `10m`, `2h`, `3d`, `1w`, `1d12h`."""
    if isinstance(value, str) and re.fullmatch(r"\d+(?:\.\d+)?", value):
        value = float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and value and re.fullmatch(f"(?:{_DURATION.pattern})+", value):
        seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(value))
    else:
        raise ValueError("must be seconds or a duration like 90s, 10m, 2h, 3d, 1w")
    if not 0 < seconds <= MAX_ADVANCE:
        raise ValueError("must be positive and at most ten years: time only moves forward")
    return seconds


def _epoch(value: Any) -> float:
    """Epoch seconds from a number, `YYYY-MM-DD HH:MM:SS` (China time, as the API shows times) or
    ISO 8601 with an offset."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA_TZ)).timestamp()
    except (ValueError, OverflowError):  # not a time, or one before year 1 in UTC
        pass
    raise ValueError("must be epoch seconds, `YYYY-MM-DD HH:MM:SS` (China time) or ISO 8601")


def _query_digits(most: int, meaning: str):
    """A whole number as a query string sends it: ASCII digits, at most `most` of them."""
    def read(value: Any) -> Any:
        if isinstance(value, str):
            if not re.fullmatch(rf"[0-9]{{1,{most}}}", value):
                raise ValueError(f"must be {meaning}")
            return int(value)
        return value
    return read


_query_whole = _query_digits(4, "a whole number from 1 to 1000")
_query_whole_id = _query_digits(19, "a whole number (an entry's Id)")


def _fen(value: Any) -> int:
    """Fen from CNY as a number or a decimal text, to the fen: 12.5 or "12.50" → 1250."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
        except InvalidOperation:
            amount = None
        if amount is not None and amount.is_finite() and abs(amount) < MAX_BALANCE \
                and amount.as_tuple().exponent >= -2:
            return int(amount * 100)
    raise ValueError(f"must be an amount of CNY under {MAX_BALANCE:,} in size, to the fen "
                     "(at most 2 decimal places), e.g. 100 or \"12.50\"")


Duration = Annotated[float, BeforeValidator(_seconds)]
Fen = Annotated[int, BeforeValidator(_fen)]
Time = Annotated[float, BeforeValidator(_epoch)]
QueryLimit = Annotated[int, BeforeValidator(_query_whole), Field(ge=1, le=1000)]


# --- bodies --------------------------------------------------------------------------------------
class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Nothing(Body):
    """An endpoint that takes no parameters."""


class NewAccount(Body):
    name: text(128) = ""


class NewKey(Body):
    ttl: Annotated[float, Field(gt=0, le=MAX_KEY_TTL)] | None = None  # seconds
    payment_allowed: bool = True


class BillingChange(Body):
    """Set the balance or top it up (not both), and/or allow or refuse payment."""
    balance: Fen | None = None  # may be negative: the account is then in arrears
    top_up: Annotated[int, BeforeValidator(_fen), Field(gt=0)] | None = None
    payment_allowed: bool | None = None
    note: text(200) = ""  # what the ledger says of the change

    @model_validator(mode="after")
    def _one_change(self):
        if self.balance is not None and self.top_up is not None:
            raise ValueError("give `balance` or `top_up`, not both")
        if self.balance is None and self.top_up is None and self.payment_allowed is None:
            raise ValueError("nothing to change: give `balance`, `top_up` or `payment_allowed`")
        return self


class LedgerQuery(Body):
    after: Annotated[int, BeforeValidator(_query_whole_id), Field(ge=0, le=2**63 - 1)] = 0
    limit: QueryLimit = 100


class ResetScope(Body):
    account: text(64) | None = None
    region: text(64) | None = None


class ClockMove(Body):
    """Exactly one of: advance (a duration), set (a time), mode (with rate for scaled)."""
    advance: Duration | None = None
    set: Time | None = None
    mode: Literal["real", "running", "frozen", "scaled"] | None = None
    rate: Annotated[float, Field(gt=0, le=MAX_RATE)] | None = None  # virtual s per real s

    @model_validator(mode="after")
    def _one_move(self):
        given = [k for k in ("advance", "set", "mode") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `advance`, `set` or `mode`")
        if (self.rate is not None) != (self.mode == "scaled"):
            raise ValueError("`rate` (above 0, at most "
                             f"{MAX_RATE:g} virtual seconds per real second) goes with "
                             "`mode: scaled`, and only with it")
        return self


class StateQuery(Body):
    account: text(64) | None = None


class TimingChange(Body):
    profile: Literal[tuple(sorted(PROFILES))] | None = None  # type: ignore[valid-type]
    durations: dict[text(64), float] | None = None  # {transition: seconds}, checked by timing

    @model_validator(mode="after")
    def _something(self):
        if self.profile is None and self.durations is None:
            raise ValueError("give `profile` and/or `durations`")
        return self


class RecentQuery(Body):
    limit: QueryLimit = 50


class FaultRule(Body):
    """Matchers (each optional), effects (code with an optional message, latency, close) and
    how often (times: the next N matches; probability, with a seed: reproducible)."""
    service: text(32) | None = None
    action: text(64) | None = None
    account: AccountId | None = None
    region: text(64) | None = None
    code: text(128) | None = None
    message: text(1000) | None = None
    latency: Annotated[float, Field(gt=0, le=60)] | None = None  # seconds
    close: bool = False
    times: Annotated[int, Field(ge=1, le=10**9)] | None = None
    probability: Annotated[float, Field(gt=0, le=1)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**62)] | None = None

    @model_validator(mode="after")
    def _effect(self):
        if self.code is None and not self.close and self.latency is None:
            raise ValueError("give an effect: `code`, `latency` and/or `close`")
        if self.code is not None and self.close:
            raise ValueError("`code` and `close` exclude each other: a closed connection answers "
                             "nothing")
        if self.message is not None and self.code is None:
            raise ValueError("`message` goes with a `code`")
        return self


def _pokable(state: str) -> str:
    if state not in POKABLE_STATES:
        raise ValueError(f"cannot be set; use one of {list(POKABLE_STATES)} (a state of an "
                         "operation in progress comes with the operation: it would never end)")
    return state


class InstancePoke(Body):
    state: Annotated[str, AfterValidator(_pokable)] | None = None
    supports_cbs: bool | None = None
    online_resize: bool | None = None
    max_attach_count: Annotated[int, Field(ge=0, le=100)] | None = None


class DiskPoke(Body):
    dumping: bool | None = None
    returnable: bool | None = None
    snapshot_ability: bool | None = None


class PolicyPoke(Body):
    state: Literal[NORMAL, ISOLATED] | None = None


class ImportedClock(BaseModel):
    """The clock part of an exported state: where to run on from (its other keys, the time as
    shown, are ignored)."""
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")
    mode: text(16) | None = None
    now: float | None = None
    rate: Annotated[float, Field(ge=0, le=MAX_RATE)] = 1.0


def read(model: type[BaseModel], body: dict, *, prefix: str = ""):
    """`body` as `model`, or ControlError(400) naming every key that is wrong."""
    try:
        return model.model_validate(body)
    except ValidationError as failure:
        raise ControlError(400, "; ".join(
            _described(e, model, prefix) for e in failure.errors(include_url=False))) from None


def _described(error: dict, model: type[BaseModel], prefix: str) -> str:
    where = prefix + ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-"))
    if error["type"] == "extra_forbidden":
        return f"unknown key {where!r}; allowed: {sorted(model.model_fields)}"
    message = error["msg"].removeprefix("Value error, ")
    if error["loc"] and error["type"] != "missing":  # what was sent, shortened
        message = f"{_shown(error['input'])} is refused: {message}"
    return f"`{where}`: {message}" if where else message


def _shown(value) -> str:
    shown = repr(value)
    return shown if len(shown) <= 64 else shown[:61] + "..."


# --- what is not a body ----------------------------------------------------------------------------
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
    exported = read(ImportedClock, clock, prefix="clock.")
    if exported.mode in (None, "real"):
        return None
    if exported.now is None or not in_range(exported.now):
        raise ControlError(400, f"`clock.now` must be epoch seconds within the clock's range "
                           f"({format_time(EARLIEST)} to {format_time(LATEST)}, China time)")
    return exported.now, exported.rate
