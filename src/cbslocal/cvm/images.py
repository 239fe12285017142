"""Custom images built on snapshots: what CBS needs of them (a snapshot with images cannot be
deleted unless the images go too), and the CVM image calls a user makes for that."""

from __future__ import annotations

import orjson
from sqlalchemy import delete, select, update

from cbslocal.store.tables import image_snapshots, images, snapshots


def images_of_snapshots(conn, snapshot_ids: list[str]) -> list[str]:
    """The images built on any of the snapshots."""
    if not snapshot_ids:
        return []
    return list(dict.fromkeys(conn.execute(select(image_snapshots.c.image_id).where(
        image_snapshots.c.snapshot_id.in_(snapshot_ids)).order_by(image_snapshots.c.image_id))
        .scalars()))


def delete_images(conn, image_ids: list[str]) -> None:
    """Delete images; the snapshots they were built on list them no more."""
    if not image_ids:
        return
    touched = list(conn.execute(select(image_snapshots.c.snapshot_id).where(
        image_snapshots.c.image_id.in_(image_ids))).scalars())
    conn.execute(delete(images).where(images.c.image_id.in_(image_ids)))  # links go with them
    refresh_snapshot_images(conn, touched)


def refresh_snapshot_images(conn, snapshot_ids: list[str]) -> None:
    """Write each snapshot's Images list again from the links (snapshots.images shows them)."""
    for snapshot_id in dict.fromkeys(snapshot_ids):
        rows = conn.execute(select(images.c.image_id, images.c.image_name)
                            .join(image_snapshots, image_snapshots.c.image_id == images.c.image_id)
                            .where(image_snapshots.c.snapshot_id == snapshot_id)
                            .order_by(images.c.seq)).all()
        listed = [{"ImageId": r.image_id, "ImageName": r.image_name} for r in rows]
        conn.execute(update(snapshots).where(snapshots.c.snapshot_id == snapshot_id)
                     .values(images=orjson.dumps(listed).decode()))
