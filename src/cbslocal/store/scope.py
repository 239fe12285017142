"""Ownership: every query on a resource table is scoped to one account and one region here."""

from __future__ import annotations

from sqlalchemy import Table, and_
from sqlalchemy.sql.elements import ColumnElement


def owned_by(table: Table, account_id: str, region: str) -> ColumnElement:
    return and_(table.c.account_id == account_id, table.c.region == region)
