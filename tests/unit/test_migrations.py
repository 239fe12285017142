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


def test_the_stored_sqlite_head_is_what_the_tables_compile_to():
    """A fresh SQLite database runs stored statements (start-up speed): they must be exactly
    what the tables and triggers compile to. After a change of the schema, write them again with
    `python -m cbslocal.store.migrations`."""
    import json

    from cbslocal.store.migrations import SQLITE_HEAD, compiled_sqlite_head

    stored, compiled = json.loads(SQLITE_HEAD.read_text()), compiled_sqlite_head()
    assert stored["revision"] == compiled["revision"]
    # (The order of a table's indexes varies from one process to the next.)
    assert sorted(stored["statements"]) == sorted(compiled["statements"])


def test_store_migrate_is_idempotent(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    store.migrate()
    with store.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    store.dispose()


def _insert_old_disk(conn, *, tags: str, created_at: float) -> None:
    """disk-aaaaaaaa, with only the columns every schema since 0001 has (the later ones take
    their defaults as the upgrade adds them)."""
    columns = ("disk_id, account_id, region, zone, project_id, disk_name, disk_type, disk_size, "
               "disk_usage, disk_state, charge_type, portable, shareable, encrypt, encrypt_type, "
               "kms_key_id, instance_id, instance_type, attach_mode, delete_with_instance, "
               "delete_snapshot, renew_flag, throughput_performance, burst_performance, "
               "disk_backup_quota, snapshot_ability, error_prompt, tags, created_at")
    conn.execute(text(
        f"INSERT INTO disks ({columns}) VALUES ('disk-aaaaaaaa', '1', 'ap-guangzhou', "
        "'ap-guangzhou-3', 0, 'old', 'CLOUD_PREMIUM', 50, 'DATA_DISK', 'UNATTACHED', "
        "'POSTPAID_BY_HOUR', 1, 0, 0, '', '', '', '', '', 0, 0, '', 0, 0, 0, 1, '', :tags, "
        ":created_at)"), {"tags": tags, "created_at": created_at})


def test_a_0001_data_dir_is_upgraded_with_its_disks(tmp_path):
    """A data dir written before instances existed keeps its disks, their census and triggers."""
    from alembic import command

    from cbslocal.store.migrations import alembic_config

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        _insert_old_disk(conn, tags="[]", created_at=1.0)
    upgrade_to_head(engine)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT instance_ids, recycle_reason, refunded_before, returnable, "
                                "migrate_to FROM disks WHERE disk_id = 'disk-aaaaaaaa'")).one()
        assert tuple(row) == ("[]", "", 0, 1, None)
        conn.execute(text("UPDATE disks SET disk_state = 'ATTACHED' WHERE disk_id = 'disk-aaaaaaaa'"))
        census = dict(conn.execute(text("SELECT disk_state, n FROM disk_census")).all())
    assert census == {"UNATTACHED": 0, "ATTACHED": 1}  # the triggers survived the upgrade


