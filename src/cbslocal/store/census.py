"""The triggers that keep `disk_census` equal to a GROUP BY over `disks`, on every insert,
update and delete, whichever code path (or process) makes it: the count can never drift."""

from __future__ import annotations

from sqlalchemy import event

from cbslocal.store.tables import CENSUS_COLUMNS, metadata

_KEY = ("account_id", "region", *CENSUS_COLUMNS)
_COLUMNS = ", ".join(_KEY)


def _values(row: str) -> str:
    return ", ".join(f"{row}.{c}" for c in _KEY)


def _match(row: str) -> str:
    return " AND ".join(f"{c} = {row}.{c}" for c in _KEY)


def _add(row: str) -> str:
    return (f"INSERT INTO disk_census ({_COLUMNS}, n) VALUES ({_values(row)}, 1) "
            f"ON CONFLICT ({_COLUMNS}) DO UPDATE SET n = disk_census.n + 1;")


def _remove(row: str) -> str:
    return f"UPDATE disk_census SET n = n - 1 WHERE {_match(row)};"


_WATCHED = ", ".join(_KEY)


def sqlite_ddl() -> list[str]:
    return [
        f"CREATE TRIGGER disks_census_insert AFTER INSERT ON disks BEGIN {_add('NEW')} END",
        f"CREATE TRIGGER disks_census_delete AFTER DELETE ON disks BEGIN {_remove('OLD')} END",
        f"CREATE TRIGGER disks_census_update AFTER UPDATE OF {_WATCHED} ON disks "
        f"BEGIN {_remove('OLD')} {_add('NEW')} END",
    ]


def postgresql_ddl() -> list[str]:
    return [
        "CREATE FUNCTION disks_census() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_remove('OLD')} END IF; "
        f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {_add('NEW')} END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER disks_census_insert_delete AFTER INSERT OR DELETE ON disks "
        "FOR EACH ROW EXECUTE FUNCTION disks_census()",
        f"CREATE TRIGGER disks_census_update AFTER UPDATE OF {_WATCHED} ON disks "
        "FOR EACH ROW EXECUTE FUNCTION disks_census()",
    ]


def create_triggers(connection) -> None:
    statements = sqlite_ddl() if connection.dialect.name == "sqlite" else postgresql_ddl()
    for statement in statements:
        connection.exec_driver_sql(statement)


# metadata.create_all (a fresh database) creates them after the tables.
event.listen(metadata, "after_create", lambda target, connection, **kw: create_triggers(connection))
