"""Ownership: every query on a resource table is scoped to one account and one region here."""

from __future__ import annotations

from sqlalchemy import Table, and_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class unindexed(ColumnElement):
    """A column that SQLite must not use an index for (`+column`, its documented way to say so);
    the plain column elsewhere. For queries that another, far more selective condition should
    drive: without statistics SQLite would rather walk the (account, region) index in order."""
    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column):
        self.column = column
        self.type = column.type


@compiles(unindexed)
def _plain(element, compiler, **kw):
    return compiler.process(element.column, **kw)


@compiles(unindexed, "sqlite")
def _unary_plus(element, compiler, **kw):
    return "+" + compiler.process(element.column, **kw)


def owned_by(table: Table, account_id, region, *, indexed: bool = True) -> ColumnElement:
    """account_id and region: values, or bind parameters of a compiled statement. `indexed=False`
    when another condition of the query should choose the index."""
    account, where = table.c.account_id, table.c.region
    if not indexed:
        account, where = unindexed(account), unindexed(where)
    return and_(account == account_id, where == region)
