"""Template contexts built from the workspace's frames: plain values, cents and dates (see templates/README.md)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from echeances import schema
from echeances.errors import EcheancesError, NotFound
from echeances.records import Frames

# Templates made for one kind of scope; any other template accepts any scope.
TEMPLATE_SCOPES = {
    "facture_en_retard": "invoice",
    "factures_chantier_en_retard": "site",
    "factures_client_en_retard": "client",
    "releve_compte_client": "client",
    "releve_compte_chantier": "site",
}
SCOPE_OPTIONS = {"invoice": "--invoice (une facture)", "site": "--site (un chantier)", "client": "--client (un client)"}
TITLES = {
    "facture_en_retard": "Relance facture", "factures_chantier_en_retard": "Relance chantier",
    "factures_client_en_retard": "Relance client", "relance_1": "Rappel", "relance_2": "Deuxième relance",
    "mise_en_demeure": "Mise en demeure", "releve_compte_client": "Relevé de compte",
    "releve_compte_chantier": "Relevé de compte chantier",
}


@dataclass(frozen=True)
class Scope:
    """Who a document is about: a client, optionally one of its sites or one invoice (store codes)."""

    client: int
    site: int | None = None
    invoice: int | None = None

    @property
    def kind(self) -> str:
        return "invoice" if self.invoice is not None else "site" if self.site is not None else "client"


def resolve_scope(frames: Frames, invoice: str | None = None, client: str | None = None,
                  site: str | None = None) -> Scope:
    """Exactly one of invoice number, client id, site id → the codes of the client, site and invoice."""
    given = [name for name, value in (("invoice", invoice), ("client", client), ("site", site)) if value]
    if len(given) != 1:
        raise EcheancesError("Indiquez exactement un destinataire : une facture, un client ou un chantier")
    found = lookups(frames)
    if invoice:
        if invoice not in found.invoice_scopes:
            raise NotFound(f"Facture inconnue : {invoice}")
        return found.invoice_scopes[invoice]
    if site:
        if site not in found.site_scopes:
            raise NotFound(f"Chantier inconnu : {site}")
        return found.site_scopes[site]
    if client not in found.client_codes:
        raise NotFound(f"Client inconnu : {client}")
    return Scope(found.client_codes[client])


STATEMENT_PREFIX = "releve"


def check_scope(template: str, scope: Scope, kind: str = "reminder") -> None:
    """Refuse a statement template for a letter (and back), or a template made for another scope."""
    if template.startswith(STATEMENT_PREFIX) != (kind == "statement"):
        raise EcheancesError(f"Le modèle {template} est un relevé de compte : utilisez « statement »"
                             if kind == "reminder" else
                             f"Le modèle {template} est un courrier de relance : utilisez « remind »")
    wanted = TEMPLATE_SCOPES.get(template)
    if wanted and wanted != scope.kind:
        raise EcheancesError(f"Le modèle {template} s'utilise avec {SCOPE_OPTIONS[wanted]}")


def _text(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _date(value) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def company_context(settings: dict) -> dict:
    return {key: _text(value) for key, value in settings["company"].items()}


CLIENT_FIELDS = ("client_id", "name", "kind", "email", "phone", "address", "postcode", "city", "siret", "vat_number")
SITE_FIELDS = ("site_id", "name", "address", "postcode", "city", "status", "manager")


@dataclass(frozen=True)
class Lookups:
    """Dictionaries over one ``Frames``, built once: a batch of letters then costs no pandas indexing."""

    clients: dict[int, dict]
    sites: dict[int, dict]
    numbers: dict[int, str]
    invoice_codes: dict[str, int]
    invoice_totals: dict[int, int]
    payment_ids: dict[int, str]
    client_codes: dict[str, int]
    site_scopes: dict[str, Scope]
    invoice_scopes: dict[str, Scope]


_last: list = []  # [(frames, lookups)]: frames are immutable and replaced on refresh


def lookups(frames: Frames) -> Lookups:
    if _last and _last[0][0] is frames:
        return _last[0][1]
    records = lambda frame, key, fields: {  # noqa: E731
        int(r[key]): {f: _text(r[f]) for f in fields} for r in frame.to_dict("records")}
    inv, sites = frames.invoices, frames.sites
    numbers = dict(zip(inv["invoice"].tolist(), inv["number"].astype(str).tolist()))
    invoice_scopes = {n: Scope(c, None if s < 0 else s, i) for i, n, c, s in zip(
        inv["invoice"].tolist(), inv["number"].astype(str).tolist(), inv["client"].tolist(), inv["site"].tolist())}
    found = Lookups(
        clients=records(frames.clients, "client", CLIENT_FIELDS), sites=records(frames.sites, "site", SITE_FIELDS),
        numbers=numbers, invoice_codes={n: c for c, n in numbers.items()},
        invoice_totals=dict(zip(inv["invoice"].tolist(), inv["total"].tolist())),
        payment_ids=dict(zip(frames.payments["payment"].tolist(), frames.payments["payment_id"].astype(str).tolist())),
        client_codes=dict(zip(frames.clients["client_id"].astype(str).tolist(), frames.clients["client"].tolist())),
        site_scopes={i: Scope(c, s) for i, c, s in zip(sites["site_id"].astype(str).tolist(), sites["client"].tolist(),
                                                         sites["site"].tolist())},
        invoice_scopes=invoice_scopes,
    )
    _last[:] = [(frames, found)]
    return found


def _client(frames: Frames, code: int) -> dict:
    out = dict(lookups(frames).clients[code])
    out["professional"] = out["kind"] != "particulier"
    return out


def _site(frames: Frames, code: int | None) -> dict | None:
    return None if code is None else dict(lookups(frames).sites[code])


def split_by_client(frame: pd.DataFrame):
    """``frame`` grouped once by ``client``: returns ``code → rows of that client`` (empty frame if none)."""
    groups = dict(tuple(frame.groupby("client", sort=False))) if len(frame) else {}
    empty = frame.iloc[:0]
    return lambda code: groups.get(code, empty)


def in_scope(frame: pd.DataFrame, scope: Scope, invoice_column: str = "invoice") -> pd.Series:
    """Rows of ``frame`` (with ``client``/``site`` and an invoice code column) that belong to ``scope``."""
    if scope.invoice is not None:
        return frame[invoice_column] == scope.invoice
    if scope.site is not None:
        return frame["site"] == scope.site
    return frame["client"] == scope.client


def item_rows(items: pd.DataFrame, frames: Frames) -> list[dict]:
    """Described open items (``Workspace.open_items``) → the template's ``items``."""
    columns = {c: items[c].tolist() for c in ("invoice", "number", "kind", "part", "issue_date", "due_date", "amount",
                                               "paid", "outstanding", "days_overdue", "site_id", "site_name")}
    totals = lookups(frames).invoice_totals
    return [{
        "total": int(totals[r["invoice"]]),
        "number": str(r["number"]), "kind": str(r["kind"]), "kind_label": schema.KIND_LABELS[str(r["kind"])],
        "part": str(r["part"]), "part_label": "Retenue de garantie" if r["part"] == "retention" else "Facture",
        "issue_date": _date(r["issue_date"]), "due_date": _date(r["due_date"]), "amount": int(r["amount"]),
        "paid": int(r["paid"]), "outstanding": int(r["outstanding"]), "days_late": int(r["days_overdue"]),
        "site_id": _text(r["site_id"]), "site_name": _text(r["site_name"]),
    } for r in (dict(zip(columns, values)) for values in zip(*columns.values()))]