def test_a_0004_data_dir_is_upgraded_with_its_clock_and_resources(tmp_path):
    """The previous release's data dir: its clock and disks are kept, the clock row gains its
    generation (0), and a state it exported can still be imported."""
    from alembic import command

    from cbslocal.store.migrations import alembic_config
    from cbslocal.store.state import READABLE_SCHEMAS

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0004")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clock (id, anchor_wall, anchor_virtual, rate) "
                          "VALUES (1, 100.0, 5000.0, 0.0)"))
        conn.execute(text("INSERT INTO transitions (kind, resource_id, account_id, region, due_at, "
                          "payload) VALUES ('disk.create', 'disk-aaaaaaaa', '1', 'r', 7.0, '{}')"))
    upgrade_to_head(engine)
    with engine.begin() as conn:
        assert tuple(conn.execute(text(
            "SELECT anchor_wall, anchor_virtual, rate, generation FROM clock")).one()) == (
            100.0, 5000.0, 0.0, 0)
        assert conn.execute(text("SELECT count(*) FROM transitions")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM shared_settings")).scalar() == 0
    assert "0004" in READABLE_SCHEMAS


def test_a_0005_data_dir_is_upgraded_with_row_versions_and_tag_order(tmp_path):
    """The previous release's data dir: its disks keep everything and take version 0, and from
    then on every change gives them a new one (the triggers came with the upgrade); its tags take
    their disk's creation order, as new ones do; a state it exported can still be imported."""
    from alembic import command

    from cbslocal.store.migrations import alembic_config
    from cbslocal.store.state import READABLE_SCHEMAS

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0005")
    with engine.begin() as conn:
        _insert_old_disk(conn, tags='[{"Key": "team", "Value": "red"}]', created_at=7.5)
        conn.execute(text("INSERT INTO disk_tags (disk_id, account_id, region, position, tag_key, "
                          "tag_value) VALUES ('disk-aaaaaaaa', '1', 'ap-guangzhou', 0, 'team', 'red')"))
    upgrade_to_head(engine)
    with engine.begin() as conn:
        assert tuple(conn.execute(text(
            "SELECT disk_name, version FROM disks WHERE disk_id = 'disk-aaaaaaaa'")).one()) == ("old", 0)
        seq = conn.execute(text("SELECT seq FROM disks")).scalar()
        assert tuple(conn.execute(text("SELECT created_at, disk_seq FROM disk_tags")).one()) == (7.5, seq)
        conn.execute(text("INSERT INTO disk_tags (disk_id, account_id, region, position, tag_key, "
                          "tag_value) VALUES ('disk-aaaaaaaa', '1', 'ap-guangzhou', 1, 'env', 'x')"))
        assert conn.execute(text(
            "SELECT created_at, disk_seq FROM disk_tags WHERE tag_key = 'env'")).one() == (7.5, seq)
        conn.execute(text("UPDATE disks SET disk_name = 'new' WHERE disk_id = 'disk-aaaaaaaa'"))
        assert conn.execute(text("SELECT version FROM disks")).scalar() == 1
        census = dict(conn.execute(text("SELECT disk_state, n FROM disk_census")).all())
    assert census == {"UNATTACHED": 1}  # the census triggers are still there
    assert "0005" in READABLE_SCHEMAS


def test_a_0007_data_dir_is_upgraded_with_money(tmp_path):
    """The previous release's data dir: its accounts and keys are kept, each account starts with
    the default balance (1,000,000.00 CNY, in fen), written in the new ledger as its opening
    entry, and may pay, as may each key; a state it exported can still be imported."""
    from alembic import command

    from cbslocal.store.migrations import alembic_config
    from cbslocal.store.state import READABLE_SCHEMAS
    from cbslocal.store.tables import DEFAULT_BALANCE_FEN

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0007")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO accounts (account_id, app_id, name, created_at) "
                          "VALUES ('7', 1250000007, 'old', 1.0)"))
        conn.execute(text("INSERT INTO api_keys (secret_id, account_id, secret_key, enabled, "
                          "created_at) VALUES ('AKIDold', '7', 'k', 1, 1.0)"))
    upgrade_to_head(engine)
    with engine.begin() as conn:
        assert tuple(conn.execute(text(
            "SELECT name, balance, payment_allowed FROM accounts")).one()) == (
            "old", DEFAULT_BALANCE_FEN, 1)
        assert conn.execute(text("SELECT payment_allowed FROM api_keys")).scalar() == 1
        assert tuple(conn.execute(text(
            "SELECT account_id, kind, amount, balance_after FROM ledger")).one()) == (
            "7", "OPENING", DEFAULT_BALANCE_FEN, DEFAULT_BALANCE_FEN)
    assert DEFAULT_BALANCE_FEN == 100_000_000
    assert "0007" in READABLE_SCHEMAS


class _Interrupted(RuntimeError):
    pass


def _interrupt_when(engine, fragment: str):
    """Make the first statement containing `fragment` fail, as a crash there would."""
    from sqlalchemy import event

    def before(_conn, _cursor, statement, *_args):
        if fragment in statement:
            raise _Interrupted(statement)
    event.listen(engine, "before_cursor_execute", before)


def _tables(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())


def test_an_interrupted_fresh_creation_leaves_no_half_schema(tmp_path):
    """The store's connections leave transactions to their caller: the fresh schema is still one
    transaction, so a failure midway leaves an empty database, which the next start creates."""
    import pytest

    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    _interrupt_when(store.engine, "CREATE TABLE snapshots")
    with pytest.raises(_Interrupted):
        store.migrate()
    assert _tables(store.engine) == set()
    store.dispose()
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    assert "snapshots" in _tables(store.engine)
    store.dispose()


def test_an_interrupted_upgrade_changes_nothing(tmp_path):
    """Pending revisions run as one transaction: a failure in the last one leaves the data dir at
    the revision it had, with none of the earlier pending revisions' changes."""
    import pytest
    from alembic import command

    from cbslocal.store.migrations import alembic_config

    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    command.upgrade(alembic_config(store.engine), "0005")
    _interrupt_when(store.engine, "disk_tags_order")  # 0007's trigger
    with pytest.raises(_Interrupted):
        store.migrate()
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
        assert "version" not in {c["name"] for c in inspect(conn).get_columns("disks")}  # 0006's
    store.dispose()
