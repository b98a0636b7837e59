"""Payments written to a real SQLite workspace: all or nothing, ids, credit, write-offs, cancellations, history."""
from __future__ import annotations

import pandas as pd
import pytest

from echeances import Workspace

from echeances.payment_specs import AboveOutstanding, AboveThreshold, AlreadyExists, Cancelled, CreditSpec, Duplicate, PaymentSpec, WriteOffSpec
from echeances.errors import NotFound
from tests.payments_helpers import D, make_workspace, outstanding, table_counts


@pytest.fixture
def ws(tmp_path):
    workspace = make_workspace(tmp_path)
    yield workspace
    workspace.close()


def pay(ws, amount, **kw):
    kw.setdefault("date", D(2024, 7, 1))
    kw.setdefault("client_id", "C1")
    return ws.record_payment(PaymentSpec(amount=amount, **kw), user="test")


def test_record_payment__writes_payment_and_allocations_and_numbers_it(ws):
    first = pay(ws, 250_000, reference="VIR 1")
    second = pay(ws, 1_000, reference="VIR 2", date=D(2024, 8, 1))
    assert (first.payment_id, second.payment_id) == ("P-2024-00001", "P-2024-00002")
    assert [(a.invoice, a.amount) for a in first.allocations] == [("F-2024-050", 200_000), ("F-2024-031", 50_000)]
    assert first.outstanding == (("F-2024-050", 0), ("F-2024-031", 50_000))
    left = outstanding(ws)
    assert (left["F-2024-050"], left["F-2024-031"]) == (0, 49_000)
    pays, allocs = ws.payments(client_id="C1")
    assert pays["payment_id"].tolist() == ["P-2024-00001", "P-2024-00002"]
    assert pays["created_by"].tolist() == ["test", "test"]
    assert allocs["invoice"].tolist() == ["F-2024-050", "F-2024-031", "F-2024-031"]


def test_record_payment__overpayment_is_client_credit(ws):
    recorded = pay(ws, 400_000, allocations={"F-2024-040": 50_000})
    assert recorded.credit == 350_000
    credit = ws.credit(as_of=D(2024, 7, 1))
    assert credit.loc[credit["source"] == "payment", "remaining"].tolist() == [350_000]


def test_record_payment__refusal_writes_nothing(ws):
    before = table_counts(ws)
    with pytest.raises(AboveOutstanding):
        pay(ws, 200_000, allocations={"F-2024-031": 150_000})
    assert table_counts(ws) == before
    assert pay(ws, 1_000).payment_id == "P-2024-00001"


def test_record_payment__unknown_client(ws):
    with pytest.raises(NotFound, match="Client inconnu : C9"):
        pay(ws, 1_000, client_id="C9")


def test_record_payment__duplicate_cheque_needs_confirmation(ws):
    pay(ws, 10_000, method="chèque", reference="CHQ 1234567")
    with pytest.raises(Duplicate, match="P-2024-00001"):
        pay(ws, 10_000, method="chèque", reference="CHQ 1234567")
    again = pay(ws, 10_000, method="chèque", reference="CHQ 1234567", confirm_duplicate=True)
    assert again.payment_id == "P-2024-00002"


def test_record_payment__due_dates_from_terms_order_the_automatic_allocation(ws):
    # F-2024-070 has no due date: 30 jours → 01/07/2024; F-2024-040 is due 01/03/2024, so it comes first.
    recorded = pay(ws, 60_000, invoices=("F-2024-070", "F-2024-040"))
    assert [(a.invoice, a.amount) for a in recorded.allocations] == [("F-2024-040", 50_000), ("F-2024-070", 10_000)]


