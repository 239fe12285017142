"""Alembic migrations, driven from code (no alembic.ini): `Store.migrate()` runs them at start-up.

HEAD_REVISION lets start-up skip loading Alembic when the database is already current.
"""

from __future__ import annotations

from pathlib import Path

HEAD_REVISION = "0007"

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
    without loading Alembic: start-up must answer its first request within half a second."""
    from sqlalchemy import Column, MetaData, String, Table

    from cbslocal.store.tables import metadata

    version = Table("alembic_version", MetaData(),
                    Column("version_num", String(32), primary_key=True))
    with engine.begin() as conn:
        begin_schema_change(conn)
        metadata.create_all(conn, checkfirst=False)  # (migrate() found no table)
        version.create(conn)
        conn.execute(version.insert().values(version_num=HEAD_REVISION))


def upgrade_to_head(engine) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
