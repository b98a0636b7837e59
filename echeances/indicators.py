"""The dashboard's figures and filters over open items: totals, lateness, DSO. Pure functions over frames."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

SEARCHED = ("number", "client_id", "client_name", "site_id", "site_name", "manager")


def filter_items(items: pd.DataFrame, client_id: str | None = None, site_id: str | None = None,
                 manager: str | None = None, overdue_only: bool = False, text: str = "") -> pd.DataFrame:
    """Open items narrowed by client, site, manager, lateness and a case-insensitive text search
    over number, client, site and manager."""
    keep = np.ones(len(items), dtype=bool)
    for column, value in (("client_id", client_id), ("site_id", site_id), ("manager", manager)):
        if value:
            keep &= (items[column] == value).fillna(False).to_numpy(dtype=bool)
    if overdue_only:
        keep &= items["days_overdue"].to_numpy() > 0
    if text and text.strip():
        needle = text.strip().casefold()
        found = np.zeros(len(items), dtype=bool)
        for column in SEARCHED:
            found |= items[column].str.casefold().str.contains(needle, regex=False).fillna(False).to_numpy(bool)
        keep &= found
    return items[keep].reset_index(drop=True)


def dso(invoices: pd.DataFrame, balance: int, day: dt.date, days: int = 90) -> float | None:
    """Days sales outstanding, simple method: ``balance`` ÷ TTC sales of the last ``days`` days × ``days``.

    Credit notes count as negative sales; ``None`` when there were no sales in the period.
    """
    end = pd.Timestamp(day)
    recent = invoices[(invoices["issue_date"] > end - pd.Timedelta(days=days)) & (invoices["issue_date"] <= end)]
    sign = np.where(recent["kind"].to_numpy() == "credit_note", -1, 1)
    sales = int((recent["total"].to_numpy() * sign).sum())
    return balance / sales * days if sales > 0 else None


def kpis(items: pd.DataFrame, credit: pd.DataFrame, invoices: pd.DataFrame, day: dt.date) -> dict:
    """Totals in cents, overdue count, credit, DSO over 90 days, cents per bucket, on ``day``."""
    late = items["days_overdue"].to_numpy() > 0
    total, credit_total = int(items["outstanding"].sum()), int(credit["remaining"].sum())
    by_bucket = items.groupby("bucket", observed=False)["outstanding"].sum()
    return {
        "as_of": day,
        "count": len(items),
        "total": total,
        "overdue": int(items.loc[late, "outstanding"].sum()),
        "overdue_count": int(late.sum()),
        "credit": credit_total,
        "dso": dso(invoices, total - credit_total, day),
        "buckets": {str(key): int(value) for key, value in by_bucket.items()},
    }
