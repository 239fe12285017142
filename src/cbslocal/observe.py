"""Observability: one structured log line and the Prometheus metrics for every API call.
Secrets never appear here: a call is described by its account, not its key."""

from __future__ import annotations

import collections
import logging
from datetime import datetime, timezone
import sys

import orjson
from prometheus_client import Counter, Histogram

from cbslocal.gateway.http import CallRecord

request_log = logging.getLogger("cbslocal.requests")

CALLS = Counter("cbslocal_api_calls_total", "API calls answered", ["service", "action", "code"])
INJECTED = Counter("cbslocal_injected_faults_total", "API calls answered by a fault rule",
                   ["service", "action", "code"])
LATENCY = Histogram("cbslocal_api_call_seconds", "API call latency", ["service", "action"],
                    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("cbslocal")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def make_observer(log_requests: bool, recent: "RecentCalls | None" = None):
    children: dict[tuple[str, str, str], tuple] = {}  # labels() costs more than the increment

    def observe(record: CallRecord) -> None:
        # Labels only from validated names (a known service and action): anything a caller
        # makes up would grow the metrics without bound.
        key = (record.service, record.action if record.service else "(unknown)", record.code or "OK")
        metrics = children.get(key)
        if metrics is None:
            metrics = children[key] = (CALLS.labels(*key), LATENCY.labels(*key[:2]))
        metrics[0].inc()
        metrics[1].observe(record.latency)
        if recent is not None:
            recent.add(record)
        if record.injected:
            INJECTED.labels(*key).inc()
        if log_requests and request_log.isEnabledFor(logging.INFO):
            request_log.info(orjson.dumps({
                "event": "api_call", "request_id": record.request_id, "service": record.service,
                "action": record.action[:64], "account": record.account_id, "region": record.region[:64],
                "code": record.code or "OK", "latency_ms": round(record.latency * 1000, 3),
                "client": record.client, **({"injected": True} if record.injected else {})}).decode())
    return observe


class RecentCalls:
    """The last calls, newest last, for the control plane (`GET /_cbslocal/calls`)."""

    def __init__(self, keep: int = 1000):
        self._calls: collections.deque[CallRecord] = collections.deque(maxlen=keep)

    def add(self, record: CallRecord) -> None:
        self._calls.append(record)

    def last(self, limit: int) -> list[dict]:
        records = list(self._calls)[-limit:] if limit else []
        return [{"time": datetime.fromtimestamp(r.at, timezone.utc).isoformat(timespec="milliseconds"),
                 "request_id": r.request_id, "service": r.service, "action": r.action[:64],
                 "account": r.account_id, "region": r.region[:64], "code": r.code or "OK",
                 "latency_ms": round(r.latency * 1000, 3), "client": r.client,
                 "injected": r.injected}
                for r in records]

    def clear(self) -> None:
        self._calls.clear()
