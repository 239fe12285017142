"""CopySnapshotCrossRegions (cbs-behavior.md §3.24): a copy appears in each destination region,
COPYING_FROM_REMOTE, then CHECKING_COPIED, then NORMAL, on the clock."""

from __future__ import annotations

import orjson
from sqlalchemy import insert, select, update

from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.billing import ledger
from cbslocal.api.snapshot_schema import CopySnapshotCrossRegionsRequest
from cbslocal.cbs.snapshots import (CHECK, CHECKING, COPY, COPYING, NORMAL, checked_name,
                                    checked_snapshot_id, load_snapshots, new_snapshot_ids,
                                    region_snapshot_count, require_normal, require_own,
                                    snapshot_row)
from cbslocal.engine import transitions as engine
from cbslocal.store.tables import snapshots, transitions


def copy_snapshot_cross_regions(ctx: Context, req: CopySnapshotCrossRegionsRequest) -> dict:
    if req.SnapshotId is None:
        raise msg.PARAMETER_MISSING(field="SnapshotId")
    checked_snapshot_id(req.SnapshotId)
    regions = _destinations(ctx, req.DestinationRegions)
    name = checked_name(req.SnapshotName, "SnapshotName", f"Copied {req.SnapshotId} from {ctx.region}")
    snap = load_snapshots(ctx, [req.SnapshotId])[0]
    require_own(ctx, snap)
    require_normal(snap)
    if snap.encrypt:
        raise msg.ENCRYPTED_SNAPSHOT_NOT_COPYABLE(snapshot_id=snap.snapshot_id)
    copying = orjson.loads(snap.copying_to_regions)
    for region in regions:
        if region in copying:
            raise msg.SNAPSHOT_ALREADY_COPYING_TO(snapshot_id=snap.snapshot_id, region=region)
    ledger.check_not_in_arrears(ctx)  # [inf] a copy is a billed snapshot in each region
    results = [_copy_to(ctx, snap, region, name) for region in regions]
    started = [r["DestinationRegion"] for r in results if r["Code"] == "Success"]
    if started:
        ctx.conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snap.snapshot_id).values(
            copying_to_regions=orjson.dumps(copying + started).decode()))
    return {"SnapshotCopyResultSet": results}


def _destinations(ctx: Context, regions: list[str]) -> list[str]:
    for position, region in enumerate(regions):
        field = f"DestinationRegions.{position}"
        if region not in ctx.topology.regions:
            raise msg.COPY_REGION_UNKNOWN(field=field, value=region)
        if region == ctx.region:
            raise msg.COPY_REGION_IS_SOURCE(field=field, region=region)
        if region in regions[:position]:
            raise msg.VALUE_REPEATED(field=field, value=region)
    return regions


def _copy_to(ctx: Context, snap, region: str, name: str) -> dict:
    """One destination: a new snapshot there, COPYING_FROM_REMOTE until the copy is done; or the
    reason it could not start, in the result (not as the request's error)."""
    quota = ctx.topology.limits.snapshots_per_region
    have = region_snapshot_count(ctx, region) if quota else 0
    if quota and have >= quota:
        full = msg.SNAPSHOT_REGION_QUOTA_FULL
        return {"SnapshotId": "", "DestinationRegion": region, "Code": full.error.code,
                "Message": full.render(ctx.language, {"count": have, "region": region,
                                                      "quota": quota})}
    copy_id = new_snapshot_ids(ctx, 1)[0]
    duration = ctx.timing.duration(COPY)
    zone = min(z.name for z in ctx.topology.zones.values() if z.region == region)
    ctx.conn.execute(insert(snapshots).values(snapshot_row(
        ctx, copy_id, region=region, zone=zone, snapshot_name=name, snapshot_state=COPYING,
        disk_id="", disk_size=snap.disk_size, disk_usage=snap.disk_usage, encrypt=bool(snap.encrypt),
        copy_from_remote=True, op_started_at=ctx.now, op_due_at=ctx.now + duration)))
    engine.later(ctx.conn, COPY, resource_id=copy_id, account_id=ctx.account_id, region=region,
                 now=ctx.now, duration=duration,
                 payload={"source": snap.snapshot_id, "region": region})
    return {"SnapshotId": copy_id, "DestinationRegion": region, "Code": "Success", "Message": ""}


@engine.on(COPY)
def _copied(conn, copy_id: str, payload: dict, due_at: float) -> None:
    """The bytes have arrived: the source is no longer being copied there; the copy is checked."""
    source = conn.execute(select(snapshots.c.copying_to_regions).where(
        snapshots.c.snapshot_id == payload["source"])).first()
    if source is not None:
        left = [r for r in orjson.loads(source.copying_to_regions) if r != payload["region"]]
        conn.execute(update(snapshots).where(snapshots.c.snapshot_id == payload["source"])
                     .values(copying_to_regions=orjson.dumps(left).decode()))
    copy = conn.execute(select(snapshots).where(snapshots.c.snapshot_id == copy_id,
                                                snapshots.c.snapshot_state == COPYING)).first()
    if copy is None:
        return
    duration = engine.environment(conn).timing.duration(CHECK)
    conn.execute(update(snapshots).where(snapshots.c.snapshot_id == copy_id).values(
        snapshot_state=CHECKING, op_due_at=due_at + duration))
    engine.later(conn, CHECK, resource_id=copy_id, account_id=copy.account_id, region=copy.region,
                 now=due_at, duration=duration)


def forget_lost_copies(conn) -> None:
    """After a reset removed copies in flight (their region or account went), their sources are
    being copied there no more: CopyingToRegions follows the copy moves still pending."""
    pending = {}
    for move in conn.execute(select(transitions.c.payload).where(transitions.c.kind == COPY)):
        payload = orjson.loads(move.payload)
        pending.setdefault(payload["source"], set()).add(payload["region"])
    for snap in conn.execute(select(snapshots.c.snapshot_id, snapshots.c.copying_to_regions).where(
            snapshots.c.copying_to_regions != "[]")).all():
        left = [r for r in orjson.loads(snap.copying_to_regions) if r in pending.get(snap.snapshot_id, ())]
        conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snap.snapshot_id)
                     .values(copying_to_regions=orjson.dumps(left).decode()))


@engine.on(CHECK)
def _checked(conn, copy_id: str, _payload: dict, _due_at: float) -> None:
    conn.execute(update(snapshots).where(snapshots.c.snapshot_id == copy_id,
                                         snapshots.c.snapshot_state == CHECKING)
                 .values(snapshot_state=NORMAL, op_started_at=None, op_due_at=None))
