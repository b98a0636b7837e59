import datetime as dt

import pandas as pd
import pytest

from echeances.dates import format_long_date, parse_date
from echeances.money import format_amount, parse_amount, to_decimal_text
from echeances.terms import Terms, due_date, due_dates, parse_terms, resolve_terms


@pytest.mark.parametrize("text, cents", [
    ("1234.56", 123456), ("1 234,56", 123456), ("1 234,56 €", 123456), ("1\u00a0234,56\u00a0€", 123456),
    ("1\u202f234,56", 123456), ("1234,5", 123450), ("-100", -10000), ("0,01", 1), ("12", 1200),
])
def test_parse_amount__accepts_french_and_iso_text(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["12,5O", "", "abc", "1,234", "12.345", "1 2 3,4,5", "€"])
def test_parse_amount__refuses_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_format_amount__french_with_narrow_spaces():
    assert format_amount(123456) == "1\u202f234,56\u00a0€"
    assert to_decimal_text(123456) == "1234.56"
    assert to_decimal_text(-5) == "-0.05"


def test_parse_date__iso_and_french_and_impossible():
    assert parse_date("2026-04-15") == dt.date(2026, 4, 15)
    assert parse_date("15/04/2026") == dt.date(2026, 4, 15)
    with pytest.raises(ValueError, match="pas une date valide"):
        parse_date("31/02/2026")
    assert format_long_date(dt.date(2026, 4, 15)) == "15 avril 2026"


def test_terms__30_days_end_of_month_from_15_april_is_31_may():
    assert due_date(dt.date(2026, 4, 15), parse_terms("30 jours fin de mois")) == dt.date(2026, 5, 31)


@pytest.mark.parametrize("terms, issue, due", [
    ("comptant", "2026-04-15", "2026-04-15"),
    ("30 jours", "2026-01-31", "2026-03-02"),
    ("45 jours fin de mois", "2026-01-20", "2026-03-31"),
    ("60 jours", "2026-12-15", "2027-02-13"),
    ("fin de mois", "2026-02-10", "2026-02-28"),
])
def test_due_dates__vectorised_matches_single(terms, issue, due):
    issued = pd.Series(pd.to_datetime([issue]))
    result = due_dates(issued, pd.Series([terms], dtype="string"))
    assert result.iloc[0] == pd.Timestamp(due)
    assert due_date(dt.date.fromisoformat(issue), parse_terms(terms)) == dt.date.fromisoformat(due)


def test_parse_terms__refuses_unknown_wording():
    with pytest.raises(ValueError, match="conditions de règlement 'à la saint-glinglin' inconnues"):
        parse_terms("à la saint-glinglin")
    assert parse_terms("45 jours fin de mois") == Terms(45, True)


def test_resolve_terms__invoice_then_site_then_client_then_default():
    invoice = pd.Series(["60 jours", None, None, None], dtype="string")
    site = pd.Series(["comptant", "45 jours", None, ""], dtype="string")
    client = pd.Series(["comptant", "comptant", "fin de mois", None], dtype="string")
    assert resolve_terms(invoice, site, client).tolist() == ["60 jours", "45 jours", "fin de mois", "30 jours"]
