"""Every message the API answers with, as data: for each error, templates in zh-CN and en-US with
named parameters (errors.Detail). Code raises a Detail with values, never a sentence:

    raise msg.DISK_NOT_FOUND(disk_id=disk_id)

One namespace (`from cbslocal.api import messages as msg`) over one module per area; a name is
defined once (tests/unit/test_messages.py)."""

from __future__ import annotations

from cbslocal.api.messages import billing, common, cvm, disks, gateway, snapshots

AREAS = (common, gateway, disks, snapshots, cvm, billing)


def _gather() -> dict:
    found = {}
    for area in AREAS:
        for name in getattr(area, "__all__", [n for n in vars(area) if n.isupper()]):
            if name in found:
                raise ImportError(f"message {name} is defined in two areas")
            found[name] = getattr(area, name)
    return found


globals().update(_gather())
