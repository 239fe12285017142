"""Pay-as-you-go charges: postpaid disks are billed to the second and settled every whole hour
(the vendor's CBS billing overview), on the emulator's clock; snapshot storage beyond each
region's free quota is charged at each settlement by what the account holds then.

Each account has one pending settlement (a move due at the next whole hour). It charges every
postpaid disk of the account for its time since the last settlement (or since it began), at the
price table's hourly rate. A disk whose rate changes (resized, retyped, no longer postpaid) or
that goes has its time up to then kept aside at the old rate, in the account's `unsettled`
amount, and is billed from then on. A settlement takes whole fen and carries the fraction of a
fen to the next one, so that over any span the charges are the exact usage, less under a fen.
An account in arrears goes on being charged (its balance below zero).
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

from sqlalchemy import ColumnElement, Connection, bindparam, case, func, literal, select, update

from cbslocal.billing import ledger
from cbslocal.billing.prices import EXACT, POSTPAID, quote_disks
from cbslocal.config import Prices
from cbslocal.engine import transitions as engine
from cbslocal.engine.clock import format_time
from cbslocal.store.prepared import Prepared
from cbslocal.store.tables import accounts, disks, snapshots, transitions

SETTLE = "account.usage"
HOUR = 3600.0


def next_hour(now: float) -> float:
    """The next whole hour after `now` (whole hours are the same in UTC and China time)."""
    return (math.floor(now / HOUR) + 1) * HOUR


# (compiled once: CreateDisks asks it on every postpaid purchase)
_PENDING = Prepared(select(transitions.c.id).where(
    transitions.c.resource_id == bindparam("account"), transitions.c.kind == SETTLE).limit(1))


def bill_from(conn: Connection, account_id: str, now: float) -> None:
    """The account has postpaid usage from now on: make sure its settlement is pending."""
    if _PENDING.first(conn, account=account_id) is None:
        engine.schedule(conn, SETTLE, resource_id=account_id, account_id=account_id, region="",
                        due_at=next_hour(now))


def resume_all(conn: Connection, now: float) -> None:
    """At start-up: every account with postpaid disks or snapshots has its settlement pending.
    One that never had one (a data dir from before billing) is billed from now, not for its
    disks' past."""
    billed = select(disks.c.account_id).where(disks.c.charge_type == POSTPAID).union(
        select(snapshots.c.account_id))
    for account_id in conn.execute(billed).scalars():
        conn.execute(update(accounts).where(accounts.c.account_id == account_id,
                                            accounts.c.usage_billed_until.is_(None))
                     .values(usage_billed_until=now))
        bill_from(conn, account_id, now)


def set_aside(conn: Connection, disk_ids: list[str], now: float) -> None:
    """Before the postpaid disks among `disk_ids` change their rate or go: their time up to `now`
    is kept aside on their accounts at the rate they had, and they are billed from `now`."""
    if not disk_ids:
        return
    prices = engine.environment(conn).topology.prices
    each = select(disks.c.account_id, *_RATED,
                  _started(accounts.c.usage_billed_until).label("started")).select_from(
        disks.join(accounts, accounts.c.account_id == disks.c.account_id)).where(
        disks.c.disk_id.in_(disk_ids), disks.c.charge_type == POSTPAID).subquery()
    rows = conn.execute(_grouped(each, each.c.account_id)).all()
    by_account: dict[str, Decimal] = {}
    with localcontext(EXACT):
        for account_id, *group, started, count in rows:
            by_account[account_id] = by_account.get(account_id, Decimal(0)) + _cost(
                prices, group, started, count, now)
        for account_id, amount in by_account.items():
            unsettled = conn.execute(select(accounts.c.unsettled).where(
                accounts.c.account_id == account_id).with_for_update()).scalar_one()
            conn.execute(update(accounts).where(accounts.c.account_id == account_id)
                         .values(unsettled=str(Decimal(unsettled) + amount)))
    conn.execute(update(disks).where(disks.c.disk_id.in_(disk_ids),
                                     disks.c.charge_type == POSTPAID).values(billed_from=now))


