"""Custom images: the CVM image calls a user makes on snapshots — CreateImage (from snapshots, or
from an instance, which snapshots its disks), DescribeImages, DeleteImages. An image built on a
snapshot keeps it from being deleted alone (UnsupportedOperation.SnapshotHasBindedImage).
"""

from __future__ import annotations

from types import SimpleNamespace

import orjson
from sqlalchemy import insert, select, update

from cbslocal import ids
from cbslocal.api import errors
from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.api.cvm_schema import (CreateImageRequest, DeleteImagesRequest, DescribeImagesRequest,
                                     image_json)
from cbslocal.api.errors import ApiError
from cbslocal.cbs import disk_state as ds
from cbslocal.cbs import snapshots as snaps
from cbslocal.cbs import instance_state as inst
from cbslocal.engine import transitions as engine
from cbslocal.store.scope import owned_by
from cbslocal.store.prepared import new_ids
from cbslocal.store.tables import disks, image_snapshots, images, instances, snapshots

CREATING, NORMAL = "CREATING", "NORMAL"
CREATE = "image.create"
NAME_MAX = 60
IMAGE_TYPES = ("PRIVATE_IMAGE", "PUBLIC_IMAGE", "SHARED_IMAGE", "MARKET_IMAGE")
PUBLIC_SINCE = 1577808000.0  # the public images' CreatedTime: 2020-01-01
PUBLIC_IMAGE_SIZE = 20


def os_of_image(ctx: Context, image_id: str) -> str | None:
    """The operating system of an image the caller can launch: a public one, or its own custom
    image once created; None for any other."""
    if image_id in ctx.topology.images:
        return ctx.topology.images[image_id]
    found = ctx.conn.execute(select(images.c.os_name).where(
        owned_by(images, ctx.account_id, ctx.region), images.c.image_id == image_id,
        images.c.image_state == NORMAL)).first()
    return found.os_name if found else None


# --- CreateImage -----------------------------------------------------------------------------------
def create_image(ctx: Context, req: CreateImageRequest) -> dict:
    if not 1 <= len(req.ImageName) <= NAME_MAX:
        raise msg.TEXT_LENGTH_BETWEEN(field="ImageName", min=1, max=NAME_MAX)
    if req.InstanceId is None and not req.SnapshotIds:
        raise msg.PARAMETER_MISSING(field="InstanceId")
    if req.InstanceId is not None and req.SnapshotIds:
        raise msg.IMAGE_SOURCES_EXCLUSIVE(field="SnapshotIds", other="InstanceId")
    if ctx.conn.execute(select(images.c.image_id).where(
            owned_by(images, ctx.account_id, ctx.region), images.c.image_name == req.ImageName)).first():
        raise msg.IMAGE_NAME_TAKEN(image_name=req.ImageName)
    if req.SnapshotIds:
        sources, os_name = _from_snapshots(ctx, req.SnapshotIds)
    else:
        sources, os_name = _from_instance(ctx, req)
    if req.DryRun:
        raise msg.DRY_RUN()
    image_id = new_ids(ctx.conn, ids.IMAGE, images.c.image_id, 1)[0]
    if not req.SnapshotIds:  # snapshots of the instance's disks, made for the image
        sources = [_snapshot_for(ctx, disk, image_id) for disk in sources]
    _insert_image(ctx, req, image_id, sources, os_name)
    return {"ImageId": image_id}


def _from_snapshots(ctx: Context, snapshot_ids: list[str]) -> tuple[list, str]:
    """The snapshots of the image: the caller's, NORMAL, exactly one of a system disk."""
    for value in snapshot_ids:
        if not ids.is_resource_id(ids.SNAPSHOT, value):
            raise msg.IMAGE_SNAPSHOT_ID_MALFORMED(snapshot_id=value)
    rows = {r.snapshot_id: r for r in ctx.conn.execute(select(snapshots).where(
        owned_by(snapshots, ctx.account_id, ctx.region), snapshots.c.snapshot_id.in_(snapshot_ids)))}
    for value in snapshot_ids:
        if value not in rows:
            raise msg.IMAGE_SNAPSHOT_NOT_FOUND(snapshot_id=value)
        if rows[value].snapshot_state != snaps.NORMAL:
            raise msg.IMAGE_SNAPSHOT_NOT_READY(snapshot_id=value, state=rows[value].snapshot_state)
    system = [rows[v] for v in dict.fromkeys(snapshot_ids) if rows[v].disk_usage == ds.SYSTEM_DISK]
    if not system:
        raise ApiError(errors.CVM_SYSTEM_SNAPSHOT_NOT_FOUND)
    if len(system) > 1:
        raise ApiError(errors.CVM_DUPLICATE_SYSTEM_SNAPSHOTS)
    return [rows[v] for v in dict.fromkeys(snapshot_ids)], _os_of_disk(ctx, system[0].disk_id)


