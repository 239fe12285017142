"""Error-code coverage: every seed code must be answered, under its real condition, by some e2e
test's server — not through a fault rule (those are counted apart). A code that no implemented
behaviour can produce yet is listed here with the issue it waits for; once a test provokes it, it
must leave this list (the check fails on a stale entry too)."""

from __future__ import annotations

PENDING: dict[str, str] = {
}
