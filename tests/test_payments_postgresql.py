"""Payments on a real PostgreSQL server: the same rules, and two processes still never allocate a euro twice."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from echeances.payment_specs import AboveOutstanding, CreditSpec, PaymentSpec, WriteOffSpec
from echeances.store import tables
from tests.payments_helpers import D, HAMMER_INVOICES, make_workspace, outstanding, run_hammers, table_counts


@pytest.fixture
def pg_url(pg_url, monkeypatch):
    """A fresh database, and ``ECHEANCES_DB`` pointing at it."""
    monkeypatch.setenv("ECHEANCES_DB", pg_url)
    return pg_url


def test_postgresql__pay_refuse_credit_write_off_cancel(tmp_path, pg_url):
    ws = make_workspace(tmp_path)
    assert ws.store.engine.dialect.name == "postgresql"
    before = outstanding(ws)
    first = ws.record_payment(PaymentSpec(client_id="C1", date=D(2024, 7, 1), amount=250_000, reference="VIR 1"))
    assert (first.payment_id, [(a.invoice, a.amount) for a in first.allocations]) == \
        ("P-2024-00001", [("F-2024-050", 200_000), ("F-2024-031", 50_000)])
    counts = table_counts(ws)
    with pytest.raises(AboveOutstanding):
        ws.record_payment(PaymentSpec(client_id="C1", date=D(2024, 7, 1), amount=60_000,
                                      allocations={"F-2024-031": 60_000}))
    assert table_counts(ws) == counts
    ws.apply_credit(CreditSpec("C1", "A-2024-001", D(2024, 7, 2), allocations={"F-2024-040": 12_000}))
    assert ws.write_off(WriteOffSpec("F-2024-040", D(2024, 7, 2), "écart", amount=300)) == 300
    ws.cancel_payment(first.payment_id, "chèque impayé", date=D(2024, 7, 1))
    after = outstanding(ws)
    assert {k: before[k] - after[k] for k in before if before[k] != after[k]} == {"F-2024-040": 12_300}
    ws.close()


def test_postgresql__two_processes_never_over_allocate(tmp_path, pg_url):
    make_workspace(tmp_path, invoices=HAMMER_INVOICES).close()
    entries = run_hammers(tmp_path, 100, env={"ECHEANCES_DB": pg_url})
    accepted = {e["reference"]: e for e in entries if e["accepted"]}
    assert len(entries) == 200 and len(accepted) < 200
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        refs = {r.reference: r.payment_id for r in conn.execute(sa.select(tables.payments))}
        rows = conn.execute(sa.select(tables.invoices.c.number, sa.func.sum(tables.allocations.c.amount))
                            .join(tables.invoices, tables.invoices.c.id == tables.allocations.c.invoice)
                            .group_by(tables.invoices.c.number)).all()
    engine.dispose()
    assert refs == {ref: e["payment_id"] for ref, e in accepted.items()}
    assert dict(rows) == {r[1]: r[7] for r in HAMMER_INVOICES}
