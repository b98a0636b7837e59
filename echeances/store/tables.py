"""SQLAlchemy Core tables of the store, with the money and key rules as constraints."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

_KINDS = "kind IN ('invoice', 'deposit', 'progress', 'credit_note')"

clients = sa.Table(
    "clients", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False, server_default="professionnel"),
    sa.Column("email", sa.String(320)),
    sa.Column("phone", sa.String(40)),
    sa.Column("address", sa.String(300)),
    sa.Column("postcode", sa.String(20)),
    sa.Column("city", sa.String(100)),
    sa.Column("payment_terms", sa.String(60)),
    sa.Column("siret", sa.String(20)),
    sa.Column("vat_number", sa.String(20)),
    sa.CheckConstraint("kind IN ('professionnel', 'particulier')", name="client_kind"),
)

sites = sa.Table(
    "sites", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.String(64), nullable=False, unique=True),
    sa.Column("client", sa.Integer, sa.ForeignKey("clients.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("address", sa.String(300)),
    sa.Column("postcode", sa.String(20)),
    sa.Column("city", sa.String(100)),
    sa.Column("status", sa.String(40)),
    sa.Column("manager", sa.String(100)),
    sa.Column("payment_terms", sa.String(60)),
)

invoices = sa.Table(
    "invoices", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("number", sa.String(64), nullable=False, unique=True),
    sa.Column("client", sa.Integer, sa.ForeignKey("clients.id"), nullable=False, index=True),
    sa.Column("site", sa.Integer, sa.ForeignKey("sites.id"), index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("issue_date", sa.Date, nullable=False),
    # Explicit due date; when NULL it is computed from the terms chain.
    sa.Column("due_date", sa.Date),
    sa.Column("payment_terms", sa.String(60)),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("retention", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("retention_release_date", sa.Date),
    sa.Column("manager", sa.String(100)),
    sa.Column("pdf", sa.String(500)),
    sa.CheckConstraint(_KINDS, name="invoice_kind"),
    sa.CheckConstraint("total > 0", name="invoice_total_positive"),
    sa.CheckConstraint("retention >= 0 AND retention <= total", name="invoice_retention"),
)

payments = sa.Table(
    "payments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("payment_id", sa.String(64), nullable=False, unique=True),
    sa.Column("client", sa.Integer, sa.ForeignKey("clients.id"), nullable=False, index=True),
    # the latest payments, listed first in the Règlements tab, come from this index
    sa.Column("date", sa.Date, nullable=False, index=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("method", sa.String(20)),
    sa.Column("reference", sa.String(100)),
    sa.Column("bank", sa.String(100)),
    sa.Column("label", sa.String(300)),
    # A payment is never edited nor deleted: a cancellation keeps the trace.
    sa.Column("cancelled_date", sa.Date, index=True),  # the few cancelled, re-read after each payment
    sa.Column("cancel_reason", sa.String(300)),
    sa.Column("cancelled_by", sa.String(100)),
    sa.Column("created_at", sa.DateTime),
    sa.Column("created_by", sa.String(100)),
    sa.CheckConstraint("amount > 0", name="payment_amount_positive"),
)

allocations = sa.Table(
    "allocations", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("payment", sa.Integer, sa.ForeignKey("payments.id"), index=True),
    sa.Column("credit_note", sa.Integer, sa.ForeignKey("invoices.id"), index=True),
    sa.Column("invoice", sa.Integer, sa.ForeignKey("invoices.id"), nullable=False, index=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.CheckConstraint("amount > 0", name="allocation_amount_positive"),
    sa.CheckConstraint("(payment IS NULL) <> (credit_note IS NULL)", name="allocation_one_source"),
)

write_offs = sa.Table(
    "write_offs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("invoice", sa.Integer, sa.ForeignKey("invoices.id"), nullable=False, index=True),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.String(300)),
    sa.CheckConstraint("amount > 0", name="write_off_amount_positive"),
)
