"""Open items (échéances) and aging buckets, as-of any date: pure vectorised functions."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from echeances import schema

DEFAULT_EDGES = (30, 60, 90)
_DAY = np.timedelta64(1, "D")


def bucket_keys(edges: tuple[int, ...] = DEFAULT_EDGES) -> tuple[str, ...]:
    """``(30, 60, 90)`` → ``not_due, 1-30, 31-60, 61-90, 90+``."""
    keys, low = ["not_due"], 1
    for high in edges:
        keys.append(f"{low}-{high}")
        low = high + 1
    keys.append(f"{edges[-1]}+")
    return tuple(keys)


def _as_of(as_of: dt.date | str | pd.Timestamp) -> np.datetime64:
    return np.datetime64(pd.Timestamp(as_of).normalize().to_datetime64(), "ns")


def _sum_by(codes: np.ndarray, amounts: np.ndarray, size: int) -> np.ndarray:
    """Exact integer sums of ``amounts`` per code (0..size-1)."""
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, codes.astype(np.int64, copy=False), amounts.astype(np.int64, copy=False))
    return out


def active_allocations(allocations: pd.DataFrame, payments: pd.DataFrame, as_of) -> pd.DataFrame:
    """Allocations dated on or before ``as_of`` whose payment was not cancelled by then."""
    day = _as_of(as_of)
    keep = allocations["date"].to_numpy() <= day
    cancelled = payments.loc[payments["cancelled_date"].to_numpy() <= day, "payment"].to_numpy()
    if len(cancelled):
        keep &= ~np.isin(allocations["payment"].to_numpy(), cancelled)
    return allocations[keep]


def settled_by_invoice(invoices, allocations, write_offs, as_of) -> tuple[np.ndarray, np.ndarray, int]:
    """Allocated and written-off cents per invoice code as of ``as_of`` (arrays indexed by code)."""
    day = _as_of(as_of)
    size = int(max(invoices["invoice"].max(), -1) if len(invoices) else -1) + 1
    alloc = allocations[allocations["date"].to_numpy() <= day]
    offs = write_offs[write_offs["date"].to_numpy() <= day]
    allocated = _sum_by(alloc["invoice"].to_numpy(), alloc["amount"].to_numpy(), size)
    written = _sum_by(offs["invoice"].to_numpy(), offs["amount"].to_numpy(), size)
    return allocated, written, size


def open_items(invoices: pd.DataFrame, allocations: pd.DataFrame, write_offs: pd.DataFrame,
               as_of, edges: tuple[int, ...] = DEFAULT_EDGES, include_settled: bool = False) -> pd.DataFrame:
    """One row per amount still due on ``as_of`` (``schema.OPEN_ITEMS``), sorted by due date.

    An invoice with a retention has a ``net`` part due at ``due_date`` and a
    ``retention`` part due at ``retention_release_date``. Allocations, then
    write-offs, settle the net part first, then the retention. Credit notes
    are not open items (they are client credit). ``invoices.due_date`` must be
    resolved already. ``allocations`` must hold only active ones (see
    ``active_allocations``).
    """
    day = _as_of(as_of)
    issued = invoices[(invoices["issue_date"].to_numpy() <= day) & (invoices["kind"] != "credit_note").to_numpy()]
    allocated, written, _ = settled_by_invoice(issued, allocations, write_offs, as_of)
    codes = issued["invoice"].to_numpy()
    total = issued["total"].to_numpy()
    retention = issued["retention"].to_numpy()
    net = total - retention
    alloc, offs = allocated[codes], written[codes]
    net_paid = np.minimum(alloc, net)
    net_off = np.minimum(offs, net - net_paid)
    parts = [
        (net, net_paid, net_off, issued["due_date"].to_numpy(), 0),
        (retention, alloc - net_paid, offs - net_off, issued["retention_release_date"].to_numpy(), 1),
    ]
    frames = []
    for amount, paid, off, due, part in parts:
        outstanding = amount - paid - off
        keep = (amount > 0) & ((outstanding > 0) | include_settled)
        frames.append((keep, amount, paid, off, outstanding, due, part))
    index = np.concatenate([np.flatnonzero(f[0]) for f in frames])
    part_codes = np.concatenate([np.full(f[0].sum(), f[6], dtype=np.int8) for f in frames])
    pick = lambda i: np.concatenate([f[i][f[0]] for f in frames])  # noqa: E731
    due = pick(5)
    days = ((day - due) // _DAY).astype(np.int64)
    days = np.maximum(days, 0)
    bucket = np.searchsorted(np.asarray(edges), days, side="left") + (days > 0)
    bucket[days == 0] = 0
    keys = bucket_keys(edges)
    order = np.lexsort((codes[index], due))
    result = pd.DataFrame({
        "invoice": codes[index],
        "part": pd.Categorical.from_codes(part_codes, dtype=schema.PART),
        "client": issued["client"].to_numpy()[index],
        "site": issued["site"].to_numpy()[index],
        "kind": issued["kind"].array.take(index) if len(index) else issued["kind"].array[:0],
        "issue_date": issued["issue_date"].to_numpy()[index],
        "due_date": due,
        "amount": pick(1),
        "paid": pick(2) + pick(3),
        "written_off": pick(3),
        "outstanding": pick(4),
        "days_overdue": days,
        "bucket": pd.Categorical.from_codes(bucket, categories=keys, ordered=True),
    })
    return result.take(order).reset_index(drop=True)


def unapplied_credit(invoices: pd.DataFrame, payments: pd.DataFrame, allocations: pd.DataFrame,
                     as_of) -> pd.DataFrame:
    """Client credit on ``as_of``: one row per payment or credit note with money left.

    Columns: ``source`` (``payment``/``credit_note``), ``code``, ``client``,
    ``site`` (-1 for payments), ``date``, ``amount``, ``remaining``.
    ``allocations`` must hold only active ones (see ``active_allocations``).
    """
    day = _as_of(as_of)
    alloc = allocations[allocations["date"].to_numpy() <= day]
    pays = payments[(payments["date"].to_numpy() <= day) & ~(payments["cancelled_date"].to_numpy() <= day)]
    notes = invoices[(invoices["kind"] == "credit_note").to_numpy() & (invoices["issue_date"].to_numpy() <= day)]
    used_pay = alloc[alloc["payment"].to_numpy() >= 0].groupby("payment")["amount"].sum()
    used_note = alloc[alloc["credit_note"].to_numpy() >= 0].groupby("credit_note")["amount"].sum()
    rows = [
        pd.DataFrame({
            "source": "payment", "code": pays["payment"].to_numpy(), "client": pays["client"].to_numpy(),
            "site": schema.NO_CODE, "date": pays["date"].to_numpy(), "amount": pays["amount"].to_numpy(),
            "remaining": pays["amount"].to_numpy() - used_pay.reindex(pays["payment"], fill_value=0).to_numpy(),
        }),
        pd.DataFrame({
            "source": "credit_note", "code": notes["invoice"].to_numpy(), "client": notes["client"].to_numpy(),
            "site": notes["site"].to_numpy(), "date": notes["issue_date"].to_numpy(),
            "amount": notes["total"].to_numpy(),
            "remaining": notes["total"].to_numpy() - used_note.reindex(notes["invoice"], fill_value=0).to_numpy(),
        }),
    ]
    credit = pd.concat(rows, ignore_index=True)
    credit = credit[credit["remaining"] > 0].reset_index(drop=True)
    return credit.astype({"code": "int64", "client": "int64", "site": "int64", "amount": "int64",
                          "remaining": "int64", "date": schema.DATE})


def aging(items: pd.DataFrame, by: str = "client", credit: pd.DataFrame | None = None) -> pd.DataFrame:
    """Outstanding per group and bucket, plus credit and balance; buckets sum to ``outstanding``.

    ``by`` names an integer code column of ``items`` (and of ``credit`` when
    given). Returns one row per group that has something outstanding or some
    credit, indexed by that code, columns: every bucket key, ``outstanding``,
    ``credit``, ``balance`` (= outstanding − credit).
    """
    keys = list(items["bucket"].cat.categories)
    groups = items[by].to_numpy()
    credit_groups = credit[by].to_numpy() if credit is not None and len(credit) else np.zeros(0, np.int64)
    uniques, inverse = np.unique(np.concatenate([groups, credit_groups]), return_inverse=True)
    n = len(uniques)
    cells = np.zeros(n * len(keys), dtype=np.int64)
    np.add.at(cells, inverse[: len(groups)] * len(keys) + items["bucket"].cat.codes.to_numpy(),
              items["outstanding"].to_numpy())
    table = cells.reshape(n, len(keys))
    credit_sum = np.zeros(n, dtype=np.int64)
    if len(credit_groups):
        np.add.at(credit_sum, inverse[len(groups):], credit["remaining"].to_numpy())
    outstanding = table.sum(axis=1)
    result = pd.DataFrame(table, columns=keys, index=pd.Index(uniques, name=by))
    result["outstanding"] = outstanding
    result["credit"] = credit_sum
    result["balance"] = outstanding - credit_sum
    return result[(outstanding != 0) | (credit_sum != 0)]
