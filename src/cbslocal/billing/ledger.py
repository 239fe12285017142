"""Money: each account's balance (an integer of fen, negative in arrears), who may pay, and the
ledger that records every change of a balance, with the order (deal) that made it.

A change is one UPDATE of the balance — a payment only `WHERE balance >= amount` — then its
ledger row, in the caller's transaction. The condition is checked by the statement that spends:
two processes paying from one account at once can never both spend the same fen (the database
serialises UPDATEs of a row), and a call that fails after paying rolls its payment back with
everything else it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import orjson
from sqlalchemy import bindparam, insert, select, update

from cbslocal import ids
from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.api.errors import ApiError
from cbslocal.config_schema import MAX_BALANCE
from cbslocal.engine.clock import CHINA_TZ, format_time
from cbslocal.iam import accounts as iam_accounts
from cbslocal.iam.model import Credentials
from cbslocal.store.prepared import Prepared
from cbslocal.store.tables import accounts, api_keys, ledger

# What a ledger entry records.
PURCHASE, RENEWAL, UPGRADE, REFUND, USAGE = "PURCHASE", "RENEWAL", "UPGRADE", "REFUND", "USAGE"
FIVE_DAY_REFUND = "FIVE_DAY_REFUND"  # a return "no questions asked", refunded in full
CONVERSION_REFUND = "CONVERSION_REFUND"  # a prepaid disk turned postpaid: what is left of its term
OPENING, TOP_UP, ADJUSTMENT = "OPENING", "TOP_UP", "ADJUSTMENT"
MAX_BALANCE_FEN = int(MAX_BALANCE) * 100  # far inside a 64-bit integer, whatever is added to it


def yuan(fen: int) -> str:
    """Fen as CNY to the fen, exactly: 12345 → "123.45", -5 → "-0.05"."""
    return f"{Decimal(fen).scaleb(-2):.2f}"


@dataclass(frozen=True)
class Charge:
    """What one order costs, and what the ledger says of it."""
    kind: str
    fen: int
    resource_ids: list[str]
    description: str


# --- who may pay, and whether they can ------------------------------------------------------------
def check_may_pay(ctx: Context) -> None:
    """UnauthorizedOperation when the account, or the key that signed the call, has no payment
    permission."""
    account = ctx.conn.execute(select(accounts.c.payment_allowed).where(
        accounts.c.account_id == ctx.account_id)).first()
    if account is not None and not account.payment_allowed:
        raise msg.PAYMENT_NOT_ALLOWED_ACCOUNT(account_id=ctx.account_id)
    key = ctx.conn.execute(select(api_keys.c.payment_allowed).where(
        api_keys.c.secret_id == ctx.secret_id)).first()
    if key is not None and not key.payment_allowed:
        raise msg.PAYMENT_NOT_ALLOWED_KEY(secret_id=ctx.secret_id)


# (compiled once: every purchase asks it)
_BALANCE = Prepared(select(accounts.c.balance).where(accounts.c.account_id == bindparam("account")))


def balance_of(conn, account_id: str) -> int:
    return _BALANCE.scalar(conn, account=account_id)


def check_affordable(ctx: Context, fen: int) -> None:
    """InvalidAccount.InsufficientBalance when the balance does not cover `fen` (the check in its
    place of a validation order; `pay` checks again as it spends)."""
    balance = balance_of(ctx.conn, ctx.account_id)
    if balance < fen:
        raise msg.BALANCE_INSUFFICIENT(balance=yuan(balance), price=yuan(fen))


def check_not_in_arrears(ctx: Context) -> None:
    refusal = arrears_refusal(ctx)
    if refusal is not None:
        raise refusal


def arrears_refusal(ctx: Context) -> ApiError | None:
    """InvalidAccount.InsufficientBalance when the account owes money: actions that start more
    billed usage (snapshots, policies that make them) refuse to (cbs-behavior.md §7)."""
    balance = balance_of(ctx.conn, ctx.account_id)
    return msg.ACCOUNT_IN_ARREARS(balance=yuan(balance)) if balance < 0 else None


# --- changing a balance ---------------------------------------------------------------------------
def pay(ctx: Context, charge: Charge) -> str:
    """Take `charge.fen` from the caller's balance, or refuse with InsufficientBalance and take
    nothing; the order's deal name."""
    row = ctx.conn.execute(
        update(accounts).where(accounts.c.account_id == ctx.account_id,
                               accounts.c.balance >= charge.fen)
        .values(balance=accounts.c.balance - charge.fen).returning(accounts.c.balance)).first()
    if row is None:
        raise msg.BALANCE_INSUFFICIENT(balance=yuan(balance_of(ctx.conn, ctx.account_id)),
                                       price=yuan(charge.fen))
    return _record(ctx.conn, ctx.account_id, ctx.now, -charge.fen, row.balance, charge,
                   action=ctx.action, region=ctx.region)


def credit(conn, account_id: str, now: float, charge: Charge, *, action: str,
           region: str = "") -> str:
    """Give `charge.fen` back to the account (a refund); the order's deal name."""
    new_balance = conn.execute(
        update(accounts).where(accounts.c.account_id == account_id)
        .values(balance=accounts.c.balance + charge.fen).returning(accounts.c.balance)).scalar_one()
    return _record(conn, account_id, now, charge.fen, new_balance, charge, action=action,
                   region=region)


