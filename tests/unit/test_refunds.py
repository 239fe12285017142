"""The refund rule and the split of an order's price (billing/refunds.py, cbs/prepaid.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cbslocal.billing.refunds import WHOLE_REFUND_SECONDS, refund_fen, within_five_days
from cbslocal.cbs.prepaid import split_fen

DAY = 86400


def test_a_five_day_return_gives_everything_back():
    assert within_five_days(0, WHOLE_REFUND_SECONDS) and not within_five_days(0, 6 * DAY)
    assert refund_fen(paid=3500, term_started_at=0, deadline_at=31 * DAY, now=4 * DAY,
                      whole=True) == 3500


def test_later_what_is_left_of_the_term_rounded_down():
    assert refund_fen(paid=3500, term_started_at=0, deadline_at=31 * DAY, now=10 * DAY) == 2370
    assert refund_fen(paid=3500, term_started_at=0, deadline_at=31 * DAY, now=31 * DAY) == 0
    assert refund_fen(paid=3500, term_started_at=0, deadline_at=31 * DAY, now=40 * DAY) == 0


def test_nothing_paid_or_no_term_is_nothing_back():
    assert refund_fen(paid=0, term_started_at=0, deadline_at=DAY, now=0) == 0
    assert refund_fen(paid=100, term_started_at=None, deadline_at=DAY, now=0) == 0


@given(paid=st.integers(0, 10**14), start=st.integers(0, 10**9), term=st.integers(1, 10**9),
       elapsed=st.integers(0, 2 * 10**9))
def test_a_refund_is_never_more_than_was_paid_nor_negative(paid, start, term, elapsed):
    back = refund_fen(paid=paid, term_started_at=start, deadline_at=start + term,
                      now=start + elapsed)
    assert 0 <= back <= paid


@given(total=st.integers(0, 10**14), count=st.integers(1, 50))
def test_an_order_splits_to_the_fen(total, count):
    shares = split_fen(total, count)
    assert sum(shares) == total and len(shares) == count
    assert max(shares) - min(shares) <= 1
