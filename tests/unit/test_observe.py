"""The calls' metrics, kept as plain numbers and exposed through prometheus_client's collector
interface: what a scrape shows equals what the library's own Counter and Histogram would."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from cbslocal.observe import LATENCY_BUCKETS, CallStats


def samples(registry: CollectorRegistry) -> dict[str, float]:
    lines = [line.rpartition(" ") for line in generate_latest(registry).decode().splitlines()
             if line and not line.startswith("#") and "_created" not in line]
    return {name: float(value) for name, _, value in lines}


def test_the_scrape_equals_the_librarys_own_metrics():
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    stats = CallStats()
    ours.register(stats)
    calls = Counter("cbslocal_api_calls", "API calls answered", ["service", "action", "code"],
                    registry=theirs)
    injected = Counter("cbslocal_injected_faults", "API calls answered by a fault rule",
                       ["service", "action", "code"], registry=theirs)
    latency = Histogram("cbslocal_api_call_seconds", "API call latency", ["service", "action"],
                        buckets=LATENCY_BUCKETS, registry=theirs)
    rng = random.Random(7)
    keys = [("cbs", "DescribeDisks", "OK"), ("cbs", "DescribeDisks", "InternalError"),
            ("cvm", "RunInstances", "OK"), ("", "(unknown)", "AuthFailure.SignatureFailure")]
    for _ in range(2000):
        key = rng.choice(keys)
        # Exactly on the bounds too: a bucket counts the values at most its bound.
        seconds = rng.choice([rng.uniform(0, 1.5), rng.choice(LATENCY_BUCKETS)])
        fault = rng.random() < 0.1
        stats.add(key, seconds, fault)
        calls.labels(*key).inc()
        if fault:
            injected.labels(*key).inc()
        latency.labels(*key[:2]).observe(seconds)
    assert samples(ours) == pytest.approx(samples(theirs))  # (sums added in another order)
