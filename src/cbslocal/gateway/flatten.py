"""Flattened parameters (`Filters.0.Values.1=x`) rebuilt into JSON-shaped structures.

Every value stays a string here; the action's schema coerces types afterwards (protocol.md §6).
"""

from __future__ import annotations

MAX_DEPTH = 8
MAX_INDEX = 10_000


def _is_index(part: str) -> bool:
    # ASCII only: str.isdigit() is also true of "²" and "٣", which int() refuses or misreads.
    return part.isascii() and part.isdigit()


class FlattenError(ValueError):
    pass


def unflatten(pairs: list[tuple[str, str]]) -> dict:
    root: dict = {}
    for key, value in pairs:
        parts = key.split(".")
        if len(parts) > MAX_DEPTH or any(p == "" for p in parts):
            raise FlattenError(f"malformed parameter name {key!r}")
        if _is_index(parts[0]):
            raise FlattenError(f"parameter name {key!r} must start with a field name")
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise FlattenError(f"parameter {key!r} conflicts with a plain value")
            node = child
        leaf = parts[-1]
        if leaf in node:
            raise FlattenError(f"parameter {key!r} is given more than once or conflicts "
                               "with a nested one")
        node[leaf] = value
    return _listify(root, "")


def _listify(node, path: str):
    if not isinstance(node, dict):
        return node
    keys = list(node)
    if keys and all(_is_index(k) for k in keys):
        if any(len(k) > len(str(MAX_INDEX)) for k in keys):
            raise FlattenError(f"list index too large in {path or 'parameters'!r}")
        ordered = sorted(keys, key=int)
        if int(ordered[-1]) > MAX_INDEX:
            raise FlattenError(f"list index too large in {path or 'parameters'!r}")
        if [int(k) for k in ordered] != list(range(len(ordered))):
            raise FlattenError(f"list {path!r} has missing or repeated indices")
        return [_listify(node[k], f"{path}.{k}") for k in ordered]
    if any(_is_index(k) for k in keys):
        raise FlattenError(f"{path!r} mixes list indices and field names")
    return {k: _listify(v, f"{path}.{k}" if path else k) for k, v in node.items()}
