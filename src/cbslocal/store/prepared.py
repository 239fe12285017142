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

from sqlalchemy import (BigInteger, Connection, Table, bindparam, cast, delete, func, insert,
                        select)
from sqlalchemy.sql import ClauseElement

from cbslocal import ids


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

    def _cursor(self, conn: Connection, params: dict[str, Any], compiled: tuple | None = None):
        sql, positions, _, defaults = compiled or self._compiled(conn)
        if defaults:
            params = {**defaults, **params}
        args = tuple([params[name] for name in positions]) if positions is not None else params
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute(sql, args)
        return cursor

    def rows(self, conn: Connection, **params: Any) -> list:
        compiled = self._compiled(conn)
        cursor = self._cursor(conn, params, compiled)
        try:
            return list(map(compiled[2]._make, cursor.fetchall()))
        finally:
            cursor.close()

    def first(self, conn: Connection, **params: Any):
        rows = self.rows(conn, **params)
        return rows[0] if rows else None

    def run(self, conn: Connection, **params: Any) -> int:
        """Execute a write; the number of rows it changed."""
        cursor = self._cursor(conn, params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()

    def run_many(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Execute a write once per set of parameters (one executemany)."""
        if not rows:
            return
        sql, positions, _, defaults = self._compiled(conn)
        if defaults:
            rows = [{**defaults, **row} for row in rows]
        args = [tuple([row[name] for name in positions]) for row in rows] \
            if positions is not None else rows
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.executemany(sql, args)
        finally:
            cursor.close()

    def scalar(self, conn: Connection, **params: Any):
        cursor = self._cursor(conn, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return row[0] if row else None


_SHAPES: dict[Any, Prepared] = {}
_MAX_SHAPES = 4096


def shaped(key: Any, build) -> Prepared:
    """The Prepared of a statement whose SQL depends on `key` (how many IDs an IN lists, which
    columns an UPDATE sets), built by `build()` the first time a shape is seen."""
    found = _SHAPES.get(key)
    if found is None:
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        found = _SHAPES[key] = Prepared(build())
    return found


def in_list(column, count: int, name: str = "id"):
    """`column IN (:id0, :id1, …)`, for a shape of `count` values (`listed(values)` binds them);
    at least one (an empty IN has no compiled form)."""
    if count < 1:
        raise ValueError("an IN list of no values")
    return column.in_([bindparam(f"{name}{i}") for i in range(count)])


def listed(values, name: str = "id") -> dict[str, Any]:
    return {f"{name}{i}": value for i, value in enumerate(values)}


def existing(conn: Connection, column, values: list) -> list:
    """Those of `values` that `column` already holds (e.g. the IDs a new resource must not
    take)."""
    if not values:
        return []
    query = shaped(("existing", column.table.name, column.name, len(values)),
                   lambda: select(column).where(in_list(column, len(values))))
    return [row[0] for row in query.rows(conn, **listed(values))]


def new_ids(conn: Connection, prefix: str, column, count: int) -> list[str]:
    """`count` new resource IDs (ids.resource_id) that `column` does not hold yet."""
    return ids.unique_ids(prefix, count, lambda candidates: existing(conn, column, list(candidates)))


def delete_where_in(conn: Connection, column, values: list) -> int:
    """DELETE the rows whose `column` is one of `values`; how many went."""
    if not values:
        return 0
    query = shaped(("delete_in", column.table.name, column.name, len(values)),
                   lambda: delete(column.table).where(in_list(column, len(values))))
    return query.run(conn, **listed(values))


class PreparedInsert:
    """INSERT of whole rows into `table`, compiled once per dialect and run as one executemany
    on the driver's cursor: each row names its columns, and those it leaves out take their
    column's default (a constant: `Column(default=…)`), or NULL where the column takes it; columns
    the database derives itself (tables.DERIVED: row versions) are not written. The write path's bulk
    inserts (a CreateDisks of 50 disks) spent most of their time in SQLAlchemy's per-row
    machinery."""

    def __init__(self, table: Table):
        written = [c for c in table.columns if not _generated_key(c) and not c.info.get("derived")]
        self.columns = [c.name for c in written]
        self.defaults = {c.name: c.default.arg if c.default is not None else None
                         for c in written if (c.default is not None and c.default.is_scalar)
                         or c.nullable}
        self.prepared = Prepared(insert(table).values(
            {name: bindparam(name) for name in self.columns}))

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        sql, positions, _, _ = self.prepared._compiled(conn)
        names = positions if positions is not None else self.columns
        missing = [name for name in self.columns if name not in rows[0]]
        unknown = set(rows[0]) - set(self.columns)
        if unknown or any(name not in self.defaults for name in missing):
            raise KeyError(f"{sorted(unknown)} not columns, or {missing} without a default")
        defaults = self.defaults
        args = [tuple(row[name] if name in row else defaults[name] for name in names)
                for row in rows]
        if positions is None:  # named parameters (PostgreSQL's pyformat)
            args = [dict(zip(names, values)) for values in args]
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.executemany(sql, args)
        finally:
            cursor.close()


def _generated_key(column) -> bool:
    """An integer primary key the database numbers itself (`seq`)."""
    return column.primary_key and column.autoincrement is True


def sum_or_zero(column):
    """SUM(column), 0 over no rows, as a whole number on every database (PostgreSQL's SUM of a
    bigint is a numeric, which the driver gives as a Decimal)."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)
