"""Per invoice, the reminders it got and whether the last one was emailed (the grid's blue icon); pure."""
from __future__ import annotations

import pandas as pd

from echeances.mail.sending import STATEMENT_KINDS
from echeances.store.sendings import SENT

MARKS = {"last_reminder_at": "datetime64[ns]", "last_reminder_template": "string",
         "reminders_sent": "int64", "emailed": "bool"}


def _reminders(frame: pd.DataFrame) -> pd.Series:
    kind = frame["kind"].astype("string").fillna("")
    template = frame["template"].astype("string").fillna("")
    return ~kind.isin(STATEMENT_KINDS) & ~template.str.startswith("releve")


def reminder_marks(documents: pd.DataFrame | None, sendings: pd.DataFrame) -> pd.DataFrame:
    """One row per invoice that got a reminder, indexed by invoice code, columns ``MARKS``.

    ``documents``: the documents log (``document``, ``kind``, ``template``,
    ``created_at``, ``invoices`` — an iterable of invoice codes), or ``None``;
    ``sendings``: the sendings log (``echeances.store.sendings.read_sendings``).
    A reminder counts from its creation (a printed letter is a reminder too) or,
    when emailed, from its first accepted sending; documents only known from
    the sendings log count as well. ``emailed``: the latest reminder was emailed.
    """
    columns = ["document", "kind", "template", "created_at", "invoices"]
    from_log = (sendings.sort_values("sending")
                .groupby("document", as_index=False)
                .agg(kind=("kind", "last"), template=("template", "last"), created_at=("started_at", "min"),
                     invoices=("invoices", "last")))
    if documents is not None and len(documents):
        known = documents[columns]
        from_log = from_log[~from_log["document"].isin(known["document"])]
        docs = pd.concat([known, from_log[columns]], ignore_index=True)
    else:
        docs = from_log[columns]
    docs = docs[_reminders(docs)] if len(docs) else docs
    accepted = sendings[sendings["status"] == SENT].groupby("document")["finished_at"].min()
    # reindex, not map: mapping through an empty datetime series fails in pandas
    docs = docs.assign(emailed_at=accepted.astype("datetime64[ns]").reindex(docs["document"]).to_numpy())
    docs = docs.assign(at=docs["emailed_at"].fillna(docs["created_at"]).astype("datetime64[ns]"))
    rows = docs.explode("invoices").dropna(subset=["invoices"])
    if rows.empty:
        empty = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in MARKS.items()})
        return empty.rename_axis("invoice")
    rows = rows.assign(invoice=rows["invoices"].astype("int64"))
    rows = rows.sort_values(["invoice", "at", "document"], kind="stable")
    grouped = rows.groupby("invoice")
    last = grouped.tail(1).set_index("invoice")
    return pd.DataFrame({
        "last_reminder_at": last["at"],
        "last_reminder_template": last["template"].astype("string"),
        "reminders_sent": grouped["document"].nunique().astype("int64"),
        "emailed": last["emailed_at"].notna(),
    })


def with_reminder_marks(items: pd.DataFrame, marks: pd.DataFrame) -> pd.DataFrame:
    """``items`` (open items, with an ``invoice`` column) plus the ``MARKS`` columns, defaults where none."""
    joined = items.join(marks, on="invoice")
    return joined.assign(
        last_reminder_at=joined["last_reminder_at"].astype("datetime64[ns]"),
        last_reminder_template=joined["last_reminder_template"].astype("string"),
        reminders_sent=joined["reminders_sent"].fillna(0).astype("int64"),
        emailed=joined["emailed"].fillna(False).astype("bool"),
    )
