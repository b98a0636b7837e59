"""The payment resolver: one test per rule, exact cents and exact French messages."""
from __future__ import annotations

import datetime as dt

import re

import pandas as pd
import pytest

from echeances import schema
from echeances.payment_specs import AboveAmount, AboveOutstanding, AboveThreshold, AlreadyExists, AmountNotPositive, BadDate, BeforeIssue, Cancelled, CreditSource, CreditSpec, Duplicate, NotPayable, OtherClient, PaymentSpec, ReasonRequired, UnknownInvoice, UnknownMethod, WriteOffSpec, Allocation
from echeances.allocation import allocatable_items, allocate_credit, allocate_payment, check_cancel, check_write_off, settled_peak

D = dt.date
NBSP = "\u202f"


def eur(text: str) -> str:
    """Babel writes a narrow no-break space as thousands separator and a no-break space before €."""
    return re.sub(r"(\d) (\d{3})", "\\1" + NBSP + "\\2", text).replace(" €", "\u00a0€")


def invoices_frame(rows) -> pd.DataFrame:
    """rows: (code, number, client_id, site_id, kind, issue, due, total, retention, release)."""
    frame = pd.DataFrame([{
        "invoice": r[0], "number": r[1], "client": {"C1": 1, "C2": 2}[r[2]], "site": {None: -1, "S1": 1, "S2": 2}[r[3]],
        "kind": r[4], "issue_date": pd.Timestamp(r[5]), "due_date": pd.Timestamp(r[6]), "payment_terms": None,
        "total": r[7], "retention": r[8], "retention_release_date": pd.Timestamp(r[9]) if r[9] else pd.NaT,
        "manager": None, "pdf": None,
    } for r in rows])
    out = schema.conform(frame, schema.INVOICES)
    out["client_id"] = pd.Series([r[2] for r in rows], dtype="string")
    out["site_id"] = pd.Series([r[3] for r in rows], dtype="string")
    return out


INVOICES = invoices_frame([
    (1, "F-2024-031", "C1", "S1", "invoice", "2024-01-10", "2024-02-10", 100_000, 0, None),
    (2, "F-2024-040", "C1", "S2", "invoice", "2024-02-01", "2024-03-01", 50_000, 0, None),
    (3, "F-2024-050", "C1", "S1", "progress", "2024-01-05", "2024-01-20", 200_000, 10_000, "2024-01-25"),
    (4, "F-2024-060", "C2", None, "invoice", "2024-01-01", "2024-01-31", 30_000, 0, None),
    (5, "A-2024-001", "C1", "S1", "credit_note", "2024-03-01", "2024-03-01", 12_000, 0, None),
    (6, "F-2024-070", "C1", "S1", "invoice", "2024-06-01", "2024-07-01", 40_000, 0, None),
])


def payments_frame(rows=()) -> pd.DataFrame:
    """rows: (code, payment_id, client, date, amount, reference, cancelled_date)."""
    frame = pd.DataFrame([{
        "payment": r[0], "payment_id": r[1], "client": r[2], "date": pd.Timestamp(r[3]), "amount": r[4],
        "method": "virement", "reference": r[5], "bank": None, "label": None,
        "cancelled_date": pd.Timestamp(r[6]) if r[6] else pd.NaT,
    } for r in rows], columns=list(schema.PAYMENTS))
    return schema.conform(frame, schema.PAYMENTS)


def allocations_frame(rows=()) -> pd.DataFrame:
    """rows: (payment, invoice, amount, date)."""
    frame = pd.DataFrame([{"allocation": i, "payment": r[0], "credit_note": -1, "invoice": r[1], "amount": r[2],
                           "date": pd.Timestamp(r[3])} for i, r in enumerate(rows)], columns=list(schema.ALLOCATIONS))
    return schema.conform(frame, schema.ALLOCATIONS)


def write_offs_frame(rows=()) -> pd.DataFrame:
    frame = pd.DataFrame([{"write_off": i, "invoice": r[0], "amount": r[1], "date": pd.Timestamp(r[2]),
                           "reason": "x"} for i, r in enumerate(rows)], columns=list(schema.WRITE_OFFS))
    return schema.conform(frame, schema.WRITE_OFFS)


