"""What returning a prepaid resource pays back (docs/compatibility.md, "Money") [inf]: the vendor
refunds a purchase in full within five days of it ("five days, no reason") and otherwise what is
left of the term, in proportion to the time left. Integer fen, rounded down: a refund never pays
back more than was paid."""

from __future__ import annotations

WHOLE_REFUND_SECONDS = 5 * 86400


def refund_fen(*, paid: int, term_started_at: float | None, deadline_at: float | None,
               now: float) -> int:
    """`paid` fen for the term from `term_started_at` (its purchase) to `deadline_at`, returned
    at `now`."""
    if paid <= 0 or deadline_at is None or term_started_at is None:
        return 0
    if now - term_started_at <= WHOLE_REFUND_SECONDS:
        return paid
    term = int(deadline_at - term_started_at)
    left = min(max(int(deadline_at - now), 0), term)
    return paid * left // term if term > 0 else 0