def _os_of_disk(ctx: Context, disk_id: str) -> str:
    """The operating system on a system disk: its instance's, while the disk is known."""
    found = ctx.conn.execute(select(instances.c.os_name).join(
        disks, disks.c.instance_id == instances.c.instance_id).where(disks.c.disk_id == disk_id)).first()
    return found.os_name if found else "Linux"


def _from_instance(ctx: Context, req: CreateImageRequest) -> tuple[list, str]:
    """The disks to snapshot for an image of an instance: its system disk and DataDiskIds."""
    instance = inst.require_instance(ctx, req.InstanceId)
    if instance.instance_state not in inst.TAKES_DISKS:
        raise msg.INSTANCE_STATE_REFUSALS[instance.instance_state](
            instance_id=instance.instance_id, state=instance.instance_state)
    attached = {d.disk_id: d for d in ctx.conn.execute(select(disks).where(
        disks.c.instance_id == instance.instance_id, disks.c.disk_state != ds.PROVISIONING))}
    system = [d for d in attached.values() if d.disk_usage == ds.SYSTEM_DISK]
    chosen = system[:1]
    for position, disk_id in enumerate(req.DataDiskIds or ()):
        disk = attached.get(disk_id)
        if disk is None or disk.disk_usage != ds.DATA_DISK:
            raise msg.IMAGE_DATA_DISK_NOT_OF_INSTANCE(field=f"DataDiskIds.{position}", disk_id=disk_id,
                                                      instance_id=instance.instance_id)
        chosen.append(disk)
    for disk in chosen:
        refusal = snaps.snapshot_refusal(ctx, disk)
        if refusal is not None:
            raise refusal
    return chosen, instance.os_name


def _snapshot_for(ctx: Context, disk, image_id: str):
    snapshot_id = snaps.take_snapshot(ctx, disk, name=f"Created for image {image_id}",
                                      deadline_at=None, usage=disk.disk_usage)
    return ctx.conn.execute(select(snapshots).where(snapshots.c.snapshot_id == snapshot_id)).one()


def _insert_image(ctx: Context, req: CreateImageRequest, image_id: str, sources: list,
                  os_name: str) -> None:
    tags = [{"Key": t.Key, "Value": t.Value} for spec in req.TagSpecification or ()
            if spec.ResourceType == "image" for t in spec.Tags]
    system = next(s for s in sources if s.disk_usage == ds.SYSTEM_DISK)
    duration = max(ctx.timing.duration(CREATE), ctx.timing.duration(snaps.CREATE))
    ctx.conn.execute(insert(images).values(
        image_id=image_id, account_id=ctx.account_id, region=ctx.region,
        image_name=req.ImageName, image_description=req.ImageDescription or "",
        image_state=CREATING, os_name=os_name, platform=os_name.split(" ", 1)[0],
        architecture="x86_64", image_size=system.disk_size, source_instance_id=req.InstanceId,
        tags=orjson.dumps(tags).decode(), created_at=ctx.now))
    ctx.conn.execute(insert(image_snapshots), [
        dict(image_id=image_id, snapshot_id=s.snapshot_id, account_id=ctx.account_id,
             region=ctx.region) for s in sources])
    snaps.refresh_snapshot_images(ctx.conn, [s.snapshot_id for s in sources])
    engine.later(ctx.conn, CREATE, resource_id=image_id, account_id=ctx.account_id,
                 region=ctx.region, now=ctx.now, duration=duration)


@engine.on(CREATE)
def _created(conn, image_id: str, _payload: dict, _due_at: float) -> None:
    conn.execute(update(images).where(images.c.image_id == image_id, images.c.image_state == CREATING)
                 .values(image_state=NORMAL))


# --- DescribeImages --------------------------------------------------------------------------------
_FILTERS = {"image-id": "image_id", "image-name": "image_name", "platform": "platform",
            "image-type": "image_type"}


