from __future__ import annotations

import pytest

from tests.e2e.server import Server


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One shared server (instant timing) for tests that only add their own resources."""
    srv = Server(tmp_path_factory.mktemp("shared") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(tmp_path):
    """A server of the test's own, on an empty data dir."""
    srv = Server(tmp_path / "data").start()
    yield srv
    srv.stop()
