"""Prepaid disks' money and time (cbs-behavior.md §3.5, §3.9, §6.2, §6.9): what each disk's term
cost, RenewDisk, the deadline on the clock (an automatic renewal, or expiry: usable for a grace
period, then detached into the recycle bin and destroyed after the retention period — the
vendor's CBS overdue policy), and the refund TerminateDisks pays for a returned disk.

Money moves through billing/ledger.py only; this module knows the disks."""

from __future__ import annotations

from decimal import Decimal, localcontext

from sqlalchemy import delete, func, select, update

from cbslocal import ids
from cbslocal.api import messages as msg
from cbslocal.api.cbs_schema import (ModifyDisksChargeTypeRequest, ModifyDisksRenewFlagRequest,
                                     RenewDiskRequest)
from cbslocal.api.context import Context
from cbslocal.api.errors import ApiError
from cbslocal.billing import ledger, usage
from cbslocal.billing.prices import (EXACT, POSTPAID, PREPAID, DiskQuote, quote_disks,
                                    quote_parts, total)
from cbslocal.billing.refunds import refund_fen, within_five_days
from cbslocal.cbs import attachments
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs.disk_state import DAY, RECYCLE
from cbslocal.cbs.resources import engine_context
from cbslocal.engine import transitions as engine
from cbslocal.engine.clock import add_months, format_time, parse_api_time
from cbslocal.store.tables import disks, ledger as ledger_table, transitions

DEADLINE = "disk.deadline"
EXPIRED = "EXPIRED"  # recycle_reason of a disk past its deadline (in the grace period or the bin)
AUTO_RENEW = "NOTIFY_AND_AUTO_RENEW"
BUSY_RETRY = 60.0  # [inf] a disk busy at its deadline expires once its operation is done
YEAR = 365 * DAY
MONTH_SECONDS = Decimal(365 * 86400) / 12  # a month of the difference by the day (365/12 days)


def split_fen(total: int, count: int) -> list[int]:
    """An order's price over its `count` disks, to the fen and adding up to it exactly."""
    share, left = divmod(total, count)
    return [share + (position < left) for position in range(count)]


def has_deadline(disk, *, portable: bool | None = None) -> bool:
    """Whether the disk's deadline is its own (an elastic prepaid data disk): a disk bought with
    an instance goes with the instance's. `portable`: as if it were (or were not) elastic."""
    elastic = disk.portable if portable is None else portable
    return (disk.charge_type == PREPAID and elastic and disk.disk_usage == ds.DATA_DISK
            and disk.deadline_at is not None)


def watch_deadline(conn, disk_id: str, account_id: str, region: str, deadline: float) -> None:
    """(Re)schedule what happens at the disk's deadline."""
    stop_watching_deadline(conn, disk_id)
    engine.schedule(conn, DEADLINE, resource_id=disk_id, account_id=account_id, region=region,
                    due_at=deadline)


def stop_watching_deadline(conn, disk_id: str) -> None:
    conn.execute(delete(transitions).where(transitions.c.resource_id == disk_id,
                                           transitions.c.kind == DEADLINE))


def upgrade_parts(ctx: Context, disk, **changed) -> dict[str, DiskQuote]:
    """What a prepaid disk pays to change (`changed`: disk_type, disk_size or
    throughput_performance) until its deadline: the month's difference of each thing billed, for
    the months left — "the difference by the day", as the vendor bills a configuration change
    of a prepaid resource [inf: no discount, and nothing back for a cheaper one]."""
    now_as = {"disk_type": disk.disk_type, "disk_size": disk.disk_size,
              "throughput_performance": disk.throughput_performance}
    old, new = _month_parts(ctx, **now_as, points=disk.disk_backup_quota), _month_parts(
        ctx, **{**now_as, **changed}, points=disk.disk_backup_quota)
    with localcontext(EXACT):
        months_left = Decimal(repr(max(disk.deadline_at - ctx.now, 0.0))) / MONTH_SECONDS
        parts = {}
        for name in old:
            difference = max(new[name].paid - old[name].paid, Decimal(0)) * months_left
            parts[name] = DiskQuote(PREPAID, difference, difference)
        return parts


