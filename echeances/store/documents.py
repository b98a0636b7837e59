"""The document log: every letter and statement produced, with its file and checksum."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from echeances.store.tables import metadata

documents = sa.Table(
    "documents", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),  # reminder | statement
    sa.Column("template", sa.String(100), nullable=False),
    sa.Column("client", sa.Integer, sa.ForeignKey("clients.id"), nullable=False, index=True),
    sa.Column("site", sa.Integer, sa.ForeignKey("sites.id"), index=True),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("period_start", sa.Date),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("file", sa.String(500), nullable=False),  # relative to the workspace
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("total", sa.BigInteger),  # cents claimed (reminder) or closing balance (statement)
    sa.CheckConstraint("kind IN ('reminder', 'statement')", name="document_kind"),
)

# Which invoices a document mentions: the grid shows each open item's last reminder.
document_invoices = sa.Table(
    "document_invoices", metadata,
    sa.Column("document", sa.Integer, sa.ForeignKey("documents.id"), primary_key=True),
    sa.Column("invoice", sa.Integer, sa.ForeignKey("invoices.id"), primary_key=True, index=True),
)

TABLES = [documents, document_invoices]


def ensure_tables(conn: sa.Connection) -> None:
    """Create the log tables in a store opened before this module was imported."""
    metadata.create_all(conn, tables=TABLES, checkfirst=True)


def insert_document(conn: sa.Connection, row: dict, invoices: list[int]) -> int:
    """Record one document and its invoices in the caller's transaction; returns its id."""
    ensure_tables(conn)
    document_id = conn.execute(sa.insert(documents).values(**row)).inserted_primary_key[0]
    if invoices:
        conn.execute(sa.insert(document_invoices), [{"document": document_id, "invoice": i} for i in invoices])
    return int(document_id)


def read_documents(conn: sa.Connection, client: int | None = None) -> pd.DataFrame:
    """The log, newest first, with the invoice codes of each document as a tuple."""
    ensure_tables(conn)
    query = sa.select(documents).order_by(documents.c.id.desc())
    if client is not None:
        query = query.where(documents.c.client == client)
    frame = pd.read_sql(query, conn)
    links = pd.read_sql(sa.select(document_invoices), conn)
    grouped = links.groupby("document")["invoice"].apply(tuple)
    frame["invoices"] = frame["id"].map(grouped).apply(lambda v: v if isinstance(v, tuple) else ())
    for column in ("as_of", "period_start"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def last_reminders(conn: sa.Connection) -> pd.DataFrame:
    """Per invoice code, the latest reminder: ``invoice``, ``document``, ``template``, ``created_at``."""
    ensure_tables(conn)
    query = (sa.select(document_invoices.c.invoice, documents.c.id.label("document"), documents.c.template,
                       documents.c.created_at)
             .join(documents, documents.c.id == document_invoices.c.document)
             .where(documents.c.kind == "reminder").order_by(documents.c.id))
    frame = pd.read_sql(query, conn)
    return frame.groupby("invoice", as_index=False).last()


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)
