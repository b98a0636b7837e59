"""Parsing raw import tables into typed rows, collecting every problem with its place.

Pure: the caller reads files into ``RawTable`` (text cells, line numbers) and
passes the store's current content; nothing here touches a file or a database.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from echeances import schema
from echeances.dates import parse_date
from echeances.errors import Problem
from echeances.money import format_amount, parse_amount
from echeances.terms import parse_terms

TABLE_ORDER = ("clients", "sites", "invoices", "payments", "allocations", "write_offs")


@dataclass(frozen=True)
class RawTable:
    """One file as read: canonical column names and ``(line, {column: text})`` rows."""

    name: str           # table name, e.g. "invoices"
    file: str           # what the user calls it, e.g. "invoices.csv"
    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], object] = str
    required: bool = False          # the column must be present and the cell non-empty
    aliases: tuple[str, ...] = ()


def normalize_header(text: str) -> str:
    """``Date d'échéance`` → ``date_d_echeance``."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def _choice(options: dict[str, str], label: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        key = normalize_header(text)
        if key not in options:
            expected = ", ".join(sorted(set(options.values())))
            raise ValueError(f"{label} « {text} » inconnu (attendu : {expected})")
        return options[key]
    return parse


def _terms(text: str) -> str:
    parse_terms(text)
    return text.strip()


def _amount(text: str) -> int:
    try:
        return parse_amount(text)
    except ValueError:
        raise ValueError(f"« {text} » n'est pas un montant") from None


def _date(text: str):
    try:
        return parse_date(text)
    except ValueError:
        raise ValueError(f"« {text} » n'est pas une date valide (attendu : 2026-04-15 ou 15/04/2026)") from None


_CLIENT_KIND = _choice({"professionnel": "professionnel", "pro": "professionnel", "entreprise": "professionnel",
                        "particulier": "particulier", "part": "particulier"}, "type de client")
_INVOICE_KIND = _choice({"invoice": "invoice", "facture": "invoice", "deposit": "deposit", "acompte": "deposit",
                         "progress": "progress", "situation": "progress", "credit_note": "credit_note",
                         "avoir": "credit_note"}, "type de facture")
_METHOD = _choice({normalize_header(m): m for m in schema.PAYMENT_METHODS}
                  | {"cheque": "chèque", "cb": "carte", "carte_bancaire": "carte", "vir": "virement",
                     "especes": "espèces", "prelevement": "prélèvement", "traite": "LCR"}, "mode de règlement")

_CLIENT_ID = Column("client_id", required=True, aliases=("client", "code_client", "id_client", "code"))
_SITE_ID = Column("site_id", aliases=("chantier", "code_chantier", "id_chantier", "site"))
_MANAGER = Column("manager", aliases=("charge_d_affaire", "charge_d_affaires", "charge_affaire", "responsable"))
_TERMS = Column("payment_terms", _terms, aliases=("conditions_de_reglement", "conditions_reglement", "conditions"))
_ADDRESS = (Column("address", aliases=("adresse",)), Column("postcode", aliases=("code_postal", "cp")),
            Column("city", aliases=("ville",)))

SPECS: dict[str, tuple[Column, ...]] = {
    "clients": (
        Column("client_id", required=True, aliases=("client", "code_client", "id_client", "code")),
        Column("name", required=True, aliases=("nom", "raison_sociale")),
        Column("kind", _CLIENT_KIND, aliases=("type", "categorie")),
        Column("email", aliases=("courriel", "mail", "e_mail")),
        Column("phone", aliases=("telephone", "tel")),
        *_ADDRESS, _TERMS,
        Column("siret"),
        Column("vat_number", aliases=("tva", "numero_tva", "tva_intracommunautaire")),
    ),
    "sites": (
        Column("site_id", required=True, aliases=("chantier", "code_chantier", "id_chantier", "site")),
        _CLIENT_ID,
        Column("name", required=True, aliases=("nom", "libelle")),
        *_ADDRESS,
        Column("status", aliases=("statut", "etat")),
        _MANAGER, _TERMS,
    ),
    "invoices": (
        Column("number", required=True, aliases=("numero", "numero_facture", "facture", "no")),
        _CLIENT_ID, _SITE_ID,
        Column("kind", _INVOICE_KIND, aliases=("type", "nature")),
        Column("issue_date", _date, required=True, aliases=("date", "date_facture", "date_emission")),
        Column("due_date", _date, aliases=("echeance", "date_echeance")),
        Column("total", _amount, required=True, aliases=("total_ttc", "montant_ttc", "ttc", "montant")),
        Column("retention", _amount, aliases=("retenue", "retenue_de_garantie", "retenue_garantie")),
        Column("retention_release_date", _date, aliases=("liberation_retenue", "date_liberation_retenue")),
        _MANAGER, _TERMS,
        Column("pdf", aliases=("fichier",)),
    ),
    "payments": (
        Column("payment_id", required=True, aliases=("reglement", "numero_reglement", "id_reglement")),
        _CLIENT_ID,
        Column("date", _date, required=True, aliases=("date_reglement",)),
        Column("amount", _amount, required=True, aliases=("montant",)),
        Column("method", _METHOD, aliases=("mode", "mode_de_reglement", "moyen")),
        Column("reference", aliases=("ref", "numero_cheque")),
        Column("bank", aliases=("banque",)),
        Column("label", aliases=("libelle",)),
    ),
    "allocations": (
        Column("source_id", required=True, aliases=("source", "reglement", "origine")),
        Column("invoice", required=True, aliases=("facture", "numero_facture")),
        Column("amount", _amount, required=True, aliases=("montant",)),
        Column("date", _date, aliases=("date_imputation",)),
    ),
    "write_offs": (
        Column("invoice", required=True, aliases=("facture", "numero_facture")),
        Column("date", _date, required=True),
        Column("amount", _amount, required=True, aliases=("montant",)),
        Column("reason", aliases=("motif", "raison")),
    ),
}