def resolve(spec, payments=(), allocations=(), write_offs=(), invoices=INVOICES):
    pays = payments_frame(payments)
    items = allocatable_items(invoices, pays, allocations_frame(allocations), write_offs_frame(write_offs), spec.date)
    return allocate_payment(spec, items, invoices, pays)


def spec(amount, **kw):
    kw.setdefault("date", D(2024, 7, 1))
    return PaymentSpec(client_id="C1", amount=amount, payment_id="P-0192", **kw)


# --- automatic allocation ------------------------------------------------------
def test_allocate__auto_pays_oldest_due_date_first_net_before_retention():
    allocations, credit = resolve(spec(200_000))
    # F-2024-050 net (due 20/01) 190 000, its retention released 25/01 but after its net part,
    # then F-2024-031 (due 10/02): the remaining 0 → nothing for it.
    assert allocations == (Allocation("F-2024-050", 200_000, D(2024, 7, 1)),)
    assert credit == 0


def test_allocate__auto_spreads_over_several_invoices_in_due_order():
    allocations, credit = resolve(spec(250_000))
    assert allocations == (Allocation("F-2024-050", 200_000, D(2024, 7, 1)),
                           Allocation("F-2024-031", 50_000, D(2024, 7, 1)))
    assert credit == 0


def test_allocate__overpayment_becomes_credit():
    allocations, credit = resolve(spec(400_000))
    assert [a.amount for a in allocations] == [200_000, 100_000, 50_000, 40_000]
    assert credit == 10_000


def test_allocate__auto_skips_invoices_issued_after_the_payment_date():
    allocations, credit = resolve(spec(400_000, date=D(2024, 5, 1)))
    assert [a.invoice for a in allocations] == ["F-2024-050", "F-2024-031", "F-2024-040"]
    assert credit == 50_000


def test_allocate__auto_restricted_to_a_site():
    allocations, credit = resolve(spec(60_000, site_id="S2"))
    assert allocations == (Allocation("F-2024-040", 50_000, D(2024, 7, 1)),)
    assert credit == 10_000


def test_allocate__auto_restricted_to_a_list_of_invoices_takes_them_by_due_date():
    allocations, _ = resolve(spec(120_000, invoices=("F-2024-040", "F-2024-031")))
    assert allocations == (Allocation("F-2024-031", 100_000, D(2024, 7, 1)),
                           Allocation("F-2024-040", 20_000, D(2024, 7, 1)))


def test_allocate__auto_counts_existing_allocations_and_write_offs():
    allocations, _ = resolve(spec(30_000), payments=[(1, "P-1", 1, "2024-02-01", 195_000, "x", None)],
                             allocations=[(1, 3, 195_000, "2024-02-01")], write_offs=[(1, 300, "2024-03-01")])
    assert allocations == (Allocation("F-2024-050", 5_000, D(2024, 7, 1)),
                           Allocation("F-2024-031", 25_000, D(2024, 7, 1)))


def test_allocate__cancelled_payment_frees_its_allocations():
    allocations, _ = resolve(spec(10_000, allocations={"F-2024-031": 10_000}),
                             payments=[(1, "P-1", 1, "2024-02-01", 100_000, "x", "2024-03-01")],
                             allocations=[(1, 1, 100_000, "2024-02-01")])
    assert allocations == (Allocation("F-2024-031", 10_000, D(2024, 7, 1)),)


def test_allocate__backdated_payment_cannot_use_money_a_later_cancellation_frees():
    with pytest.raises(AboveOutstanding) as refused:
        resolve(spec(10_000, date=D(2024, 2, 15), allocations={"F-2024-031": 10_000}),
                payments=[(1, "P-1", 1, "2024-02-01", 100_000, "x", "2024-03-01")],
                allocations=[(1, 1, 100_000, "2024-02-01")])
    assert str(refused.value) == eur("Règlement P-0192 : 100,00 € dépasse le reste dû 0,00 € de F-2024-031")


# --- explicit allocation --------------------------------------------------------
def test_allocate__explicit_amounts_and_rest_as_credit():
    allocations, credit = resolve(spec(60_000, allocations={"F-2024-031": 25_000, "F-2024-040": 30_000}))
    assert allocations == (Allocation("F-2024-031", 25_000, D(2024, 7, 1)),
                           Allocation("F-2024-040", 30_000, D(2024, 7, 1)))
    assert credit == 5_000


