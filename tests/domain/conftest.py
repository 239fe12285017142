"""Domain rules in milliseconds: the router called in-process over a temporary SQLite store — no
server, no HTTP, no signature. What users see (the wire, the official clients) stays in e2e/."""

from __future__ import annotations

import asyncio
import shutil

import orjson
import pytest

from cbslocal.api.call import ApiCall
from cbslocal.api.errors import ApiError
from cbslocal.app import build_runtime
from cbslocal.config import Settings
from cbslocal.iam.accounts import DEFAULT_ACCOUNT_ID
from cbslocal.router.dispatch import dispatch

REGION = "ap-guangzhou"
ZONE = "ap-guangzhou-3"


class InProcessApi:
    """`api.call("CreateDisks", {...})` → the response's fields, or the ApiError it answers."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.loop = asyncio.new_event_loop()
        self.calls = 0

    def call(self, action: str, params: dict | None = None, *, region: str = REGION,
             language: str = "en-US", account_id: str = DEFAULT_ACCOUNT_ID,
             version: str | None = None) -> dict:
        service = self.runtime.registry.service_for("", action)
        self.calls += 1
        call = ApiCall(scope_service="", version=version or (service and service.version),
                       action=action, region=region, params=params or {}, secret_id="",
                       account_id=account_id, language=language,
                       signature_method="TC3-HMAC-SHA256")
        result = self.loop.run_until_complete(
            dispatch(call, self.runtime, f"in-process-{self.calls}", language))
        return orjson.loads(orjson.dumps(result))  # as the wire carries it (kept JSON included)

    def error(self, action: str, params: dict | None = None, **options) -> ApiError:
        """The ApiError the call answers (fails the test if it succeeds)."""
        with pytest.raises(ApiError) as failure:
            self.call(action, params, **options)
        return failure.value

    def advance(self, seconds: float) -> int:
        """Move the clock on and apply what came due; how many moves were applied."""
        self.runtime.set_clock(lambda clock: clock.advanced(seconds))
        return self.loop.run_until_complete(self.runtime.settle())

    def close(self) -> None:
        for task in asyncio.all_tasks(self.loop):
            task.cancel()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()
        self.runtime.close()
        self.runtime.store.dispose()


@pytest.fixture(scope="session")
def _migrated_data_dir(tmp_path_factory):
    """A data dir created and migrated once: each test starts from a copy (a few milliseconds)."""
    data_dir = tmp_path_factory.mktemp("template") / "data"
    runtime = build_runtime(_settings(data_dir, "instant"))
    runtime.close()
    runtime.store.dispose()
    return data_dir


def _settings(data_dir, timing: str) -> Settings:
    return Settings(data_dir=data_dir, timing=timing, log_requests=False, port=0)


def _api(template, tmp_path, timing: str):
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir, ignore=shutil.ignore_patterns("*.lock"))
    return InProcessApi(build_runtime(_settings(data_dir, timing)))


@pytest.fixture
def api(_migrated_data_dir, tmp_path):
    """The router over a store of the test's own, instant timing."""
    api = _api(_migrated_data_dir, tmp_path, "instant")
    yield api
    api.close()


@pytest.fixture
def realistic_api(_migrated_data_dir, tmp_path):
    """The same with realistic timing: moves take time on the clock (`api.advance`)."""
    api = _api(_migrated_data_dir, tmp_path, "realistic")
    yield api
    api.close()
