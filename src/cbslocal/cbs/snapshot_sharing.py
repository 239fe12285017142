"""Sharing snapshots with other accounts: ModifySnapshotsSharePermission and
DescribeSnapshotSharePermission (cbs-behavior.md §3.22, §3.23). An account a snapshot is shared
with sees it as a SHARED_SNAPSHOT it can only make disks from."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from cbslocal import ids
from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.api.snapshot_schema import (DescribeSnapshotSharePermissionRequest,
                                          ModifySnapshotsSharePermissionRequest)
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs.snapshots import checked_snapshot_id, load_snapshots, require_normal, require_own
from cbslocal.engine.clock import format_time
from cbslocal.store.tables import snapshot_shares, snapshots


_PERMISSIONS = ("SHARE", "CANCEL")


# This action's list has InvalidParameter where others have InvalidParameterValue.
def modify_snapshots_share_permission(ctx: Context, req: ModifySnapshotsSharePermissionRequest) -> dict:
    if req.Permission not in _PERMISSIONS:
        raise msg.SHARE_PERMISSION_INVALID()
    for position, account in enumerate(req.AccountIds):
        if not (account.isascii() and account.isdigit()):
            raise msg.SHARE_ACCOUNT_ID_MALFORMED(field=f"AccountIds.{position}", value=account)
        if account == ctx.account_id:
            raise msg.SHARE_WITH_OWNER(field=f"AccountIds.{position}")
    for position, snapshot_id in enumerate(req.SnapshotIds):
        if not ids.is_resource_id(ids.SNAPSHOT, snapshot_id):
            raise msg.ID_MALFORMED_AS_INVALID_PARAMETER(field=f"SnapshotIds.{position}",
                                                        value=snapshot_id)
    accounts = list(dict.fromkeys(req.AccountIds))
    targets = load_snapshots(ctx, list(dict.fromkeys(req.SnapshotIds)))
    for snap in targets:
        require_own(ctx, snap)
        if snap.disk_usage == ds.SYSTEM_DISK:
            raise msg.SYSTEM_SNAPSHOT_NOT_SHAREABLE(snapshot_id=snap.snapshot_id)
        if snap.encrypt:
            raise msg.ENCRYPTED_SNAPSHOT_NOT_SHAREABLE(snapshot_id=snap.snapshot_id)
        require_normal(snap)
    for snap in targets:
        if req.Permission == "SHARE":
            _share(ctx, snap, accounts)
        else:
            _unshare(ctx, snap, accounts)
    return {}


def _shared_accounts(conn, snapshot_id: str) -> set[str]:
    return set(conn.execute(select(snapshot_shares.c.shared_with).where(
        snapshot_shares.c.snapshot_id == snapshot_id)).scalars())


def _share(ctx: Context, snap, accounts: list[str]) -> None:
    have = _shared_accounts(ctx.conn, snap.snapshot_id)
    new = [a for a in accounts if a not in have]
    cap = ctx.topology.limits.snapshot_share_accounts_max
    if len(have) + len(new) > cap:
        raise msg.SHARE_ACCOUNTS_FULL(snapshot_id=snap.snapshot_id, count=len(have), max=cap)
    if not new:
        return
    ctx.conn.execute(insert(snapshot_shares), [
        dict(snapshot_id=snap.snapshot_id, shared_with=a, account_id=ctx.account_id,
             region=ctx.region, created_at=ctx.now) for a in new])
    ctx.conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snap.snapshot_id).values(
        share_reference=len(have) + len(new), modified_at=ctx.now,
        time_start_share=snap.time_start_share if snap.time_start_share is not None else ctx.now))


def _unshare(ctx: Context, snap, accounts: list[str]) -> None:
    ctx.conn.execute(delete(snapshot_shares).where(snapshot_shares.c.snapshot_id == snap.snapshot_id,
                                                   snapshot_shares.c.shared_with.in_(accounts)))
    left = len(_shared_accounts(ctx.conn, snap.snapshot_id))
    ctx.conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snap.snapshot_id).values(
        share_reference=left, modified_at=ctx.now))


def describe_snapshot_share_permission(ctx: Context, req: DescribeSnapshotSharePermissionRequest) -> dict:
    checked_snapshot_id(req.SnapshotId)
    snap = load_snapshots(ctx, [req.SnapshotId], shared=False)[0]
    rows = ctx.conn.execute(select(snapshot_shares).where(
        snapshot_shares.c.snapshot_id == snap.snapshot_id)
        .order_by(snapshot_shares.c.created_at, snapshot_shares.c.shared_with)).all()
    return {"SharePermissionSet": [{"CreatedTime": format_time(r.created_at),
                                    "AccountId": r.shared_with} for r in rows]}