KEYS = {
    "clients": ("client_id",), "sites": ("site_id",), "invoices": ("number",),
    "payments": ("payment_id",), "allocations": ("source_id", "invoice"),
    "write_offs": ("invoice", "date", "amount"),
}


def canonical_columns(table: str, headers: list[str]) -> list[str | None]:
    """Map a file's headers to canonical column names (``None`` for unknown ones)."""
    lookup = {}
    for column in SPECS[table]:
        for alias in (column.name, *column.aliases):
            lookup.setdefault(normalize_header(alias), column.name)
    return [lookup.get(normalize_header(h)) for h in headers]


def parse_table(raw: RawTable) -> tuple[pd.DataFrame, list[Problem]]:
    """Typed rows of one file (plus a ``line`` column) and the problems found in it."""
    spec = SPECS[raw.name]
    problems = [Problem(raw.file, 1, f"colonne obligatoire « {c.name} » absente")
                for c in spec if c.required and c.name not in raw.columns]
    if problems:
        return pd.DataFrame(columns=["line", *(c.name for c in spec)]), problems
    records = []
    for line, cells in raw.rows:
        record = {"line": line}
        for column in spec:
            text = (cells.get(column.name) or "").strip()
            if not text:
                if column.required:
                    problems.append(Problem(raw.file, line, f"{column.name} est vide"))
                record[column.name] = None
                continue
            try:
                record[column.name] = column.parse(text)
            except ValueError as exc:
                message = str(exc)
                prefix = "" if message.startswith(("type", "mode", "conditions")) else f"{column.name} "
                problems.append(Problem(raw.file, line, f"{prefix}{message}"))
                record[column.name] = None
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=["line", *(c.name for c in spec)])
    frame = frame.astype(object).where(frame.notna(), None)
    problems += _row_rules(raw, frame)
    return frame, problems


def _row_rules(raw: RawTable, frame: pd.DataFrame) -> list[Problem]:
    """Rules that need only the row itself, and duplicate keys within the file."""
    problems = []
    keys = KEYS[raw.name]
    complete = frame.dropna(subset=list(keys))
    seen: dict[tuple, int] = {}
    for row in complete.itertuples(index=False):
        key = tuple(getattr(row, k) for k in keys)
        if key in seen:
            shown = " / ".join(str(k) for k in key)
            problems.append(Problem(raw.file, row.line, f"{' / '.join(keys)} « {shown} » en double (déjà ligne {seen[key]})"))
        else:
            seen[key] = row.line
    if raw.name == "invoices":
        for row in frame.itertuples(index=False):
            if row.total is None:
                continue
            total = abs(row.total) if row.kind == "credit_note" else row.total
            if total <= 0:
                problems.append(Problem(raw.file, row.line,
                                        f"total {format_amount(row.total)} : une facture doit avoir un total positif"))
            elif row.retention is not None and row.retention > total:
                problems.append(Problem(raw.file, row.line, f"retenue {format_amount(row.retention)} "
                                        f"supérieure au total {format_amount(total)}"))
            elif row.retention is not None and row.retention < 0:
                problems.append(Problem(raw.file, row.line, f"retenue {format_amount(row.retention)} négative"))
    if raw.name in ("payments", "allocations", "write_offs"):
        what = {"payments": "un règlement", "allocations": "une imputation", "write_offs": "une perte"}[raw.name]
        for row in frame.itertuples(index=False):
            if row.amount is not None and row.amount <= 0:
                problems.append(Problem(raw.file, row.line,
                                        f"montant {format_amount(row.amount)} : {what} doit être positif"))
    return problems
