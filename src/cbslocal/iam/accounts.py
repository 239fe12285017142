"""Accounts and their API keys: who can call, with which credentials."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, select

from cbslocal import ids
from cbslocal.iam.model import Credentials, KeyRecord
from cbslocal.store.db import Store
from cbslocal.store.prepared import Prepared
from cbslocal.store.tables import accounts, api_keys

# The account a fresh data dir starts with, so that a first run needs no setup (README).
DEFAULT_ACCOUNT_ID = "100000000001"
DEFAULT_APP_ID = 1250000000
DEFAULT_SECRET_ID = "AKIDcbslocalDefault00000000000000000"
DEFAULT_SECRET_KEY = "cbslocalDefaultSecretKey00000000"


def ensure_default_account(conn: Connection, now: float) -> None:
    exists = conn.execute(select(accounts.c.account_id).where(
        accounts.c.account_id == DEFAULT_ACCOUNT_ID)).first()
    if exists:
        return
    conn.execute(insert(accounts).values(account_id=DEFAULT_ACCOUNT_ID, app_id=DEFAULT_APP_ID,
                                         name="default", created_at=now))
    conn.execute(insert(api_keys).values(secret_id=DEFAULT_SECRET_ID, account_id=DEFAULT_ACCOUNT_ID,
                                         secret_key=DEFAULT_SECRET_KEY, enabled=True, created_at=now))


def create_account(conn: Connection, now: float, name: str = "") -> Credentials:
    while True:
        account_id = ids.account_uin()
        if not conn.execute(select(accounts.c.account_id).where(
                accounts.c.account_id == account_id)).first():
            break
    app_id = 1250000000 + int(account_id[-8:])
    conn.execute(insert(accounts).values(account_id=account_id, app_id=app_id,
                                         name=name or account_id, created_at=now))
    key = create_key(conn, account_id, now)
    return Credentials(account_id, app_id, key.secret_id, key.secret_key)


def create_key(conn: Connection, account_id: str, now: float,
               ttl: float | None = None) -> Credentials:
    """A permanent key, or with `ttl` temporary credentials (a token that expires)."""
    row = conn.execute(select(accounts.c.app_id).where(accounts.c.account_id == account_id)).first()
    if row is None:
        raise LookupError(account_id)
    token = ids.session_token() if ttl is not None else None
    expires_at = now + ttl if ttl is not None else None
    creds = Credentials(account_id, row.app_id, ids.secret_id(), ids.secret_key(), token, expires_at)
    conn.execute(insert(api_keys).values(secret_id=creds.secret_id, account_id=account_id,
                                         secret_key=creds.secret_key, token=token,
                                         expires_at=expires_at, enabled=True, created_at=now))
    return creds


_KEY_QUERY = Prepared(
    select(api_keys.c.secret_id, api_keys.c.secret_key, api_keys.c.account_id, api_keys.c.enabled,
           api_keys.c.token, api_keys.c.expires_at)
    .where(api_keys.c.secret_id == bindparam("secret_id")))


def find_key(store: Store, secret_id: str) -> KeyRecord | None:
    row = store.lookup(_KEY_QUERY, secret_id=secret_id)
    if row is None:
        return None
    return KeyRecord(row.secret_id, row.secret_key, row.account_id, bool(row.enabled), row.token,
                     row.expires_at)


def list_accounts(conn: Connection) -> list[dict]:
    rows = conn.execute(select(accounts).order_by(accounts.c.created_at)).all()
    return [{"AccountId": r.account_id, "AppId": r.app_id, "Name": r.name} for r in rows]
