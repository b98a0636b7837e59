import datetime as dt

import pandas as pd

from echeances import schema
from echeances.indicators import dso, filter_items


def test_dso__balance_over_last_90_days_sales_credit_notes_negative():
    invoices = pd.DataFrame({
        "issue_date": pd.to_datetime(["2026-01-01", "2026-05-01", "2026-06-01", "2026-06-15"]),
        "kind": pd.Categorical(["invoice", "invoice", "invoice", "credit_note"], dtype=schema.KIND),
        "total": [999_999, 600_000, 300_000, 100_000],
    })
    # sales 01/04–30/06: 6 000 + 3 000 − 1 000 = 8 000 €; balance 4 000 € → 45 days
    assert dso(invoices, 400_000, dt.date(2026, 6, 30)) == 45.0
    assert dso(invoices, 400_000, dt.date(2025, 6, 30)) is None


def test_filter_items__client_overdue_and_text_search_combine():
    items = pd.DataFrame({
        "number": ["F1", "F2", "F3"], "client_id": ["C1", "C1", "C2"], "client_name": ["Dupont", "Dupont", "Émile"],
        "site_id": ["S1", None, None], "site_name": ["Villa", None, None], "manager": ["Paul", None, "Inès"],
        "days_overdue": [10, 0, 5],
    }).astype({c: "string" for c in ("number", "client_id", "client_name", "site_id", "site_name", "manager")})
    assert filter_items(items, client_id="C1")["number"].tolist() == ["F1", "F2"]
    assert filter_items(items, client_id="C1", overdue_only=True)["number"].tolist() == ["F1"]
    assert filter_items(items, text=" émile ")["number"].tolist() == ["F3"]
    assert filter_items(items, text="villa")["number"].tolist() == ["F1"]
    assert filter_items(items, manager="Inès", text="zzz").empty
