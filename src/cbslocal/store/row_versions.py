"""Row versions: the database gives a row a new `version` whenever it is inserted or changed, by
triggers, whichever code path (or process, or hand-written SQL) makes the change. A copy of what
was rendered from a row (api/rendered.py) is used only while the row still has the version it
was rendered from, so it can never outlive the row's content.

- PostgreSQL: the version is the ID of the transaction that wrote the row (`txid_current()`):
  transactions of every process sharing the database have distinct IDs, so no two committed
  states of a row ever share a version.
- SQLite (one process per database): a random 64-bit number on insert — a row deleted and
  inserted again, as a state import does, does not take up the version its former self had —
  and the previous version plus one on every update.
"""

from __future__ import annotations

from sqlalchemy import event

from cbslocal.store.tables import metadata

VERSIONED = ("disks", "snapshots")


def sqlite_ddl(tables=VERSIONED) -> list[str]:
    statements = []
    for table in tables:
        statements += [
            f"CREATE TRIGGER {table}_version_insert AFTER INSERT ON {table} BEGIN "
            f"UPDATE {table} SET version = random() WHERE seq = NEW.seq; END",
            # WHEN: the trigger's own UPDATE (or one that sets the version) is left alone.
            f"CREATE TRIGGER {table}_version_update AFTER UPDATE ON {table} "
            f"WHEN NEW.version = OLD.version BEGIN "
            f"UPDATE {table} SET version = OLD.version + 1 WHERE seq = NEW.seq; END",
        ]
    return statements


def postgresql_ddl(tables=VERSIONED) -> list[str]:
    statements = ["CREATE FUNCTION row_version() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  "NEW.version := txid_current(); RETURN NEW; END $$"]
    for table in tables:
        statements.append(f"CREATE TRIGGER {table}_version BEFORE INSERT OR UPDATE ON {table} "
                          f"FOR EACH ROW EXECUTE FUNCTION row_version()")
    return statements


def create_triggers(connection, tables=VERSIONED) -> None:
    ddl = sqlite_ddl if connection.dialect.name == "sqlite" else postgresql_ddl
    for statement in ddl(tables):
        connection.exec_driver_sql(statement)


# metadata.create_all (a fresh database) creates them after the tables.
event.listen(metadata, "after_create", lambda target, connection, **kw: create_triggers(connection))
