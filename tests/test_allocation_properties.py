"""Properties of the pure resolver on random small frames (no store)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from echeances import aging
from echeances.payment_specs import PaymentRefused, PaymentSpec
from echeances.allocation import allocatable_items, allocate_payment, settled_peak
from tests.test_allocation import INVOICES, allocations_frame, payments_frame, write_offs_frame

START = dt.date(2024, 1, 1)
days = st.integers(0, 200).map(lambda n: START + dt.timedelta(days=n))
codes = st.sampled_from([1, 2, 3, 6])


@st.composite
def histories(draw):
    """Payments (some cancelled, possibly before or after their allocations), allocations, write-offs."""
    n = draw(st.integers(0, 6))
    pays, allocs = [], []
    for p in range(1, n + 1):
        day = draw(days)
        cancelled = draw(st.one_of(st.none(), days))
        pays.append((p, f"P-{p}", 1, str(day), 1_000_000, "x", str(cancelled) if cancelled else None))
        for _ in range(draw(st.integers(0, 3))):
            allocs.append((p, draw(codes), draw(st.integers(1, 60_000)), str(draw(days))))
    offs = [(draw(codes), draw(st.integers(1, 5_000)), str(draw(days))) for _ in range(draw(st.integers(0, 3)))]
    return payments_frame(pays), allocations_frame(allocs), write_offs_frame(offs)


@settings(max_examples=150, deadline=None)
@given(history=histories(), since=days)
def test_settled_peak__is_the_most_settled_on_any_later_day(history, since):
    pays, allocs, offs = history
    got = settled_peak(INVOICES, pays, allocs, offs, since)
    moments = pd.concat([allocs["date"], pays["cancelled_date"], offs["date"]]).dropna()
    checks = [pd.Timestamp(since), *[t for t in moments.unique() if t > pd.Timestamp(since)]]
    expected = np.zeros(len(INVOICES), dtype=np.int64)
    for t in checks:
        active = aging.active_allocations(allocs, pays, t)
        allocated, written, _ = aging.settled_by_invoice(INVOICES, active, offs, t)
        expected = np.maximum(expected, (allocated + written)[INVOICES["invoice"].to_numpy()])
    assert got.tolist() == expected.tolist()


@settings(max_examples=150, deadline=None)
@given(history=histories(), amount=st.integers(1, 500_000), day=days, early=st.booleans(),
       explicit=st.dictionaries(st.sampled_from(["F-2024-031", "F-2024-040", "F-2024-050", "F-2024-070"]),
                                st.one_of(st.none(), st.integers(1, 120_000)), max_size=2))
def test_allocate__never_more_than_paid_nor_than_due(history, amount, day, early, explicit):
    pays, allocs, offs = history
    items = allocatable_items(INVOICES, pays, allocs, offs, day)
    spec = PaymentSpec(client_id="C1", date=day, amount=amount, allocations=explicit, auto=None if not explicit else
                       bool(amount % 2), allow_early=early, confirm_duplicate=True)
    try:
        allocations, credit = allocate_payment(spec, items, INVOICES, pays.iloc[:0])
    except PaymentRefused:
        return
    assert credit >= 0 and sum(a.amount for a in allocations) + credit == amount
    left = items.groupby("invoice")["outstanding"].sum()
    numbers = INVOICES.set_index("number")
    for a in allocations:
        row = numbers.loc[a.invoice]
        assert 0 < a.amount <= left.get(row["invoice"], 0)
        assert a.date == max(day, row["issue_date"].date())
        assert early or row["issue_date"].date() <= day
    assert len({a.invoice for a in allocations}) == len(allocations)
