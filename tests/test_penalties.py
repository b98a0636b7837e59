"""Late-payment interest (L441-10) and the 40 € indemnity (D441-5)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from echeances import penalties as pen
from echeances import schema

D = dt.date
ROOT = Path(__file__).resolve().parents[1]
TABLE = pen.RateTable(
    ecb=(pen.Rate(D(2026, 1, 1), Decimal("2.15"), "test"), pen.Rate(D(2026, 7, 1), Decimal("3.15"), "test")),
    legal=(pen.Rate(D(2026, 1, 1), Decimal("2.62"), "test"),),
)


def test_interest__100_days_in_first_half_of_2026_at_ecb_plus_10_points():
    cents, provisional = pen.invoice_interest([(D(2026, 1, 10), 1_000_000)], [], D(2026, 4, 20), TABLE)
    assert (cents, provisional) == (33288, False)  # 10 000,00 € × 12,15 % × 100 / 365


def test_interest__shipped_rate_table_gives_332_88():
    table = pen.RateTable(pen.parse_rates((ROOT / "data/ecb_rates.csv").read_text("utf-8")))
    assert pen.invoice_interest([(D(2026, 1, 10), 1_000_000)], [], D(2026, 4, 20), table)[0] == 33288


def test_interest__period_across_1_july_uses_both_half_year_rates():
    # 10 days in June at 12.15 %, 10 days in July at 13.15 %
    cents, _ = pen.invoice_interest([(D(2026, 6, 20), 1_000_000)], [], D(2026, 7, 10), TABLE)
    expected = 1_000_000 * (Decimal("12.15") * 10 + Decimal("13.15") * 10) / 36500
    assert cents == int(expected.quantize(Decimal("1"), rounding="ROUND_HALF_UP")) == 6932


def test_interest__partial_payment_stops_interest_on_paid_part_from_its_date():
    # 6 000 € paid 40 days late: interest on 10 000 € for 40 days, then 4 000 € for 60 days
    cents, _ = pen.invoice_interest([(D(2026, 1, 10), 1_000_000)], [(D(2026, 2, 19), 600_000)],
                                    D(2026, 4, 20), TABLE)
    expected = (Decimal(1_000_000) * 40 + Decimal(400_000) * 60) * Decimal("12.15") / 36500
    assert cents == round(expected) == 21304


def test_interest__paid_on_due_date_or_before_accrues_nothing():
    dues = [(D(2026, 1, 10), 1_000_000)]
    assert pen.invoice_interest(dues, [(D(2026, 1, 10), 1_000_000)], D(2026, 4, 20), TABLE)[0] == 0
    assert pen.invoice_interest(dues, [(D(2026, 1, 2), 1_000_000)], D(2026, 4, 20), TABLE)[0] == 0


def test_interest__payments_settle_net_part_before_retention():
    # net 9 500 € due 10/01, retention 500 € due 10/03; 9 500 € paid on 10/01
    dues = [(D(2026, 1, 10), 950_000), (D(2026, 3, 10), 50_000)]
    cents, _ = pen.invoice_interest(dues, [(D(2026, 1, 10), 950_000)], D(2026, 4, 20), TABLE)
    assert cents == round(Decimal(50_000) * 41 * Decimal("12.15") / 36500) == 682


def test_interest__half_year_after_last_known_rate_is_provisional():
    table = pen.RateTable(ecb=(pen.Rate(D(2026, 1, 1), Decimal("2.15"), "test"),))
    cents, provisional = pen.invoice_interest([(D(2026, 6, 30), 1_000_000)], [], D(2026, 7, 10), table)
    assert provisional is True and cents == round(Decimal(1_000_000) * 10 * Decimal("12.15") / 36500)


def test_contract_rate__at_least_three_times_legal_rate_is_used():
    cents, _ = pen.invoice_interest([(D(2026, 1, 10), 1_000_000)], [], D(2026, 4, 20), TABLE, Decimal("9"))
    assert cents == round(Decimal(1_000_000) * 100 * 9 / 36500) == 24658


def test_contract_rate__below_three_times_legal_rate_is_refused():
    with pytest.raises(pen.PenaltyError) as err:
        pen.invoice_interest([(D(2026, 1, 10), 1_000_000)], [], D(2026, 4, 20), TABLE, Decimal("5"))
    assert str(err.value) == ("Taux contractuel de 5 % refusé : il ne peut être inférieur à trois fois le taux "
                              "d'intérêt légal (2.62 % × 3 = 7.86 % au semestre du 01/01/2026)")


def test_parse_rates__reports_every_bad_line():
    with pytest.raises(pen.PenaltyError) as err:
        pen.parse_rates("start,rate,source\n2026-01-01,2.15,x\n2026-03-01,2,x\n2026-07-01,abc,x\n", "ecb.csv")
    assert str(err.value) == ("ecb.csv:3: 2026-03-01 n'est pas un 1er janvier ni un 1er juillet\n"
                              "ecb.csv:4: taux 'abc' illisible")


def _frames(kind: str):
    clients = pd.DataFrame({"client": [0], "kind": [kind]})
    invoices = pd.DataFrame({
        "invoice": [0, 1, 2], "client": [0, 0, 0], "kind": pd.Categorical(["invoice"] * 3, dtype=schema.KIND),
        "issue_date": pd.to_datetime(["2025-12-10", "2025-12-10", "2026-04-01"]),
        "due_date": pd.to_datetime(["2026-01-10", "2026-01-10", "2026-05-01"]),
        "total": [1_000_000, 200_000, 300_000], "retention": [0, 0, 0],
        "retention_release_date": pd.to_datetime([None, None, None]),
    })
    allocations = pd.DataFrame({"invoice": [1], "date": pd.to_datetime(["2026-02-01"]), "amount": [200_000]})
    write_offs = pd.DataFrame({"invoice": pd.Series([], dtype="int64"), "date": pd.to_datetime([]),
                               "amount": pd.Series([], dtype="int64")})
    return invoices, allocations, write_offs, clients


def test_penalties__professional_owes_interest_and_40_euros_per_late_invoice():
    result = pen.penalties(*_frames("professionnel"), D(2026, 4, 20), TABLE)
    # invoice 1 is paid, invoice 2 not yet due: only invoice 0 is late
    assert result.to_dict("records") == [{
        "invoice": 0, "client": 0, "overdue": 1_000_000, "days_overdue": 100, "interest": 33288,
        "indemnity": 4000, "professional": True, "provisional": False,
    }]


def test_penalties__private_client_owes_no_interest_and_no_indemnity():
    result = pen.penalties(*_frames("particulier"), D(2026, 4, 20), TABLE)
    assert result[["invoice", "overdue", "interest", "indemnity", "professional"]].to_dict("records") == [
        {"invoice": 0, "overdue": 1_000_000, "interest": 0, "indemnity": 0, "professional": False}]
