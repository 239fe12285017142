from __future__ import annotations

import contextlib
import uuid

import pytest

from tests.e2e.server import Server


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One shared server (instant timing) for tests that only add their own resources. After the
    last of them, whatever they did, the store keeps every invariant."""
    srv = Server(tmp_path_factory.mktemp("shared") / "data").start()
    yield srv
    violations = consistency_violations(srv)
    srv.stop()
    assert violations == [], violations


@pytest.fixture
def fresh_server(tmp_path):
    """A server of the test's own, on an empty data dir."""
    srv = Server(tmp_path / "data").start()
    yield srv
    violations = consistency_violations(srv)
    srv.stop()
    assert violations == [], violations


def consistency_violations(server: Server) -> list:
    """What the consistency checker finds (nothing to ask if the test stopped the server)."""
    if not server.alive():
        return []
    return server.control("GET", "/check").json()["violations"]


POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@contextlib.contextmanager
def postgres_database(prefix: str = "cbslocal"):
    """The URL of a database of its own on the machine's PostgreSQL (README: part of the test
    machine), dropped afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url():
    """A database of the test's own (postgres_database)."""
    with postgres_database() as url:
        yield url


def pytest_sessionfinish(session, exitstatus):
    """When the whole e2e suite ran, every seed code must have been provoked (code_coverage.py)."""
    from pathlib import Path

    from cbslocal.api import errors
    from tests.e2e.code_coverage import FAULT_ONLY, PENDING
    from tests.e2e.server import INJECTED, PROVOKED

    config = session.config
    here = Path(__file__).parent
    ran = {Path(str(item.fspath)).name for item in session.items}
    everything = {p.name for p in here.glob("test_*.py")}
    if config.option.keyword or config.option.markexpr or not everything <= ran:
        return  # a partial run proves nothing either way
    seed = set(errors.all_codes())
    provoked = PROVOKED | (INJECTED & FAULT_ONLY)
    missing = sorted(seed - provoked - set(PENDING))
    stale = sorted(set(PENDING) & provoked)
    unknown = sorted(set(PENDING) - seed)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    problems = []
    if missing:
        problems.append(f"seed codes no e2e test provoked: {', '.join(missing)}")
    if stale:
        problems.append(f"provoked now, so no longer pending (tests/e2e/code_coverage.py): "
                        f"{', '.join(stale)}")
    if unknown:
        problems.append(f"pending codes that are not seed codes: {', '.join(unknown)}")
    if reporter is not None:
        reporter.write_line(f"error-code coverage: {len(seed & provoked)} of {len(seed)} seed codes "
                            f"provoked ({len(seed & PROVOKED)} naturally), {len(PENDING)} pending")
        for problem in problems:
            reporter.write_line("error-code coverage FAILED: " + problem, red=True)
    if problems:
        session.exitstatus = 1