def _month_parts(ctx: Context, *, disk_type: str, disk_size: int, throughput_performance: int,
                 points: int) -> dict[str, DiskQuote]:
    return quote_parts(ctx.topology.prices, charge_type=PREPAID, disk_type=disk_type,
                       size=disk_size, throughput=throughput_performance, backup_points=points)


def pay_upgrade(ctx: Context, disk, what: str, **changed) -> None:
    """Pay for a prepaid disk's change now (InsufficientBalance, and nothing changes, when the
    balance is short); what it paid is refundable like its term."""
    fen = total(PREPAID, upgrade_parts(ctx, disk, **changed).values()).fen
    if not fen:  # (a cheaper configuration: no order, nothing back)
        return
    ledger.check_may_pay(ctx)
    ledger.check_affordable(ctx, fen)
    no_pending_order(ctx, disk)
    ledger.pay(ctx, ledger.Charge(ledger.UPGRADE, fen, [disk.disk_id], what))
    ctx.conn.execute(update(disks).where(disks.c.disk_id == disk.disk_id)
                     .values(paid_fen=disks.c.paid_fen + fen))
    place_orders(ctx, [disk.disk_id])


def no_pending_order(ctx: Context, disk) -> None:
    """TradeDealConflict while the disk's latest order is not settled yet."""
    if disk.order_pending_until is not None and disk.order_pending_until > ctx.now:
        raise msg.ORDER_PENDING(disk_id=disk.disk_id, until=format_time(disk.order_pending_until))


def place_orders(ctx: Context, disk_ids: list[str]) -> None:
    """Orders were placed on the disks now: each settles after [billing] order_settle_seconds."""
    delay = ctx.topology.billing.order_settle_seconds
    if delay and disk_ids:
        ctx.conn.execute(update(disks).where(disks.c.disk_id.in_(disk_ids))
                         .values(order_pending_until=ctx.now + delay))


def quote_term(ctx: Context, disk, months: int) -> DiskQuote:
    """What `months` more of the disk cost, as it is now."""
    return quote_disks(ctx.topology.prices, charge_type=PREPAID, disk_type=disk.disk_type,
                       size=disk.disk_size, throughput=disk.throughput_performance,
                       backup_points=disk.disk_backup_quota, period=months)


# --- RenewDisk ------------------------------------------------------------------------------------
def renew_disk(ctx: Context, req: RenewDiskRequest) -> dict:
    """More months for a prepaid disk, paid now; a disk in the recycle bin (returned or expired)
    is recovered, UNATTACHED, for `Period` months from now (§3.9)."""
    prepaid = req.DiskChargePrepaid
    aligned = renewal_span(prepaid, "DiskChargePrepaid")
    if not ids.is_resource_id(ids.DISK, req.DiskId):
        raise msg.ID_MALFORMED(field="DiskId", value=req.DiskId)
    disk = ds.load_disks(ctx, [req.DiskId])[0]
    check_renewable(disk)
    if ds.is_busy(disk):
        raise ds.busy(disk, msg.DISK_BUSY_INVALID_DISK)
    quote = quote_term(ctx, disk, prepaid.Period)
    ledger.check_may_pay(ctx)
    ledger.check_affordable(ctx, quote.fen)
    no_pending_order(ctx, disk)
    recovering = disk.disk_state == ds.TORECYCLE
    deadline = add_months(renewed_from(ctx, disk, aligned), prepaid.Period)
    values = {"deadline_at": deadline, "recycle_reason": "",
              "paid_fen": quote.fen if recovering else disk.paid_fen + quote.fen}
    if prepaid.RenewFlag is not None:
        values["renew_flag"] = prepaid.RenewFlag
    if recovering:  # out of the bin; one returned before cannot be returned again (§6.9)
        values.update(disk_state=ds.UNATTACHED, term_started_at=ctx.now)
        ctx.conn.execute(delete(transitions).where(transitions.c.resource_id == disk.disk_id,
                                                   transitions.c.kind == RECYCLE))
    ds.move(ctx.conn, [disk.disk_id], {disk.disk_state}, **values)
    ledger.pay(ctx, ledger.Charge(ledger.RENEWAL, quote.fen, [disk.disk_id],
                                  _months(disk.disk_id, prepaid.Period)))
    place_orders(ctx, [disk.disk_id])
    watch_deadline(ctx.conn, disk.disk_id, ctx.account_id, ctx.region, deadline)
    return {}


