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
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cbslocal import __version__
from cbslocal.router import faults
from cbslocal.router.runtime import Runtime, stored_timing, timing_json
from cbslocal import invariants
from cbslocal.cbs.disk_state import poke_disk
from cbslocal.cbs.policies import ISOLATED, NORMAL, poke_policy
from cbslocal.config import Topology, merged
from cbslocal.control import auth, inputs
from cbslocal.control.inputs import ControlError
from cbslocal.cbs.instance_state import POKABLE_STATES, poke_instance
from cbslocal.engine.clock import (CHINA_TZ, MAX_RATE, ClockState, format_time)
from cbslocal.engine import transitions
from cbslocal.engine.timing import PROFILES, with_durations
from cbslocal.iam import accounts
from cbslocal.observe import RecentCalls
from cbslocal.cbs.snapshot_copies import forget_lost_copies
from cbslocal.store import shared, state
from cbslocal.store.reset import delete_resources

POLICY_STATES = (NORMAL, ISOLATED)

log = logging.getLogger("cbslocal.control")
PREFIX = "/_cbslocal"
MAX_BODY = 64 * 1024
MAX_STATE_BODY = 1024 * 1024 * 1024  # an exported state of many disks


class ControlPlane:
    def __init__(self, runtime: Runtime, recent: RecentCalls):
        self.runtime = runtime
        self.recent = recent
        self.guard = auth.Guard.of(runtime)  # who may call (control/auth.py)
        self.routes = [
            ("GET", re.compile(r"/health"), self.health),
            ("GET", re.compile(r"/check"), self.check),
            ("GET", re.compile(r"/metrics"), self.metrics),
            ("GET", re.compile(r"/accounts"), self.list_accounts),
            ("POST", re.compile(r"/accounts"), self.create_account),
            ("POST", re.compile(r"/accounts/(?P<account_id>[0-9]+)/keys"), self.create_key),
            ("POST", re.compile(r"/settle"), self.settle),
            ("POST", re.compile(r"/reset"), self.reset),
            ("GET", re.compile(r"/clock"), self.read_clock),
            ("POST", re.compile(r"/clock"), self.move_clock),
            ("GET", re.compile(r"/state"), self.export_state),
            ("POST", re.compile(r"/state"), self.import_state),
            ("GET", re.compile(r"/config"), self.read_config),
            ("POST", re.compile(r"/config"), self.change_config),
            ("GET", re.compile(r"/timing"), self.read_timing),
            ("POST", re.compile(r"/timing"), self.set_timing),
            ("GET", re.compile(r"/calls"), self.calls),
            ("GET", re.compile(r"/faults"), self.list_faults),
            ("POST", re.compile(r"/faults"), self.add_fault),
            ("DELETE", re.compile(r"/faults"), self.delete_faults),
            ("DELETE", re.compile(r"/faults/(?P<rule_id>[0-9]+)"), self.delete_fault),
            ("GET", re.compile(r"/faults/firings"), self.fault_firings),
            ("POST", re.compile(r"/instances/(?P<instance_id>[^/]+)"), self.poke_instance),
            ("POST", re.compile(r"/disks/(?P<disk_id>[^/]+)"), self.poke_disk),
            ("POST", re.compile(r"/policies/(?P<policy_id>[^/]+)"), self.poke_policy),
        ]

    async def __call__(self, scope, receive, send) -> None:
        path = scope["path"][len(PREFIX):].rstrip("/") or "/"
        try:
            self.runtime.sync()  # what other processes sharing the store may have changed
            self.guard.check(scope, path)  # before the body is read or anything is routed
            body = await _read_json(receive, MAX_STATE_BODY if path == "/state" else MAX_BODY)
            if scope["method"] == "GET":  # a GET's parameters are its query string
                body = dict(parse_qsl(scope["query_string"].decode("utf-8", "replace")))
            handler, params = self._route(scope["method"], path)
            result = handler(body, **params)
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
        for verb, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match:
                if verb == method:
                    return handler, match.groupdict()
                allowed = True
        if allowed:
            raise ControlError(405, f"{method} is not allowed on {PREFIX}{path}")
        raise ControlError(404, f"no control endpoint {PREFIX}{path}")

    # --- endpoints ---------------------------------------------------------------------------
    def check(self, body: dict) -> dict:
        """The consistency checker: every invariant of the store, and each violation found."""
        inputs.only_keys(body, set())
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

    def list_accounts(self, body: dict) -> dict:
        inputs.only_keys(body, set())
        with self.runtime.store.read() as conn:
            return {"accounts": accounts.list_accounts(conn)}

    def create_account(self, body: dict) -> dict:
        inputs.only_keys(body, {"name"})
        name = body.get("name", "")
        if not inputs.is_text(name, 128):
            raise ControlError(400, "`name` must be a string of at most 128 characters (no NUL)")
        with self.runtime.store.write() as conn:
            return accounts.create_account(conn, self.runtime.clock.now(), name).as_json()

    def create_key(self, body: dict, account_id: str) -> dict:
        inputs.only_keys(body, {"ttl"})
        ttl = body.get("ttl")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, (int, float))
                                or not 0 < ttl <= 366 * 86400):
            raise ControlError(400, "`ttl` must be a number of seconds between 0 and 31622400")
        if not inputs.ACCOUNT_ID.fullmatch(account_id):
            raise ControlError(404, f"account {account_id[:40]} does not exist")
        with self.runtime.store.write() as conn:
            try:
                return accounts.create_key(conn, account_id, self.runtime.clock.now(), ttl).as_json()
            except LookupError:
                raise ControlError(404, f"account {account_id} does not exist") from None

    def reset(self, body: dict) -> dict:
        """No keys: everything back to a fresh data dir (the default account only, the real
        clock, the --timing profile, no fault rules, no recent calls). `account` and/or `region`:
        only those resources go (accounts, keys, clock and rules stay)."""
        inputs.only_keys(body, {"account", "region"})
        account, region = body.get("account"), body.get("region")
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
                accounts.ensure_default_account(conn, runtime.clock.wall())
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

    def _check_region(self, region) -> None:
        if region is not None and not (isinstance(region, str)
                                       and region in self.runtime.settings.topology.regions):
            raise ControlError(400, f"unknown `region` {region!r}")

    @staticmethod
    def _account_exists(conn, account) -> bool:
        return (isinstance(account, str) and inputs.ACCOUNT_ID.fullmatch(account) is not None
                and accounts.account_exists(conn, account))

    async def settle(self, body: dict) -> dict:
        inputs.only_keys(body, set())
        return {"applied": await self.runtime.settle()}

    # --- the clock ---------------------------------------------------------------------------
    def read_clock(self, body: dict) -> dict:
        inputs.only_keys(body, set())
        clock = self.runtime.clock
        now = clock.now()
        return {"now": now, "time": format_time(now),
                "iso": datetime.fromtimestamp(now, CHINA_TZ).isoformat(timespec="seconds"),
                "mode": clock.state.mode, "rate": clock.state.rate}

    async def move_clock(self, body: dict) -> dict:
        """Exactly one of: advance (a duration), set (a time), mode (real/running/frozen/scaled,
        with rate for scaled). Time only moves forward: due moves are then applied at once."""
        inputs.only_keys(body, {"advance", "set", "mode", "rate"})
        chosen = [k for k in ("advance", "set", "mode") if k in body]
        if len(chosen) != 1:
            raise ControlError(400, "give exactly one of `advance`, `set` or `mode`")
        if "rate" in body and body.get("mode") != "scaled":
            raise ControlError(400, "`rate` goes with `mode: scaled` only")
        # From the clock as the store has it, under the write lock: two advances of a day through
        # two processes at once are two days.
        self.runtime.set_clock(lambda clock: self._moved_clock(clock, body))
        return {**self.read_clock({}), "applied": await self.runtime.settle()}

    def _moved_clock(self, clock, body: dict) -> ClockState:
        if "advance" in body:
            seconds = inputs.duration(body["advance"], "advance")
            return inputs.within_range("advance", lambda: clock.advanced(seconds))
        if "set" in body:
            when = inputs.time(body["set"])
            if when < clock.now():
                raise ControlError(400, f"`set` {body['set']!r} is in the past of the emulator's "
                                   f"clock ({format_time(clock.now())}); time only moves forward")
            return inputs.within_range("set", lambda: clock.set_to(when))
        return self._clock_mode(clock, body["mode"], body.get("rate"))

    def _clock_mode(self, clock, mode, rate):
        if mode == "frozen":
            return clock.with_rate(0.0)
        if mode == "running":
            return clock.with_rate(1.0)
        if mode == "scaled":
            if not inputs.is_number(rate) or not 0 < rate <= MAX_RATE:
                raise ControlError(400, f"`rate` must be a number above 0 and at most {MAX_RATE:g} "
                                   "(virtual seconds per real second)")
            return clock.with_rate(float(rate))
        if mode == "real":
            if clock.now() > clock.wall() + 1:
                raise ControlError(400, "the emulator's clock is ahead of the wall clock; going "
                                   "back to real time would move it backwards (use `running`)")
            return clock.real()
        raise ControlError(400, f"unknown `mode` {mode!r}; use real, running, frozen or scaled")

    # --- state export / import -------------------------------------------------------------------
    def export_state(self, body: dict) -> dict:
        """The whole state, or `?account=` one account's, as a versioned document."""
        inputs.only_keys(body, {"account"})
        account = body.get("account")
        runtime = self.runtime
        with runtime.store.read() as conn:
            if account is not None and not self._account_exists(conn, account):
                raise ControlError(404, f"account {account!r} does not exist")
            return state.export(conn, now=runtime.clock.wall(), clock=self.read_clock({}),
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
            return inserted
        inserted = runtime.change_shared(load)  # (fault rules came in: every process reads them)
        return {"inserted": inserted, "clock": self.read_clock({})}

    # --- configuration -------------------------------------------------------------------------
    def read_config(self, body: dict) -> dict:
        inputs.only_keys(body, set())
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
    def read_timing(self, body: dict) -> dict:
        inputs.only_keys(body, set())
        timing = self.runtime.timing
        return {"profile": timing.name, "durations": dict(sorted(timing.durations.items()))}

    def set_timing(self, body: dict) -> dict:
        """`profile` (instant/realistic) and/or `durations` ({kind: seconds}) laid over it."""
        inputs.only_keys(body, {"profile", "durations"})
        if not body:
            raise ControlError(400, "give `profile` and/or `durations`")
        if "profile" in body and (not isinstance(body["profile"], str)
                                  or body["profile"] not in PROFILES):
            raise ControlError(400, f"unknown `profile` {body['profile']!r}; use one of "
                               f"{sorted(PROFILES)}")
        durations = body.get("durations", {})
        if not isinstance(durations, dict):
            raise ControlError(400, "`durations` must be an object of transition → seconds")

        def change(conn) -> None:  # over the timing as stored: no other change is lost
            base = (PROFILES[body["profile"]] if "profile" in body
                    else stored_timing(conn) or self.runtime.timing)
            try:
                shared.put(conn, shared.TIMING, timing_json(with_durations(base, durations)))
            except ValueError as failure:
                raise ControlError(400, f"durations: {failure}") from None
        self.runtime.change_shared(change)
        return self.read_timing({})

    # --- recent calls --------------------------------------------------------------------------
    def calls(self, body: dict) -> dict:
        inputs.only_keys(body, {"limit"})
        return {"calls": self.recent.last(inputs.limit(body))}

    # --- faults --------------------------------------------------------------------------------
    def add_fault(self, body: dict) -> dict:
        """A rule: matchers service/action/account/region (each optional), effects code (+message),
        latency (seconds) and/or close, and how often: times (the next N matches) and/or
        probability (with a seed, reproducible)."""
        inputs.only_keys(body, {"service", "action", "account", "region", "code", "message", "latency",
                          "close", "times", "probability", "seed"})
        values = self._fault_matchers(body)
        code = body.get("code")
        if code is not None and (not isinstance(code, str) or faults.catalog_entry(code) is None):
            raise ControlError(400, f"`code` {code!r} is neither a seed code nor a CVM code of "
                               "cbslocal's catalog")
        close = body.get("close", False)
        if not isinstance(close, bool):
            raise ControlError(400, "`close` must be true or false")
        if code is None and not close and body.get("latency") is None:
            raise ControlError(400, "give an effect: `code`, `latency` and/or `close`")
        if code is not None and close:
            raise ControlError(400, "`code` and `close` exclude each other: a closed connection "
                               "answers nothing")
        message = body.get("message")
        if message is not None and (code is None or not inputs.is_text(message, 1000)):
            raise ControlError(400, "`message` must be a string of at most 1000 characters (no "
                               "NUL), with a `code`")
        values.update(code=code, message=message, close=close,
                      latency=inputs.number(body, "latency", 0, 60, exclusive_low=True),
                      remaining=inputs.whole(body, "times", 1, 10**9),
                      probability=inputs.number(body, "probability", 0, 1, exclusive_low=True),
                      seed=inputs.whole(body, "seed", 0, 2**62))
        return self.runtime.change_shared(
            lambda conn: faults.add_rule(conn, self.runtime.clock.now(), **values))

    def _fault_matchers(self, body: dict) -> dict:
        registry = self.runtime.registry
        values = {}
        service = body.get("service")
        if service is not None and not (isinstance(service, str) and service in registry.services):
            raise ControlError(400, f"unknown `service` {service!r}; use one of "
                               f"{sorted(registry.services)}")
        action = body.get("action")
        if action is not None and not isinstance(action, str):
            raise ControlError(400, f"`action` must be an action's name, not {action!r}")
        if action is not None:
            known = [s for s in registry.services.values() if action in s.known_actions
                     and (service is None or s.name == service)]
            if not known:
                raise ControlError(400, f"`action` {action!r} is not an action of "
                                   f"{service or 'any service cbslocal serves'}")
        account = body.get("account")
        if account is not None and not (isinstance(account, str) and inputs.ACCOUNT_ID.fullmatch(account)):
            raise ControlError(400, "`account` must be an account ID (a string of 1 to 20 digits)")
        region = body.get("region")
        self._check_region(region)
        values.update(service=service, action=action, account_id=account, region=region)
        return values

    def list_faults(self, body: dict) -> dict:
        inputs.only_keys(body, set())
        with self.runtime.store.read() as conn:
            return {"faults": faults.list_rules(conn)}

    def delete_faults(self, body: dict) -> dict:
        inputs.only_keys(body, set())
        return {"deleted": self.runtime.change_shared(faults.delete_rules)}

    def delete_fault(self, body: dict, rule_id: str) -> dict:
        inputs.only_keys(body, set())
        if len(rule_id) > 10 or int(rule_id) > inputs.MAX_RULE_ID:  # no rule has such an ID
            raise ControlError(404, f"fault rule {rule_id[:40]} does not exist")
        deleted = self.runtime.change_shared(lambda conn: faults.delete_rules(conn, int(rule_id)))
        if not deleted:
            raise ControlError(404, f"fault rule {rule_id} does not exist")
        return {"deleted": deleted}

    def fault_firings(self, body: dict) -> dict:
        inputs.only_keys(body, {"limit"})
        limit = inputs.limit(body)
        with self.runtime.store.read() as conn:
            return {"firings": faults.firings(conn, limit)}

    # --- pokes ---------------------------------------------------------------------------------
    def poke_instance(self, body: dict, instance_id: str) -> dict:
        inputs.only_keys(body, {"state", "supports_cbs", "online_resize", "max_attach_count"})
        inputs.check_resource_id(instance_id, "instance")
        values = {}
        if "state" in body:
            if not isinstance(body["state"], str) or body["state"] not in POKABLE_STATES:
                raise ControlError(400, f"`state` {body['state']!r} cannot be set; use one of "
                                   f"{list(POKABLE_STATES)} (a state of an operation in "
                                   "progress comes with the operation: it would never end)")
            values["instance_state"] = body["state"]
        for flag in ("supports_cbs", "online_resize"):
            if flag in body:
                values[flag] = inputs.flag(body, flag)
        if "max_attach_count" in body:
            count = body["max_attach_count"]
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 100:
                raise ControlError(400, "`max_attach_count` must be a whole number from 0 to 100")
            values["max_attach_count"] = count
        with self.runtime.store.write() as conn:
            row = poke_instance(conn, instance_id, **values)
        if row is None:
            raise ControlError(404, f"instance {instance_id} does not exist")
        return {"instance_id": row.instance_id, "state": row.instance_state,
                "supports_cbs": bool(row.supports_cbs), "online_resize": bool(row.online_resize),
                "max_attach_count": row.max_attach_count}

    def poke_disk(self, body: dict, disk_id: str) -> dict:
        inputs.only_keys(body, {"dumping", "returnable", "snapshot_ability"})
        inputs.check_resource_id(disk_id, "disk")
        dumping = inputs.flag(body, "dumping") if "dumping" in body else None
        flags = {flag: inputs.flag(body, flag) for flag in ("returnable", "snapshot_ability") if flag in body}
        with self.runtime.store.write() as conn:
            try:
                row = poke_disk(conn, disk_id, dumping=dumping, **flags)
            except ValueError as failure:
                raise ControlError(409, str(failure)) from None
        if row is None:
            raise ControlError(404, f"disk {disk_id} does not exist")
        return {"disk_id": row.disk_id, "state": row.disk_state, "returnable": bool(row.returnable),
                "snapshot_ability": bool(row.snapshot_ability)}

    def poke_policy(self, body: dict, policy_id: str) -> dict:
        inputs.only_keys(body, {"state"})
        inputs.check_resource_id(policy_id, "automatic snapshot policy")
        state = body.get("state")
        if state is not None and not (isinstance(state, str) and state in POLICY_STATES):
            raise ControlError(400, f"unknown `state` {state!r}; use one of {list(POLICY_STATES)}")
        with self.runtime.store.write() as conn:
            row = poke_policy(conn, policy_id, state=state)
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