def test_allocate__explicit_invoice_without_amount_takes_what_it_needs():
    allocations, credit = resolve(spec(120_000, allocations={"F-2024-040": None, "F-2024-031": None}))
    assert allocations == (Allocation("F-2024-040", 50_000, D(2024, 7, 1)),
                           Allocation("F-2024-031", 70_000, D(2024, 7, 1)))
    assert credit == 0


def test_allocate__explicit_then_auto_for_the_rest():
    allocations, credit = resolve(spec(210_000, allocations={"F-2024-040": 50_000}, auto=True))
    assert allocations == (Allocation("F-2024-040", 50_000, D(2024, 7, 1)),
                           Allocation("F-2024-050", 160_000, D(2024, 7, 1)))
    assert credit == 0


def test_refuse__allocation_above_outstanding():
    with pytest.raises(AboveOutstanding) as refused:
        resolve(spec(125_000, allocations={"F-2024-031": 125_000}))
    assert str(refused.value) == eur("Règlement P-0192 : 1 250,00 € dépasse le reste dû 1 000,00 € de F-2024-031")


def test_refuse__two_allocations_to_one_invoice_above_outstanding():
    with pytest.raises(AboveOutstanding) as refused:
        resolve(spec(125_000, allocations=[("F-2024-031", 60_000), ("F-2024-031", 60_000)]))
    assert str(refused.value) == eur("Règlement P-0192 : 600,00 € dépasse le reste dû 400,00 € de F-2024-031")


def test_refuse__allocations_above_the_amount():
    with pytest.raises(AboveAmount) as refused:
        resolve(spec(50_000, allocations={"F-2024-031": 40_000, "F-2024-040": 20_000}))
    assert str(refused.value) == eur("Règlement P-0192 : les imputations 600,00 € dépassent le montant 500,00 €")


@pytest.mark.parametrize("amount", [0, -100])
def test_refuse__amount_not_positive(amount):
    with pytest.raises(AmountNotPositive) as refused:
        resolve(spec(amount))
    assert str(refused.value) == eur(f"Règlement P-0192 : le montant {'0,00' if amount == 0 else '-1,00'} € "
                                     "doit être positif")


def test_refuse__allocation_not_positive():
    with pytest.raises(AmountNotPositive) as refused:
        resolve(spec(1_000, allocations={"F-2024-031": 0}))
    assert str(refused.value) == eur("Règlement P-0192 : l'imputation 0,00 € sur F-2024-031 doit être positive")


def test_refuse__invoice_of_another_client():
    with pytest.raises(OtherClient) as refused:
        resolve(spec(1_000, allocations={"F-2024-060": 1_000}))
    assert str(refused.value) == "Règlement P-0192 : la facture F-2024-060 est du client C2, pas de C1"


def test_refuse__invoice_of_another_client_in_an_auto_restriction():
    with pytest.raises(OtherClient):
        resolve(spec(1_000, invoices=("F-2024-060",)))


def test_refuse__unknown_invoice():
    with pytest.raises(UnknownInvoice) as refused:
        resolve(spec(1_000, allocations={"F-9999": 1_000}))
    assert str(refused.value) == "Règlement P-0192 : facture inconnue F-9999"


def test_refuse__allocation_to_a_credit_note():
    with pytest.raises(NotPayable) as refused:
        resolve(spec(1_000, allocations={"A-2024-001": 1_000}))
    assert str(refused.value) == "Règlement P-0192 : A-2024-001 est un avoir, rien ne peut lui être imputé"


def test_refuse__date_before_issue_unless_allowed():
    early = spec(40_000, date=D(2024, 5, 20), allocations={"F-2024-070": 40_000})
    with pytest.raises(BeforeIssue) as refused:
        resolve(early)
    assert str(refused.value) == ("Règlement P-0192 : la date 20/05/2024 précède l'émission de F-2024-070 "
                                  "(01/06/2024) ; confirmer pour l'accepter")
    assert refused.value.confirmable


def test_allocate__early_payment_allowed_is_allocated_on_the_issue_date():
    allowed = spec(40_000, date=D(2024, 5, 20), allocations={"F-2024-070": 40_000}, allow_early=True)
    assert resolve(allowed) == ((Allocation("F-2024-070", 40_000, D(2024, 6, 1)),), 0)