# --- ModifyDisksRenewFlag -------------------------------------------------------------------------
def modify_disks_renew_flag(ctx: Context, req: ModifyDisksRenewFlagRequest) -> dict:
    """How prepaid disks renew at their deadline (§3.10): the flag, and the months an automatic
    renewal buys. A postpaid disk has no flag to set [inf: InvalidParameterValue]."""
    disk_ids = ds.checked_ids(req.DiskIds, "DiskIds", ctx.topology.limits.modify_disks_max_count)
    if req.AutoRenewPeriod is not None and req.AutoRenewPeriod not in ds.PREPAID_PERIODS:
        raise msg.PREPAID_PERIOD_INVALID(field="AutoRenewPeriod")
    for disk in ds.load_disks(ctx, disk_ids):
        if disk.charge_type != PREPAID:
            raise msg.POSTPAID_DISK_HAS_NO_RENEW_FLAG(disk_id=disk.disk_id)
    values = {"renew_flag": req.RenewFlag}
    if req.AutoRenewPeriod is not None:
        values["auto_renew_period"] = req.AutoRenewPeriod
    ctx.conn.execute(update(disks).where(disks.c.disk_id.in_(disk_ids)).values(**values))
    return {}


# --- ModifyDisksChargeType ------------------------------------------------------------------------
def modify_disks_charge_type(ctx: Context, req: ModifyDisksChargeTypeRequest) -> dict:
    """Elastic disks from postpaid to prepaid (Period months, paid now; the postpaid time billed
    up to now) or back (what is left of the term refunded pro rata [inf], billed by the hour from
    now) — cbs-behavior.md §3.8."""
    to_prepaid = req.DiskChargePrepaid is not None
    if to_prepaid == bool(req.DiskChargePostpaid):
        raise msg.CHARGE_TYPE_CHOICE()
    disk_ids = ds.checked_ids(req.DiskIds, "DiskIds", ctx.topology.limits.terminate_disks_max_count)
    if to_prepaid:
        renewal_span(req.DiskChargePrepaid, "DiskChargePrepaid")
    targets = ds.load_disks(ctx, disk_ids)
    target = PREPAID if to_prepaid else POSTPAID
    for disk in targets:
        _check_convertible(disk, target)
    if not to_prepaid:  # (a prepaid disk's order; a postpaid one has none pending)
        for disk in targets:
            no_pending_order(ctx, disk)
    (_to_prepaid if to_prepaid else _to_postpaid)(ctx, req, targets)
    place_orders(ctx, disk_ids)
    return {}


def _check_convertible(disk, target: str) -> None:
    check_elastic(disk)
    if disk.charge_type == target or disk.charge_type not in (PREPAID, POSTPAID):
        raise msg.DISK_ALREADY_CHARGED_SO(disk_id=disk.disk_id, charge_type=disk.charge_type)
    ds.not_expired(disk, msg.DISK_EXPIRED_NOT_SUPPORTED)
    ds.not_recycled(disk)
    if ds.is_busy(disk):
        raise ds.busy(disk, msg.DISK_BUSY_INVALID_DISK)


def _to_prepaid(ctx: Context, req: ModifyDisksChargeTypeRequest, targets: list) -> None:
    period = req.DiskChargePrepaid.Period
    quotes = [quote_term(ctx, disk, period) for disk in targets]
    price = total(PREPAID, quotes).fen
    ledger.check_may_pay(ctx)
    ledger.check_affordable(ctx, price)  # (before the postpaid time is set aside)
    disk_ids = [d.disk_id for d in targets]
    usage.set_aside(ctx.conn, disk_ids, ctx.now)
    deadline = add_months(ctx.now, period)
    for disk, quote in zip(targets, quotes):
        ds.move(ctx.conn, [disk.disk_id], {disk.disk_state}, charge_type=PREPAID,
                deadline_at=deadline, paid_fen=quote.fen, term_started_at=ctx.now,
                renew_flag=req.DiskChargePrepaid.RenewFlag or ds.DEFAULT_RENEW_FLAG,
                delete_with_instance=False)
        watch_deadline(ctx.conn, disk.disk_id, ctx.account_id, ctx.region, deadline)
    ledger.pay(ctx, ledger.Charge(ledger.PURCHASE, price, disk_ids,
                                  f"{len(disk_ids)} postpaid disk{'s' if len(disk_ids) > 1 else ''}"
                                  f" to prepaid for {period} month{'s' if period > 1 else ''}"))


