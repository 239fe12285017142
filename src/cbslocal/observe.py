"""Observability: one structured log line and the Prometheus metrics for every API call.
Secrets never appear here: a call is described by its account, not its key."""

from __future__ import annotations

import bisect
import collections
import logging
from datetime import datetime, timezone
import sys

import orjson

from cbslocal.gateway.http import CallRecord

request_log = logging.getLogger("cbslocal.requests")

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class CallStats:
    """The calls' counters and latency histogram, kept as plain numbers per (service, action,
    code) and turned into Prometheus metrics only when they are scraped (prometheus_client's
    custom-collector interface): a call adds to a list, instead of taking the library's locks
    and label lookups on every request."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS):
        self.buckets = buckets
        # key → [calls, injected, latency sum, count per bucket (the last: above them all)]
        self._by_key: dict[tuple[str, str, str], list] = {}

    def add(self, key: tuple[str, str, str], latency: float, injected: bool) -> None:
        entry = self._by_key.get(key)
        if entry is None:
            entry = self._by_key[key] = [0, 0, 0.0, [0] * (len(self.buckets) + 1)]
        entry[0] += 1
        entry[1] += injected
        entry[2] += latency
        entry[3][bisect.bisect_left(self.buckets, latency)] += 1

    def collect(self):
        # Imported by the first scrape, not at start: the first API answer does not wait for it.
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        calls = CounterMetricFamily("cbslocal_api_calls", "API calls answered",
                                    labels=["service", "action", "code"])
        injected = CounterMetricFamily("cbslocal_injected_faults",
                                       "API calls answered by a fault rule",
                                       labels=["service", "action", "code"])
        latency = HistogramMetricFamily("cbslocal_api_call_seconds", "API call latency",
                                        labels=["service", "action"])
        by_action: dict[tuple[str, str], list] = {}
        for key, (count, faults, total, counts) in list(self._by_key.items()):
            calls.add_metric(list(key), count)
            if faults:
                injected.add_metric(list(key), faults)
            merged = by_action.setdefault(key[:2], [0.0, [0] * len(counts)])
            merged[0] += total
            merged[1] = [a + b for a, b in zip(merged[1], counts)]
        for labels, (total, counts) in by_action.items():
            cumulative, running = [], 0
            for bound, n in zip((*map(repr, self.buckets), "+Inf"), counts):
                running += n
                cumulative.append((bound, running))
            latency.add_metric(list(labels), cumulative, total)
        return [calls, injected, latency]


CALL_STATS = CallStats()  # registered with prometheus_client by the control plane (its /metrics)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("cbslocal")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def make_observer(log_requests: bool, recent: "RecentCalls | None" = None,
                  stats: CallStats = CALL_STATS):
    def observe(record: CallRecord) -> None:
        # Labels only from validated names (a known service and action): anything a caller
        # makes up would grow the metrics without bound.
        key = (record.service, record.action if record.service else "(unknown)", record.code or "OK")
        stats.add(key, record.latency, record.injected)
        if recent is not None:
            recent.add(record)
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
