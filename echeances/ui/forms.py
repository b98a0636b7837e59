"""What a user types in a form, read into values or refused with a French sentence (no widget here)."""
from __future__ import annotations

import datetime as dt

from echeances.dates import parse_date
from echeances.errors import EcheancesError
from echeances.money import parse_amount


class FormError(EcheancesError):
    """A field of a form cannot be read; the message names the field and the value typed."""


def read_amount(field: str, text: str) -> int:
    """Cents of ``text`` as typed (``1 250,00``), else a ``FormError`` naming ``field``."""
    if not str(text).strip():
        raise FormError(f"{field} : à renseigner (exemple : 1 250,00)")
    try:
        return parse_amount(text)
    except ValueError:
        raise FormError(f"{field} : « {text.strip()} » n'est pas un montant (exemple : 1 250,00)") from None


def read_date(field: str, text: str) -> dt.date:
    """``15/04/2026`` (or ISO) as a date, else a ``FormError`` naming ``field``."""
    try:
        return parse_date(text)
    except ValueError:
        raise FormError(f"{field} : « {str(text).strip()} » n'est pas une date (exemple : 15/04/2026)") from None


def read_addresses(text: str) -> list[str]:
    """Addresses separated by commas, semicolons or spaces (checked later by the mail layer)."""
    return [part for part in str(text).replace(";", ",").replace(" ", ",").split(",") if part]


def optional(text: str) -> str | None:
    return str(text).strip() or None
