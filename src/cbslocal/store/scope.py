"""Ownership: every query on a resource table is scoped to one account and one region here."""

from __future__ import annotations

from sqlalchemy import Table, and_
from sqlalchemy.sql.elements import ColumnElement


def owned_by(table: Table, account_id, region) -> ColumnElement:
    """account_id and region: values, or bind parameters of a compiled statement."""
    return and_(table.c.account_id == account_id, table.c.region == region)