def describe_images(ctx: Context, req: DescribeImagesRequest) -> dict:
    if req.ImageIds is not None and req.Filters is not None:
        raise ApiError(errors.CVM_IMAGE_IDS_AND_FILTERS)
    limit = 20 if req.Limit is None else req.Limit
    if not 1 <= limit <= 100:
        raise msg.VALUE_BETWEEN(field="Limit", min=1, max=100)
    for value in req.ImageIds or ():
        if not ids.is_resource_id(ids.IMAGE, value):
            raise msg.IMAGE_ID_MALFORMED(image_id=value)
    listed = [(row, False) for row in _own_images(ctx)] + [(row, True) for row in _public_images(ctx)]
    if req.ImageIds is not None:
        listed = [(row, public) for row, public in listed if row.image_id in req.ImageIds]
    for flt in req.Filters or ():
        column = _FILTERS.get(flt.Name)
        if column is None:
            raise msg.FILTER_UNSUPPORTED(name=flt.Name, action="DescribeImages")
        listed = [(row, public) for row, public in listed
                  if _value(row, public, column) in flt.Values]
    page = listed[req.Offset or 0:(req.Offset or 0) + limit]
    links = _snapshot_sets(ctx, [row.image_id for row, public in page if not public])
    return {"TotalCount": len(listed),
            "ImageSet": [image_json(row, snapshot_set=links.get(row.image_id, []), public=public)
                         for row, public in page]}


def _value(row, public: bool, column: str) -> str:
    if column == "image_type":
        return "PUBLIC_IMAGE" if public else "PRIVATE_IMAGE"
    return getattr(row, column)


def _own_images(ctx: Context) -> list:
    return ctx.conn.execute(select(images).where(owned_by(images, ctx.account_id, ctx.region))
                            .order_by(images.c.created_at.desc(), images.c.seq.desc())).all()


def _public_images(ctx: Context) -> list:
    """The public images the configuration lists (RunInstances takes them)."""
    return [SimpleNamespace(image_id=image_id, os_name=os_name, platform=os_name.split(" ", 1)[0],
                            image_name=os_name, image_description=os_name, image_state=NORMAL,
                            image_size=PUBLIC_IMAGE_SIZE, architecture="x86_64", account_id="",
                            tags="[]", created_at=PUBLIC_SINCE)
            for image_id, os_name in sorted(ctx.topology.images.items())]


def _snapshot_sets(ctx: Context, image_ids: list[str]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    if image_ids:
        for row in ctx.conn.execute(
                select(image_snapshots.c.image_id, snapshots.c.snapshot_id, snapshots.c.disk_usage,
                       snapshots.c.disk_size)
                .join(snapshots, snapshots.c.snapshot_id == image_snapshots.c.snapshot_id)
                .where(image_snapshots.c.image_id.in_(image_ids))
                .order_by(snapshots.c.disk_usage.desc(), snapshots.c.seq)):
            found.setdefault(row.image_id, []).append(
                {"SnapshotId": row.snapshot_id, "DiskUsage": row.disk_usage, "DiskSize": row.disk_size})
    return found


# --- DeleteImages ----------------------------------------------------------------------------------
def delete_images(ctx: Context, req: DeleteImagesRequest) -> dict:
    image_ids = list(dict.fromkeys(req.ImageIds))
    for value in image_ids:
        if not ids.is_resource_id(ids.IMAGE, value):
            raise msg.IMAGE_ID_MALFORMED(image_id=value)
    rows = {r.image_id: r for r in ctx.conn.execute(select(images).where(
        owned_by(images, ctx.account_id, ctx.region), images.c.image_id.in_(image_ids)))}
    for value in image_ids:
        if value in ctx.topology.images:
            raise msg.IMAGE_IS_PUBLIC(image_id=value)
        if value not in rows:
            raise msg.IMAGE_NOT_FOUND(image_id=value)
        if rows[value].image_state != NORMAL:
            raise msg.IMAGE_STATE_INCORRECT(image_id=value, state=rows[value].image_state)
    if req.DryRun:
        raise msg.DRY_RUN()
    bound = list(ctx.conn.execute(select(image_snapshots.c.snapshot_id).where(
        image_snapshots.c.image_id.in_(image_ids))).scalars())
    snaps.delete_images(ctx.conn, image_ids, ctx.now)
    if req.DeleteBindedSnap:
        _delete_snapshots_left(ctx, bound)
    return {}


def _delete_snapshots_left(ctx: Context, snapshot_ids: list[str]) -> None:
    """DeleteBindedSnap: the images' snapshots go too, those no other image needs and nothing
    holds (shared out, busy)."""
    doomed = ctx.conn.execute(select(snapshots).where(
        snapshots.c.snapshot_id.in_(snapshot_ids), snapshots.c.images == "[]",
        snapshots.c.snapshot_state == snaps.NORMAL, snapshots.c.share_reference == 0,
        snapshots.c.copying_to_regions == "[]")).all()
    snaps.remove_snapshots(ctx.conn, doomed)
