"""Money as integer cents: parsing French/ISO decimal text and formatting in fr_FR."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency

_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_amount(text: str) -> int:
    """Return the cents of a euro amount written as text.

    Accepts ``1234.56``, ``1 234,56``, ``1 234,56 €``, ``-12,5`` (normal,
    non-breaking or thin spaces as thousands separators). Raises ``ValueError``
    for anything else, including more than two decimals.
    """
    cleaned = _SPACES.sub("", str(text)).replace("€", "").replace("EUR", "")
    if "," in cleaned:
        if "." in cleaned:
            # "1.234,56": dots are thousands separators
            cleaned = cleaned.replace(".", "")
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise ValueError(f"{text!r} n'est pas un montant")
    try:
        value = Decimal(cleaned) * 100
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise ValueError(f"{text!r} n'est pas un montant") from exc
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} a plus de deux décimales")
    return int(value)


def format_amount(cents: int) -> str:
    """``123456`` → ``1 234,56 €`` (fr_FR, narrow no-break spaces as Babel writes them)."""
    return format_currency(Decimal(int(cents)) / 100, "EUR", locale="fr_FR")


def to_decimal_text(cents: int) -> str:
    """Machine form for CSV/JSON output: ``123456`` → ``"1234.56"``."""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
