"""Statements compiled once (store/prepared.py): inserts of whole rows, statements by shape."""

from __future__ import annotations

import pytest
from sqlalchemy import (Boolean, Column, Integer, MetaData, String, Table, bindparam,
                        create_engine, select, update)

from cbslocal.store.prepared import PreparedInsert, in_list, listed, shaped

metadata = MetaData()
things = Table("things", metadata,
               Column("seq", Integer, primary_key=True, autoincrement=True),
               Column("name", String(16), nullable=False),
               Column("colour", String(16), nullable=False, default="grey"),
               Column("note", String(16), nullable=True),
               Column("shiny", Boolean, nullable=False, default=False))


@pytest.fixture
def conn():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection


def test_rows_take_their_columns_defaults(conn):
    PreparedInsert(things).run(conn, [{"name": "a"}, {"name": "b", "colour": "red", "shiny": True}])
    rows = conn.execute(select(things).order_by(things.c.seq)).all()
    assert [(r.seq, r.name, r.colour, r.note, r.shiny) for r in rows] == [
        (1, "a", "grey", None, False), (2, "b", "red", None, True)]


def test_a_row_without_a_required_column_or_with_an_unknown_one_is_refused(conn):
    inserting = PreparedInsert(things)
    with pytest.raises(KeyError):
        inserting.run(conn, [{"colour": "red"}])  # no name, and no default for it
    with pytest.raises(KeyError):
        inserting.run(conn, [{"name": "a", "size": 3}])
    assert conn.execute(select(things)).all() == []


def test_a_statement_by_shape_binds_its_lists_and_counts_its_rows(conn):
    PreparedInsert(things).run(conn, [{"name": n} for n in "abc"])

    def paint(names):
        return shaped(("test.paint", len(names)), lambda: update(things).where(
            in_list(things.c.name, len(names))).values(colour=bindparam("colour"))).run(
            conn, colour="blue", **listed(names))
    assert paint(["a", "c"]) == 2
    assert paint(["b"]) == 1
    assert shaped(("test.paint", 2), lambda: None) is shaped(("test.paint", 2), lambda: None)
    assert dict(conn.execute(select(things.c.name, things.c.colour)).all()) == {
        "a": "blue", "b": "blue", "c": "blue"}
