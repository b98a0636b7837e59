"""Large synthetic receivables as frames, for benchmarks and ``echeances demo --size``.

Pure and deterministic (seeded); codes start at 1 as the store's ids do.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from echeances import schema
from echeances.records import Frames

START = np.datetime64("2024-01-01", "D")
DAYS = 3 * 365


def synthetic_frames(n_invoices: int, seed: int = 7) -> Frames:
    """About ``n_invoices`` invoices and as many allocations, with retentions, partial and late payments."""
    rng = np.random.default_rng(seed)
    n_clients = max(60, n_invoices // 50)
    n_sites = max(150, n_invoices // 20)
    client_codes = np.arange(1, n_clients + 1)
    site_codes = np.arange(1, n_sites + 1)
    site_client = rng.integers(1, n_clients + 1, n_sites)
    clients = pd.DataFrame({
        "client": client_codes, "client_id": pd.array([f"C{i:06d}" for i in client_codes], dtype="string"),
        "name": pd.array([f"Client {i}" for i in client_codes], dtype="string"),
        "kind": pd.array(np.where(rng.random(n_clients) < 0.2, "particulier", "professionnel"), dtype="string"),
    })
    sites = pd.DataFrame({
        "site": site_codes, "site_id": pd.array([f"S{i:07d}" for i in site_codes], dtype="string"),
        "client": site_client, "name": pd.array([f"Chantier {i}" for i in site_codes], dtype="string"),
        "manager": pd.array(rng.choice(["Paul Girard", "Inès Morel", "Luc Perrin", "Sarah Blanc"], n_sites),
                            dtype="string"),
    })
    codes = np.arange(1, n_invoices + 1)
    site = rng.integers(1, n_sites + 1, n_invoices)
    kind_codes = rng.choice(4, n_invoices, p=[0.6, 0.15, 0.22, 0.03])
    issue = START + rng.integers(0, DAYS, n_invoices).astype("timedelta64[D]")
    total = rng.integers(5_000, 5_000_000, n_invoices).astype(np.int64)
    has_ret = (rng.random(n_invoices) < 0.15) & (kind_codes == 2)
    retention = np.where(has_ret, total // 20, 0).astype(np.int64)
    invoices = pd.DataFrame({
        "invoice": codes, "number": pd.array([f"F{i:08d}" for i in codes], dtype="string"),
        "client": site_client[site - 1], "site": site,
        "kind": pd.Categorical.from_codes(kind_codes, dtype=schema.KIND),
        "issue_date": issue.astype(schema.DATE),
        "due_date": (issue + np.timedelta64(30, "D")).astype(schema.DATE),
        "total": total, "retention": retention,
        "retention_release_date": np.where(has_ret, issue + np.timedelta64(365, "D"),
                                           np.datetime64("NaT")).astype(schema.DATE),
        "manager": pd.array([None] * n_invoices, dtype="string"),
    })
    # One allocation per invoice for most, a second (retention or balance) for some.
    payable = np.flatnonzero(kind_codes != 3)
    first = payable[rng.random(len(payable)) < 0.92]
    second = first[rng.random(len(first)) < 0.12]
    share = rng.choice([1.0, 1.0, 1.0, 0.5, 0.8], len(first))
    net = total - retention
    amount_first = np.maximum((net[first] * share).astype(np.int64), 1)
    amount_second = np.maximum((total[second] - amount_first[np.searchsorted(first, second)]) // 2, 1)
    target = np.concatenate([first, second])
    amount = np.concatenate([amount_first, amount_second])
    delay = rng.gamma(2.0, 20.0, len(target)).astype("timedelta64[D]")
    date = issue[target] + delay
    n_alloc = len(target)
    payments = pd.DataFrame({
        "payment": np.arange(1, n_alloc + 1),
        "payment_id": pd.array([f"P{i:08d}" for i in range(1, n_alloc + 1)], dtype="string"),
        "client": site_client[site[target] - 1], "date": date.astype(schema.DATE), "amount": amount,
        "method": pd.array(["virement"] * n_alloc, dtype="string"),
        "cancelled_date": np.full(n_alloc, np.datetime64("NaT"), dtype=schema.DATE),
    })
    allocations = pd.DataFrame({
        "allocation": np.arange(1, n_alloc + 1), "payment": np.arange(1, n_alloc + 1),
        "credit_note": np.full(n_alloc, schema.NO_CODE), "invoice": codes[target], "amount": amount,
        "date": date.astype(schema.DATE),
    })
    return Frames(clients=clients, sites=sites, invoices=invoices, payments=payments,
                  allocations=allocations, write_offs=schema.empty(schema.WRITE_OFFS))
