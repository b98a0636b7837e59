"""A tiny real workspace for payment tests: two clients, a few invoices, written straight into the store."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from echeances import Workspace
from echeances.store import tables

D = dt.date

CLIENTS = [(1, "C1", "Dupont SARL"), (2, "C2", "Martin")]
SITES = [(1, "S1", 1, "Chantier école"), (2, "S2", 1, "Mairie")]
# (id, number, client, site, kind, issue, due, total, retention, release)
INVOICES = [
    (1, "F-2024-031", 1, 1, "invoice", D(2024, 1, 10), D(2024, 2, 10), 100_000, 0, None),
    (2, "F-2024-040", 1, 2, "invoice", D(2024, 2, 1), D(2024, 3, 1), 50_000, 0, None),
    (3, "F-2024-050", 1, 1, "progress", D(2024, 1, 5), D(2024, 1, 20), 200_000, 10_000, D(2024, 12, 20)),
    (4, "F-2024-060", 2, None, "invoice", D(2024, 1, 1), None, 30_000, 0, None),
    (5, "A-2024-001", 1, 1, "credit_note", D(2024, 3, 1), None, 12_000, 0, None),
    (6, "F-2024-070", 1, 1, "invoice", D(2024, 6, 1), None, 40_000, 0, None),
]


def make_workspace(path: Path, invoices=INVOICES) -> Workspace:
    ws = Workspace.open(path)
    with ws.store.write() as conn:
        conn.execute(sa.insert(tables.clients), [{"id": i, "client_id": c, "name": n} for i, c, n in CLIENTS])
        conn.execute(sa.insert(tables.sites), [{"id": i, "site_id": s, "client": c, "name": n} for i, s, c, n in SITES])
        conn.execute(sa.insert(tables.invoices), [
            {"id": r[0], "number": r[1], "client": r[2], "site": r[3], "kind": r[4], "issue_date": r[5],
             "due_date": r[6], "total": r[7], "retention": r[8], "retention_release_date": r[9]}
            for r in invoices
        ])
    ws.refresh()
    return ws


def outstanding(ws: Workspace, as_of=D(2100, 1, 1)) -> dict[str, int]:
    """Invoice number → cents still due (all parts), every invoice listed (0 when settled)."""
    items = ws.open_items(as_of=as_of, include_settled=True)
    return {k: int(v) for k, v in items.groupby("number")["outstanding"].sum().items()}


def table_counts(ws: Workspace) -> dict[str, int]:
    with ws.store.read() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for t in (tables.payments, tables.allocations, tables.write_offs)}


def hammer(folder: str, worker: int, count: int, log: str, go: str) -> None:
    """One process of the concurrency test: ``count`` payments for C1, alternately automatic and explicit.

    Says it is ready (a ``ready<worker>`` file beside ``go``) once its imports are done, then waits
    for the ``go`` file so both processes start together; writes one JSON line per attempt to
    ``log`` (accepted or refused, and what was allocated).
    """
    import json
    import time

    from echeances.payment_specs import PaymentRefused, PaymentSpec

    ws = Workspace.open(Path(folder))
    numbers = [r[1] for r in HAMMER_INVOICES]
    Path(go).with_name(f"ready{worker}").touch()
    while not Path(go).exists():
        time.sleep(0.005)
    with open(log, "w", encoding="utf-8") as out:
        for i in range(count):
            reference = f"W{worker}-{i:04d}"
            amount = 1_000 + (i * 7919 + worker * 104_729) % 4_000
            explicit = {numbers[(i + worker) % len(numbers)]: amount} if i % 2 else {}
            spec = PaymentSpec(client_id="C1", date=D(2024, 7, 1), amount=amount, reference=reference,
                               allocations=explicit)
            started = time.time()
            try:
                recorded = ws.record_payment(spec)
                entry = {"reference": reference, "accepted": True, "payment_id": recorded.payment_id,
                         "amount": amount, "allocations": {a.invoice: a.amount for a in recorded.allocations}}
            except PaymentRefused as exc:
                entry = {"reference": reference, "accepted": False, "error": str(exc)}
            entry.update(start=started, end=time.time())
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
    ws.close()


# Five invoices of C1 worth 1 500,00 € in all: far less than 2 × 200 payments bring.
HAMMER_INVOICES = [
    (1, "F-H-1", 1, 1, "invoice", D(2024, 1, 10), D(2024, 2, 10), 30_000, 0, None),
    (2, "F-H-2", 1, 2, "invoice", D(2024, 2, 1), D(2024, 3, 1), 30_000, 0, None),
    (3, "F-H-3", 1, 1, "progress", D(2024, 1, 5), D(2024, 1, 20), 40_000, 2_000, D(2024, 6, 20)),
    (4, "F-H-4", 1, None, "invoice", D(2024, 3, 1), None, 20_000, 0, None),
    (5, "F-H-5", 1, 2, "invoice", D(2024, 4, 1), None, 30_000, 0, None),
]


def run_hammers(folder: Path, per_process: int, env: dict | None = None) -> list[dict]:
    """Two real processes running ``hammer`` at once on the workspace in ``folder``; their log entries."""
    import json
    import os
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[1]
    go = folder / "go"
    logs = [folder / f"worker{w}.jsonl" for w in (0, 1)]
    workers = [subprocess.Popen([sys.executable, "-c",
                                 "import sys; from tests.payments_helpers import hammer; "
                                 "hammer(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:])",
                                 str(folder), str(w), str(per_process), str(log), str(go)],
                                cwd=root, env={**os.environ, **(env or {})})
               for w, log in enumerate(logs)]
    # Both must have finished starting up before either begins: otherwise one may be done before the other runs.
    deadline = time.monotonic() + 300
    while not all((folder / f"ready{w}").exists() for w in (0, 1)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in workers), "un processus n'a pas démarré"
        time.sleep(0.01)
    go.touch()
    assert [p.wait(timeout=600) for p in workers] == [0, 0]
    return [json.loads(line) for log in logs for line in log.read_text(encoding="utf-8").splitlines()]