def new_account(conn, now: float, fen: int, name: str = "") -> Credentials:
    """An account (iam) with its first key and its opening balance: `fen`, the configuration's
    [billing] initial_balance."""
    credentials = iam_accounts.create_account(conn, now, name)
    _open(conn, credentials.account_id, now, fen)
    return credentials


def ensure_default_account(conn, now: float, fen: int) -> None:
    """The default account, with its opening balance when it has to be created."""
    if iam_accounts.ensure_default_account(conn, now):
        _open(conn, iam_accounts.DEFAULT_ACCOUNT_ID, now, fen)


def _open(conn, account_id: str, now: float, fen: int) -> None:
    """A new account's first entry: from then on the ledger sums to the balance."""
    change_balance(conn, account_id, now, top_up=fen, kind=OPENING, note="opening balance")


def change_balance(conn, account_id: str, now: float, *, top_up: int | None = None,
                   balance: int | None = None, note: str = "", kind: str | None = None) -> int:
    """The operator's change (the control plane): add `top_up` fen, or set the balance to
    `balance` fen (negative: in arrears). Returns the new balance. ValueError when the balance
    would leave ±MAX_BALANCE_FEN (top-ups adding up past it)."""
    if top_up is not None:
        statement = update(accounts).values(balance=accounts.c.balance + top_up)
        kind = kind or TOP_UP
    else:
        statement, kind = update(accounts).values(balance=balance), kind or ADJUSTMENT
    # Locked as read (PostgreSQL): the entry's amount is the change this statement made.
    old = conn.execute(select(accounts.c.balance).where(accounts.c.account_id == account_id)
                       .with_for_update()).scalar_one()
    if abs(old + top_up if top_up is not None else balance) >= MAX_BALANCE_FEN:
        raise ValueError(f"the balance would leave ±{yuan(MAX_BALANCE_FEN)} CNY")
    new = conn.execute(statement.where(accounts.c.account_id == account_id)
                       .returning(accounts.c.balance)).scalar_one()
    if new != old:
        _record(conn, account_id, now, new - old, new, Charge(kind, abs(new - old), [], note),
                action="", region="", order=False)
    return new


def charge_usage(conn, account_id: str, hours: list[tuple[float, int, str]]) -> None:
    """Hours of pay-as-you-go usage (billing/usage.py), each (its end, fen, description) and an
    entry of its own: taken whatever the balance — an account runs into arrears rather than its
    resources stopping at once."""
    hours = [hour for hour in hours if hour[1] > 0]
    if not hours:
        return
    total = sum(fen for _end, fen, _text in hours)
    balance = conn.execute(
        update(accounts).where(accounts.c.account_id == account_id)
        .values(balance=accounts.c.balance - total).returning(accounts.c.balance)).scalar_one()
    balance += total
    rows = []
    for end, fen, description in hours:
        balance -= fen
        rows.append(dict(account_id=account_id, at=end, kind=USAGE, amount=-fen,
                         balance_after=balance, deal_name=_deal(end), action="", region="",
                         resource_ids="[]", description=description))
    conn.execute(insert(ledger), rows)


def set_payment_allowed(conn, account_id: str, allowed: bool) -> None:
    conn.execute(update(accounts).where(accounts.c.account_id == account_id)
                 .values(payment_allowed=allowed))


def _record(conn, account_id: str, now: float, amount: int, balance_after: int, charge: Charge,
            *, action: str, region: str, order: bool = True) -> str:
    """The ledger entry of a change; `order`: the change is an order of the caller's, with a
    deal name (the operator's changes are not)."""
    deal = _deal(now) if order else ""
    conn.execute(insert(ledger).values(
        account_id=account_id, at=now, kind=charge.kind, amount=amount,
        balance_after=balance_after, deal_name=deal, action=action, region=region,
        resource_ids=orjson.dumps(charge.resource_ids).decode(), description=charge.description))
    return deal


def _deal(now: float) -> str:
    return ids.deal_name(datetime.fromtimestamp(now, CHINA_TZ).strftime("%Y%m%d"))


# --- reading --------------------------------------------------------------------------------------
def money_of(conn, account_id: str) -> dict | None:
    """The account's balance and payment permission as the control plane shows them; None if
    there is no such account."""
    row = conn.execute(select(accounts.c.balance, accounts.c.payment_allowed).where(
        accounts.c.account_id == account_id)).first()
    if row is None:
        return None
    return {"AccountId": account_id, "Balance": yuan(row.balance), "BalanceFen": row.balance,
            "InArrears": row.balance < 0, "PaymentAllowed": bool(row.payment_allowed)}


def entries(conn, account_id: str, *, after: int = 0, limit: int = 100) -> list[dict]:
    """The account's ledger from the entry after `after`, oldest first."""
    rows = conn.execute(select(ledger).where(ledger.c.account_id == account_id,
                                             ledger.c.id > after)
                        .order_by(ledger.c.id).limit(limit)).all()
    return [{"Id": r.id, "Time": format_time(r.at), "Kind": r.kind, "Amount": yuan(r.amount),
             "AmountFen": r.amount, "BalanceAfter": yuan(r.balance_after),
             "BalanceAfterFen": r.balance_after, "DealName": r.deal_name, "Action": r.action,
             "Region": r.region, "ResourceIds": orjson.loads(r.resource_ids),
             "Description": r.description} for r in rows]
