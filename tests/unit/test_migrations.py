"""The Alembic migrations and the fast path for a fresh database build the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from cbslocal.store.db import Store
from cbslocal.store.migrations import HEAD_REVISION, create_fresh, upgrade_to_head
from cbslocal.store.tables import metadata


def schema(engine) -> dict:
    found = inspect(engine)
    with engine.connect() as conn:
        triggers = sorted(conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all())
    assert triggers, "the census triggers are missing"
    return {"(triggers)": triggers} | {table: (sorted((c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)),
                    sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                           for i in found.get_indexes(table)))
            for table in found.get_table_names()}


def test_migrations_match_the_tables(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    upgrade_to_head(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION


def test_fresh_creation_equals_migrating(tmp_path):
    migrated = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    upgrade_to_head(migrated)
    fresh = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    create_fresh(fresh)
    assert schema(fresh) == schema(migrated)


def test_store_migrate_is_idempotent(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    store.migrate()
    with store.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    store.dispose()
