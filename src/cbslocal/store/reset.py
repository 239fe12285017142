"""Wiping resources (the control plane's reset): everything, or one account's, or one region's.

Every resource row carries its account and region (store/scope.py), so one loop over the resource
tables does it; tags and attachments go with their disks (triggers, foreign keys).
"""

from __future__ import annotations

from sqlalchemy import and_, delete, true

from cbslocal.store.tables import (auto_snapshot_policies, client_tokens, disk_attachments,
                                   disk_census, disk_tag_census, disks, image_snapshots, images,
                                   instances, policy_disks, snapshot_census, snapshot_shares,
                                   snapshots, transitions)

# Dependents first.
RESOURCE_TABLES = (transitions, client_tokens, disk_attachments, policy_disks,
                   auto_snapshot_policies, snapshot_shares, image_snapshots, images, snapshots,
                   disks, instances)


def delete_resources(conn, account_id: str | None = None, region: str | None = None) -> dict:
    """Delete the resources (and pending moves) of the account and/or region, or all of them;
    returns how many rows went, per table."""
    removed = {}
    for table in RESOURCE_TABLES:
        where = and_(true(), *([table.c.account_id == account_id] if account_id else []),
                     *([table.c.region == region] if region else []))
        removed[str(table.name)] = conn.execute(delete(table).where(where)).rowcount
    if account_id is None and region is None:  # the censuses of nothing: empty, as when fresh
        for census in (disk_census, disk_tag_census, snapshot_census):
            conn.execute(delete(census))
    return removed
