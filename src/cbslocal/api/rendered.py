"""API objects serialised once per change: a listing of unchanged disks or snapshots is mostly
copying bytes, not reading forty columns and building a dict per object on every call.

An entry is the JSON of one object as one kind of caller sees it (`key`: its ID and the variant,
e.g. the language), with the version of the row it was rendered from (store/row_versions.py:
the database gives a row a new version at every change). It is served only to a caller that has
just read that same version from the database, inside its own read: a changed row, whoever
changed it, is never served from here. Objects whose JSON depends on the time (progress, days
to a deadline) are not kept at all.

Bounded by bytes; the least recently used go first. CBSLOCAL_VERIFY_RENDERED=1 (tests) renders
every object served from here again and fails the call if the two differ.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import orjson

# About 3,500 disks (1.1 KiB each) or 6,000 snapshots: the objects a test suite polls, a few
# percent of the server's memory (bench/memory.py).
MAX_BYTES = 4 * 1024 * 1024
VERIFY_VARIABLE = "CBSLOCAL_VERIFY_RENDERED"


class StaleRendering(AssertionError):
    """A copy differed from the object rendered afresh: a change left its row's version alone."""


class Rendered:
    def __init__(self, max_bytes: int = MAX_BYTES, *, verify: bool | None = None):
        self.max_bytes = max_bytes
        self.verify = os.environ.get(VERIFY_VARIABLE) == "1" if verify is None else verify
        self._entries: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
        self._bytes = 0

    def get(self, key: Hashable, version: int) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: Hashable, version: int, data: bytes) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1])
        if len(data) > self.max_bytes:
            return
        self._entries[key] = (version, data)
        self._bytes += len(data)
        while self._bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        return self._bytes


def rendered_set(cache: Rendered | None, keys: Iterable[tuple[str, int]], variant: Hashable,
                 load: Callable[[list[str]], dict[str, Any]], render: Callable[[Any], dict],
                 timeless: Callable[[Any], bool]) -> list:
    """The objects `keys` ((ID, row version), in order) name, each as orjson will write it: a
    Fragment of kept bytes, or a dict rendered from its row. `load(ids)` reads the rows of those
    not kept (by ID, in the caller's read); `render(row)` makes the object; `timeless(row)`: its
    JSON does not depend on the time, so it may be kept. A row gone since its key was read (a
    process sharing PostgreSQL deleted it meanwhile) is left out."""
    keys = list(keys)
    if not keys:
        return []
    if cache is None:
        rows = load([object_id for object_id, _ in keys])
        return [render(rows[object_id]) for object_id, _ in keys if object_id in rows]
    found: dict[str, Any] = {}
    missing = []
    for object_id, version in keys:
        data = cache.get((object_id, variant), version)
        if data is None:
            missing.append(object_id)
        else:
            found[object_id] = orjson.Fragment(data)
    if cache.verify and found:
        _check(found, load(list(found)), render)
    if missing:
        for object_id, row in load(missing).items():
            rendered = render(row)
            if timeless(row):
                # A copy of the exact size: orjson's own bytes keep its whole (8 KiB) buffer.
                data = bytes(memoryview(orjson.dumps(rendered)))
                cache.put((object_id, variant), row.version, data)
                found[object_id] = orjson.Fragment(data)
            else:
                found[object_id] = rendered
    return [found[object_id] for object_id, _ in keys if object_id in found]


def _check(found: dict[str, Any], rows: dict[str, Any], render: Callable[[Any], dict]) -> None:
    for object_id, fragment in found.items():
        fresh = orjson.dumps(render(rows[object_id]))
        kept = orjson.dumps(fragment)
        if fresh != kept:
            raise StaleRendering(f"{object_id}: kept {kept[:300]!r}, now {fresh[:300]!r}")
