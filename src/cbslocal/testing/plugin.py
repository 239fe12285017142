"""The pytest plugin (entry point `pytest11: cbslocal`): a cbslocal for the session, reset before
each test, with the official clients and a control handle.

    def test_attach_fails_when_the_backend_does(cbslocal, cbs_client):
        cbslocal.fault(action="AttachDisks", code="InternalError.ResourceOpFailed", times=1)
        ...

Fixtures: `cbslocal` (the CbsLocal handle, reset before the test), `cbslocal_session` (the same
server without the reset), `cbs_client`, `cvm_client` (official SDK clients; install
tencentcloud-sdk-python-cbs / -cvm). Options: --cbslocal-mode thread|subprocess (default thread),
--cbslocal-timing instant|realistic (default instant), --cbslocal-config FILE.toml.

The handle gives its server an admin token of its own and sends it on every control call; a test
that calls the control plane itself sends `Authorization: Bearer {cbslocal.admin_token}`.
"""

from __future__ import annotations

import pytest

from cbslocal.testing.emulator import CbsLocal


def pytest_addoption(parser):
    group = parser.getgroup("cbslocal", "cbslocal: a local Tencent Cloud Block Storage")
    group.addoption("--cbslocal-mode", choices=("thread", "subprocess"), default="thread",
                    help="run the emulator in a thread of the test process or as a subprocess")
    group.addoption("--cbslocal-timing", choices=("instant", "realistic"), default="instant",
                    help="how long asynchronous moves take (default instant)")
    group.addoption("--cbslocal-config", default=None,
                    help="a TOML file laid over cbslocal's defaults (zones, limits, stock…)")


@pytest.fixture(scope="session")
def cbslocal_session(request, tmp_path_factory):
    """One emulator for the whole session, on an ephemeral port and a temporary data dir."""
    option = request.config.getoption
    emulator = CbsLocal(mode=option("--cbslocal-mode"), timing=option("--cbslocal-timing"),
                        config=option("--cbslocal-config"),
                        data_dir=tmp_path_factory.mktemp("cbslocal"))
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def cbslocal(cbslocal_session):
    """The emulator, back to a fresh state for this test (resources, clock, timing, faults)."""
    cbslocal_session.reset()
    return cbslocal_session


@pytest.fixture
def cbs_client(cbslocal):
    """The official CbsClient pointed at the emulator (region ap-guangzhou, default account)."""
    return cbslocal.cbs_client()


@pytest.fixture
def cvm_client(cbslocal):
    """The official CvmClient pointed at the emulator."""
    return cbslocal.cvm_client()
