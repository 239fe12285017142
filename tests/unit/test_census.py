"""disk_census always equals a GROUP BY over disks, whatever writes the disks (SQLite and
PostgreSQL triggers)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, func, insert, select, update

from cbslocal.store.db import Store
from cbslocal.store.tables import CENSUS_COLUMNS, disk_census, disk_tag_census, disk_tags, disks

KEY = ("account_id", "region", *CENSUS_COLUMNS)


def disk(i: int, **overrides) -> dict:
    row = dict(disk_id=f"disk-{i:08d}", account_id="1", region="ap-guangzhou",
               zone=f"ap-guangzhou-{3 + i % 2}", project_id=0, disk_name="d", disk_type="CLOUD_SSD",
               disk_size=20, disk_usage="DATA_DISK", disk_state="UNATTACHED",
               charge_type="POSTPAID_BY_HOUR", portable=True, shareable=False, encrypt=False,
               created_at=float(i))
    row.update(overrides)
    return row


TAG_KEY = ("account_id", "region", "tag_key", "tag_value")


def tags(i: int, *pairs: tuple[str, str]) -> list[dict]:
    return [dict(disk_id=f"disk-{i:08d}", account_id="1", region="ap-guangzhou", position=p,
                 tag_key=k, tag_value=v) for p, (k, v) in enumerate(pairs)]


def tag_census_matches(conn) -> None:
    joined = disk_tags.join(disks, disks.c.disk_id == disk_tags.c.disk_id)
    grouped = {tuple(r[:-1]): r[-1] for r in conn.execute(
        select(*(disk_tags.c[c] for c in TAG_KEY), disks.c.disk_state, func.count())
        .select_from(joined).group_by(*(disk_tags.c[c] for c in TAG_KEY), disks.c.disk_state))}
    kept = {tuple(r[:-1]): r[-1] for r in conn.execute(
        select(*(disk_tag_census.c[c] for c in (*TAG_KEY, "disk_state")), disk_tag_census.c.n)
        .where(disk_tag_census.c.n != 0))}
    assert kept == grouped


def census_matches(conn) -> None:
    tag_census_matches(conn)
    grouped = {tuple(r[:-1]): r[-1] for r in conn.execute(
        select(*(disks.c[c] for c in KEY), func.count()).group_by(*(disks.c[c] for c in KEY)))}
    kept = {tuple(r[:-1]): r[-1] for r in conn.execute(
        select(*(disk_census.c[c] for c in KEY), disk_census.c.n).where(disk_census.c.n != 0))}
    assert kept == grouped


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'census.db'}")
        store.migrate()
        yield store
        store.dispose()
        return
    psycopg = pytest.importorskip("psycopg")
    name = f"cbslocal_census_{uuid.uuid4().hex[:10]}"
    admin_url = "postgresql://postgres@127.0.0.1:5432/test"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    store = Store(f"postgresql://postgres@127.0.0.1:5432/{name}")
    store.migrate()
    yield store
    store.dispose()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_census_follows_every_change(store):
    with store.write() as conn:
        conn.execute(insert(disks), [disk(i) for i in range(20)])
        conn.execute(insert(disks), [disk(i, disk_state="PROVISIONING", account_id="2")
                                     for i in range(20, 25)])
        conn.execute(insert(disk_tags), [row for i in range(0, 25, 2)
                                         for row in tags(i, ("team", f"t{i % 3}"), ("env", "dev"))])
        census_matches(conn)
        conn.execute(update(disks).where(disks.c.disk_id.in_([f"disk-{i:08d}" for i in range(5)]))
                     .values(disk_state="ATTACHED"))
        conn.execute(update(disks).where(disks.c.account_id == "2").values(disk_state="UNATTACHED",
                                                                            zone="ap-guangzhou-6"))
        conn.execute(update(disks).where(disks.c.disk_id == "disk-00000007")
                     .values(portable=False, project_id=3, disk_type="CLOUD_PREMIUM"))
        conn.execute(update(disks).values(disk_name="renamed"))  # not a census column
        census_matches(conn)
        conn.execute(delete(disks).where(disks.c.disk_id.in_([f"disk-{i:08d}" for i in range(0, 20, 3)])))
        census_matches(conn)


def test_a_rolled_back_change_leaves_the_census(store):
    with store.write() as conn:
        conn.execute(insert(disks), [disk(i) for i in range(3)])
    with pytest.raises(RuntimeError):
        with store.write() as conn:
            conn.execute(delete(disks))
            raise RuntimeError("abandon")
    with store.read() as conn:
        census_matches(conn)
        assert conn.execute(select(func.sum(disk_census.c.n))).scalar() == 3
