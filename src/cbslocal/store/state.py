"""State export and import: the whole store (or one account's part of it) as a versioned JSON
document, and back into an empty cbslocal — resources, states, pending moves, accounts and keys,
fault rules and the clock (the control plane's `/_cbslocal/state`).

Census tables are not exported: the triggers rebuild them as the rows go in.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import orjson
from sqlalchemy import delete, func, insert, literal, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from cbslocal.store.migrations import HEAD_REVISION
from cbslocal.store.tables import (accounts, api_keys, auto_snapshot_policies, client_tokens,
                                   disk_attachments, disk_tags, disks, fault_rules, image_snapshots,
                                   images, instances, ledger, policy_disks, snapshot_shares,
                                   snapshots, transitions)

FORMAT, VERSION = "cbslocal-state", 1
# Schemas whose exported tables are those of this one (0005 added only tables not exported, 0006
# and 0007 only derived columns, which are not exported; 0008 added columns with defaults and
# the ledger).
READABLE_SCHEMAS = frozenset({"0004", "0005", "0006", "0007", HEAD_REVISION})

# Columns a document of an earlier schema lacks (the table's default fills them): per table, and
# the schema that added them.
ADDED_COLUMNS = {"accounts": ({"balance", "payment_allowed", "usage_billed_until", "unsettled"},
                              "0008"),
                 "api_keys": ({"payment_allowed"}, "0008"),
                 "disks": ({"paid_fen", "term_started_at", "auto_renew_period", "billed_from",
                            "order_pending_until"},
                           "0008")}

# Columns that must hold whole numbers (amounts of fen, months): SQLite would store anything,
# and money that is not a number would break every sum of it.
WHOLE_NUMBERS = {"accounts": ("balance",), "ledger": ("amount", "balance_after"),
                 "disks": ("paid_fen", "auto_renew_period")}

# Columns of exact decimal amounts (CNY), as text.
DECIMALS = {"accounts": ("unsettled",)}

# In the order they go back in (what a row refers to comes first).
TABLES = (accounts, api_keys, ledger, instances, disks, disk_tags, disk_attachments, snapshots,
          snapshot_shares, images, image_snapshots, auto_snapshot_policies, policy_disks,
          client_tokens, transitions, fault_rules)
ACCOUNT_TABLES = (instances, disks, disk_tags, disk_attachments, snapshots, snapshot_shares, images,
                  image_snapshots, auto_snapshot_policies, policy_disks, client_tokens, transitions)
RESOURCE_TABLES = ACCOUNT_TABLES  # what must be empty before an import
# Autoincrement keys kept as they were (they order listings) — PostgreSQL's sequences follow.
_SEQUENCES = {disks: "seq", instances: "seq", snapshots: "seq", images: "seq",
              auto_snapshot_policies: "seq", transitions: "id", fault_rules: "id"}


class ImportRefused(ValueError):
    pass


def export(conn, *, now: float, clock: dict, account_id: str | None = None) -> dict:
    tables = {}
    for table in TABLES:
        statement = select(table)
        if account_id is not None:
            if table in (accounts, api_keys, ledger) or table in ACCOUNT_TABLES:
                statement = statement.where(table.c.account_id == account_id)
            else:
                continue  # fault rules are the operator's, not an account's
        order = [c for c in table.primary_key.columns]
        rows = conn.execute(statement.order_by(*order)).mappings().all()
        names = _exported(table)
        tables[str(table.name)] = [{name: row[name] for name in names} for row in rows]
    return {"format": FORMAT, "version": VERSION, "schema": HEAD_REVISION, "exported_at": now,
            "account": account_id, "clock": clock, "tables": tables}


def import_(conn, document: dict, *, known_kinds: frozenset[str] = frozenset()) -> dict:
    """Insert a document's rows into a store without resources. Accounts and keys that already
    exist (the default account) are kept, but take the document's money (balance, payment
    permission and ledger) when it has any; pending moves must be of `known_kinds`, with an object
    for payload. Returns the rows inserted per table."""
    _check(document)
    _check_moves(document["tables"].get(transitions.name, []), known_kinds)
    for table in RESOURCE_TABLES:
        if conn.execute(select(func.count()).select_from(table)).scalar_one():
            raise ImportRefused(f"this cbslocal is not empty ({table.name}); reset it first")
    _refusing_misfits("accounts", lambda: _take_money_of_kept_accounts(conn, document["tables"]))
    inserted = {}
    for table in TABLES:
        rows = document["tables"].get(table.name, [])
        if table in (accounts, api_keys):
            key = table.primary_key.columns[0]
            have = set(conn.execute(select(key)).scalars())
            rows = [r for r in rows if r[key.name] not in have]
        if table is ledger:  # new numbers, in the same order: the store may have entries already
            rows = [{k: v for k, v in r.items() if k != "id"} for r in rows]
        if rows:
            _refusing_misfits(table.name, lambda: conn.execute(
                insert(table), [_only_columns(table, r) for r in rows]))
        inserted[str(table.name)] = len(rows)
    _open_accounts_without_entries(conn)
    if conn.dialect.name == "postgresql":
        for table, column in _SEQUENCES.items():
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                              f"COALESCE((SELECT MAX({column}) FROM {table.name}), 0) + 1, false)"))
    return inserted


def _refusing_misfits(table_name: str, write) -> None:
    """Run `write`; a row the database refuses refuses the whole import (it rolls back)."""
    try:
        write()
    except SQLAlchemyError as failure:
        raise ImportRefused(f"tables.{table_name}: a row does not fit the table "
                            f"({type(failure.orig or failure).__name__}: "
                            f"{str(failure.orig or failure).splitlines()[0][:200]})") from None


def _take_money_of_kept_accounts(conn, tables: dict) -> None:
    """An account that exists already and that the document carries with its money (schema 0008
    on): its balance, permission and ledger become the document's."""
    for row in tables.get(accounts.name, []):
        if "balance" in row:
            money = {name: row[name] for name in ("balance", "payment_allowed",
                                                  "usage_billed_until", "unsettled") if name in row}
            kept = conn.execute(update(accounts).where(accounts.c.account_id == row["account_id"])
                                .values(**money)).rowcount
            if kept:
                conn.execute(delete(ledger).where(ledger.c.account_id == row["account_id"]))


