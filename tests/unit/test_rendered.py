"""Objects serialised once per change (api/rendered.py) and the row versions they are checked
against (store/row_versions.py)."""

from __future__ import annotations

from collections import namedtuple

import orjson
import pytest
from sqlalchemy import text

from cbslocal.api.rendered import Rendered, StaleRendering, rendered_set
from cbslocal.store.db import Store

Row = namedtuple("Row", "object_id version name moving")


def render(row) -> dict:
    return {"Id": row.object_id, "Name": row.name}


def listing(cache, rows: dict, variant="en-US"):
    keys = [(row.object_id, row.version) for row in rows.values()]
    loads = []

    def load(object_ids):
        loads.append(list(object_ids))
        return {i: rows[i] for i in object_ids if i in rows}
    shown = rendered_set(cache, keys, variant, load, render, lambda row: not row.moving)
    return orjson.loads(orjson.dumps(shown)), loads


def test_a_kept_object_is_served_only_at_its_rows_version():
    cache = Rendered(verify=False)
    rows = {"a": Row("a", 1, "first", False), "b": Row("b", 7, "other", False)}
    assert listing(cache, rows) == ([{"Id": "a", "Name": "first"}, {"Id": "b", "Name": "other"}],
                                    [["a", "b"]])
    assert listing(cache, rows)[1] == []  # both kept: no row read
    rows["a"] = Row("a", 2, "second", False)
    assert listing(cache, rows) == ([{"Id": "a", "Name": "second"}, {"Id": "b", "Name": "other"}],
                                    [["a"]])
    assert listing(cache, rows, variant="zh-CN")[1] == [["a", "b"]]  # a variant of its own


def test_an_object_that_depends_on_the_time_is_never_kept():
    cache = Rendered(verify=False)
    rows = {"a": Row("a", 1, "moving", True)}
    listing(cache, rows)
    assert listing(cache, rows)[1] == [["a"]]
    assert len(cache) == 0


def test_a_row_gone_since_its_key_was_read_is_left_out():
    cache = Rendered(verify=False)
    keys = [("a", 1), ("b", 1)]
    shown = rendered_set(cache, keys, "", lambda ids: {"b": Row("b", 1, "x", False)}, render,
                         lambda row: True)
    assert orjson.loads(orjson.dumps(shown)) == [{"Id": "b", "Name": "x"}]
    assert rendered_set(cache, [], "", lambda ids: pytest.fail("no rows to read"), render,
                        lambda row: True) == []


def test_the_least_recently_used_go_first_past_the_byte_bound():
    one = len(orjson.dumps(render(Row("a", 1, "n", False))))
    cache = Rendered(max_bytes=2 * one, verify=False)
    rows = {i: Row(i, 1, "n", False) for i in "abc"}
    listing(cache, {"a": rows["a"], "b": rows["b"]})
    listing(cache, {"a": rows["a"]})  # a is used again: b is now the oldest
    listing(cache, {"c": rows["c"]})
    assert (cache.get(("a", "en-US"), 1) is not None, cache.get(("b", "en-US"), 1),
            cache.get(("c", "en-US"), 1) is not None) == (True, None, True)
    assert cache.size == 2 * one
    cache.put(("huge", ""), 1, b"x" * (3 * one))  # larger than the whole bound: not kept
    assert cache.get(("huge", ""), 1) is None and cache.size == 2 * one


def test_verification_fails_a_copy_whose_row_changed_under_the_same_version():
    cache = Rendered(verify=True)
    rows = {"a": Row("a", 1, "first", False)}
    listing(cache, rows)
    listing(cache, rows)  # verified: the same
    rows["a"] = Row("a", 1, "changed", False)  # a change the version did not see (a bug)
    with pytest.raises(StaleRendering):
        listing(cache, rows)
    assert listing(Rendered(verify=False), rows)[0] == [{"Id": "a", "Name": "changed"}]


def _versions(conn, table: str, key: str) -> dict:
    return dict(conn.execute(text(f"SELECT {key}, version FROM {table}")).all())


@pytest.mark.parametrize("table,key", [("disks", "disk_id"), ("snapshots", "snapshot_id")])
def test_the_database_gives_a_row_a_new_version_at_every_change(tmp_path, table, key):
    """Whoever writes the row, even hand-written SQL: an insert takes a version no former row of
    the same ID had, every update moves it on."""
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    columns = ", ".join(c.name for c in _table(table).columns if c.name not in ("seq", "version"))
    with store.write() as conn:
        conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES "
                          f"({', '.join(':' + c for c in columns.split(', '))})"),
                     [_row(table, key, "x-1"), _row(table, key, "x-2")])
        first = _versions(conn, table, key)
    assert len(set(first.values())) == 2
    seen = {first["x-1"]}
    for _ in range(3):
        with store.write() as conn:
            conn.execute(text(f"UPDATE {table} SET zone = zone WHERE {key} = 'x-1'"))
            version = _versions(conn, table, key)["x-1"]
        assert version not in seen
        seen.add(version)
    assert _versions_now(store, table, key)["x-2"] == first["x-2"]  # untouched: unchanged
    with store.write() as conn:  # gone, then back with the same content (a state import)
        conn.execute(text(f"DELETE FROM {table} WHERE {key} = 'x-1'"))
        conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES "
                          f"({', '.join(':' + c for c in columns.split(', '))})"),
                     [_row(table, key, "x-1")])
    assert _versions_now(store, table, key)["x-1"] not in seen
    store.dispose()


def _versions_now(store, table, key):
    with store.read() as conn:
        return _versions(conn, table, key)


def _table(name):
    from cbslocal.store import tables

    return getattr(tables, name)


def _row(table: str, key: str, object_id: str) -> dict:
    """A row of `table` with every column given (what each holds does not matter here)."""
    row = {}
    for column in _table(table).columns:
        if column.name in ("seq", "version"):
            continue
        kind = column.type.python_type
        row[column.name] = (object_id if column.name == key else
                            "[]" if kind is str and column.name in ("tags", "instance_ids", "images",
                                                                    "copying_to_regions")
                            else "" if kind is str else False if kind is bool else 0)
    return row


def test_a_kept_object_holds_about_its_own_size():
    """The byte bound means what it says: orjson's output keeps its whole write buffer (8 KiB for
    a 1 KiB object), so what is kept is a copy of the exact size."""
    import tracemalloc

    cache = Rendered(verify=False)
    rows = {f"d{i}": Row(f"d{i}", 1, "x" * 1000, False) for i in range(500)}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        listing(cache, rows)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(cache) == 500 and cache.size > 500 * 1000
    assert grown < 1.5 * cache.size, (grown, cache.size)
