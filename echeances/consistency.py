"""Cross-file import rules, checked on the store's content merged with the incoming rows.

Pure: every reference and every sum is checked on what the store would hold
after the import, and each problem is reported at the incoming row that causes it.
"""
from __future__ import annotations

import pandas as pd

from echeances.errors import Problem
from echeances.money import format_amount
from echeances.records import Frames

STORED = "base existante"


def natural_state(frames: Frames) -> dict[str, pd.DataFrame]:
    """The store's content keyed by natural keys (client_id, number…), as the import files are."""
    client_id = frames.clients.set_index("client")["client_id"]
    site_id = frames.sites.set_index("site")["site_id"]
    number = frames.invoices.set_index("invoice")["number"]
    payment_id = frames.payments.set_index("payment")["payment_id"]
    inv = frames.invoices
    alloc = frames.allocations
    source = alloc["payment"].map(payment_id).fillna(alloc["credit_note"].map(number))
    return {
        "clients": pd.DataFrame({"client_id": frames.clients["client_id"], "kind": frames.clients["kind"]}),
        "sites": pd.DataFrame({"site_id": frames.sites["site_id"], "client_id": frames.sites["client"].map(client_id)}),
        "invoices": pd.DataFrame({
            "number": inv["number"], "client_id": inv["client"].map(client_id),
            "site_id": inv["site"].map(site_id), "kind": inv["kind"].astype(str), "total": inv["total"],
            "retention": inv["retention"], "issue_date": inv["issue_date"].dt.date}),
        "payments": pd.DataFrame({
            "payment_id": frames.payments["payment_id"], "client_id": frames.payments["client"].map(client_id),
            "amount": frames.payments["amount"], "date": frames.payments["date"].dt.date,
            "cancelled": frames.payments["cancelled_date"].notna()}),
        "allocations": pd.DataFrame({"source_id": source, "invoice": alloc["invoice"].map(number),
                                     "amount": alloc["amount"]}),
        "write_offs": pd.DataFrame({"invoice": frames.write_offs["invoice"].map(number),
                                    "date": frames.write_offs["date"].dt.date,
                                    "amount": frames.write_offs["amount"]}),
    }


def _merge(stored: pd.DataFrame, incoming: pd.DataFrame | None, keys: list[str]) -> pd.DataFrame:
    """Stored rows overridden by incoming rows of the same key; ``line`` is NaN for stored rows."""
    stored = stored.assign(line=None, file=STORED)
    if incoming is None or incoming.empty:
        return stored.reset_index(drop=True)
    incoming = incoming.dropna(subset=keys)
    kept = stored[~stored.set_index(keys).index.isin(incoming.set_index(keys).index)]
    return pd.concat([kept, incoming], ignore_index=True)


class _Checker:
    def __init__(self, files: dict[str, str]):
        self.files = files
        self.problems: list[Problem] = []

    def add(self, table: str, line, message: str) -> None:
        file = self.files.get(table, table) if line is not None and not pd.isna(line) else STORED
        self.problems.append(Problem(file, None if file == STORED else int(line), message))


