"""Every frame's columns and dtypes, and the vocabularies they use.

Frames use dense integer codes for keys (``client``, ``site``, ``invoice``,
``payment``): they are the store's surrogate ids, so joins and group-bys run on
integers. ``-1`` means "none" in a code column. Money is ``int64`` cents,
dates are ``datetime64[ns]`` at midnight (``NaT`` when absent).
"""
from __future__ import annotations

import pandas as pd

INVOICE_KINDS = ("invoice", "deposit", "progress", "credit_note")
CLIENT_KINDS = ("professionnel", "particulier")
PAYMENT_METHODS = ("virement", "chèque", "carte", "espèces", "prélèvement", "LCR", "autre")
BUCKETS = ("not_due", "1-30", "31-60", "61-90", "90+")
BUCKET_LABELS = {
    "not_due": "Non échu",
    "1-30": "1-30 j",
    "31-60": "31-60 j",
    "61-90": "61-90 j",
    "90+": "> 90 j",
}
KIND_LABELS = {
    "invoice": "Facture",
    "deposit": "Acompte",
    "progress": "Situation",
    "credit_note": "Avoir",
}
PARTS = ("net", "retention")
NO_CODE = -1

DATE = "datetime64[ns]"
KIND = pd.CategoricalDtype(INVOICE_KINDS)
PART = pd.CategoricalDtype(PARTS)
BUCKET = pd.CategoricalDtype(BUCKETS, ordered=True)
CENTS = "int64"
CODE = "int64"
TEXT = "string"

CLIENTS = {
    "client": CODE, "client_id": TEXT, "name": TEXT, "kind": TEXT, "email": TEXT,
    "phone": TEXT, "address": TEXT, "postcode": TEXT, "city": TEXT,
    "payment_terms": TEXT, "siret": TEXT, "vat_number": TEXT,
}
SITES = {
    "site": CODE, "site_id": TEXT, "client": CODE, "name": TEXT, "address": TEXT,
    "postcode": TEXT, "city": TEXT, "status": TEXT, "manager": TEXT, "payment_terms": TEXT,
}
# ``due_date`` is resolved (explicit, else from the terms chain); ``total`` is
# TTC and positive for every kind, a credit note included.
INVOICES = {
    "invoice": CODE, "number": TEXT, "client": CODE, "site": CODE, "kind": KIND,
    "issue_date": DATE, "due_date": DATE, "payment_terms": TEXT, "total": CENTS, "retention": CENTS,
    "retention_release_date": DATE, "manager": TEXT, "pdf": TEXT,
}
PAYMENTS = {
    "payment": CODE, "payment_id": TEXT, "client": CODE, "date": DATE, "amount": CENTS,
    "method": TEXT, "reference": TEXT, "bank": TEXT, "label": TEXT,
    "cancelled_date": DATE, "cancel_reason": TEXT, "cancelled_by": TEXT, "created_at": TEXT, "created_by": TEXT,
}
# Exactly one of ``payment`` / ``credit_note`` is a code, the other -1.
ALLOCATIONS = {
    "allocation": CODE, "payment": CODE, "credit_note": CODE, "invoice": CODE,
    "amount": CENTS, "date": DATE,
}
WRITE_OFFS = {
    "write_off": CODE, "invoice": CODE, "date": DATE, "amount": CENTS, "reason": TEXT,
}
OPEN_ITEMS = {
    "invoice": CODE, "part": PART, "client": CODE, "site": CODE, "kind": KIND,
    "issue_date": DATE, "due_date": DATE, "amount": CENTS, "paid": CENTS,
    "written_off": CENTS, "outstanding": CENTS, "days_overdue": "int64", "bucket": BUCKET,
}


def empty(columns: dict[str, str]) -> pd.DataFrame:
    """An empty frame with the given columns and dtypes."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def conform(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Select ``columns`` in order and cast each to its dtype."""
    return pd.DataFrame({name: frame[name].astype(dtype) for name, dtype in columns.items()})
