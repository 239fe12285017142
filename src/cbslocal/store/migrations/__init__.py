"""Alembic migrations, driven from code (no alembic.ini): `Store.migrate()` runs them at start-up.

HEAD_REVISION lets start-up skip loading Alembic when the database is already current.
"""

from __future__ import annotations

from pathlib import Path

HEAD_REVISION = "0008"

_HERE = Path(__file__).resolve().parent


def alembic_config(engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.attributes["engine"] = engine
    return config


def begin_schema_change(conn) -> None:
    """On SQLite, make the whole schema change one transaction. The store's connections leave
    transactions to their caller (the driver's isolation_level is None) and the driver never
    begins one before DDL by itself: without this, every CREATE and ALTER commits, and syncs, on
    its own — a fresh database took 50 commits, and a crash midway left a half-built schema
    with no revision recorded. (PostgreSQL's DDL is transactional already.)"""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_fresh(engine) -> None:
    """A new, empty database: create the head schema at once and record it as migrated.

    Equivalent to running every migration (tests/unit/test_migrations.py holds them equal), but
    without loading Alembic. On SQLite, the statements come ready from SQLITE_HEAD instead of
    being compiled from the tables (a quarter of a fresh start's database work)."""
    with engine.begin() as conn:
        begin_schema_change(conn)
        if conn.dialect.name == "sqlite":
            for statement in sqlite_head_statements():
                conn.exec_driver_sql(statement)
        else:
            _create_from_tables(conn)
        conn.exec_driver_sql(f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD_REVISION}')")


def _create_from_tables(conn) -> None:
    from sqlalchemy import Column, MetaData, String, Table

    from cbslocal.store import census, row_versions  # noqa: F401  (their triggers come with the tables)
    from cbslocal.store.tables import metadata

    metadata.create_all(conn, checkfirst=False)  # (migrate() found no table)
    Table("alembic_version", MetaData(),
          Column("version_num", String(32), primary_key=True)).create(conn)


# The head schema's SQLite statements, in order, as SQLite keeps them: written by
# `python -m cbslocal.store.migrations` from the tables (tables.py, the triggers), and held equal
# to them by tests/unit/test_migrations.py.
SQLITE_HEAD = _HERE / "sqlite_head.json"


def sqlite_head_statements() -> list[str]:
    import json

    head = json.loads(SQLITE_HEAD.read_text())
    if head["revision"] != HEAD_REVISION:  # a new revision without its statements: never serve it
        raise RuntimeError(f"{SQLITE_HEAD.name} is of revision {head['revision']}, not "
                           f"{HEAD_REVISION}: run `python -m cbslocal.store.migrations`")
    return head["statements"]


def compiled_sqlite_head() -> dict:
    """The head schema's statements compiled from the tables, in an in-memory SQLite database."""
    from sqlalchemy import create_engine, text

    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        _create_from_tables(conn)
        statements = conn.execute(text(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")).scalars().all()
    engine.dispose()
    return {"revision": HEAD_REVISION, "statements": statements}


def upgrade_to_head(engine) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
