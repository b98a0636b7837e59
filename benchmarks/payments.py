"""Time to record one payment, workspace already open: on the demo data and on a large synthetic store.

    .venv/bin/python benchmarks/payments.py [--size 1000000] [--runs 50] [--keep DIR]

Goal (issue 3): median under 50 ms on the demo data, under 200 ms at 1,000,000 invoices.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from echeances import Workspace  # noqa: E402
from echeances.payment_specs import PaymentSpec
from echeances.demo import write_demo  # noqa: E402


def busiest_client(ws: Workspace) -> str:
    """The client with the most open items: the slowest one to allocate for."""
    items = ws.open_items(as_of=dt.date(2100, 1, 1))
    code = int(items["client"].value_counts().idxmax())
    return str(ws.frames.clients.set_index("client").loc[code, "client_id"])


def time_payments(ws: Workspace, client_id: str, runs: int) -> list[float]:
    """Milliseconds per ``record_payment`` (automatic allocation of a part payment, each a new cheque)."""
    timings = []
    for i in range(runs):
        spec = PaymentSpec(client_id=client_id, date=dt.date(2027, 1, 15), amount=12_345 + i, method="chèque",
                           reference=f"BENCH-{time.time_ns()}-{i}")
        start = time.perf_counter()
        ws.record_payment(spec)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def measure(label: str, folder: Path, size: int | None, runs: int) -> None:
    start = time.perf_counter()
    counts = write_demo(folder, size=size)
    built = time.perf_counter() - start
    ws = Workspace.open(folder)
    start = time.perf_counter()
    client_id = busiest_client(ws)
    loaded = time.perf_counter() - start
    n_items = int((ws.open_items(as_of=dt.date(2100, 1, 1))["client_id"] == client_id).sum())
    timings = time_payments(ws, client_id, runs)
    ws.close()
    median, p90 = statistics.median(timings), sorted(timings)[int(0.9 * (len(timings) - 1))]
    print(f"{label}: {counts.get('invoices', '?')} factures (écrit en {built:.1f} s, chargé en {loaded:.1f} s) ; "
          f"client {client_id} ({n_items} échéances ouvertes) ; {runs} règlements : "
          f"médiane {median:.1f} ms, p90 {p90:.1f} ms, min {min(timings):.1f} ms, max {max(timings):.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="factures du grand jeu (0 : pas de grand jeu)")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="dossier où garder les espaces créés (défaut : temporaire)")
    args = parser.parse_args(argv)
    print("commande :", shlex.join([Path(sys.executable).name, *sys.argv]))
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        measure("démo", root / "demo", None, args.runs)
        if args.size:
            measure(f"synthétique --size {args.size}", root / f"large-{args.size}", args.size, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