def test_refuse__unknown_method():
    with pytest.raises(UnknownMethod) as refused:
        resolve(spec(1_000, method="bitcoin"))
    assert str(refused.value) == ("Règlement P-0192 : mode de règlement « bitcoin » inconnu (attendu : virement, "
                                  "chèque, carte, espèces, prélèvement, LCR, autre)")


EXISTING = [(7, "P-2024-00007", 1, "2024-07-01", 10_000, "CHQ 1234567", None)]


def test_refuse__duplicate_unless_confirmed():
    again = PaymentSpec(client_id="C1", date=D(2024, 7, 1), amount=10_000, reference="CHQ 1234567")
    with pytest.raises(Duplicate) as refused:
        resolve(again, payments=EXISTING)
    assert str(refused.value) == ("Règlement (nouveau) : même client, montant, date et référence que P-2024-00007 "
                                  "(saisi deux fois ?) ; confirmer pour l'enregistrer")
    confirmed = PaymentSpec(client_id="C1", date=D(2024, 7, 1), amount=10_000, reference="CHQ 1234567",
                            confirm_duplicate=True)
    assert resolve(confirmed, payments=EXISTING)[1] == 0


def test_allocate__same_cheque_again_after_cancellation_is_no_duplicate():
    cancelled = [(7, "P-2024-00007", 1, "2024-07-01", 10_000, "CHQ 1234567", "2024-07-02")]
    again = PaymentSpec(client_id="C1", date=D(2024, 7, 1), amount=10_000, reference="CHQ 1234567")
    assert resolve(again, payments=cancelled)[0][0].amount == 10_000


def test_allocate__another_reference_is_no_duplicate():
    other = PaymentSpec(client_id="C1", date=D(2024, 7, 1), amount=10_000, reference="CHQ 1234568")
    assert resolve(other, payments=EXISTING)[0][0].amount == 10_000


def test_refuse__payment_id_already_used():
    with pytest.raises(AlreadyExists) as refused:
        resolve(PaymentSpec(client_id="C1", date=D(2024, 7, 1), amount=1, payment_id="P-2024-00007"),
                payments=EXISTING)
    assert str(refused.value) == "Règlement P-2024-00007 : ce numéro de règlement existe déjà"


# --- credit --------------------------------------------------------------------------
def credit(source, **kw):
    kw.setdefault("date", D(2024, 7, 1))
    use = CreditSpec(client_id="C1", source=source.id, **kw)
    items = allocatable_items(INVOICES, payments_frame(), allocations_frame(), write_offs_frame(), use.date)
    return allocate_credit(use, source, items, INVOICES)


NOTE = CreditSource("credit_note", "A-2024-001", "C1", D(2024, 3, 1), 12_000)


def test_credit__credit_note_applied_automatically():
    assert credit(NOTE) == ((Allocation("F-2024-050", 12_000, D(2024, 7, 1)),), 0)


def test_credit__partial_use_keeps_the_rest():
    assert credit(NOTE, allocations={"F-2024-040": 2_000}) == ((Allocation("F-2024-040", 2_000, D(2024, 7, 1)),),
                                                               10_000)


def test_refuse__credit_above_what_is_left():
    with pytest.raises(AboveAmount) as refused:
        credit(NOTE, allocations={"F-2024-040": 12_001})
    assert str(refused.value) == eur("Avoir A-2024-001 : les imputations 120,01 € dépassent le crédit disponible "
                                     "120,00 €")


def test_refuse__credit_of_a_cancelled_payment():
    gone = CreditSource("payment", "P-2024-00007", "C1", D(2024, 2, 1), 5_000, cancelled_date=D(2024, 3, 1))
    with pytest.raises(Cancelled) as refused:
        credit(gone)
    assert str(refused.value) == "Règlement P-2024-00007 : annulé le 01/03/2024, il ne peut plus être imputé"


def test_refuse__credit_of_another_client():
    other = CreditSource("payment", "P-2024-00008", "C2", D(2024, 2, 1), 5_000)
    with pytest.raises(OtherClient) as refused:
        credit(other)
    assert str(refused.value) == "Règlement P-2024-00008 : il est du client C2, pas de C1"