def _to_postpaid(ctx: Context, _req: ModifyDisksChargeTypeRequest, targets: list) -> None:
    for disk in targets:
        amount = refund_fen(paid=disk.paid_fen, term_started_at=disk.term_started_at,
                            deadline_at=disk.deadline_at, now=ctx.now)
        ds.move(ctx.conn, [disk.disk_id], {disk.disk_state}, charge_type=POSTPAID,
                deadline_at=None, paid_fen=0, term_started_at=None, renew_flag="",
                billed_from=ctx.now)
        stop_watching_deadline(ctx.conn, disk.disk_id)
        ledger.credit(ctx.conn, ctx.account_id, ctx.now,
                      ledger.Charge(ledger.CONVERSION_REFUND, amount, [disk.disk_id],
                                    f"{disk.disk_id} to postpaid"),
                      action=ctx.action, region=ctx.region)
    usage.bill_from(ctx.conn, ctx.account_id, ctx.now)


def renewal_span(prepaid, field: str) -> float | None:
    """A DiskChargePrepaid of a renewal checked: its Period, and the CurInstanceDeadline it
    lines up with (None: none)."""
    if prepaid.Period not in ds.PREPAID_PERIODS:
        raise msg.PREPAID_PERIOD_INVALID(field=f"{field}.Period")
    return None if prepaid.CurInstanceDeadline is None else api_time(
        prepaid.CurInstanceDeadline, f"{field}.CurInstanceDeadline")


def api_time(text: str, field: str) -> float:
    try:
        return parse_api_time(text)
    except ValueError:
        raise msg.TIME_MALFORMED(field=field, value=text[:64]) from None


def check_elastic(disk) -> None:
    """InvalidDisk.NotPortable for a disk bought with an instance: its money follows the
    instance's (renewals, charge type, paid resizes)."""
    if not disk.portable or disk.disk_usage != ds.DATA_DISK:
        raise msg.DISK_BOUGHT_WITH_INSTANCE(disk_id=disk.disk_id)


def check_renewable(disk) -> None:
    """Only an elastic prepaid data disk renews on its own (§3.9, §3.12)."""
    check_elastic(disk)
    if disk.charge_type != PREPAID:
        raise msg.POSTPAID_DISK_NOT_RENEWABLE(disk_id=disk.disk_id)


def renewed_from(ctx: Context, disk, aligned: float | None) -> float:
    """Where a renewal's months start: now for a disk in the recycle bin, else the instance's
    deadline it lines up with, else its own."""
    if disk.disk_state == ds.TORECYCLE:
        return ctx.now
    return aligned if aligned is not None else disk.deadline_at


def _months(disk_id: str, months: int) -> str:
    return f"{disk_id} for {months} month{'s' if months > 1 else ''}"


# --- the deadline ---------------------------------------------------------------------------------
@engine.on(DEADLINE)
def _deadline_reached(conn, disk_id: str, _payload: dict, due_at: float) -> None:
    """At its deadline a prepaid disk renews itself if it says so and its account can pay;
    otherwise it expires (ReturnFailCode 2, InvalidDisk.Expire) but stays usable for the grace
    period. At the grace period's end it is detached and goes to the recycle bin (TORECYCLE),
    destroyed after the retention period unless RenewDisk recovers it."""
    disk = conn.execute(select(disks).where(disks.c.disk_id == disk_id)).first()
    if disk is None or not has_deadline(disk) or disk.deadline_at > due_at \
            or disk.disk_state == ds.TORECYCLE:
        return  # renewed, returned or no longer its own meanwhile
    ctx = engine_context(conn, disk.account_id, disk.region, due_at)
    if disk.recycle_reason != EXPIRED:
        if disk.renew_flag == AUTO_RENEW and _renewed_automatically(ctx, disk):
            return
        conn.execute(update(disks).where(disks.c.disk_id == disk_id).values(recycle_reason=EXPIRED))
        grace = ctx.topology.billing.expiry_grace_days * DAY
        engine.schedule(conn, DEADLINE, resource_id=disk_id, account_id=disk.account_id,
                        region=disk.region, due_at=due_at + grace)
        return
    if ds.is_busy(disk) or disk.disk_state == ds.PROVISIONING:
        engine.schedule(conn, DEADLINE, resource_id=disk_id, account_id=disk.account_id,
                        region=disk.region, due_at=due_at + BUSY_RETRY)
        return
    attachments.release_disk(conn, disk_id)
    ds.move(conn, [disk_id], {ds.UNATTACHED}, disk_state=ds.TORECYCLE)
    engine.schedule(conn, RECYCLE, resource_id=disk_id, account_id=disk.account_id,
                    region=disk.region,
                    due_at=due_at + ctx.topology.limits.recycle_retention_days * DAY)