def check(incoming: dict[str, pd.DataFrame], stored: dict[str, pd.DataFrame],
          files: dict[str, str]) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Check references and sums; return the incoming frames completed (credit-note totals
    made positive, allocation dates defaulted) and the problems found."""
    out = {name: frame.copy() for name, frame in incoming.items()}
    if "invoices" in out:
        inv = out["invoices"]
        inv["kind"] = inv["kind"].fillna("invoice")
        inv["retention"] = inv["retention"].fillna(0)
        inv["total"] = [abs(t) if k == "credit_note" and t is not None else t for t, k in zip(inv["total"], inv["kind"])]
    c = _Checker(files)
    clients = _merge(stored["clients"], out.get("clients"), ["client_id"])
    sites = _merge(stored["sites"], out.get("sites"), ["site_id"])
    invoices = _merge(stored["invoices"], out.get("invoices"), ["number"])
    known_clients = set(clients["client_id"])
    site_client = dict(zip(sites["site_id"], sites["client_id"]))
    inv_by_number = invoices.set_index("number")
    for row in out.get("sites", pd.DataFrame(columns=["line", "client_id"])).itertuples():
        if row.client_id is not None and row.client_id not in known_clients:
            c.add("sites", row.line, f"client inconnu « {row.client_id} »")
    for row in out.get("invoices", pd.DataFrame(columns=["line", "client_id", "site_id"])).itertuples():
        if row.client_id is not None and row.client_id not in known_clients:
            c.add("invoices", row.line, f"client inconnu « {row.client_id} »")
        if row.site_id is not None:
            owner = site_client.get(row.site_id)
            if owner is None:
                c.add("invoices", row.line, f"chantier inconnu « {row.site_id} »")
            elif row.client_id is not None and owner != row.client_id:
                c.add("invoices", row.line, f"le chantier {row.site_id} appartient au client {owner}, "
                                            f"pas à {row.client_id}")
    payments = _check_payments(c, stored["payments"], out.get("payments"), known_clients)
    _check_allocations(c, out, stored, payments, inv_by_number)
    return out, c.problems


def _check_payments(c: _Checker, stored: pd.DataFrame, incoming: pd.DataFrame | None, known_clients) -> pd.DataFrame:
    if incoming is not None:
        before = stored.set_index("payment_id")
        for row in incoming.itertuples():
            if row.client_id is not None and row.client_id not in known_clients:
                c.add("payments", row.line, f"client inconnu « {row.client_id} »")
            if row.payment_id in before.index:
                old = before.loc[row.payment_id]
                if (old["client_id"], old["amount"], old["date"]) != (row.client_id, row.amount, row.date):
                    c.add("payments", row.line, f"le règlement {row.payment_id} existe déjà "
                          f"({old['client_id']}, {format_amount(old['amount'])}, {old['date']:%d/%m/%Y}) : "
                          "un règlement ne se modifie pas, il s'annule puis se saisit à nouveau")
    merged = _merge(stored, incoming, ["payment_id"])
    merged["cancelled"] = merged["cancelled"].fillna(False).astype(bool)
    return merged


def _check_allocations(c: _Checker, out, stored, payments: pd.DataFrame, invoices: pd.DataFrame) -> None:
    pay = payments.set_index("payment_id")
    incoming = out.get("allocations")
    if incoming is not None:
        dates = []
        for row in incoming.itertuples():
            date = row.date
            source_client = None
            if row.source_id in pay.index:
                source = pay.loc[row.source_id]
                source_client, date = source["client_id"], date or source["date"]
                if source["cancelled"]:
                    c.add("allocations", row.line, f"le règlement {row.source_id} est annulé")
            elif row.source_id in invoices.index and invoices.loc[row.source_id, "kind"] == "credit_note":
                note = invoices.loc[row.source_id]
                source_client, date = note["client_id"], date or note["issue_date"]
            elif row.source_id in invoices.index:
                c.add("allocations", row.line, f"« {row.source_id} » n'est ni un règlement ni un avoir")
            elif row.source_id is not None:
                c.add("allocations", row.line, f"règlement ou avoir inconnu « {row.source_id} »")
            dates.append(date)
            if row.invoice is None:
                continue
            if row.invoice not in invoices.index:
                c.add("allocations", row.line, f"facture inconnue « {row.invoice} »")
                continue
            target = invoices.loc[row.invoice]
            if target["kind"] == "credit_note":
                c.add("allocations", row.line, f"{row.invoice} est un avoir : on n'impute rien sur un avoir")
            elif source_client is not None and target["client_id"] != source_client:
                what = "le règlement" if row.source_id in pay.index else "l'avoir"
                c.add("allocations", row.line, f"{what} {row.source_id} du client {source_client} ne peut pas "
                      f"être imputé sur {row.invoice} du client {target['client_id']}")
        incoming["date"] = dates
    if out.get("write_offs") is not None:
        for row in out["write_offs"].itertuples():
            if row.invoice is not None and row.invoice not in invoices.index:
                c.add("write_offs", row.line, f"facture inconnue « {row.invoice} »")
    allocations = _merge(stored["allocations"], incoming, ["source_id", "invoice"])
    write_offs = _merge(stored["write_offs"], out.get("write_offs"), ["invoice", "date", "amount"])
    _check_sums(c, allocations, write_offs, pay, invoices)


def _first_crossing(rows: pd.DataFrame, limit: int):
    """The first row (stored rows first, then file order) where the running sum passes ``limit``."""
    rows = rows.assign(_order=rows["line"].fillna(0).astype(float)).sort_values("_order", kind="stable")
    running = rows["amount"].astype("int64").cumsum()
    over = rows[running > limit]
    return over.iloc[0] if len(over) else None


def _check_sums(c: _Checker, allocations, write_offs, payments, invoices) -> None:
    allocations = allocations.dropna(subset=["source_id", "invoice", "amount"])
    write_offs = write_offs.dropna(subset=["invoice", "amount"])
    for source_id, rows in allocations.groupby("source_id", sort=False):
        if source_id in payments.index:
            limit, what = payments.loc[source_id, "amount"], "son montant"
        elif source_id in invoices.index:
            limit, what = invoices.loc[source_id, "total"], "son total"
        else:
            continue
        total = int(rows["amount"].sum())
        if limit is not None and not pd.isna(limit) and total > limit:
            row = _first_crossing(rows, limit)
            c.add("allocations", row["line"],
                  f"les imputations de {source_id} ({format_amount(total)}) dépassent {what} {format_amount(limit)}")
    settled = pd.concat([allocations.assign(table="allocations"), write_offs.assign(table="write_offs")],
                        ignore_index=True)
    for number, rows in settled.groupby("invoice", sort=False):
        if number not in invoices.index:
            continue
        limit = invoices.loc[number, "total"]
        total = int(rows["amount"].sum())
        if limit is not None and not pd.isna(limit) and total > limit:
            row = _first_crossing(rows, limit)
            table, line = (row["table"], row["line"])
            if pd.isna(line) or line is None:
                table, line = "invoices", invoices.loc[number, "line"]
            c.add(table, line, f"les imputations et pertes sur {number} ({format_amount(total)}) "
                               f"dépassent son total {format_amount(limit)}")
