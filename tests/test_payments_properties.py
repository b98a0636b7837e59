"""Random sequences of payments, credit uses, write-offs and cancellations on a real SQLite workspace.

After every step, on every date that matters: money is conserved (each live
payment or credit note = its active allocations + its unused credit), no
invoice is settled beyond its total, every open item stays within
``0 ≤ outstanding ≤ amount``; a refused step leaves the store as it was; a
cancellation gives back exactly what the payment had taken.
"""
from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from echeances import aging
from echeances.payment_specs import CreditSpec, PaymentRefused, PaymentSpec, WriteOffSpec
from echeances.errors import NotFound
from echeances.store import tables
from tests.payments_helpers import INVOICES, make_workspace, outstanding

START = dt.date(2024, 1, 1)
FAR = dt.date(2100, 1, 1)
NUMBERS = [r[1] for r in INVOICES if r[4] != "credit_note"]
days = st.integers(0, 400).map(lambda n: START + dt.timedelta(days=n))
cents = st.integers(1, 250_000)
small = st.one_of(st.integers(1, 600), cents)


def dump(ws) -> dict:
    with ws.store.read() as conn:
        return {t.name: sorted(tuple(map(str, r)) for r in conn.execute(sa.select(t)).all())
                for t in (tables.payments, tables.allocations, tables.write_offs)}


