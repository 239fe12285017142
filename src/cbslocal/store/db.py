"""Connections, transactions and migrations: SQLite (embedded default, WAL) or PostgreSQL."""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from cbslocal.store import census, row_versions  # noqa: F401  (register their triggers)
from cbslocal.store.migrations import HEAD_REVISION, create_fresh, upgrade_to_head


class DataDirInUse(RuntimeError):
    pass


# Advisory lock keys of a shared PostgreSQL ("cbsl" and "cbsm" in ASCII).
WRITE_LOCK = 0x6362736C  # taken by every write transaction: writers run one at a time
MIGRATION_LOCK = 0x6362736D  # held while a process checks and migrates the schema


class Store:
    """The one way into the database: `with store.write() as conn:` / `with store.read() as conn:`."""

    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = _make_engine(url)
        self._local = threading.local()

    def migrate(self) -> None:
        """Bring the schema to the current head; a data dir from an older version is upgraded.
        Processes starting together on one PostgreSQL take turns (the first one migrates)."""
        with self._migration_turn():
            revision = self._current_revision()
            if revision is None and not inspect(self.engine).get_table_names():
                create_fresh(self.engine)
            elif revision != HEAD_REVISION:
                upgrade_to_head(self.engine)

    @contextlib.contextmanager
    def _migration_turn(self) -> Iterator[None]:
        if self.is_sqlite:  # one process per data dir (lock_data_dir)
            yield
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")

    def _current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            try:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except DBAPIError:  # no alembic_version table yet: a fresh database
                conn.rollback()
                return None

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that may write, run as if no other write ran at the same time: every
        write of the emulator is serialised (docs/architecture.md, "Several processes").

        SQLite takes its write lock at BEGIN, so two writers queue instead of failing halfway
        with SQLITE_BUSY. PostgreSQL, shared by several processes, takes one advisory lock first
        (held until COMMIT): in READ COMMITTED, every statement after it sees every write
        committed before it, and none can commit meanwhile."""
        with self._connection() as conn:
            raw = conn.connection.dbapi_connection
            if self.is_sqlite:
                raw.execute("BEGIN IMMEDIATE")
            else:
                _postgres_transaction(raw, read_only=False)
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raw.rollback()
                raise
            # Queries run both through SQLAlchemy and straight on the driver (store.prepared):
            # commit both views; the second is a no-op when the first already committed.
            conn.commit()
            raw.commit()

    def read(self) -> contextlib.AbstractContextManager[Connection]:
        """Reads that see one consistent state. On SQLite that needs no transaction: one server
        process owns the data dir (lock_data_dir) and one thread runs every transaction without
        yielding, so no write can land between two statements of a read. PostgreSQL, shared by
        several processes, gets a real one: a read-only snapshot (REPEATABLE READ), so that a
        page and its TotalCount come from the same moment."""
        return self._connection() if self.is_sqlite else self._read_transaction()

    @contextlib.contextmanager
    def _read_transaction(self) -> Iterator[Connection]:
        with self._connection() as conn:
            _postgres_transaction(conn.connection.dbapi_connection, read_only=True)
            try:
                yield conn
            finally:
                conn.rollback()

    def lookup(self, query, **params):
        """One row by one statement: consistent on its own, so on PostgreSQL it needs no
        transaction of its own (one round trip instead of three)."""
        with (self.read() if self.is_sqlite else self.autocommit()) as conn:
            return query.first(conn, **params)

    def lock_data_dir(self) -> None:
        """Claim the SQLite database for this process, for as long as it runs: a second server
        on the same data dir is refused at start rather than allowed to interleave writes."""
        path = self.engine.url.database
        if not self.is_sqlite or not path or path == ":memory:":
            return
        self._lock_file = open(f"{path}.lock", "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise DataDirInUse(f"another cbslocal process is using {path}") from None

    def _connection(self) -> _ThreadConnection:
        """This thread's long-lived connection (a pool checkout costs more than an indexed
        lookup), or a pooled one while that is busy with an enclosing transaction."""
        return _ThreadConnection(self)

    @contextlib.contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection outside any transaction: each statement commits on its own, in one round
        trip (what the processes sharing a PostgreSQL check on every call: store/shared.py)."""
        conn = getattr(self._local, "autocommit_conn", None)
        if conn is None:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as pooled:
                yield pooled
            return
        try:
            yield conn
        except DBAPIError:
            self._local.autocommit_conn = None
            conn.invalidate()
            raise

    def pin_connection(self) -> None:
        """Give the calling thread (the server's event loop) its own long-lived connections."""
        self._local.conn = self.engine.connect()
        self._local.busy = False
        if not self.is_sqlite:
            self._local.autocommit_conn = self.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT")

    def dispose(self) -> None:
        for name in ("conn", "autocommit_conn"):
            conn = getattr(self._local, name, None)
            if conn is not None:
                setattr(self._local, name, None)
                conn.close()
        self.engine.dispose()


class _ThreadConnection:
    """Store._connection as a context manager. A class, not a generator: it is entered on every
    request, and contextlib's machinery cost more than the indexed lookup it wraps."""

    __slots__ = ("store", "conn", "pooled")

    def __init__(self, store: Store):
        self.store = store
        self.conn: Connection | None = None
        self.pooled = None

    def __enter__(self) -> Connection:
        local = self.store._local
        conn = getattr(local, "conn", None)
        if conn is None or local.busy:
            self.pooled = self.store.engine.connect()
            return self.pooled.__enter__()
        local.busy = True
        self.conn = conn
        return conn

    def __exit__(self, kind, failure, traceback) -> bool:
        if self.pooled is not None:
            return self.pooled.__exit__(kind, failure, traceback)
        local = self.store._local
        local.busy = False
        if kind is not None and issubclass(kind, DBAPIError):
            local.conn = None  # the connection may be broken: the next call opens a new one
            self.conn.invalidate()
        return False


def _postgres_transaction(raw, *, read_only: bool) -> None:
    """How the next transaction of a psycopg connection runs: reads in a snapshot, writes in READ
    COMMITTED behind the write lock. Attributes, not statements: psycopg puts them in its BEGIN."""
    import psycopg

    if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raw.rollback()  # e.g. a pool's liveness ping left one open
    raw.isolation_level = (psycopg.IsolationLevel.REPEATABLE_READ if read_only
                           else psycopg.IsolationLevel.READ_COMMITTED)
    raw.read_only = read_only


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'cbslocal.db'}"


def _make_engine(url: str) -> Engine:
    if url.startswith("postgresql") and "+" not in url.split("://", 1)[0]:
        url = url.replace("postgresql", "postgresql+psycopg", 1)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
    engine = create_engine(url, poolclass=QueuePool, pool_size=4, max_overflow=4,
                           connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        # Transactions are begun explicitly (Store.write/read): let the driver stay out of it.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the reply leaves; nothing acknowledged is lost.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine
