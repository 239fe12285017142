"""The operator's control plane under /_cbslocal/: plain JSON over HTTP, not Tencent's protocol.

Errors are 4xx with `{"error": "..."}` naming what was wrong.
"""

from __future__ import annotations

import inspect
import logging
import re
from datetime import datetime
from urllib.parse import parse_qsl

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from cbslocal import __version__
from cbslocal.router import faults
from cbslocal.router.runtime import Runtime, stored_timing, timing_json
from cbslocal import invariants
from cbslocal.cbs.disk_state import poke_disk
from cbslocal.cbs.policies import poke_policy
from cbslocal.config import Topology, merged
from cbslocal.control import PREFIX, auth, inputs
from cbslocal.control.inputs import ControlError
from cbslocal.cbs.instance_state import poke_instance
from cbslocal.engine.clock import CHINA_TZ, ClockState, format_time
from cbslocal.engine import transitions
from cbslocal.engine.timing import PROFILES, with_durations
from cbslocal.billing import ledger, usage
from cbslocal.iam import accounts
from cbslocal.observe import CALL_STATS, RecentCalls
from cbslocal.cbs.snapshot_copies import forget_lost_copies
from cbslocal.store import shared, state
from cbslocal.store.reset import delete_resources

log = logging.getLogger("cbslocal.control")
MAX_BODY = 64 * 1024
MAX_STATE_BODY = 1024 * 1024 * 1024  # an exported state of many disks

# The calls' metrics join the process's registry with the endpoint that serves them (once per
# process: this module is imported once).
REGISTRY.register(CALL_STATS)