def test_cancel_payment__restores_open_items_and_keeps_the_trace(ws):
    before = outstanding(ws)
    recorded = pay(ws, 120_000, reference="CHQ 1")
    ws.cancel_payment(recorded.payment_id, "chèque impayé", date=D(2024, 7, 1), user="test")
    assert outstanding(ws) == before
    assert ws.credit(as_of=D(2024, 7, 10))["source"].tolist() == ["credit_note"]
    pays, allocs = ws.payments()
    assert pays.loc[0, "cancel_reason"] == "chèque impayé"
    assert str(pays.loc[0, "cancelled_date"].date()) == "2024-07-01"
    assert len(allocs) == 1
    with pytest.raises(Cancelled, match="déjà annulé le 01/07/2024"):
        ws.cancel_payment(recorded.payment_id, "encore")
    # The same cheque entered again is a new payment, and no duplicate.
    assert pay(ws, 120_000, reference="CHQ 1").payment_id == "P-2024-00002"


def test_cancel_payment__unknown(ws):
    with pytest.raises(NotFound, match="Règlement inconnu : P-0000"):
        ws.cancel_payment("P-0000", "x")


def test_apply_credit__unused_payment_money_then_credit_note(ws):
    recorded = pay(ws, 20_000, allocations={"F-2024-040": 5_000})
    used = ws.apply_credit(CreditSpec("C1", recorded.payment_id, D(2024, 7, 2), allocations={"F-2024-040": None}))
    assert [(a.invoice, a.amount) for a in used.allocations] == [("F-2024-040", 15_000)]
    assert used.credit == 0
    note = ws.apply_credit(CreditSpec("C1", "A-2024-001", D(2024, 7, 2), allocations={"F-2024-040": 12_000}))
    assert note.outstanding == (("F-2024-040", 18_000),)
    assert outstanding(ws)["F-2024-040"] == 18_000
    assert ws.credit(as_of=D(2024, 7, 2)).empty


def test_apply_credit__of_a_cancelled_payment_is_refused(ws):
    recorded = pay(ws, 20_000, allocations={"F-2024-040": 5_000})
    ws.cancel_payment(recorded.payment_id, "erreur de saisie", date=D(2024, 7, 1))
    with pytest.raises(Cancelled):
        ws.apply_credit(CreditSpec("C1", recorded.payment_id, D(2024, 7, 2)))


def test_write_off__small_rest_then_threshold(ws):
    pay(ws, 49_700, allocations={"F-2024-040": 49_700})
    assert ws.write_off(WriteOffSpec("F-2024-040", D(2024, 7, 2), "écart de règlement")) == 300
    assert outstanding(ws)["F-2024-040"] == 0
    with pytest.raises(AboveThreshold):
        ws.write_off(WriteOffSpec("F-2024-031", D(2024, 7, 2), "geste commercial", amount=1_000))
    assert ws.write_off(WriteOffSpec("F-2024-031", D(2024, 7, 2), "geste commercial", amount=1_000,
                                     confirm=True)) == 1_000
    assert outstanding(ws)["F-2024-031"] == 99_000


def test_write_off__threshold_from_settings(tmp_path):
    (tmp_path / "settings.toml").write_text('[payments]\nwrite_off_threshold = "20,00"\n', encoding="utf-8")
    ws = make_workspace(tmp_path)
    assert ws.write_off(WriteOffSpec("F-2024-031", D(2024, 7, 2), "arrondi", amount=2_000)) == 2_000
    ws.close()


def test_payments__filters_by_client_and_dates(ws):
    pay(ws, 1_000, date=D(2024, 6, 1))
    pay(ws, 2_000, date=D(2024, 7, 1))
    pay(ws, 3_000, client_id="C2", date=D(2024, 7, 1))
    pays, allocs = ws.payments(client_id="C1", start=D(2024, 6, 15), end=D(2024, 12, 31))
    assert pays["amount"].tolist() == [2_000]
    assert allocs["amount"].tolist() == [2_000]
    assert ws.payments(start="2024-07-01")[0]["client_id"].tolist() == ["C1", "C2"]


