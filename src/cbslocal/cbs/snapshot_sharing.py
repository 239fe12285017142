"""Sharing snapshots with other accounts: ModifySnapshotsSharePermission and
DescribeSnapshotSharePermission (cbs-behavior.md §3.22, §3.23). An account a snapshot is shared
with sees it as a SHARED_SNAPSHOT it can only make disks from."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from cbslocal import ids
from cbslocal.api import errors
from cbslocal.api.context import Context
from cbslocal.api.errors import ApiError
from cbslocal.api.snapshot_schema import (DescribeSnapshotSharePermissionRequest,
                                          ModifySnapshotsSharePermissionRequest)
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs.snapshots import (checked_snapshot_id, load_snapshots, not_supported,
                                    require_normal, require_own)
from cbslocal.engine.clock import format_time
from cbslocal.store.tables import snapshot_shares, snapshots


_PERMISSIONS = ("SHARE", "CANCEL")


def _invalid(field: str, why: str) -> ApiError:
    """This action's list has InvalidParameter where others have InvalidParameterValue."""
    return ApiError(errors.INVALID_PARAMETER, f"The value of `{field}` is invalid: {why}.",
                    f"参数 `{field}` 取值错误：{why}。")


def modify_snapshots_share_permission(ctx: Context, req: ModifySnapshotsSharePermissionRequest) -> dict:
    if req.Permission not in _PERMISSIONS:
        raise _invalid("Permission", "must be SHARE or CANCEL")
    for position, account in enumerate(req.AccountIds):
        if not (account.isascii() and account.isdigit()):
            raise _invalid(f"AccountIds.{position}", f"{account!r} is not an account ID")
        if account == ctx.account_id:
            raise _invalid(f"AccountIds.{position}", "a snapshot cannot be shared with its owner")
    for position, snapshot_id in enumerate(req.SnapshotIds):
        if not ids.is_resource_id(ids.SNAPSHOT, snapshot_id):
            raise _invalid(f"SnapshotIds.{position}", f"{snapshot_id!r} is not a snapshot ID")
    accounts = list(dict.fromkeys(req.AccountIds))
    targets = load_snapshots(ctx, list(dict.fromkeys(req.SnapshotIds)))
    for snap in targets:
        require_own(ctx, snap)
        if snap.disk_usage == ds.SYSTEM_DISK or snap.encrypt:
            kind = "a system-disk" if snap.disk_usage == ds.SYSTEM_DISK else "an encrypted"
            raise not_supported(snap.snapshot_id, f"{kind} snapshot cannot be shared.",
                                "系统盘快照和加密快照不支持共享。")
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
        raise ApiError(errors.RESOURCE_INSUFFICIENT_OVER_QUOTA,
                       f"{snap.snapshot_id} is shared with {len(have)} accounts; at most {cap}.",
                       f"快照 {snap.snapshot_id} 已共享给 {len(have)} 个账号，最多 {cap} 个。")
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
