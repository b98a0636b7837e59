"""Account statements (relevés de compte): movements with a running balance that ends on the aging balance."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from echeances import schema
from echeances.documents.context import (
    Scope, _client, _date, _document, _site, check_scope, company_context, credit_context, in_scope, item_rows,
    lookups, totals_of,
)
from echeances.records import Frames

# Same-day movements: what is owed first, then what settles it.
ORDER = {"invoice": 0, "cancellation": 1, "credit_note": 2, "payment": 3, "credit_allocation": 4, "write_off": 5}
MOVEMENTS = ("date", "order", "kind", "reference", "label", "detail", "debit", "credit")


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(MOVEMENTS))


def movements(frames: Frames, scope: Scope) -> pd.DataFrame:
    """Every movement of a client (all sites) or of one site, any date, unsorted.

    Client: invoices and credit notes at issue, payments at their date, their
    cancellation, write-offs. Site: payments are client money, so they appear
    as the allocations made to the site's invoices; credit notes of another
    site applied here (or of this site applied elsewhere) appear likewise. The
    sum up to a date equals ``aging`` balance on that date.
    """
    inv = frames.invoices
    mine = inv[in_scope(inv, Scope(scope.client, scope.site))]
    rows = []
    for r in mine.itertuples(index=False):
        label = f"{schema.KIND_LABELS[str(r.kind)]} n° {r.number}"
        site = "" if scope.site is not None else _site_name(frames, r.site)
        if r.kind == "credit_note":
            rows.append((r.issue_date, ORDER["credit_note"], "credit_note", r.number, label, site, 0, int(r.total)))
        else:
            rows.append((r.issue_date, ORDER["invoice"], "invoice", r.number, label, site, int(r.total), 0))
    codes = set(mine["invoice"])
    numbers = inv.set_index("invoice")["number"]
    for w in frames.write_offs[frames.write_offs["invoice"].isin(codes)].itertuples(index=False):
        rows.append((w.date, ORDER["write_off"], "write_off", numbers[w.invoice],
                     f"Solde sans règlement, facture n° {numbers[w.invoice]}", _str(w.reason), 0, int(w.amount)))
    pays = frames.payments
    if scope.site is None:
        for p in pays[pays["client"] == scope.client].itertuples(index=False):
            rows.append((p.date, ORDER["payment"], "payment", p.payment_id, _payment_label(p), _str(p.label),
                         0, int(p.amount)))
            if not pd.isna(p.cancelled_date):
                rows.append((p.cancelled_date, ORDER["cancellation"], "cancellation", p.payment_id,
                             f"Annulation du règlement {p.payment_id}", "", int(p.amount), 0))
    else:
        rows += _site_allocations(frames, codes, numbers)
    return _frame(rows)


def _site_allocations(frames: Frames, codes: set, numbers: pd.Series) -> list[tuple]:
    alloc = frames.allocations
    pays = frames.payments.set_index("payment")
    rows = []
    for a in alloc[alloc["invoice"].isin(codes) & (alloc["payment"] >= 0)].itertuples(index=False):
        p = pays.loc[a.payment]
        rows.append((a.date, ORDER["payment"], "payment", p["payment_id"], _payment_label(p),
                     f"imputé sur la facture n° {numbers[a.invoice]}", 0, int(a.amount)))
        if not pd.isna(p["cancelled_date"]):
            rows.append((p["cancelled_date"], ORDER["cancellation"], "cancellation", p["payment_id"],
                         f"Annulation du règlement {p['payment_id']}", "", int(a.amount), 0))
    notes = alloc[alloc["credit_note"] >= 0]
    incoming = notes[notes["invoice"].isin(codes) & ~notes["credit_note"].isin(codes)]
    outgoing = notes[notes["credit_note"].isin(codes) & ~notes["invoice"].isin(codes)]
    for a in incoming.itertuples(index=False):
        rows.append((a.date, ORDER["credit_allocation"], "credit_allocation", numbers[a.credit_note],
                     f"Avoir n° {numbers[a.credit_note]} imputé", f"sur la facture n° {numbers[a.invoice]}",
                     0, int(a.amount)))
    for a in outgoing.itertuples(index=False):
        rows.append((a.date, ORDER["credit_allocation"], "credit_allocation", numbers[a.credit_note],
                     f"Avoir n° {numbers[a.credit_note]} imputé hors chantier",
                     f"sur la facture n° {numbers[a.invoice]}", int(a.amount), 0))
    return rows


def _str(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _site_name(frames: Frames, code: int) -> str:
    site = lookups(frames).sites.get(int(code))
    return site["name"] if site else ""


METHOD_LABELS = {"virement": "virement", "chèque": "chèque", "carte": "carte bancaire", "espèces": "espèces",
                 "prélèvement": "prélèvement", "LCR": "LCR", "autre": ""}


def _payment_label(p) -> str:
    method = METHOD_LABELS.get(_str(p["method"] if isinstance(p, pd.Series) else p.method), "")
    reference = _str(p["reference"] if isinstance(p, pd.Series) else p.reference)
    label = "Règlement" + (f" par {method}" if method else "")
    return label + (f" réf. {reference}" if reference else "")


def statement_context(template: str, scope: Scope, frames: Frames, start: dt.date, end: dt.date,
                      items: pd.DataFrame, credit: pd.DataFrame, settings: dict,
                      bucket_labels: dict[str, str] | None = None) -> dict:
    """Context of a statement of ``scope`` over ``start``..``end`` (inclusive).

    ``items`` are ``Workspace.open_items(end, include_settled=True)`` and
    ``credit`` ``Workspace.credit(end)``; the closing balance equals
    ``Workspace.aging(by=client|site, as_of=end)`` balance.
    """
    check_scope(template, scope, "statement")
    moves = movements(frames, scope)
    moves["date"] = pd.to_datetime(moves["date"])
    before = moves[moves["date"] < pd.Timestamp(start)]
    opening = int(before["debit"].sum() - before["credit"].sum())
    period = moves[(moves["date"] >= pd.Timestamp(start)) & (moves["date"] <= pd.Timestamp(end))]
    period = period.sort_values(["date", "order", "reference"], kind="stable")
    balance = opening + (period["debit"] - period["credit"]).cumsum()
    rows = [{"date": _date(m.date), "kind": m.kind, "reference": str(m.reference), "label": m.label,
             "detail": m.detail, "debit": int(m.debit), "credit": int(m.credit), "balance": int(b)}
            for m, b in zip(period.itertuples(index=False), balance)]
    closing = rows[-1]["balance"] if rows else opening
    mine = items[in_scope(items, Scope(scope.client, scope.site))]
    open_now = mine[mine["outstanding"] > 0]
    labels = bucket_labels or schema.BUCKET_LABELS
    keys = list(items["bucket"].cat.categories)
    by_bucket = open_now.groupby("bucket", observed=False)["outstanding"].sum()
    retained = mine[mine["part"] == "retention"]
    return {
        "company": company_context(settings), "client": _client(frames, scope.client),
        "site": _site(frames, scope.site), "document": _document("statement", template, end, settings),
        "period": {"start": start, "end": end},
        "opening_balance": opening, "closing_balance": closing, "movements": rows,
        "movement_totals": {"debit": int(period["debit"].sum()), "credit": int(period["credit"].sum())},
        "aging": [{"key": k, "label": labels.get(k, k), "amount": int(by_bucket.get(k, 0))} for k in keys],
        "items": item_rows(open_now, frames), "totals": totals_of(open_now),
        "credit": credit_context(frames, credit, Scope(scope.client, scope.site)),
        "retentions": [{"number": str(r.number), "amount": int(r.amount), "outstanding": int(r.outstanding),
                        "release_date": _date(r.due_date)} for r in retained.itertuples(index=False)],
    }
