"""cbslocal for tests: `CbsLocal` starts an emulator (in a thread or a subprocess) and controls it;
the pytest plugin (`cbslocal.testing.plugin`, registered as a pytest11 entry point) turns it into
fixtures."""

from cbslocal.control.client import ControlFailed, ControlUnreachable
from cbslocal.testing.emulator import CbsLocal

__all__ = ["CbsLocal", "ControlFailed", "ControlUnreachable"]
