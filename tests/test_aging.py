import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echeances import schema
from echeances.aging import aging, bucket_keys, open_items
from tests.conftest import write_files


def invoices_frame(rows):
    """rows: (code, client, issue, due, total, retention, release)"""
    frame = pd.DataFrame(rows, columns=["invoice", "client", "issue_date", "due_date", "total", "retention",
                                        "retention_release_date"])
    return frame.assign(
        site=schema.NO_CODE, kind=pd.Categorical(["invoice"] * len(frame), dtype=schema.KIND),
        issue_date=pd.to_datetime(frame["issue_date"]), due_date=pd.to_datetime(frame["due_date"]),
        retention_release_date=pd.to_datetime(frame["retention_release_date"]),
    )


def allocations_frame(rows):
    frame = pd.DataFrame(rows, columns=["invoice", "amount", "date"])
    return frame.assign(allocation=range(len(frame)), payment=0, credit_note=schema.NO_CODE,
                        date=pd.to_datetime(frame["date"]))


@pytest.mark.parametrize("days, bucket", [(0, "not_due"), (1, "1-30"), (30, "1-30"), (31, "31-60"),
                                          (60, "31-60"), (61, "61-90"), (90, "61-90"), (91, "90+")])
def test_bucket_edges(days, bucket):
    due = dt.date(2026, 1, 10)
    inv = invoices_frame([(1, 1, "2026-01-01", due, 10000, 0, None)])
    items = open_items(inv, allocations_frame([]), schema.empty(schema.WRITE_OFFS), due + dt.timedelta(days=days))
    assert items[["days_overdue", "bucket"]].values.tolist() == [[days, bucket]]


def test_bucket_keys__configurable_edges():
    assert bucket_keys((15, 45)) == ("not_due", "1-15", "16-45", "45+")


def test_as_of__a_payment_dated_after_the_date_is_ignored_and_a_later_invoice_too():
    inv = invoices_frame([(1, 1, "2026-01-01", "2026-01-31", 10000, 0, None),
                          (2, 1, "2026-03-01", "2026-03-31", 5000, 0, None)])
    alloc = allocations_frame([(1, 4000, "2026-02-10"), (1, 6000, "2026-02-20")])
    items = open_items(inv, alloc, schema.empty(schema.WRITE_OFFS), "2026-02-15")
    assert items[["invoice", "paid", "outstanding", "days_overdue"]].values.tolist() == [[1, 4000, 6000, 15]]


def test_retention__is_a_second_item_settled_after_the_net_part():
    inv = invoices_frame([(1, 1, "2026-01-01", "2026-01-31", 10000, 500, "2027-01-01")])
    alloc = allocations_frame([(1, 9700, "2026-02-01")])
    items = open_items(inv, alloc, schema.empty(schema.WRITE_OFFS), "2026-03-01")
    # The net part (9 500) is fully paid so not listed; 200 of the payment went to the retention.
    assert items[["part", "due_date", "amount", "paid", "outstanding", "bucket"]].astype(str).values.tolist() == [
        ["retention", "2027-01-01", "500", "200", "300", "not_due"]]


def test_open_items__sorted_by_due_date_ascending():
    inv = invoices_frame([(1, 1, "2026-01-01", "2026-03-31", 100, 0, None),
                          (2, 1, "2026-01-01", "2026-01-31", 100, 0, None),
                          (3, 1, "2026-01-01", "2026-02-28", 100, 0, None)])
    items = open_items(inv, allocations_frame([]), schema.empty(schema.WRITE_OFFS), "2026-06-01")
    assert items["invoice"].tolist() == [2, 3, 1]


