"""From a verified ApiCall to a response: action → version → region → schema → handler, inside
one transaction, after every asynchronous move that has come due (protocol.md §9 order)."""

from __future__ import annotations

import asyncio

from cbslocal.api import messages as msg
from cbslocal.api import schema
from cbslocal.api.call import ApiCall
from cbslocal.api.context import Context
from cbslocal.api.errors import CloseConnection
from cbslocal.router import idempotency
from cbslocal.router.registry import Action
from cbslocal.router.runtime import Runtime


async def dispatch(call: ApiCall, runtime: Runtime, request_id: str, language: str) -> dict:
    v1 = call.signature_method != "TC3-HMAC-SHA256"
    if not call.action:
        raise msg.PARAMETER_MISSING(field="Action" if v1 else "X-TC-Action")
    service = runtime.registry.service_for(call.scope_service, call.action)
    if service is None or call.action not in service.known_actions:
        raise msg.ACTION_UNKNOWN(action=call.action)
    call.service = service.name
    if not call.version:
        raise msg.PARAMETER_MISSING(field="Version" if v1 else "X-TC-Version")
    if call.version != service.version:
        raise msg.VERSION_UNKNOWN(service=service.name, version=call.version,
                                  supported=service.version)
    if not call.region:
        raise msg.PARAMETER_MISSING(field="Region" if v1 else "X-TC-Region")
    next_due = runtime.sync()
    if call.region not in runtime.settings.topology.regions:
        raise msg.REGION_UNSUPPORTED(region=call.region)
    if runtime.faults.may_fire():
        await _inject_faults(call, runtime, request_id)
    rates = runtime.settings.topology.rate_limits
    if rates is not None:  # protocol.md §9: the rate limit comes before the parameters
        runtime.throttle.admit(call.account_id, call.action, call.region, rates.of(call.action),
                               runtime.clock.wall())
    action = service.actions.get(call.action)
    if action is None:  # the input is checked as the real service would, then refused
        schema.parse(service.unimplemented_request(call.action), call.params)
        raise msg.ACTION_NOT_IMPLEMENTED(action=call.action)
    request = schema.parse(action.request, call.params)
    if action.mutating:
        await runtime.caught_up()
        return await runtime.committer.run(lambda conn, now: _write(
            action, request, _context(call, runtime, request_id, language, now, conn)))
    now = runtime.clock.now()
    if runtime.must_settle_before_read(next_due, now):
        await runtime.writer.run(runtime.settle_chunk, now)
    with runtime.store.read() as conn:
        return action.handler(_context(call, runtime, request_id, language, now, conn), request)


def _write(action: Action, request, ctx: Context) -> dict:
    if action.client_token:
        return idempotency.once(ctx, action.name, request.ClientToken,
                                lambda: action.handler(ctx, request))
    return action.handler(ctx, request)


async def _inject_faults(call: ApiCall, runtime: Runtime, request_id: str) -> None:
    """A matching fault rule acts here: once the call is known to be well addressed, and before
    its parameters are read or anything changes."""
    fault = runtime.faults.check(service=call.service, action=call.action,
                                 account_id=call.account_id, region=call.region,
                                 request_id=request_id, now=runtime.clock.now())
    if fault is None:
        return
    if fault.latency:
        await asyncio.sleep(fault.latency)
    if fault.close:
        raise CloseConnection()
    if fault.error is not None:
        raise fault.error


def _context(call: ApiCall, runtime: Runtime, request_id: str, language: str, now: float,
             conn) -> Context:
    return Context(account_id=call.account_id, region=call.region, language=language,
                   request_id=request_id, now=now, conn=conn, topology=runtime.settings.topology,
                   timing=runtime.timing, rendered=runtime.rendered, secret_id=call.secret_id,
                   action=call.action)
