"""What returning a prepaid resource pays back (docs/compatibility.md, "Money"). The vendor's CBS
billing FAQ: an account may return one elastic disk "no questions asked" within five days of
buying it, refunded in full, and 199 a year by "regular self-service return", refunded "after
deducting the fees you have already used" — [inf] in proportion to the time left of the term.
Integer fen, rounded down: a refund never pays back more than was paid."""

from __future__ import annotations

WHOLE_REFUND_SECONDS = 5 * 86400


def within_five_days(term_started_at: float | None, now: float) -> bool:
    return term_started_at is not None and now - term_started_at <= WHOLE_REFUND_SECONDS


def refund_fen(*, paid: int, term_started_at: float | None, deadline_at: float | None,
               now: float, whole: bool = False) -> int:
    """`paid` fen for the term from `term_started_at` (its purchase) to `deadline_at`, returned
    at `now`; `whole`: a five-day return, refunded in full."""
    if paid <= 0 or deadline_at is None or term_started_at is None:
        return 0
    if whole:
        return paid
    term = int(deadline_at - term_started_at)
    left = min(max(int(deadline_at - now), 0), term)
    return paid * left // term if term > 0 else 0
