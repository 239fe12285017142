"""Reference app 2: the floor. Only what any correct emulator must do per DescribeDisks call:
verify one TC3-HMAC-SHA256 signature (hashlib/hmac, the derived signing key cached per
(SecretId, date, service) as ARCHITECTURE.md asks of the real server), parse the JSON body, run one
indexed SQLite SELECT by primary key on a WAL database with 100,000 rows, and return small JSON with
a fresh RequestId. No validation framework, no ORM, no metrics, no logging.

Run: python bench/floor_app.py [PORT]   (FLOOR_DB=path to reuse a database, FLOOR_ROWS=N)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import tempfile
import time
import uuid
from datetime import datetime, timezone

import orjson

KEYS = {"AKIDcbslocalDefault00000000000000000": "cbslocalDefaultSecretKey00000000"}
MAX_SKEW = 300
ROWS = int(os.environ.get("FLOOR_ROWS", "100000"))


def disk_id(n: int) -> str:
    return f"disk-{n:08d}"


def open_db() -> sqlite3.Connection:
    path = os.environ.get("FLOOR_DB") or os.path.join(tempfile.mkdtemp(prefix="floor-"), "floor.db")
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS disks (disk_id TEXT PRIMARY KEY, zone TEXT NOT NULL, "
               "disk_type TEXT NOT NULL, disk_size INTEGER NOT NULL, disk_state TEXT NOT NULL, "
               "created_at REAL NOT NULL) WITHOUT ROWID")
    if db.execute("SELECT count(*) FROM disks").fetchone()[0] < ROWS:
        db.execute("BEGIN")
        db.executemany("INSERT OR IGNORE INTO disks VALUES (?, ?, ?, ?, ?, ?)",
                       ((disk_id(i), f"ap-guangzhou-{3 + i % 2}", "CLOUD_PREMIUM", 10 * (1 + i % 50),
                         "UNATTACHED", 1.7e9 + i) for i in range(ROWS)))
        db.execute("COMMIT")
    return db


DB = open_db()
SELECT = "SELECT disk_id, zone, disk_type, disk_size, disk_state FROM disks WHERE disk_id = ?"
_signing_keys: dict[tuple[str, str, str], bytes] = {}


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret_id: str, date: str, service: str) -> bytes:
    cached = _signing_keys.get((secret_id, date, service))
    if cached is None:
        k = _hmac(_hmac(("TC3" + KEYS[secret_id]).encode(), date), service)
        cached = _signing_keys[(secret_id, date, service)] = _hmac(k, "tc3_request")
    return cached


def verify(headers: dict[bytes, bytes], body: bytes) -> bool:
    auth = headers.get(b"authorization", b"").decode()
    algorithm, _, rest = auth.partition(" ")
    if algorithm != "TC3-HMAC-SHA256":
        return False
    items = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    secret_id, date, service, terminator = items.get("Credential", "///").split("/", 3)
    signed = items.get("SignedHeaders", "")
    if secret_id not in KEYS or terminator != "tc3_request" or signed != "content-type;host":
        return False
    timestamp = headers.get(b"x-tc-timestamp", b"").decode()
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW:
        return False
    if datetime.fromtimestamp(int(timestamp), timezone.utc).strftime("%Y-%m-%d") != date:
        return False
    canonical = (f"POST\n/\n\ncontent-type:{headers.get(b'content-type', b'').decode().strip()}\n"
                 f"host:{headers.get(b'host', b'').decode().strip()}\n\ncontent-type;host\n"
                 f"{hashlib.sha256(body).hexdigest()}")
    to_sign = (f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n"
               f"{hashlib.sha256(canonical.encode()).hexdigest()}")
    expected = hmac.new(signing_key(secret_id, date, service), to_sign.encode(),
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, items.get("Signature", ""))


def reply(payload: dict) -> tuple[dict, dict]:
    body = orjson.dumps({"Response": payload})
    return ({"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]},
            {"type": "http.response.body", "body": body})


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    request_id = str(uuid.uuid4())
    headers = dict(scope["headers"])
    if not verify(headers, body):
        start, end = reply({"Error": {"Code": "AuthFailure.SignatureFailure", "Message": ""},
                            "RequestId": request_id})
    else:
        wanted = orjson.loads(body)["DiskIds"][0]
        row = DB.execute(SELECT, (wanted,)).fetchone()
        disk_set = [] if row is None else [
            {"DiskId": row[0], "Placement": {"Zone": row[1]}, "DiskType": row[2],
             "DiskSize": row[3], "DiskState": row[4]}]
        start, end = reply({"TotalCount": len(disk_set), "DiskSet": disk_set,
                            "RequestId": request_id})
    await send(start)
    await send(end)


if __name__ == "__main__":
    from _launch import port_arg, serve

    serve(app, name="floor", port=port_arg())
