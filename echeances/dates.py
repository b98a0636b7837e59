"""Dates: parsing ISO or French day-first text, and French display."""
from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_date

_FRENCH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_date(text: str | dt.date) -> dt.date:
    """``2026-04-15`` or ``15/04/2026`` → ``date(2026, 4, 15)``; ``ValueError`` otherwise."""
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    raw = str(text).strip()
    # Excel cells read as text may carry a time part: "2026-04-15 00:00:00"
    raw = raw.split(" ")[0].split("T")[0]
    match = _ISO.fullmatch(raw)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _FRENCH.fullmatch(raw)
        if not match:
            raise ValueError(f"{text!r} n'est pas une date")
        day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{text!r} n'est pas une date valide") from exc


def format_long_date(day: dt.date) -> str:
    """``date(2026, 4, 15)`` → ``15 avril 2026``."""
    return format_date(day, format="d MMMM y", locale="fr_FR")


def format_short_date(day: dt.date) -> str:
    """``date(2026, 4, 15)`` → ``15/04/2026``."""
    return day.strftime("%d/%m/%Y")
