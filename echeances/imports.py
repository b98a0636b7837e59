"""Importing a folder of CSV/XLSX files into the store, all or nothing."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from echeances.consistency import check, natural_state
from echeances.errors import EcheancesError, ImportRefused, Problem
from echeances.load import TABLE_ORDER, RawTable, canonical_columns, parse_table
from echeances.store import Store, tables
from echeances.store.database import read_frames

_DATE_COLUMNS = {"issue_date", "due_date", "retention_release_date", "date"}


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else cp1252 — the two encodings French spreadsheets write."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _raw(table: str, file: str, headers: list[str], rows) -> tuple[RawTable, list[Problem]]:
    names = canonical_columns(table, headers)
    problems = []
    seen: dict[str, str] = {}
    for header, name in zip(headers, names):
        if name is not None and name in seen:
            problems.append(Problem(file, 1, f"colonnes « {seen[name]} » et « {header} » désignent toutes deux {name}"))
        elif name is not None:
            seen[name] = header
    parsed = []
    for line, cells in rows:
        if not any(str(c).strip() for c in cells):
            continue
        parsed.append((line, {n: str(v) for n, v in zip(names, cells) if n is not None and v is not None}))
    return RawTable(table, file, tuple(n for n in names if n), parsed), problems


def read_csv(path: Path, table: str) -> tuple[RawTable, list[Problem]]:
    text = decode(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        return RawTable(table, path.name, ()), [Problem(path.name, 1, "fichier vide")]
    rows = [(reader.line_num, row) for row in reader]
    return _raw(table, path.name, headers, rows)


def _cell(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return str(value)


def read_xlsx(path: Path, table: str) -> tuple[RawTable, list[Problem]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        return RawTable(table, path.name, ()), [Problem(path.name, None, f"classeur Excel illisible ({exc})")]
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    book.close()
    if not rows:
        return RawTable(table, path.name, ()), [Problem(path.name, 1, "feuille vide")]
    headers = [_cell(h) or "" for h in rows[0]]
    body = [(i, [_cell(v) for v in row]) for i, row in enumerate(rows[1:], start=2)]
    return _raw(table, path.name, headers, body)


def find_files(source: Path) -> dict[str, Path]:
    """The known files of ``source`` (``clients.csv``, ``invoices.xlsx``…) by table name."""
    if not source.is_dir():
        raise EcheancesError(f"Dossier introuvable : {source}")
    found = {}
    for table in TABLE_ORDER:
        for suffix in (".csv", ".xlsx"):
            path = source / f"{table}{suffix}"
            if path.exists():
                if table in found:
                    raise EcheancesError(f"{table}.csv et {table}.xlsx sont tous deux présents dans {source} : "
                                         "gardez-en un seul")
                found[table] = path
    if not found:
        raise EcheancesError(f"Aucun fichier à importer dans {source} (attendus : "
                             + ", ".join(f"{t}.csv" for t in TABLE_ORDER) + ")")
    return found


def import_folder(store: Store, source: Path) -> dict[str, dict[str, int]]:
    """Read, check and write every known file of ``source`` in one transaction.

    Raises ``ImportRefused`` with every problem (and writes nothing) if any
    row is wrong. Returns ``{table: {"inserted": n, "updated": n, "unchanged": n}}``.
    """
    files = find_files(Path(source))
    raws, problems = {}, []
    for table, path in files.items():
        raw, found = (read_xlsx if path.suffix == ".xlsx" else read_csv)(path, table)
        raws[table] = raw
        problems += found
    parsed = {}
    for table, raw in raws.items():
        frame, found = parse_table(raw)
        parsed[table] = frame
        problems += found
    with store.write() as conn:
        stored = natural_state(read_frames(conn))
        incoming, found = check(parsed, stored, {t: p.name for t, p in files.items()})
        problems += found
        if problems:
            raise ImportRefused(problems)
        return write_incoming(conn, incoming)


def _key_map(conn: sa.Connection, table: sa.Table, key: str) -> dict[str, int]:
    return dict(conn.execute(sa.select(table.c[key], table.c.id)).all())


def _upsert(conn: sa.Connection, table: sa.Table, rows: list[dict], key: tuple[str, ...],
            compared: tuple[str, ...] | None = None) -> dict[str, int]:
    """Insert new rows, update changed ones (matched on the ``key`` columns; ``compared`` columns,
    default all, are those compared and updated), leave identical ones alone."""
    if not rows:
        return {"inserted": 0, "updated": 0, "unchanged": 0}
    columns = list(compared or rows[0])
    existing = {}
    for old in conn.execute(sa.select(table.c.id, *(table.c[c] for c in dict.fromkeys([*key, *columns])))).mappings():
        existing.setdefault(tuple(old[k] for k in key), old)
    inserts, updates, unchanged = [], [], 0
    for row in rows:
        old = existing.get(tuple(row[k] for k in key))
        if old is None:
            inserts.append(row)
        elif any(old[c] != row[c] for c in columns):
            updates.append({**{c: row[c] for c in columns}, "_id": old["id"]})
        else:
            unchanged += 1
    if inserts:
        conn.execute(sa.insert(table), inserts)
    if updates:
        conn.execute(sa.update(table).where(table.c.id == sa.bindparam("_id")).values(
            {c: sa.bindparam(c) for c in columns}), updates)
    return {"inserted": len(inserts), "updated": len(updates), "unchanged": unchanged}


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    frame = frame[columns].astype(object).where(frame[columns].notna(), None)
    return frame.to_dict("records")


def write_incoming(conn: sa.Connection, incoming: dict[str, pd.DataFrame]) -> dict[str, dict[str, int]]:
    """Write checked rows in dependency order, resolving natural keys to ids as it goes."""
    counts = {}
    if "clients" in incoming:
        rows = _records(incoming["clients"].assign(kind=incoming["clients"]["kind"].fillna("professionnel")),
                        ["client_id", "name", "kind", "email", "phone", "address", "postcode", "city",
                         "payment_terms", "siret", "vat_number"])
        counts["clients"] = _upsert(conn, tables.clients, rows, ("client_id",))
    client = _key_map(conn, tables.clients, "client_id")
    if "sites" in incoming:
        frame = incoming["sites"].assign(client=incoming["sites"]["client_id"].map(client))
        rows = _records(frame, ["site_id", "client", "name", "address", "postcode", "city", "status",
                                "manager", "payment_terms"])
        counts["sites"] = _upsert(conn, tables.sites, rows, ("site_id",))
    site = _key_map(conn, tables.sites, "site_id")
    if "invoices" in incoming:
        frame = incoming["invoices"]
        frame = frame.assign(client=frame["client_id"].map(client), site=frame["site_id"].map(site))
        rows = _records(frame, ["number", "client", "site", "kind", "issue_date", "due_date", "payment_terms",
                                "total", "retention", "retention_release_date", "manager", "pdf"])
        counts["invoices"] = _upsert(conn, tables.invoices, rows, ("number",))
    invoice = _key_map(conn, tables.invoices, "number")
    if "payments" in incoming:
        frame = incoming["payments"].assign(client=incoming["payments"]["client_id"].map(client))
        rows = _records(frame, ["payment_id", "client", "date", "amount", "method", "reference", "bank", "label"])
        counts["payments"] = _upsert(conn, tables.payments, rows, ("payment_id",))
    payment = _key_map(conn, tables.payments, "payment_id")
    if "allocations" in incoming:
        counts["allocations"] = _write_allocations(conn, incoming["allocations"], payment, invoice)
    if "write_offs" in incoming:
        counts["write_offs"] = _write_write_offs(conn, incoming["write_offs"], invoice)
    return counts


def _write_allocations(conn, frame: pd.DataFrame, payment: dict, invoice: dict) -> dict[str, int]:
    frame = frame.assign(
        payment=frame["source_id"].map(payment),
        credit_note=frame["source_id"].map(lambda s: None if s in payment else invoice.get(s)),
        invoice=frame["invoice"].map(invoice))
    rows = [{**row, "payment": _int(row["payment"]), "credit_note": _int(row["credit_note"]),
             "invoice": int(row["invoice"])}
            for row in _records(frame, ["payment", "credit_note", "invoice", "amount", "date"])]
    return _upsert(conn, tables.allocations, rows, ("payment", "credit_note", "invoice"), ("amount", "date"))


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _write_write_offs(conn, frame: pd.DataFrame, invoice: dict) -> dict[str, int]:
    t = tables.write_offs
    existing = {tuple(r) for r in conn.execute(sa.select(t.c.invoice, t.c.date, t.c.amount)).all()}
    rows = _records(frame.assign(invoice=frame["invoice"].map(invoice)), ["invoice", "date", "amount", "reason"])
    inserts = [r for r in rows if (r["invoice"], r["date"], r["amount"]) not in existing]
    if inserts:
        conn.execute(sa.insert(t), inserts)
    return {"inserted": len(inserts), "updated": 0, "unchanged": len(rows) - len(inserts)}
