"""Accounts and their API keys: who can call, with which credentials."""

from __future__ import annotations

import weakref

from sqlalchemy import Connection, Engine, bindparam, insert, select

from cbslocal import ids
from cbslocal.iam.model import Credentials, KeyRecord
from cbslocal.store.db import Store
from cbslocal.store.prepared import Prepared
from cbslocal.store.tables import accounts, api_keys, ledger

# The account a fresh data dir starts with, so that a first run needs no setup (README).
DEFAULT_ACCOUNT_ID = "100000000001"
DEFAULT_APP_ID = 1250000000
DEFAULT_SECRET_ID = "AKIDcbslocalDefault00000000000000000"
DEFAULT_SECRET_KEY = "cbslocalDefaultSecretKey00000000"


def ensure_default_account(conn: Connection, now: float) -> bool:
    """Whether it had to be created (with no money: billing gives it its opening balance)."""
    exists = conn.execute(select(accounts.c.account_id).where(
        accounts.c.account_id == DEFAULT_ACCOUNT_ID)).first()
    if exists:
        return False
    conn.execute(insert(accounts).values(account_id=DEFAULT_ACCOUNT_ID, app_id=DEFAULT_APP_ID,
                                         name="default", created_at=now, balance=0))
    conn.execute(insert(api_keys).values(secret_id=DEFAULT_SECRET_ID, account_id=DEFAULT_ACCOUNT_ID,
                                         secret_key=DEFAULT_SECRET_KEY, enabled=True, created_at=now))
    _keys_changed(conn)
    return True


def create_account(conn: Connection, now: float, name: str = "") -> Credentials:
    """A new account, with no money yet (billing gives it its opening balance), and its first
    key."""
    while True:
        account_id = ids.account_uin()
        if not conn.execute(select(accounts.c.account_id).where(
                accounts.c.account_id == account_id)).first():
            break
    app_id = 1250000000 + int(account_id[-8:])
    conn.execute(insert(accounts).values(account_id=account_id, app_id=app_id,
                                         name=name or account_id, created_at=now, balance=0))
    key = create_key(conn, account_id, now)
    return Credentials(account_id, app_id, key.secret_id, key.secret_key)


def create_key(conn: Connection, account_id: str, now: float, ttl: float | None = None,
               payment_allowed: bool = True) -> Credentials:
    """A permanent key, or with `ttl` temporary credentials (a token that expires); without
    `payment_allowed`, calls it signs may not pay (its account's permission notwithstanding)."""
    row = conn.execute(select(accounts.c.app_id).where(accounts.c.account_id == account_id)).first()
    if row is None:
        raise LookupError(account_id)
    token = ids.session_token() if ttl is not None else None
    expires_at = now + ttl if ttl is not None else None
    creds = Credentials(account_id, row.app_id, ids.secret_id(), ids.secret_key(), token, expires_at)
    conn.execute(insert(api_keys).values(secret_id=creds.secret_id, account_id=account_id,
                                         secret_key=creds.secret_key, token=token,
                                         expires_at=expires_at, enabled=True, created_at=now,
                                         payment_allowed=payment_allowed))
    _keys_changed(conn)
    return creds


_KEY_QUERY = Prepared(
    select(api_keys.c.secret_id, api_keys.c.secret_key, api_keys.c.account_id, api_keys.c.enabled,
           api_keys.c.token, api_keys.c.expires_at)
    .where(api_keys.c.secret_id == bindparam("secret_id")))


# Keys found, per database. Only for SQLite, which one process owns (Store.lock_data_dir): every
# change to api_keys then goes through this module, which forgets the database's keys. A shared
# PostgreSQL may be changed by other processes, so there every call asks the database.
_KNOWN_KEYS: "weakref.WeakKeyDictionary[Engine, dict[str, KeyRecord]]" = weakref.WeakKeyDictionary()
_MAX_KNOWN_KEYS = 10_000


def find_key(store: Store, secret_id: str) -> KeyRecord | None:
    known = _KNOWN_KEYS.setdefault(store.engine, {}) if store.is_sqlite else None
    if known is not None and secret_id in known:
        return known[secret_id]
    row = store.lookup(_KEY_QUERY, secret_id=secret_id)
    if row is None:
        return None  # unknown IDs are not remembered: callers choose them
    key = KeyRecord(row.secret_id, row.secret_key, row.account_id, bool(row.enabled), row.token,
                    row.expires_at)
    if known is not None:
        if len(known) >= _MAX_KNOWN_KEYS:
            known.clear()
        known[secret_id] = key
    return key


def forget_accounts(conn: Connection) -> None:
    """Every account, key and ledger entry goes (a reset); the caller brings the default account
    back."""
    conn.execute(ledger.delete())
    conn.execute(api_keys.delete())
    conn.execute(accounts.delete())
    _keys_changed(conn)


def account_exists(conn: Connection, account_id: str) -> bool:
    return conn.execute(select(accounts.c.account_id).where(
        accounts.c.account_id == account_id)).first() is not None


def keys_changed(conn: Connection) -> None:
    """Keys were written behind this module's back (a state import): forget what was found."""
    _keys_changed(conn)


def _keys_changed(conn: Connection) -> None:
    _KNOWN_KEYS.pop(conn.engine, None)


def list_accounts(conn: Connection) -> list[dict]:
    rows = conn.execute(select(accounts).order_by(accounts.c.created_at)).all()
    return [{"AccountId": r.account_id, "AppId": r.app_id, "Name": r.name} for r in rows]
