"""Properties of the interest computation, against a closed form with one constant rate."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from echeances import penalties as pen

START = dt.date(2024, 1, 1)
# 12,15 % every half-year, each one published
FLAT = pen.RateTable(ecb=tuple(pen.Rate(dt.date(y, m, 1), Decimal("2.15"), "test")
                               for y in range(2024, 2029) for m in (1, 7)))
days = st.integers(min_value=0, max_value=900)


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(1, 10**9), due=days, length=days,
       payments=st.lists(st.tuples(days, st.integers(1, 10**8)), max_size=4))
def test_interest__equals_closed_form_with_a_constant_rate(amount, due, length, payments):
    due_date = START + dt.timedelta(days=due)
    as_of = due_date + dt.timedelta(days=length)
    paid = [(START + dt.timedelta(days=d), a) for d, a in payments if START + dt.timedelta(days=d) <= as_of]
    cents, provisional = pen.invoice_interest([(due_date, amount)], paid, as_of, FLAT)
    # each settled cent stops accruing at its date (never before the due date); the rest runs to as_of
    left, exact = amount, Fraction(0)
    for day, value in sorted(paid):
        take = min(left, value)
        left -= take
        exact += take * max(0, (min(day, as_of) - due_date).days)
    exact += left * length
    exact = exact * Fraction(1215, 100) / 36500
    assert cents == int(exact * 2 + 1) // 2 and provisional is False


@settings(max_examples=100, deadline=None)
@given(amount=st.integers(1, 10**9), due=days, a=days, b=days)
def test_interest__never_decreases_with_the_date(amount, due, a, b):
    due_date = START + dt.timedelta(days=due)
    early, late = sorted((a, b))
    first = pen.invoice_interest([(due_date, amount)], [], due_date + dt.timedelta(days=early), FLAT)[0]
    second = pen.invoice_interest([(due_date, amount)], [], due_date + dt.timedelta(days=late), FLAT)[0]
    assert first <= second