def totals_of(items: pd.DataFrame) -> dict:
    return {"count": len(items), "amount": int(items["amount"].sum()), "paid": int(items["paid"].sum()),
            "outstanding": int(items["outstanding"].sum())}


def credit_context(frames: Frames, credit: pd.DataFrame, scope: Scope) -> dict:
    """Unapplied client credit in scope: payments count for a client, credit notes for their site too."""
    if scope.site is not None or scope.invoice is not None:
        keep = (credit["source"] == "credit_note") & (credit["site"] == (scope.site if scope.site is not None else -2))
    else:
        keep = credit["client"] == scope.client
    rows = credit[keep]
    found = lookups(frames)
    numbers, payment_ids = found.numbers, found.payment_ids
    lines = [{
        "label": f"Avoir n° {numbers[code]}" if source == "credit_note" else f"Règlement {payment_ids[code]}",
        "date": _date(day), "amount": int(amount), "remaining": int(remaining),
    } for source, code, day, amount, remaining in zip(*(rows[c].tolist() for c in (
        "source", "code", "date", "amount", "remaining")))]
    return {"total": sum(line["remaining"] for line in lines), "lines": lines}


def penalties_context(penalties: pd.DataFrame, numbers: dict[int, str], professional: bool,
                      rate: Decimal, contractual: bool) -> dict:
    """Interest and indemnity lines for the letter's invoices (``penalties`` already filtered)."""
    lines = [{"number": numbers[code], "overdue": int(overdue), "days_late": int(days), "interest": int(interest),
              "indemnity": int(indemnity)}
             for code, overdue, days, interest, indemnity in zip(*(penalties[c].tolist() for c in (
                 "invoice", "overdue", "days_overdue", "interest", "indemnity")))]
    interest = sum(line["interest"] for line in lines)
    indemnity = sum(line["indemnity"] for line in lines)
    return {
        "applicable": professional and bool(lines), "rate": rate, "contractual": contractual,
        "provisional": bool(penalties["provisional"].any()), "indemnity_per_invoice": 4000 if professional else 0,
        "lines": lines, "interest": interest, "indemnity": indemnity, "total": interest + indemnity,
    }