def test_payments__last_keeps_the_latest_by_date_with_their_allocations(ws):
    pay(ws, 1_000, date=D(2024, 7, 1))
    pay(ws, 2_000, date=D(2024, 6, 1))
    pay(ws, 3_000, client_id="C2", date=D(2024, 7, 1))
    pays, allocs = ws.payments(last=2)
    assert pays["amount"].tolist() == [1_000, 3_000]  # by date then entry order, oldest first
    assert set(allocs["payment"]) <= set(pays["payment"]) and 1_000 in allocs["amount"].tolist()
    assert ws.payments(client_id="C1", last=1)[0]["amount"].tolist() == [1_000]


def test_due_dates_read_for_a_payment_match_the_workspace_frames(tmp_path):
    from echeances.demo import write_demo
    from echeances.store.payments import read_client, resolve_dates

    write_demo(tmp_path)
    ws = Workspace.open(tmp_path)
    expected = ws.frames.invoices.set_index("invoice")[["due_date", "retention_release_date"]]
    with ws.store.read() as conn:
        for client in ws.frames.clients["client"].head(15):
            invoices = resolve_dates(read_client(conn, int(client)).invoices, ws._default_terms)
            got = invoices.set_index("invoice")[["due_date", "retention_release_date"]]
            pd.testing.assert_frame_equal(got, expected.loc[got.index])
    ws.close()


def test_record_payment__given_id_must_be_new_even_for_another_client(ws):
    pay(ws, 1_000, payment_id="VIR-77")
    with pytest.raises(AlreadyExists, match="Règlement VIR-77 : ce numéro de règlement existe déjà"):
        pay(ws, 1_000, client_id="C2", payment_id="VIR-77")
    ws.cancel_payment("VIR-77", "erreur", date=D(2024, 7, 1))
    with pytest.raises(Cancelled) as refused:
        pay(ws, 1_000, payment_id="VIR-77")
    assert str(refused.value) == ("Règlement VIR-77 : annulé le 01/07/2024, il se saisit à nouveau "
                                  "sous un autre numéro")


def test_specs_take_text_as_typed_and_refuse_floats(ws):
    recorded = ws.record_payment(PaymentSpec(client_id="C1", date="15/07/2024", amount="1 250,00",
                                             allocations={"F-2024-031": "250"}))
    assert [(a.invoice, a.amount, a.date) for a in recorded.allocations] == [("F-2024-031", 25_000, D(2024, 7, 15))]
    assert recorded.credit == 100_000
    with pytest.raises(TypeError, match="jamais un float"):
        PaymentSpec(client_id="C1", date=D(2024, 7, 1), amount=12.5)


def test_record_payment__a_store_locked_too_long_is_a_french_refusal(ws, tmp_path):
    import sqlite3

    from sqlalchemy import event

    from echeances.store import Store
    from echeances.store.payments import StoreBusy, record_payment

    impatient = Store.open(f"sqlite:///{tmp_path / 'echeances.sqlite'}")
    impatient.engine.dispose()
    event.listen(impatient.engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout = 50"))
    other = sqlite3.connect(tmp_path / "echeances.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusy, match="La base est occupée par une autre saisie ; rien n'a été écrit"):
            record_payment(impatient, PaymentSpec(client_id="C1", date=D(2024, 7, 1), amount=1_000))
    finally:
        other.execute("ROLLBACK")
        other.close()
        impatient.close()
    assert pay(ws, 1_000).payment_id == "P-2024-00001"


def test_store_made_before_the_payment_date_index_gets_it_on_opening(tmp_path):
    import sqlite3

    from echeances import Workspace
    from echeances.store.database import DB_FILE

    make_workspace(tmp_path).close()
    database = sqlite3.connect(tmp_path / DB_FILE)
    indexes = lambda: {n for (n,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}  # noqa: E731
    assert "ix_payments_date" in indexes()
    database.execute("DROP INDEX ix_payments_date")
    database.commit()
    Workspace.open(tmp_path).close()
    assert "ix_payments_date" in indexes()
    database.close()