def test_refuse__credit_used_before_it_existed():
    with pytest.raises(BadDate) as refused:
        credit(NOTE, date=D(2024, 2, 1))
    assert str(refused.value) == "Avoir A-2024-001 : la date 01/02/2024 précède l’avoir (01/03/2024)"


# --- write-offs and cancellations --------------------------------------------------------
F031 = INVOICES.iloc[0]


def test_write_off__whole_rest_under_the_threshold():
    assert check_write_off(WriteOffSpec("F-2024-031", D(2024, 7, 1), "écart de règlement"), F031, 499) == 499


def test_refuse__write_off_above_threshold_unless_confirmed():
    above = WriteOffSpec("F-2024-031", D(2024, 7, 1), "geste commercial", amount=501)
    with pytest.raises(AboveThreshold) as refused:
        check_write_off(above, F031, 10_000)
    assert str(refused.value) == eur("Solde sans règlement de F-2024-031 : 5,01 € dépasse le seuil de 5,00 € ; "
                                     "confirmer pour solder sans règlement")
    confirmed = WriteOffSpec("F-2024-031", D(2024, 7, 1), "geste commercial", amount=501, confirm=True)
    assert check_write_off(confirmed, F031, 10_000) == 501


def test_write_off__threshold_is_configurable():
    assert check_write_off(WriteOffSpec("F-2024-031", D(2024, 7, 1), "x"), F031, 900, threshold=1_000) == 900


def test_refuse__write_off_without_reason():
    with pytest.raises(ReasonRequired) as refused:
        check_write_off(WriteOffSpec("F-2024-031", D(2024, 7, 1), "  "), F031, 100)
    assert str(refused.value) == "Solde sans règlement de F-2024-031 : le motif est obligatoire"


def test_refuse__write_off_above_outstanding():
    with pytest.raises(AboveOutstanding) as refused:
        check_write_off(WriteOffSpec("F-2024-031", D(2024, 7, 1), "x", amount=300), F031, 200)
    assert str(refused.value) == eur("Solde sans règlement de F-2024-031 : 3,00 € dépasse le reste dû 2,00 €")


def test_refuse__write_off_of_a_settled_invoice():
    with pytest.raises(AboveOutstanding) as refused:
        check_write_off(WriteOffSpec("F-2024-031", D(2024, 7, 1), "x"), F031, 0)
    assert str(refused.value) == eur("Solde sans règlement de F-2024-031 : rien à solder, reste dû 0,00 €")


def test_refuse__cancel_twice():
    with pytest.raises(Cancelled) as refused:
        check_cancel("P-2024-00007", D(2024, 2, 1), pd.Timestamp("2024-03-01"), D(2024, 4, 1), "chèque impayé")
    assert str(refused.value) == "Règlement P-2024-00007 : déjà annulé le 01/03/2024"


def test_refuse__cancel_without_reason_or_before_the_payment():
    with pytest.raises(ReasonRequired):
        check_cancel("P-1", D(2024, 2, 1), None, D(2024, 4, 1), "")
    with pytest.raises(BadDate) as refused:
        check_cancel("P-1", D(2024, 2, 1), pd.NaT, D(2024, 1, 1), "erreur")
    assert str(refused.value) == "Règlement P-1 : l'annulation du 01/01/2024 précède le règlement (01/02/2024)"


def test_settled_peak__counts_a_cancelled_allocation_until_its_cancellation():
    pays = payments_frame([(1, "P-1", 1, "2024-02-01", 100_000, "x", "2024-03-01")])
    allocs = allocations_frame([(1, 1, 100_000, "2024-02-01")])
    peak = lambda day: settled_peak(INVOICES.iloc[:1], pays, allocs, write_offs_frame(), day)[0]  # noqa: E731
    assert (peak("2024-01-01"), peak("2024-02-15"), peak("2024-03-01")) == (100_000, 100_000, 0)


def test_allocate__auto_restricted_to_a_site_skips_invoices_without_site():
    invoices = invoices_frame([
        (1, "F-1", "C1", None, "invoice", "2024-01-10", "2024-02-10", 10_000, 0, None),
        (2, "F-2", "C1", "S1", "invoice", "2024-01-10", "2024-03-10", 10_000, 0, None),
    ])
    assert resolve(spec(15_000, site_id="S1"), invoices=invoices) == (
        (Allocation("F-2", 10_000, D(2024, 7, 1)),), 5_000)