class PaymentSequences(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.ws = make_workspace(self.folder)
        self.ids: list[str] = []

    def teardown(self):
        self.ws.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def attempt(self, action):
        """Run ``action``; when refused, the store must be exactly as before."""
        before = dump(self.ws)
        try:
            return action()
        except (PaymentRefused, NotFound):
            assert dump(self.ws) == before
            return None

    @rule(client=st.sampled_from(["C1", "C2"]), amount=cents, day=days,
          how=st.sampled_from(["auto", "explicit", "fill", "site", "explicit+auto"]),
          invoice=st.sampled_from(NUMBERS), part=small, early=st.booleans(), confirm=st.booleans())
    def pay(self, client, amount, day, how, invoice, part, early, confirm):
        allocations = {"explicit": {invoice: part}, "fill": {invoice: None}, "explicit+auto": {invoice: part}}
        spec = PaymentSpec(client_id=client, date=day, amount=amount, reference=f"R{amount % 3}",
                           allocations=allocations.get(how, {}), auto=True if how == "explicit+auto" else None,
                           site_id="S1" if how == "site" else None, allow_early=early, confirm_duplicate=confirm)
        recorded = self.attempt(lambda: self.ws.record_payment(spec))
        if recorded is not None:
            assert sum(a.amount for a in recorded.allocations) + recorded.credit == amount
            assert all(a.amount > 0 and a.date >= day for a in recorded.allocations)
            self.ids.append(recorded.payment_id)

    @rule(source=st.sampled_from(["payment", "A-2024-001"]), pick=st.integers(0, 50), day=days,
          invoice=st.sampled_from(NUMBERS), part=st.one_of(st.none(), small), auto=st.booleans())
    def apply_credit(self, source, pick, day, invoice, part, auto):
        if source == "payment":
            if not self.ids:
                return
            source = self.ids[pick % len(self.ids)]
        spec = CreditSpec("C1", source, day, allocations={} if auto else {invoice: part})
        self.attempt(lambda: self.ws.apply_credit(spec))

    @rule(invoice=st.sampled_from(NUMBERS), amount=st.one_of(st.none(), small), day=days, confirm=st.booleans())
    def write_off(self, invoice, amount, day, confirm):
        self.attempt(lambda: self.ws.write_off(WriteOffSpec(invoice, day, "écart", amount=amount, confirm=confirm)))

    @precondition(lambda self: self.ids)
    @rule(pick=st.integers(0, 50), later=st.integers(0, 60))
    def cancel(self, pick, later):
        payment_id = self.ids[pick % len(self.ids)]
        pays, allocs = self.ws.payments()
        row = pays.set_index("payment_id").loc[payment_id]
        taken = allocs[allocs["payment"] == row["payment"]].groupby("invoice")["amount"].sum()
        before = outstanding(self.ws)
        done = self.attempt(lambda: self.ws.cancel_payment(payment_id, "chèque impayé",
                                                           date=row["date"].date() + dt.timedelta(days=later)))
        if done is None and pd.isna(row["cancelled_date"]):
            after = outstanding(self.ws)
            # Only C1's own invoices can be touched; each gets back exactly what the payment took.
            assert {n: after[n] - before[n] for n in after if after[n] != before[n]} == \
                   {n: int(v) for n, v in taken.items() if v}

    @rule(client=st.sampled_from(["C1", "C2"]), amount=cents, day=days)
    def pay_then_cancel_restores_everything(self, client, amount, day):
        before_items = self.ws.open_items(as_of=FAR, include_settled=True)
        before_credit = self.ws.credit(as_of=FAR)
        spec = PaymentSpec(client_id=client, date=day, amount=amount, reference="ANNULE", confirm_duplicate=True)
        recorded = self.attempt(lambda: self.ws.record_payment(spec))
        if recorded is None:
            return
        self.ws.cancel_payment(recorded.payment_id, "erreur de saisie", date=day)
        self.ids.append(recorded.payment_id)
        pd.testing.assert_frame_equal(self.ws.open_items(as_of=FAR, include_settled=True), before_items)
        pd.testing.assert_frame_equal(self.ws.credit(as_of=FAR), before_credit)

    @invariant()
    def money_is_conserved_on_every_date(self):
        f = self.ws.frames
        dates = sorted(pd.concat([f.payments["date"], f.payments["cancelled_date"], f.allocations["date"],
                                  f.write_offs["date"], f.invoices["issue_date"]]).dropna().unique())
        dates.append(pd.Timestamp(FAR))
        totals = np.zeros(int(f.invoices["invoice"].max()) + 1, dtype=np.int64)
        totals[f.invoices["invoice"].to_numpy()] = f.invoices["total"].to_numpy()
        for as_of in dates:
            active = aging.active_allocations(f.allocations, f.payments, as_of)
            allocated, written, _ = aging.settled_by_invoice(f.invoices, active, f.write_offs, as_of)
            assert (allocated + written <= totals).all(), f"over-settled on {as_of}"
        # The full frames on a spread of those dates (they are slower to build).
        for as_of in dates[:: max(1, len(dates) // 3)][:3] + dates[-1:]:
            self.check_frames(f, as_of)

    @staticmethod
    def check_frames(f, as_of):
        active = aging.active_allocations(f.allocations, f.payments, as_of)
        active = active[active["date"] <= as_of]
        items = aging.open_items(f.invoices, active, f.write_offs, as_of, include_settled=True)
        assert (items["outstanding"] >= 0).all() and (items["outstanding"] <= items["amount"]).all()
        live = f.payments[(f.payments["date"] <= as_of) & ~(f.payments["cancelled_date"] <= as_of)]
        notes = f.invoices[(f.invoices["kind"] == "credit_note") & (f.invoices["issue_date"] <= as_of)]
        credit = aging.unapplied_credit(f.invoices, f.payments, active, as_of)
        from_payments = active[active["payment"].isin(live["payment"])]["amount"].sum()
        from_notes = active[active["credit_note"].isin(notes["invoice"])]["amount"].sum()
        assert live["amount"].sum() == from_payments + credit.loc[credit["source"] == "payment", "remaining"].sum()
        assert notes["total"].sum() == from_notes + credit.loc[credit["source"] == "credit_note", "remaining"].sum()
        # Nothing active comes from a payment or note that does not exist yet (or any more).
        assert active["payment"].isin(live["payment"]).sum() + active["credit_note"].isin(notes["invoice"]).sum() \
            == len(active)


PaymentSequences.TestCase.settings = settings(
    max_examples=25, stateful_step_count=10, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_payment_sequences = PaymentSequences.TestCase
