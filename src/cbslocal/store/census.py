"""The triggers that keep the census tables equal to GROUP BYs, on every insert, update and
delete, whichever code path (or process) makes it: the counts can never drift. And the one that
copies a disk's creation order onto its tags (disk_tags.created_at, disk_seq) as they are written.

- `disk_census`: disks per combination of CENSUS_COLUMNS;
- `disk_tag_census`: disks per (tag key, tag value, disk state). A disk has at most one value per
  key, so a `tag:<key>` filter's count is a SUM over its values;
- `snapshot_census`: snapshots per combination of SNAPSHOT_CENSUS_COLUMNS.
"""

from __future__ import annotations

from sqlalchemy import event

from cbslocal.store.tables import CENSUS_COLUMNS, SNAPSHOT_CENSUS_COLUMNS, metadata

_DISK_KEY = ("account_id", "region", *CENSUS_COLUMNS)
_SNAPSHOT_KEY = ("account_id", "region", *SNAPSHOT_CENSUS_COLUMNS)
_TAG_KEY = ("account_id", "region", "tag_key", "tag_value", "disk_state")


def _add(table: str, key: tuple, source: str) -> str:
    """Add 1 to the census row of each row that `source` (a SELECT of the `key` columns) yields."""
    columns = ", ".join(key)
    # `WHERE true` tells SQLite's parser that ON CONFLICT belongs to the INSERT.
    return (f"INSERT INTO {table} ({columns}, n) SELECT s.*, 1 FROM ({source}) AS s WHERE true "
            f"ON CONFLICT ({columns}) DO UPDATE SET n = {table}.n + 1;")


def _remove(table: str, key: tuple, source: str) -> str:
    return f"UPDATE {table} SET n = n - 1 WHERE ({', '.join(key)}) IN ({source});"


def _row(row: str, key: tuple) -> str:
    return "SELECT " + ", ".join(f"{row}.{c}" for c in key)


def _disk_of_tag(row: str) -> str:
    return (f"SELECT {row}.account_id, {row}.region, {row}.tag_key, {row}.tag_value, disk_state "
            f"FROM disks WHERE disk_id = {row}.disk_id")


def _tags_of_disk(row: str) -> str:
    return (f"SELECT account_id, region, tag_key, tag_value, {row}.disk_state "
            f"FROM disk_tags WHERE disk_id = {row}.disk_id")


# (name, timing, event, body statements): the same for both databases.
_TRIGGERS = [
    ("disks_census_insert", "AFTER", "INSERT ON disks",
     [_add("disk_census", _DISK_KEY, _row("NEW", _DISK_KEY))]),
    ("disks_census_delete", "AFTER", "DELETE ON disks",
     [_remove("disk_census", _DISK_KEY, (_row("OLD", _DISK_KEY)))]),
    ("disks_census_update", "AFTER", f"UPDATE OF {', '.join(_DISK_KEY)} ON disks",
     [_remove("disk_census", _DISK_KEY, (_row("OLD", _DISK_KEY))),
      _add("disk_census", _DISK_KEY, _row("NEW", _DISK_KEY))]),
    ("disk_tags_census_insert", "AFTER", "INSERT ON disk_tags",
     [_add("disk_tag_census", _TAG_KEY, _disk_of_tag("NEW"))]),
    ("disk_tags_census_delete", "AFTER", "DELETE ON disk_tags",
     [_remove("disk_tag_census", _TAG_KEY, (_disk_of_tag("OLD")))]),
    # A disk's tags go first, while the disk still tells its state.
    ("disks_drop_tags", "BEFORE", "DELETE ON disks",
     ["DELETE FROM disk_tags WHERE disk_id = OLD.disk_id;"]),
    ("disks_tag_census_state", "AFTER", "UPDATE OF disk_state ON disks",
     [_remove("disk_tag_census", _TAG_KEY, (_tags_of_disk("OLD"))),
      _add("disk_tag_census", _TAG_KEY, _tags_of_disk("NEW"))]),
    ("disk_tags_order", "AFTER", "INSERT ON disk_tags",
     ["UPDATE disk_tags SET created_at = (SELECT created_at FROM disks WHERE disk_id = NEW.disk_id), "
      "disk_seq = (SELECT seq FROM disks WHERE disk_id = NEW.disk_id) "
      "WHERE disk_id = NEW.disk_id AND tag_key = NEW.tag_key;"]),
    ("snapshots_census_insert", "AFTER", "INSERT ON snapshots",
     [_add("snapshot_census", _SNAPSHOT_KEY, _row("NEW", _SNAPSHOT_KEY))]),
    ("snapshots_census_delete", "AFTER", "DELETE ON snapshots",
     [_remove("snapshot_census", _SNAPSHOT_KEY, _row("OLD", _SNAPSHOT_KEY))]),
    ("snapshots_census_update", "AFTER", f"UPDATE OF {', '.join(_SNAPSHOT_KEY)} ON snapshots",
     [_remove("snapshot_census", _SNAPSHOT_KEY, _row("OLD", _SNAPSHOT_KEY)),
      _add("snapshot_census", _SNAPSHOT_KEY, _row("NEW", _SNAPSHOT_KEY))]),
]


def _chosen(names) -> list:
    return [t for t in _TRIGGERS if names is None or t[0] in names]


def sqlite_ddl(names=None) -> list[str]:
    return [f"CREATE TRIGGER {name} {timing} {on} BEGIN {' '.join(body)} END"
            for name, timing, on, body in _chosen(names)]


def postgresql_ddl(names=None) -> list[str]:
    statements = []
    for name, timing, on, body in _chosen(names):
        returned = "OLD" if timing == "BEFORE" else "NULL"
        statements += [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{' '.join(body)} RETURN {returned}; END $$",
            f"CREATE TRIGGER {name} {timing} {on} FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    return statements


def trigger_names() -> list[str]:
    return [name for name, *_ in _TRIGGERS]


def create_triggers(connection, names=None) -> None:
    """Every trigger, or those `names` (a migration adds its own)."""
    statements = sqlite_ddl(names) if connection.dialect.name == "sqlite" else postgresql_ddl(names)
    for statement in statements:
        connection.exec_driver_sql(statement)


# metadata.create_all (a fresh database) creates them after the tables.
event.listen(metadata, "after_create", lambda target, connection, **kw: create_triggers(connection))
