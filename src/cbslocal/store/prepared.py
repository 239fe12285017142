"""Hot-path queries: written with SQLAlchemy Core (one schema, portable SQL), compiled once per
database dialect, and run straight on the driver's cursor.

SQLAlchemy's per-execute machinery costs tens of microseconds, several times the cost of an
indexed SQLite lookup; the request hot path (key lookup, due-transition check, DescribeDisks)
cannot afford it (bench/RESULTS.md). Statements use named `bindparam`s; rows come back as
named tuples.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from sqlalchemy import BigInteger, Connection, cast, func
from sqlalchemy.sql import ClauseElement


class Prepared:
    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._by_dialect: dict[str, tuple] = {}

    def _compiled(self, conn: Connection) -> tuple:
        dialect = conn.dialect
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            sql = self.statement.compile(dialect=dialect)
            names = [c[0] for c in getattr(sql, "_result_columns", ())] or None
            row_type = namedtuple("Row", names, rename=True) if names else None
            # Literal values in the statement (e.g. `.limit(1)`) become parameters with defaults.
            defaults = {name: value for name, value in sql.params.items() if value is not None}
            compiled = (str(sql), tuple(sql.positiontup) if sql.positional else None, row_type,
                        defaults)
            self._by_dialect[dialect.name] = compiled
        return compiled

    def _cursor(self, conn: Connection, params: dict[str, Any]):
        sql, positions, _, defaults = self._compiled(conn)
        if defaults:
            params = {**defaults, **params}
        args = tuple(params[name] for name in positions) if positions is not None else params
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute(sql, args)
        return cursor

    def rows(self, conn: Connection, **params: Any) -> list:
        row_type = self._compiled(conn)[2]
        cursor = self._cursor(conn, params)
        try:
            return [row_type._make(r) for r in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, conn: Connection, **params: Any):
        rows = self.rows(conn, **params)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, **params: Any):
        cursor = self._cursor(conn, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return row[0] if row else None


def sum_or_zero(column):
    """SUM(column), 0 over no rows, as a whole number on every database (PostgreSQL's SUM of a
    bigint is a numeric, which the driver gives as a Decimal)."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)
