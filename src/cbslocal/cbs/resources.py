"""What CBS's resources (disks, snapshots, policies) share: the pages of a listing, tags, the
default name."""

from __future__ import annotations

from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.api.errors import ZH_CN
from cbslocal.engine import transitions as engine

TAG_KEY_MAX, TAG_VALUE_MAX = 127, 255
# Past any real number of rows, and within what every database binds as a 64-bit integer.
_OFFSET_CEILING = 2**62


def engine_context(conn, account_id: str, region: str, now: float) -> Context:
    """The context of an action the engine takes on an account's behalf (a policy firing, a
    prepaid disk's deadline)."""
    env = engine.environment(conn)
    return Context(account_id=account_id, region=region, language=ZH_CN, request_id="",
                   now=now, conn=conn, topology=env.topology, timing=env.timing)


def unnamed(ctx: Context) -> str:
    return msg.UNNAMED.get(ctx.language, msg.UNNAMED[ZH_CN])


def validate_tags(tags, max_tags: int) -> None:
    if len(tags) > max_tags:
        raise msg.TAGS_PER_RESOURCE(max=max_tags)
    seen = set()
    for position, tag in enumerate(tags):
        if not 1 <= len(tag.Key) <= TAG_KEY_MAX:
            raise msg.TEXT_LENGTH_BETWEEN(field=f"Tags.{position}.Key", min=1, max=TAG_KEY_MAX)
        if len(tag.Value) > TAG_VALUE_MAX:
            raise msg.TEXT_TOO_LONG(field=f"Tags.{position}.Value", max=TAG_VALUE_MAX)
        if tag.Key in seen:
            raise msg.VALUE_REPEATED(field=f"Tags.{position}.Key", value=tag.Key)
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
        raise msg.VALUE_AT_MOST(field="Limit", max=max_limit)
    return limit, min(req.Offset or 0, _OFFSET_CEILING)
