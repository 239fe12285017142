"""ClientToken idempotency, for every action registered with `client_token` (CreateDisks,
RunInstances): the first answer given to a token is stored with what it created, in the same
transaction, and is the answer to every retry. A failed call stores nothing: its retry runs anew."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from sqlalchemy import insert, select

from cbslocal.api import messages as msg
from cbslocal.api.context import Context
from cbslocal.store.scope import owned_by
from cbslocal.store.tables import client_tokens


def earlier_answer(ctx: Context, action: str, token: str) -> dict | None:
    """The answer already given to `token` (checked: 1 to 64 ASCII characters), or None."""
    limit = ctx.topology.limits.client_token_max_length
    if not token or len(token) > limit or not token.isascii():
        raise msg.CLIENT_TOKEN_MALFORMED(max=limit)
    row = ctx.conn.execute(select(client_tokens.c.result).where(
        owned_by(client_tokens, ctx.account_id, ctx.region),
        client_tokens.c.action == action, client_tokens.c.token == token)).first()
    return orjson.loads(row.result) if row else None


def remember(ctx: Context, action: str, token: str, answer: dict) -> None:
    ctx.conn.execute(insert(client_tokens).values(
        account_id=ctx.account_id, region=ctx.region, action=action, token=token,
        result=orjson.dumps(answer).decode(), created_at=ctx.now))


def once(ctx: Context, action: str, token: str | None, answer: Callable[[], dict]) -> dict:
    """`answer()`, unless `token` was answered before: then that answer."""
    if token is None:
        return answer()
    earlier = earlier_answer(ctx, action, token)
    if earlier is not None:
        return earlier
    first = answer()
    remember(ctx, action, token, first)
    return first
