"""Payments on a real PostgreSQL server: the same rules, and two processes still never allocate a euro twice."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from echeances.payment_specs import AboveOutstanding, CreditSpec, PaymentSpec, WriteOffSpec
from echeances.store import tables
from tests.payments_helpers import D, HAMMER_INVOICES, make_workspace, outstanding, table_counts

ROOT = Path(__file__).resolve().parents[1]


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
    go = tmp_path / "go"
    logs = [tmp_path / f"worker{w}.jsonl" for w in (0, 1)]
    workers = [subprocess.Popen([sys.executable, "-c",
                                 "import sys; from tests.payments_helpers import hammer; "
                                 "hammer(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:])",
                                 str(tmp_path), str(w), "100", str(log), str(go)],
                                cwd=ROOT, env={**os.environ, "ECHEANCES_DB": pg_url})
               for w, log in enumerate(logs)]
    go.touch()
    assert [p.wait(timeout=600) for p in workers] == [0, 0]
    entries = [json.loads(line) for log in logs for line in log.read_text(encoding="utf-8").splitlines()]
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