class ControlPlane:
    def __init__(self, runtime: Runtime, recent: RecentCalls):
        self.runtime = runtime
        self.recent = recent
        self.guard = auth.Guard.of(runtime)  # who may call (control/auth.py)
        # (method, path, endpoint, the model of its body or query; None: the endpoint reads the
        # raw document — a state to import, configuration tables — or nothing)
        self.routes = [
            ("GET", re.compile(r"/health"), self.health, None),
            ("GET", re.compile(r"/check"), self.check, inputs.Nothing),
            ("GET", re.compile(r"/metrics"), self.metrics, None),
            ("GET", re.compile(r"/accounts"), self.list_accounts, inputs.Nothing),
            ("POST", re.compile(r"/accounts"), self.create_account, inputs.NewAccount),
            ("POST", re.compile(r"/accounts/(?P<account_id>[0-9]+)/keys"), self.create_key,
             inputs.NewKey),
            ("GET", re.compile(r"/accounts/(?P<account_id>[0-9]+)/billing"), self.read_billing,
             inputs.Nothing),
            ("POST", re.compile(r"/accounts/(?P<account_id>[0-9]+)/billing"), self.change_billing,
             inputs.BillingChange),
            ("GET", re.compile(r"/accounts/(?P<account_id>[0-9]+)/ledger"), self.read_ledger,
             inputs.LedgerQuery),
            ("POST", re.compile(r"/settle"), self.settle, inputs.Nothing),
            ("POST", re.compile(r"/reset"), self.reset, inputs.ResetScope),
            ("GET", re.compile(r"/clock"), self.read_clock, inputs.Nothing),
            ("POST", re.compile(r"/clock"), self.move_clock, inputs.ClockMove),
            ("GET", re.compile(r"/state"), self.export_state, inputs.StateQuery),
            ("POST", re.compile(r"/state"), self.import_state, None),
            ("GET", re.compile(r"/config"), self.read_config, inputs.Nothing),
            ("POST", re.compile(r"/config"), self.change_config, None),
            ("GET", re.compile(r"/timing"), self.read_timing, inputs.Nothing),
            ("POST", re.compile(r"/timing"), self.set_timing, inputs.TimingChange),
            ("GET", re.compile(r"/calls"), self.calls, inputs.RecentQuery),
            ("GET", re.compile(r"/faults"), self.list_faults, inputs.Nothing),
            ("POST", re.compile(r"/faults"), self.add_fault, inputs.FaultRule),
            ("DELETE", re.compile(r"/faults"), self.delete_faults, inputs.Nothing),
            ("DELETE", re.compile(r"/faults/(?P<rule_id>[0-9]+)"), self.delete_fault,
             inputs.Nothing),
            ("GET", re.compile(r"/faults/firings"), self.fault_firings, inputs.RecentQuery),
            ("POST", re.compile(r"/instances/(?P<instance_id>[^/]+)"), self.poke_instance,
             inputs.InstancePoke),
            ("POST", re.compile(r"/disks/(?P<disk_id>[^/]+)"), self.poke_disk, inputs.DiskPoke),
            ("POST", re.compile(r"/policies/(?P<policy_id>[^/]+)"), self.poke_policy,
             inputs.PolicyPoke),
        ]

    async def __call__(self, scope, receive, send) -> None:
        path = scope["path"][len(PREFIX):].rstrip("/") or "/"
        try:
            self.runtime.sync()  # what other processes sharing the store may have changed
            self.guard.check(scope, path)  # before the body is read or anything is routed
            body = await _read_json(receive, MAX_STATE_BODY if path == "/state" else MAX_BODY)
            if scope["method"] == "GET":  # a GET's parameters are its query string
                body = dict(parse_qsl(scope["query_string"].decode("utf-8", "replace")))
            handler, params, model = self._route(scope["method"], path)
            result = handler(body if model is None else inputs.read(model, body), **params)
            if inspect.isawaitable(result):  # settling works in chunks, letting calls through
                result = await result
            # (content type, raw bytes), or an object to send as JSON
            content_type, payload = result if isinstance(result, tuple) else (
                "application/json", orjson.dumps(result))
        except (ControlError, auth.Refused) as failure:
            await _reply(send, failure.status, {"error": str(failure)})
            return
        except Exception as failure:  # a bug of ours: logged, answered as JSON
            log.exception("control plane failure on %s %s", scope["method"], path)
            await _reply(send, 500, {"error": f"internal error: {type(failure).__name__}"})
            return
        await _reply_raw(send, 200, content_type, payload)

    def _route(self, method: str, path: str):
        allowed = False
        for verb, pattern, handler, model in self.routes:
            match = pattern.fullmatch(path)
            if match:
                if verb == method:
                    return handler, match.groupdict(), model
                allowed = True
        if allowed:
            raise ControlError(405, f"{method} is not allowed on {PREFIX}{path}")
        raise ControlError(404, f"no control endpoint {PREFIX}{path}")

    # --- endpoints ---------------------------------------------------------------------------
    def check(self, _body: inputs.Nothing) -> dict:
        """The consistency checker: every invariant of the store, and each violation found."""
        with self.runtime.store.read() as conn:
            report = invariants.check(conn, self.runtime.settings.topology)
        return {"violations": [v.as_json() for v in report.violations],
                "warnings": [v.as_json() for v in report.warnings],
                "invariants": invariants.invariant_names()}

    def health(self, _body: dict) -> dict:
        with self.runtime.store.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    def metrics(self, _body: dict):
        return CONTENT_TYPE_LATEST, generate_latest()

    def list_accounts(self, _body: inputs.Nothing) -> dict:
        with self.runtime.store.read() as conn:
            return {"accounts": accounts.list_accounts(conn)}

    def create_account(self, body: inputs.NewAccount) -> dict:
        with self.runtime.store.write() as conn:
            return ledger.new_account(conn, self.runtime.clock.now(), self._initial_balance(),
                                      body.name).as_json()

    def _initial_balance(self) -> int:
        return self.runtime.settings.topology.billing.initial_balance

    def create_key(self, body: inputs.NewKey, account_id: str) -> dict:
        with self.runtime.store.write() as conn:
            self._known_account(conn, account_id)
            return accounts.create_key(conn, account_id, self.runtime.clock.now(), body.ttl,
                                       body.payment_allowed).as_json()

    def read_billing(self, _body: inputs.Nothing, account_id: str) -> dict:
        with self.runtime.store.read() as conn:
            self._known_account(conn, account_id)
            return ledger.money_of(conn, account_id)

    def change_billing(self, body: inputs.BillingChange, account_id: str) -> dict:
        """Top up or set the balance (a ledger entry), allow or refuse payment."""
        with self.runtime.store.write() as conn:
            self._known_account(conn, account_id)
            if body.balance is not None or body.top_up is not None:
                try:
                    ledger.change_balance(conn, account_id, self.runtime.clock.now(),
                                          top_up=body.top_up, balance=body.balance, note=body.note)
                except ValueError as refusal:
                    raise ControlError(400, str(refusal)) from None
            if body.payment_allowed is not None:
                ledger.set_payment_allowed(conn, account_id, body.payment_allowed)
            return ledger.money_of(conn, account_id)

    def read_ledger(self, query: inputs.LedgerQuery, account_id: str) -> dict:
        with self.runtime.store.read() as conn:
            self._known_account(conn, account_id)
            return {"entries": ledger.entries(conn, account_id, after=query.after,
                                              limit=query.limit)}

    def _known_account(self, conn, account_id: str) -> None:
        if not self._account_exists(conn, account_id):
            raise ControlError(404, f"account {account_id[:40]} does not exist")

    def reset(self, body: inputs.ResetScope) -> dict:
        """No keys: everything back to a fresh data dir (the default account only, the real
        clock, the --timing profile, no fault rules, no recent calls). `account` and/or `region`:
        only those resources go (accounts, keys, clock and rules stay)."""
        account, region = body.account, body.region
        self._check_region(region)
        runtime = self.runtime
        everything = account is None and region is None

        def wipe(conn) -> dict:
            # One transaction: another process's call lands before all of it or after it.
            if account is not None and not self._account_exists(conn, account):
                raise ControlError(404, f"account {account!r} does not exist")
            removed = delete_resources(conn, account, region)
            forget_lost_copies(conn)
            transitions.rows_changed(conn)
            if everything:
                faults.delete_rules(conn)
                faults.clear_firings(conn)
                accounts.forget_accounts(conn)
                ledger.ensure_default_account(conn, runtime.clock.wall(), self._initial_balance())
                runtime.set_clock(runtime.clock.real(), conn)
                for current, initial in ((shared.CONFIG, shared.CONFIG_INITIAL),
                                         (shared.TIMING, shared.TIMING_INITIAL)):
                    value = shared.get(conn, initial)
                    if value is not None:
                        shared.put(conn, current, value)
            return removed
        removed = runtime.change_shared(wipe)
        if everything:
            runtime.throttle.reset()
            self.recent.clear()
        return {"removed": removed}

    def _check_region(self, region: str | None) -> None:
        if region is not None and region not in self.runtime.settings.topology.regions:
            raise ControlError(400, f"unknown `region` {region!r}")

    @staticmethod
    def _account_exists(conn, account: str) -> bool:
        return (inputs.ACCOUNT_ID.fullmatch(account) is not None
                and accounts.account_exists(conn, account))

    async def settle(self, _body: inputs.Nothing) -> dict:
        return {"applied": await self.runtime.settle()}

    # --- the clock ---------------------------------------------------------------------------
    def read_clock(self, _body: inputs.Nothing | None = None) -> dict:
        clock = self.runtime.clock
        now = clock.now()
        return {"now": now, "time": format_time(now),
                "iso": datetime.fromtimestamp(now, CHINA_TZ).isoformat(timespec="seconds"),
                "mode": clock.state.mode, "rate": clock.state.rate}

    async def move_clock(self, body: inputs.ClockMove) -> dict:
        """Exactly one of: advance (a duration), set (a time), mode (real/running/frozen/scaled,
        with rate for scaled). Time only moves forward: due moves are then applied at once."""
        # From the clock as the store has it, under the write lock: two advances of a day through
        # two processes at once are two days.
        self.runtime.set_clock(lambda clock: self._moved_clock(clock, body))
        return {**self.read_clock(), "applied": await self.runtime.settle()}

    @staticmethod
    def _moved_clock(clock, body: inputs.ClockMove) -> ClockState:
        if body.advance is not None:
            return inputs.within_range("advance", lambda: clock.advanced(body.advance))
        if body.set is not None:
            if body.set < clock.now():
                raise ControlError(400, f"`set` is in the past of the emulator's clock (now "
                                   f"{format_time(clock.now())}); time only moves forward")
            return inputs.within_range("set", lambda: clock.set_to(body.set))
        if body.mode == "real" and clock.now() > clock.wall() + 1:
            raise ControlError(400, "the emulator's clock is ahead of the wall clock; going back "
                               "to real time would move it backwards (use `running`)")
        return {"frozen": lambda: clock.with_rate(0.0), "running": lambda: clock.with_rate(1.0),
                "scaled": lambda: clock.with_rate(body.rate), "real": clock.real}[body.mode]()

    # --- state export / import -------------------------------------------------------------------
    def export_state(self, body: inputs.StateQuery) -> dict:
        """The whole state, or `?account=` one account's, as a versioned document."""
        account = body.account
        runtime = self.runtime
        with runtime.store.read() as conn:
            if account is not None and not self._account_exists(conn, account):
                raise ControlError(404, f"account {account!r} does not exist")
            return state.export(conn, now=runtime.clock.wall(), clock=self.read_clock(),
                                account_id=account)

    def import_state(self, body: dict) -> dict:
        """Into a cbslocal without resources: every row, and the clock as it read at the export
        (running on from there at the same rate; a real clock stays real)."""
        runtime = self.runtime
        clock = inputs.imported_clock(body.get("clock"))  # checked before anything goes in

        def load(conn) -> dict:
            # One transaction with the clock: no process applies the moves on the old clock.
            try:
                inserted = state.import_(conn, body, known_kinds=transitions.known_kinds())
            except state.ImportRefused as failure:
                raise ControlError(409 if "not empty" in str(failure) else 400, str(failure)) from None
            except (TypeError, OverflowError) as failure:  # a value no column takes: all rolls back
                raise ControlError(400, f"a row of the document does not fit its table "
                                   f"({type(failure).__name__}: {str(failure)[:200]})") from None
            accounts.keys_changed(conn)
            transitions.rows_changed(conn)
            if clock is not None:
                now, rate = clock
                runtime.set_clock(ClockState(runtime.clock.wall(), now, rate), conn)
            # What the document's accounts run by the hour is charged from here on (a document
            # of an earlier release has no settlements pending).
            usage.resume_all(conn, runtime.clock.now())
            return inserted
        inserted = runtime.change_shared(load)  # (fault rules came in: every process reads them)
        return {"inserted": inserted, "clock": self.read_clock()}

    # --- configuration -------------------------------------------------------------------------
    def read_config(self, _body: inputs.Nothing) -> dict:
        return {"config": self.runtime.settings.topology.source}

    def change_config(self, body: dict) -> dict:
        """The body is laid over the current configuration like a --config file (a table merges,
        a value replaces); the result is checked as a whole and takes effect for the next call."""
        if not body:
            raise ControlError(400, "give the tables to change, e.g. {\"limits\": {…}}")

        def change(conn) -> None:  # over the configuration as stored: no other change is lost
            try:
                topology = Topology.from_mapping(merged(shared.get(conn, shared.CONFIG), body))
            except ValueError as failure:
                raise ControlError(400, str(failure)) from None
            shared.put(conn, shared.CONFIG, topology.source)
        self.runtime.change_shared(change)
        return {"config": self.runtime.settings.topology.source}

    # --- timing --------------------------------------------------------------------------------
    def read_timing(self, _body: inputs.Nothing | None = None) -> dict:
        timing = self.runtime.timing
        return {"profile": timing.name, "durations": dict(sorted(timing.durations.items()))}

    def set_timing(self, body: inputs.TimingChange) -> dict:
        """`profile` (instant/realistic) and/or `durations` ({kind: seconds}) laid over it."""
        durations = body.durations or {}

        def change(conn) -> None:  # over the timing as stored: no other change is lost
            base = (PROFILES[body.profile] if body.profile is not None
                    else stored_timing(conn) or self.runtime.timing)
            try:
                shared.put(conn, shared.TIMING, timing_json(with_durations(base, durations)))
            except ValueError as failure:
                raise ControlError(400, f"durations: {failure}") from None
        self.runtime.change_shared(change)
        return self.read_timing()

    # --- recent calls --------------------------------------------------------------------------
    def calls(self, query: inputs.RecentQuery) -> dict:
        return {"calls": self.recent.last(query.limit)}

    # --- faults --------------------------------------------------------------------------------
    def add_fault(self, body: inputs.FaultRule) -> dict:
        """A rule: matchers service/action/account/region (each optional), effects code (+message),
        latency (seconds) and/or close, and how often: times (the next N matches) and/or
        probability (with a seed, reproducible)."""
        self._check_matchers(body)
        if body.code is not None and faults.catalog_entry(body.code) is None:
            raise ControlError(400, f"`code` {body.code!r} is neither a seed code nor a CVM code of "
                               "cbslocal's catalog")
        values = dict(service=body.service, action=body.action, account_id=body.account,
                      region=body.region, code=body.code, message=body.message, close=body.close,
                      latency=body.latency, remaining=body.times, probability=body.probability,
                      seed=body.seed)
        return self.runtime.change_shared(
            lambda conn: faults.add_rule(conn, self.runtime.clock.now(), **values))

    def _check_matchers(self, body: inputs.FaultRule) -> None:
        """The service, action and region a rule names are ones cbslocal serves."""
        registry = self.runtime.registry
        service, action = body.service, body.action
        if service is not None and service not in registry.services:
            raise ControlError(400, f"unknown `service` {service!r}; use one of "
                               f"{sorted(registry.services)}")
        if action is not None and not any(
                action in s.known_actions and (service is None or s.name == service)
                for s in registry.services.values()):
            raise ControlError(400, f"`action` {action!r} is not an action of "
                               f"{service or 'any service cbslocal serves'}")
        self._check_region(body.region)

    def list_faults(self, _body: inputs.Nothing) -> dict:
        with self.runtime.store.read() as conn:
            return {"faults": faults.list_rules(conn)}

    def delete_faults(self, _body: inputs.Nothing) -> dict:
        return {"deleted": self.runtime.change_shared(faults.delete_rules)}

    def delete_fault(self, _body: inputs.Nothing, rule_id: str) -> dict:
        if len(rule_id) > 10 or int(rule_id) > inputs.MAX_RULE_ID:  # no rule has such an ID
            raise ControlError(404, f"fault rule {rule_id[:40]} does not exist")
        deleted = self.runtime.change_shared(lambda conn: faults.delete_rules(conn, int(rule_id)))
        if not deleted:
            raise ControlError(404, f"fault rule {rule_id} does not exist")
        return {"deleted": deleted}

    def fault_firings(self, query: inputs.RecentQuery) -> dict:
        with self.runtime.store.read() as conn:
            return {"firings": faults.firings(conn, query.limit)}

    # --- pokes ---------------------------------------------------------------------------------
    def poke_instance(self, body: inputs.InstancePoke, instance_id: str) -> dict:
        inputs.check_resource_id(instance_id, "instance")
        values = {key: value for key, value in (
            ("instance_state", body.state), ("supports_cbs", body.supports_cbs),
            ("online_resize", body.online_resize), ("max_attach_count", body.max_attach_count))
            if value is not None}
        with self.runtime.store.write() as conn:
            row = poke_instance(conn, instance_id, **values)
        if row is None:
            raise ControlError(404, f"instance {instance_id} does not exist")
        return {"instance_id": row.instance_id, "state": row.instance_state,
                "supports_cbs": bool(row.supports_cbs), "online_resize": bool(row.online_resize),
                "max_attach_count": row.max_attach_count}

    def poke_disk(self, body: inputs.DiskPoke, disk_id: str) -> dict:
        inputs.check_resource_id(disk_id, "disk")
        flags = {flag: value for flag, value in (("returnable", body.returnable),
                                                 ("snapshot_ability", body.snapshot_ability))
                 if value is not None}
        with self.runtime.store.write() as conn:
            try:
                row = poke_disk(conn, disk_id, dumping=body.dumping, **flags)
            except ValueError as failure:
                raise ControlError(409, str(failure)) from None
        if row is None:
            raise ControlError(404, f"disk {disk_id} does not exist")
        return {"disk_id": row.disk_id, "state": row.disk_state, "returnable": bool(row.returnable),
                "snapshot_ability": bool(row.snapshot_ability)}

    def poke_policy(self, body: inputs.PolicyPoke, policy_id: str) -> dict:
        inputs.check_resource_id(policy_id, "automatic snapshot policy")
        with self.runtime.store.write() as conn:
            row = poke_policy(conn, policy_id, state=body.state)
        if row is None:
            raise ControlError(404, f"automatic snapshot policy {policy_id} does not exist")
        return {"policy_id": row.policy_id, "state": row.policy_state}


async def _read_json(receive, limit: int) -> dict:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ControlError(413, f"the body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ControlError(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


async def _reply(send, status: int, body: dict) -> None:
    await _reply_raw(send, status, "application/json", orjson.dumps(body))


async def _reply_raw(send, status: int, content_type: str, payload: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type.encode()), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
