"""Fault injection: rules the operator sets (control plane) that answer matching API calls with an
error code, a delay or a closed connection — before anything changes (cbs-behavior.md §7.3).

The rules live in the store. This process keeps a copy to match against without a query per
call: exact on SQLite (only this process changes them), re-read by the engine loop on PostgreSQL.
A rule with a count fires through a compare-and-swap on its row, so N means N across processes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update

from cbslocal.api import errors
from cbslocal.api.errors import ApiError
from cbslocal.store.db import Store
from cbslocal.store.tables import fault_firings, fault_rules

MATCHERS = ("service", "action", "account_id", "region")


@dataclass
class Fault:
    """What a firing rule does to the call: wait, then fail with a code or close."""
    rule_id: int
    latency: float = 0.0
    error: ApiError | None = None
    close: bool = False


@dataclass
class _Rule:
    row: object
    draw: random.Random = field(default_factory=random.Random)

    def matches(self, service: str, action: str, account_id: str, region: str) -> bool:
        row = self.row
        return ((row.service is None or row.service == service)
                and (row.action is None or row.action == action)
                and (row.account_id is None or row.account_id == account_id)
                and (row.region is None or row.region == region))


def catalog_entry(code: str):
    """The catalog entry of any code a fault may answer with (seed or CVM), or None."""
    return errors.all_codes().get(code) or errors.cvm_codes().get(code)


class FaultInjector:
    def __init__(self, store: Store):
        self.store = store
        self._rules: list[_Rule] | None = None  # None: read them at the next call

    def reload(self) -> None:
        with self.store.read() as conn:
            rows = conn.execute(select(fault_rules).order_by(fault_rules.c.id)).all()
        self._rules = [_Rule(row, random.Random(row.seed)) for row in rows]

    def forget(self) -> None:
        self._rules = None

    def may_fire(self) -> bool:
        """False when there is no rule: the common case costs one attribute test per call."""
        return self._rules is None or bool(self._rules)

    def check(self, *, service: str, action: str, account_id: str, region: str, request_id: str,
              now: float) -> Fault | None:
        """The fault of the first rule that matches and fires, recorded; None if none does."""
        if self._rules is None:
            self.reload()
        for rule in self._rules:
            if not rule.matches(service, action, account_id, region):
                continue
            row = rule.row
            if row.probability is not None and rule.draw.random() >= row.probability:
                continue
            if not self._fire(row, request_id, service, action, account_id, region, now):
                continue
            return _fault_of(row)
        return None

    def _fire(self, row, request_id: str, service: str, action: str, account_id: str,
              region: str, now: float) -> bool:
        with self.store.write() as conn:
            condition = [fault_rules.c.id == row.id]
            values = {"fired": fault_rules.c.fired + 1}
            if row.remaining is not None:
                condition.append(fault_rules.c.remaining > 0)
                values["remaining"] = fault_rules.c.remaining - 1
            if conn.execute(update(fault_rules).where(*condition).values(**values)).rowcount == 0:
                self.forget()  # used up (here or by another process)
                return False
            conn.execute(insert(fault_firings).values(
                rule_id=row.id, at=now, request_id=request_id, service=service,
                action=action[:64], account_id=account_id, region=region[:64],
                effect=_describe(row)))
        if row.remaining is not None:
            self.forget()
        return True


def _fault_of(row) -> Fault:
    error = None
    if row.code is not None:
        error = ApiError(catalog_entry(row.code), message=row.message)
        error.injected = True  # told apart in the metrics: not the emulator's own answer
    return Fault(rule_id=row.id, latency=row.latency or 0.0, error=error, close=bool(row.close))


def _describe(row) -> str:
    parts = []
    if row.latency:
        parts.append(f"latency {row.latency:g}s")
    if row.code:
        parts.append(f"code {row.code}")
    if row.close:
        parts.append("close")
    return ", ".join(parts)[:160]


# --- what the control plane does with rules --------------------------------------------------------
def add_rule(conn, now: float, **values) -> dict:
    rule_id = conn.execute(insert(fault_rules).values(fired=0, created_at=now, **values)
                           ).inserted_primary_key[0]
    return rule_json(conn.execute(select(fault_rules).where(fault_rules.c.id == rule_id)).one())


def list_rules(conn) -> list[dict]:
    return [rule_json(r) for r in conn.execute(select(fault_rules).order_by(fault_rules.c.id))]


def delete_rules(conn, rule_id: int | None = None) -> int:
    statement = delete(fault_rules)
    if rule_id is not None:
        statement = statement.where(fault_rules.c.id == rule_id)
    return conn.execute(statement).rowcount


def clear_firings(conn) -> None:
    conn.execute(delete(fault_firings))


def firings(conn, limit: int) -> list[dict]:
    rows = conn.execute(select(fault_firings).order_by(fault_firings.c.id.desc()).limit(limit)).all()
    return [{"rule": r.rule_id, "at": r.at, "request_id": r.request_id, "service": r.service,
             "action": r.action, "account": r.account_id, "region": r.region, "effect": r.effect}
            for r in reversed(rows)]


def rule_json(row) -> dict:
    return {"id": row.id, "service": row.service, "action": row.action, "account": row.account_id,
            "region": row.region, "code": row.code, "message": row.message,
            "latency": row.latency, "close": bool(row.close), "remaining": row.remaining,
            "probability": row.probability, "seed": row.seed, "fired": row.fired}