@engine.on(SETTLE, counted=False)
def _settle(conn: Connection, account_id: str, _payload: dict, due_at: float) -> None:
    """The hour is over: charge the account for it, and wait for the next one. When the clock
    has moved on further and nothing else of the account happens meanwhile, every whole hour up
    to then is settled at once, each an entry of its own (a year's advance is not 8,760 moves)."""
    account = conn.execute(select(accounts.c.unsettled, accounts.c.usage_billed_until).where(
        accounts.c.account_id == account_id).with_for_update()).first()
    if account is None:
        return
    prices = engine.environment(conn).topology.prices
    since = account.usage_billed_until
    each = select(*_RATED, _started(since).label("started")).where(
        disks.c.account_id == account_id, disks.c.charge_type == POSTPAID).subquery()
    rows = conn.execute(_grouped(each)).all()
    disk_count = sum(row[-1] for row in rows)
    snapshot_gib = _billed_snapshot_gib(conn, account_id)
    hours = _quiet_hours(conn, account_id, due_at) if disk_count or snapshot_gib else 1
    with localcontext(EXACT):
        snapshots_hourly = snapshot_gib * prices.snapshot_gib_hour
        first = Decimal(account.unsettled) + snapshots_hourly + sum(
            (_cost(prices, group, started, count, due_at) for *group, started, count in rows),
            Decimal(0))
        hourly = snapshots_hourly + sum((_cost(prices, group, due_at, count, due_at + HOUR)
                                         for *group, _started_at, count in rows), Decimal(0))
        charges, carried = [], Decimal(0)
        for hour in range(hours):
            amount = carried + (first if hour == 0 else hourly)
            fen = int(amount * 100)  # whole fen; the fraction waits for the next hour
            carried = amount - Decimal(fen) / 100
            end = due_at + hour * HOUR
            charges.append((end, fen, f"postpaid disks, {_hour(end)}: {disk_count} "
                                      f"disk{'s' if disk_count != 1 else ''}"
                                      + (f"; {snapshot_gib} GiB of snapshots beyond the free "
                                         "quota" if snapshot_gib else "")))
    ledger.charge_usage(conn, account_id, charges)
    last = due_at + (hours - 1) * HOUR
    conn.execute(update(accounts).where(accounts.c.account_id == account_id).values(
        unsettled=str(carried), usage_billed_until=last))
    if disk_count or snapshot_gib:  # (else a fraction of a fen waits on the account)
        engine.schedule(conn, SETTLE, resource_id=account_id, account_id=account_id, region="",
                        due_at=last + HOUR)


def _billed_snapshot_gib(conn: Connection, account_id: str) -> int:
    """The account's snapshot storage charged this hour: in each region, what its snapshots hold
    beyond the region's free quota (DescribeSnapshotOverview's RealTradeSize) — sampled at the
    settlement [inf: the vendor settles snapshot storage on the hour, by the capacity held]."""
    free = engine.environment(conn).topology.limits.snapshot_free_quota_gib
    held = conn.execute(select(func.sum(snapshots.c.disk_size)).where(
        snapshots.c.account_id == account_id).group_by(snapshots.c.region)).scalars()
    return sum(max(int(gib) - free, 0) for gib in held)


def _quiet_hours(conn: Connection, account_id: str, due_at: float) -> int:
    """How many whole hours from `due_at` on may be settled now: up to the time moves are being
    applied to, and no later than the account's next other move (which may change its disks)."""
    until = engine.applying_until()
    if until is None or until < due_at + HOUR:
        return 1
    following = conn.execute(select(func.min(transitions.c.due_at)).where(
        transitions.c.account_id == account_id, transitions.c.kind != SETTLE)).scalar()
    if following is not None:
        until = min(until, following)
    return max(int((until - due_at) // HOUR) + 1, 1)


# What a disk's hourly rate depends on.
_RATED = (disks.c.disk_type, disks.c.disk_size, disks.c.throughput_performance,
          disks.c.disk_backup_quota)


def _grouped(each, *first):
    """The disks of `each` (a subquery of their rated columns and `started`) counted by what
    their cost depends on: a few rows however many disks (PostgreSQL groups only by the
    subquery's columns, not by an expression with parameters in it)."""
    columns = (*first, *(each.c[c.name] for c in _RATED), each.c.started)
    return select(*columns, func.count()).group_by(*columns)


def _started(since):
    """Since when a disk's time is not billed yet: its own start (creation, or the last change of
    its rate), or its account's last settlement `since` (a time, None, or the column) if later."""
    start = func.coalesce(disks.c.billed_from, disks.c.created_at)
    if since is None:
        return start
    bound = since if isinstance(since, ColumnElement) else literal(since)
    return case((bound > start, bound), else_=start)


def _cost(prices: Prices, group, started: float, count: int, until: float) -> Decimal:
    disk_type, size, throughput, points = group
    seconds = Decimal(repr(max(until - started, 0.0)))
    hourly = quote_disks(prices, charge_type=POSTPAID, disk_type=disk_type, size=size,
                         count=count, throughput=throughput, backup_points=points).paid
    return hourly * seconds / Decimal(3600)


def _hour(end: float) -> str:
    return f"{format_time(end - HOUR)} to {format_time(end)[11:]}"