def _renewed_automatically(ctx: Context, disk) -> bool:
    """AutoRenewPeriod more months, if the account may and can pay for them now."""
    if disk.auto_renew_period not in ds.PREPAID_PERIODS:  # (an imported state's nonsense)
        return False
    quote = quote_term(ctx, disk, disk.auto_renew_period)
    savepoint = ctx.conn.begin_nested()
    try:
        ledger.check_may_pay(ctx)
        ledger.pay(ctx, ledger.Charge(ledger.RENEWAL, quote.fen, [disk.disk_id],
                                      "automatic renewal of " + _months(disk.disk_id,
                                                                        disk.auto_renew_period)))
    except ApiError:
        savepoint.rollback()
        return False
    savepoint.commit()
    deadline = add_months(disk.deadline_at, disk.auto_renew_period)
    ctx.conn.execute(update(disks).where(disks.c.disk_id == disk.disk_id).values(
        deadline_at=deadline, paid_fen=disks.c.paid_fen + quote.fen))
    watch_deadline(ctx.conn, disk.disk_id, disk.account_id, disk.region, deadline)
    return True


# --- refunds (TerminateDisks) ---------------------------------------------------------------------
def plan_refunds(ctx: Context, returned: list) -> list[tuple[object, bool]]:
    """Each returned disk, and whether it is a five-day return refunded in full (while the
    account has those left: [billing] five_day_returns, ever); the others count against the
    regular returns of the last 365 days ([billing] refunds_per_year) — InsufficientRefundQuota
    past them."""
    billing = ctx.topology.billing
    whole_left = billing.five_day_returns - _refunds(ctx, ledger.FIVE_DAY_REFUND)
    planned = []
    for disk in returned:
        whole = whole_left > 0 and within_five_days(disk.term_started_at, ctx.now)
        whole_left -= whole
        planned.append((disk, whole))
    used = _refunds(ctx, ledger.REFUND, since=ctx.now - YEAR)
    regular = sum(not whole for _disk, whole in planned)
    if used + regular > billing.refunds_per_year:
        raise msg.REFUND_QUOTA_USED(used=used, quota=billing.refunds_per_year)
    return planned


def _refunds(ctx: Context, kind: str, since: float | None = None) -> int:
    query = select(func.count()).select_from(ledger_table).where(
        ledger_table.c.account_id == ctx.account_id, ledger_table.c.kind == kind)
    if since is not None:
        query = query.where(ledger_table.c.at > since)
    return ctx.conn.execute(query).scalar_one()


def refund(ctx: Context, disk, whole: bool) -> None:
    """Pay back the disk's term (billing/refunds.py): one ledger entry."""
    amount = refund_fen(paid=disk.paid_fen, term_started_at=disk.term_started_at,
                        deadline_at=disk.deadline_at, now=ctx.now, whole=whole)
    kind = ledger.FIVE_DAY_REFUND if whole else ledger.REFUND
    ledger.credit(ctx.conn, ctx.account_id, ctx.now,
                  ledger.Charge(kind, amount, [disk.disk_id], f"return of {disk.disk_id}"),
                  action=ctx.action, region=ctx.region)
    ctx.conn.execute(update(disks).where(disks.c.disk_id == disk.disk_id).values(paid_fen=0))