def reminder_context(template: str, scope: Scope, frames: Frames, items: pd.DataFrame, penalties: pd.DataFrame,
                     credit: pd.DataFrame, settings: dict, as_of: dt.date, rate: Decimal,
                     contractual: bool = False) -> dict:
    """Context of a reminder letter: the overdue items of ``scope`` on ``as_of`` and what they cost.

    ``items`` are ``Workspace.open_items(as_of)``, ``penalties`` the core's
    ``penalties`` frame on ``as_of``, ``credit`` ``Workspace.credit(as_of)``,
    ``rate`` the late rate of ``as_of``'s half-year.
    """
    check_scope(template, scope)
    client = _client(frames, scope.client)
    overdue = items[in_scope(items, scope) & (items["days_overdue"] > 0)]
    if overdue.empty:
        raise EcheancesError(f"Rien à relancer : aucune échéance en retard pour {_describe(frames, scope)} "
                             f"au {as_of:%d/%m/%Y}")
    numbers = lookups(frames).numbers
    position = {code: i for i, code in enumerate(dict.fromkeys(overdue["invoice"]))}
    late = penalties[penalties["invoice"].isin(position)]
    late = late.iloc[late["invoice"].map(position).argsort()]  # lines in the order of the items table
    pen = penalties_context(late, numbers, client["professional"], rate, contractual)
    totals = totals_of(overdue)
    deadline_days = int(settings.get("documents", {}).get("deadline_days", 8))
    return {
        "company": company_context(settings), "client": client, "site": _site(frames, scope.site),
        "document": _document("reminder", template, as_of, settings),
        "items": item_rows(overdue, frames), "totals": totals, "penalties": pen,
        "grand_total": totals["outstanding"] + (pen["total"] if pen["applicable"] else 0),
        "deadline": as_of + dt.timedelta(days=deadline_days), "deadline_days": deadline_days,
        "credit": credit_context(frames, credit, scope),
    }


def _document(kind: str, template: str, day: dt.date, settings: dict) -> dict:
    company = settings["company"]
    return {"kind": kind, "template": template, "date": day, "title": TITLES.get(template, template),
            "place": _text(company.get("place") or company.get("city"))}


def _describe(frames: Frames, scope: Scope) -> str:
    if scope.invoice is not None:
        return f"la facture {frames.invoices.set_index('invoice').loc[scope.invoice, 'number']}"
    if scope.site is not None:
        return f"le chantier {frames.sites.set_index('site').loc[scope.site, 'site_id']}"
    return f"le client {frames.clients.set_index('client').loc[scope.client, 'client_id']}"
