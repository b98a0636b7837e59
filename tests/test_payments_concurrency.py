"""Two real processes entering payments for the same client on one SQLite file: no euro allocated twice."""
from __future__ import annotations

import sqlalchemy as sa

from echeances.store import tables
from tests.payments_helpers import HAMMER_INVOICES, make_workspace, run_hammers

PER_PROCESS = 200


def test_two_processes_never_over_allocate(tmp_path):
    make_workspace(tmp_path, invoices=HAMMER_INVOICES).close()
    entries = run_hammers(tmp_path, PER_PROCESS)
    assert len(entries) == 2 * PER_PROCESS
    accepted = [e for e in entries if e["accepted"]]
    refused = [e for e in entries if not e["accepted"]]
    # Both processes ran at the same time, and the invoices ran out: some explicit payments were refused.
    spans = [(min(e["start"] for e in entries if e["reference"].startswith(f"W{w}-")),
              max(e["end"] for e in entries if e["reference"].startswith(f"W{w}-"))) for w in (0, 1)]
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1]
    assert refused and all("dépasse le reste dû" in e["error"] for e in refused)
    assert {e["reference"][:2] for e in accepted} == {"W0", "W1"}

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'echeances.sqlite'}")
    with engine.connect() as conn:
        pays = {r.reference: r for r in conn.execute(sa.select(tables.payments))}
        rows = conn.execute(sa.select(tables.allocations.c.payment, tables.invoices.c.number,
                                      tables.allocations.c.amount)
                            .join(tables.invoices, tables.invoices.c.id == tables.allocations.c.invoice)).all()
    engine.dispose()
    # Every accepted payment is there with exactly its allocations; every refused one left no trace.
    assert set(pays) == {e["reference"] for e in accepted}
    assert len({p.payment_id for p in pays.values()}) == len(accepted)
    by_payment: dict[int, dict[str, int]] = {}
    for payment, number, amount in rows:
        by_payment.setdefault(payment, {})[number] = by_payment.get(payment, {}).get(number, 0) + amount
    for e in accepted:
        row = pays[e["reference"]]
        assert (row.payment_id, row.amount) == (e["payment_id"], e["amount"])
        assert by_payment.get(row.id, {}) == e["allocations"]
    # No invoice got more than its total, and the invoices are fully paid (so there was contention).
    allocated: dict[str, int] = {}
    for _, number, amount in rows:
        allocated[number] = allocated.get(number, 0) + amount
    assert allocated == {r[1]: r[7] for r in HAMMER_INVOICES}
