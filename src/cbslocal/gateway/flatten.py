"""Flattened parameters (`Filters.0.Values.1=x`) rebuilt into JSON-shaped structures.

Every value stays a string here; the action's schema coerces types afterwards (protocol.md §6).
"""

from __future__ import annotations

from cbslocal.api import messages as msg
from cbslocal.api.errors import Refusal

MAX_DEPTH = 8
MAX_INDEX = 10_000


def _is_index(part: str) -> bool:
    # ASCII only: str.isdigit() is also true of "²" and "٣", which int() refuses or misreads.
    return part.isascii() and part.isdigit()


class FlattenError(Refusal):
    """A parameter name that cannot be rebuilt into the request's structure."""


def unflatten(pairs: list[tuple[str, str]]) -> dict:
    root: dict = {}
    for key, value in pairs:
        parts = key.split(".")
        if len(parts) > MAX_DEPTH or any(p == "" for p in parts):
            raise FlattenError(msg.NAME_MALFORMED, key=key)
        if _is_index(parts[0]):
            raise FlattenError(msg.NAME_STARTS_WITH_INDEX, key=key)
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise FlattenError(msg.NAME_UNDER_PLAIN_VALUE, key=key)
            node = child
        leaf = parts[-1]
        if leaf in node:
            raise FlattenError(msg.NAME_REPEATED, key=key)
        node[leaf] = value
    return _listify(root, "")


def _listify(node, path: str):
    if not isinstance(node, dict):
        return node
    keys = list(node)
    if keys and all(_is_index(k) for k in keys):
        if any(len(k) > len(str(MAX_INDEX)) for k in keys):
            raise FlattenError(msg.LIST_INDEX_TOO_LARGE, path=path, limit=MAX_INDEX)
        ordered = sorted(keys, key=int)
        if int(ordered[-1]) > MAX_INDEX:
            raise FlattenError(msg.LIST_INDEX_TOO_LARGE, path=path, limit=MAX_INDEX)
        if [int(k) for k in ordered] != list(range(len(ordered))):
            raise FlattenError(msg.LIST_INDICES_GAPPED, path=path)
        return [_listify(node[k], f"{path}.{k}") for k in ordered]
    if any(_is_index(k) for k in keys):
        raise FlattenError(msg.LIST_MIXED, path=path)
    return {k: _listify(v, f"{path}.{k}" if path else k) for k, v in node.items()}