def _open_accounts_without_entries(conn) -> None:
    """Accounts of a document exported before money existed start with the default balance, as
    an upgraded data dir's do: their opening entry keeps the ledger summing to the balance."""
    without = select(accounts.c.account_id, accounts.c.created_at, literal("OPENING"),
                     accounts.c.balance, accounts.c.balance, literal(""), literal(""), literal(""),
                     literal("[]"), literal("opening balance")).where(
        accounts.c.balance != 0,
        ~select(ledger.c.id).where(ledger.c.account_id == accounts.c.account_id).exists())
    conn.execute(insert(ledger).from_select(
        ["account_id", "at", "kind", "amount", "balance_after", "deal_name", "action", "region",
         "resource_ids", "description"], without))


def _check(document: dict) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportRefused(f"`format` must be {FORMAT!r}: this is not a state document of cbslocal")
    if document.get("version") != VERSION:
        raise ImportRefused(f"document version {document.get('version')!r}; this cbslocal reads "
                            f"version {VERSION}")
    if document.get("schema") not in READABLE_SCHEMAS:
        raise ImportRefused(f"exported with schema {document.get('schema')!r}; this cbslocal has "
                            f"{HEAD_REVISION}: export and import with the same cbslocal version")
    tables = document.get("tables")
    if not isinstance(tables, dict) or not all(isinstance(v, list) for v in tables.values()):
        raise ImportRefused("`tables` must map table names to lists of rows")
    known = {t.name for t in TABLES}
    unknown = sorted(set(tables) - known)
    if unknown:
        raise ImportRefused(f"unknown table {unknown[0]!r}")
    for name, rows in tables.items():
        columns = set(_exported(next(t for t in TABLES if t.name == name)))
        added, since = ADDED_COLUMNS.get(name, (set(), ""))
        if document["schema"] < since:
            columns -= added
        for position, row in enumerate(rows):
            if not isinstance(row, dict) or set(row) != columns:
                raise ImportRefused(f"tables.{name}.{position}: a row must have exactly the "
                                    f"columns {sorted(columns)}")
            for column in DECIMALS.get(name, ()):
                if column in row and not _decimal_text(row[column]):
                    raise ImportRefused(f"tables.{name}.{position}.{column}: must be a decimal "
                                        "number as text")
            for column in WHOLE_NUMBERS.get(name, ()):
                value = row.get(column, 0)
                if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**62:
                    raise ImportRefused(f"tables.{name}.{position}.{column}: must be a whole "
                                        "number (of fen, or months)")


def _check_moves(rows: list[dict], known_kinds: frozenset[str]) -> None:
    """A move nothing applies, or whose payload is not an object, would fail every call that
    comes after its due time."""
    for position, row in enumerate(rows):
        where = f"tables.{transitions.name}.{position}"
        if row["kind"] not in known_kinds:
            raise ImportRefused(f"{where}: unknown kind of move {str(row['kind'])[:64]!r}")
        try:
            payload = orjson.loads(row["payload"]) if isinstance(row["payload"], str) else None
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            raise ImportRefused(f"{where}: `payload` must be a JSON object, as text")
        if not isinstance(row["due_at"], (int, float)) or isinstance(row["due_at"], bool):
            raise ImportRefused(f"{where}: `due_at` must be a number")


def _decimal_text(value) -> bool:
    if not isinstance(value, str) or len(value) > 100:
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _exported(table) -> list[str]:
    """Its columns but those the database derives itself (tables.DERIVED): triggers fill them."""
    return [str(c.name) for c in table.columns if not c.info.get("derived")]  # (orjson: str only)


def _only_columns(table, row: dict) -> dict:
    return {name: row[name] for name in _exported(table) if name in row}
