"""What CBS's resources (disks, snapshots, policies) share: the pages of a listing, tags, the
default name."""

from __future__ import annotations

from cbslocal.api import errors
from cbslocal.api.context import Context
from cbslocal.api.errors import ApiError

UNNAMED = {"zh-CN": "未命名", "en-US": "Unnamed"}
TAG_KEY_MAX, TAG_VALUE_MAX = 127, 255
# Past any real number of rows, and within what every database binds as a 64-bit integer.
_OFFSET_CEILING = 2**62


def unnamed(ctx: Context) -> str:
    return UNNAMED.get(ctx.language, UNNAMED["zh-CN"])


def validate_tags(tags, max_tags: int) -> None:
    if len(tags) > max_tags:
        raise ApiError(errors.INVALID_PARAMETER_VALUE_LIMIT_EXCEEDED,
                       f"At most {max_tags} tags per resource.", f"每个资源最多 {max_tags} 个标签。")
    seen = set()
    for position, tag in enumerate(tags):
        if not 1 <= len(tag.Key) <= TAG_KEY_MAX:
            raise errors.invalid_value(f"Tags.{position}.Key", f"must be 1 to {TAG_KEY_MAX} characters")
        if len(tag.Value) > TAG_VALUE_MAX:
            raise errors.invalid_value(f"Tags.{position}.Value", f"must be at most {TAG_VALUE_MAX} characters")
        if tag.Key in seen:
            raise errors.invalid_value(f"Tags.{position}.Key", f"tag key {tag.Key!r} is given twice")
        seen.add(tag.Key)


def page_total(rows: list, limit: int, offset: int, count) -> int:
    """TotalCount of a page: a short page past the start tells it; otherwise `count()` does."""
    if len(rows) < limit and (rows or offset == 0):
        return offset + len(rows)
    return count()


def page_of(ctx: Context, req) -> tuple[int, int]:
    max_limit = ctx.topology.limits.describe_max_limit
    limit = 20 if req.Limit is None else req.Limit
    if limit > max_limit:
        raise errors.invalid_value("Limit", f"must be at most {max_limit}")
    return limit, min(req.Offset or 0, _OFFSET_CEILING)
