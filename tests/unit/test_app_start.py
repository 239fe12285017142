"""What the server does once it is up (App's lifespan), in-process."""

from __future__ import annotations

import asyncio
import gc

from cbslocal.app import App, build_runtime
from cbslocal.config import Settings


def test_the_cyclic_collector_is_on_once_the_server_is_up(tmp_path):
    """`serve` turns the collector off while it starts (start-up speed): serving without it
    would never free memory held in cycles."""
    runtime = build_runtime(Settings(data_dir=tmp_path, timing="instant"))
    app = App(runtime)
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    collector_on_when_up = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        if message["type"] == "lifespan.startup.complete":
            collector_on_when_up.append(gc.isenabled())

    gc.disable()
    try:
        asyncio.run(app({"type": "lifespan"}, receive, send))
    finally:
        gc.unfreeze()  # (the server freezes what it built; this test process goes on)
        gc.enable()
    assert collector_on_when_up == [True]