def test_workspace__credit_from_overpayment_and_credit_note_lowers_the_balance(workspace, tmp_path):
    write_files(tmp_path / "more", invoices="""\
        number;client_id;kind;issue_date;total
        AV1;C1;avoir;2026-05-03;-120,00
        """, payments="""\
        payment_id;client_id;date;amount
        P1;C1;2026-06-01;1500
        """, allocations="""\
        source_id;invoice;amount
        P1;F1;1140
        AV1;F3;100
        """)
    workspace.import_folder(tmp_path / "more")
    table = workspace.aging(as_of="2026-07-01").set_index("client_id")
    c1 = table.loc["C1"]
    # F1 net 1 140 paid; retention 60 not due; F3 300 − 100 = 200 due 30/06 → 1-30.
    assert (c1["not_due"], c1["1-30"], c1["outstanding"]) == (6000, 20000, 26000)
    # credit: 1 500 − 1 140 = 360 of payment + 120 − 100 = 20 of credit note
    assert (c1["credit"], c1["balance"]) == (38000, -12000)
    # before the payment and the credit note, nothing of it counts
    early = workspace.aging(as_of="2026-05-02").set_index("client_id").loc["C1"]
    assert (early["outstanding"], early["credit"]) == (120000 + 30000, 0)


def test_workspace__due_date_from_terms_chain(workspace):
    due = workspace.frames.invoices.set_index("number")["due_date"].dt.strftime("%Y-%m-%d").to_dict()
    # F1: client C1 "30 jours fin de mois" from 15/04 → 31/05; F2: C2 comptant; F3: C1 from 02/05 → 30/06
    assert due == {"F1": "2026-05-31", "F2": "2026-05-01", "F3": "2026-06-30"}


def test_workspace__aging_by_site_and_manager_reconcile_with_client(workspace):
    by = {g: workspace.aging(by=g, as_of="2026-07-01") for g in ("client", "site", "manager")}
    totals = {g: int(t["outstanding"].sum()) for g, t in by.items()}
    assert totals == {"client": 200000, "site": 200000, "manager": 200000}
    assert by["site"].set_index("site_id").loc["", "name"] == "(sans chantier)"


@st.composite
def receivables(draw):
    n = draw(st.integers(1, 12))
    rows, allocs, offs = [], [], []
    for code in range(n):
        total = draw(st.integers(1, 1_000_000))
        retention = draw(st.integers(0, total // 20))
        issue = dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 200)))
        due = issue + dt.timedelta(days=draw(st.integers(0, 90)))
        release = issue + dt.timedelta(days=365)
        rows.append((code, draw(st.integers(0, 3)), issue, due, total, retention, release))
        left = total
        for _ in range(draw(st.integers(0, 3))):
            if left == 0:
                break
            amount = draw(st.integers(1, left))
            left -= amount
            when = issue + dt.timedelta(days=draw(st.integers(0, 300)))
            (offs if draw(st.booleans()) else allocs).append((code, amount, when))
    as_of = dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 700)))
    write_offs = pd.DataFrame(offs, columns=["invoice", "amount", "date"]).assign(
        write_off=range(len(offs)), reason="")
    write_offs["date"] = pd.to_datetime(write_offs["date"])
    return invoices_frame(rows), allocations_frame(allocs), write_offs, as_of


@settings(max_examples=200, deadline=None)
@given(receivables())
def test_property__buckets_sum_to_outstanding_never_negative_and_invoices_reconcile(data):
    invoices, allocations, write_offs, as_of = data
    items = open_items(invoices, allocations, write_offs, as_of, include_settled=True)
    assert (items["outstanding"] >= 0).all()
    assert (items["outstanding"] <= items["amount"]).all()
    table = aging(items, "client")
    buckets = table[list(items["bucket"].cat.categories)]
    assert (buckets.sum(axis=1) == table["outstanding"]).all()
    assert table["outstanding"].sum() == items["outstanding"].sum()
    day = pd.Timestamp(as_of)
    issued = invoices[invoices["issue_date"] <= day].set_index("invoice")
    per_invoice = items.groupby("invoice")[["amount", "paid", "written_off", "outstanding"]].sum()
    allocated = allocations[allocations["date"] <= day].groupby("invoice")["amount"].sum()
    written = write_offs[write_offs["date"] <= day].groupby("invoice")["amount"].sum()
    for code, row in issued.iterrows():
        got = per_invoice.loc[code]
        assert got["amount"] == row["total"]
        assert got["paid"] - got["written_off"] == allocated.get(code, 0)
        assert got["written_off"] == written.get(code, 0)
        assert got["paid"] + got["outstanding"] == row["total"]
    open_only = open_items(invoices, allocations, write_offs, as_of)
    assert open_only["outstanding"].sum() == items["outstanding"].sum()
    assert (open_only["outstanding"] > 0).all()
