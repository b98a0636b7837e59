"""Payment terms (conditions de règlement) and due dates computed from them."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_TERMS = "30 jours"

_TERMS = re.compile(r"(?:(\d+)\s*jours?)?\s*(fin\s+de\s+mois)?")


@dataclass(frozen=True)
class Terms:
    """``days`` after issue, then to the end of that month when ``end_of_month``."""

    days: int
    end_of_month: bool


def parse_terms(text: str) -> Terms:
    """``comptant`` → 0 days; ``30 jours``; ``45 jours fin de mois``; ``fin de mois``."""
    raw = unicodedata.normalize("NFC", str(text)).strip().lower().replace("-", " ")
    raw = re.sub(r"\s+", " ", raw)
    if raw in ("comptant", "à réception", "a reception", "a réception", "réception", "0"):
        return Terms(0, False)
    match = _TERMS.fullmatch(raw)
    if not raw or not match or not (match.group(1) or match.group(2)):
        raise ValueError(f"conditions de règlement {text!r} inconnues "
                         "(attendu : « comptant », « 30 jours », « 45 jours fin de mois »)")
    return Terms(int(match.group(1) or 0), bool(match.group(2)))


def due_date(issue: dt.date, terms: Terms) -> dt.date:
    """The due date of an invoice issued on ``issue`` under ``terms``."""
    day = issue + dt.timedelta(days=terms.days)
    if terms.end_of_month:
        first_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        day = first_next - dt.timedelta(days=1)
    return day


def due_dates(issue: pd.Series, terms: pd.Series) -> pd.Series:
    """Vectorised ``due_date``: one parse per distinct terms text, then date arithmetic."""
    out = pd.Series(pd.NaT, index=issue.index, dtype="datetime64[ns]")
    for text, positions in terms.groupby(terms, sort=False).groups.items():
        rule = parse_terms(text)
        days = issue.loc[positions] + pd.to_timedelta(rule.days, unit="D")
        if rule.end_of_month:
            days = days + pd.offsets.MonthEnd(0)
        out.loc[positions] = days
    return out


def resolve_terms(*chain: pd.Series, default: str = DEFAULT_TERMS) -> pd.Series:
    """First non-empty terms along ``chain`` (invoice → site → client), else ``default``."""
    result = pd.Series(np.nan, index=chain[0].index, dtype="object")
    for series in chain:
        values = series.astype("object").where(series.notna() & (series.astype("string").str.strip() != ""))
        result = result.fillna(values)
    return result.fillna(default).astype("string")
