"""Late-payment penalties (Code de commerce L441-10, D441-5): interest and the 40 € indemnity.

Pure functions: the rate tables come in as text or values, ``as_of`` is given,
amounts are integer cents in and out.

- Interest runs, for a professional client, at the ECB main refinancing rate
  in force on 1 January (first half-year) or 1 July (second half-year) plus
  10 points — or at the contractual rate, which may not be below three times
  the legal interest rate of the half-year.
- Simple interest, actual/365, on each overdue amount, day by day: a day
  ``t`` accrues when ``due_date < t <= as_of``, at the rate of ``t``'s
  half-year. Money received (or written off) on day ``p`` stops interest on
  that part after ``p``: paid on the due date, no interest.
- Exact arithmetic throughout; each invoice's interest is rounded half-up to
  the cent once, at the end, and totals add the rounded lines.
- 40 € per invoice late on ``as_of``. A private client (``particulier``) owes
  neither.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np
import pandas as pd

from echeances.dates import parse_date
from echeances.errors import EcheancesError, Problem

INDEMNITY_CENTS = 4000
LEGAL_MARGIN = Decimal("10")
FLOOR_FACTOR = 3
PRIVATE = "particulier"


class PenaltyError(EcheancesError):
    """A penalty cannot be computed (unusable rate table, contractual rate too low…)."""


@dataclass(frozen=True)
class Rate:
    """A rate in percent, in force from ``start`` (a 1 January or 1 July), with its source."""

    start: dt.date
    percent: Decimal
    source: str


@dataclass(frozen=True)
class RateTable:
    """ECB refinancing rates and legal interest rates ("tous les autres cas"), by half-year."""

    ecb: tuple[Rate, ...]
    legal: tuple[Rate, ...] = ()


@dataclass(frozen=True)
class HalfYearRate:
    """The rate applied over one half-year, and whether it was extrapolated from an older row."""

    start: dt.date
    percent: Decimal
    provisional: bool


def parse_rates(text: str, name: str = "taux.csv") -> tuple[Rate, ...]:
    """Read a ``start,rate,source`` CSV (rate in percent, ``2.15`` or ``2,15``), sorted by start.

    ``start`` must be a 1 January or a 1 July. Every problem is reported as
    ``name:line: reason`` and the whole table refused.
    """
    rows, problems = [], []
    reader = csv.DictReader(io.StringIO(text))
    missing = {"start", "rate"} - set(reader.fieldnames or ())
    if missing:
        raise PenaltyError(f"{name}: colonne(s) manquante(s) : {', '.join(sorted(missing))}")
    for line, row in enumerate(reader, start=2):
        try:
            start = parse_date(row["start"])
        except ValueError:
            problems.append(Problem(name, line, f"date {row['start']!r} illisible"))
            continue
        if (start.month, start.day) not in ((1, 1), (7, 1)):
            problems.append(Problem(name, line, f"{row['start']} n'est pas un 1er janvier ni un 1er juillet"))
            continue
        try:
            percent = Decimal(str(row["rate"]).strip().replace(",", "."))
        except InvalidOperation:
            problems.append(Problem(name, line, f"taux {row['rate']!r} illisible"))
            continue
        rows.append(Rate(start, percent, (row.get("source") or "").strip()))
    if problems:
        raise PenaltyError("\n".join(str(p) for p in problems))
    return tuple(sorted(rows, key=lambda r: r.start))


def half_year_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 1 if day.month <= 6 else 7, 1)


def _next_half_year(start: dt.date) -> dt.date:
    return dt.date(start.year, 7, 1) if start.month == 1 else dt.date(start.year + 1, 1, 1)


def _rate_on(rates: tuple[Rate, ...], start: dt.date, what: str) -> HalfYearRate:
    known = [r for r in rates if r.start <= start]
    if not known:
        raise PenaltyError(f"Aucun {what} connu pour le semestre commençant le {start:%d/%m/%Y}")
    row = known[-1]
    return HalfYearRate(start, row.percent, provisional=row.start != start)


def late_rate(table: RateTable, start: dt.date, contract_percent: Decimal | None = None) -> HalfYearRate:
    """The L441-10 rate of the half-year beginning ``start``: contractual, else ECB + 10 points.

    A contractual rate below three times that half-year's legal interest rate
    is refused (``PenaltyError``), since the law forbids such a clause.
    """
    if contract_percent is None:
        ecb = _rate_on(table.ecb, start, "taux BCE")
        return HalfYearRate(start, ecb.percent + LEGAL_MARGIN, ecb.provisional)
    legal = _rate_on(table.legal, start, "taux d'intérêt légal")
    floor = legal.percent * FLOOR_FACTOR
    if Decimal(contract_percent) < floor:
        raise PenaltyError(
            f"Taux contractuel de {contract_percent} % refusé : il ne peut être inférieur à trois fois "
            f"le taux d'intérêt légal ({legal.percent} % × 3 = {floor} % au semestre du {start:%d/%m/%Y})")
    return HalfYearRate(start, Decimal(contract_percent), legal.provisional)


def rate_periods(table: RateTable, start: dt.date, end: dt.date,
                 contract_percent: Decimal | None = None) -> list[tuple[HalfYearRate, int]]:
    """Days ``t`` with ``start < t <= end``, counted per half-year: ``[(rate, days), …]``."""
    periods = []
    first = start + dt.timedelta(days=1)
    semester = half_year_start(first)
    while first <= end:
        following = _next_half_year(semester)
        last = min(end, following - dt.timedelta(days=1))
        periods.append((late_rate(table, semester, contract_percent), (last - first).days + 1))
        first, semester = last + dt.timedelta(days=1), following
    return periods


def _accrual(table, start, end, contract_percent) -> tuple[Fraction, bool]:
    """Σ days × rate / 36 500 over ``start < t <= end``: interest per cent of principal."""
    if end <= start:
        return Fraction(0), False
    periods = rate_periods(table, start, end, contract_percent)
    factor = sum((Fraction(r.percent) * days for r, days in periods), Fraction(0)) / 36500
    return factor, any(r.provisional for r, _ in periods)


def round_cents(value: Fraction) -> int:
    """Half-up rounding of a non-negative exact amount of cents."""
    return int((value * 2 + 1) // 2)


def invoice_interest(dues: list[tuple[dt.date, int]], settlements: list[tuple[dt.date, int]],
                     as_of: dt.date, table: RateTable,
                     contract_percent: Decimal | None = None) -> tuple[int, bool]:
    """Interest in cents on one invoice's due parts (settled in order), and whether a rate was provisional.

    ``dues`` are ``(due_date, cents)`` in the order money settles them (net part,
    then retention); ``settlements`` are ``(date, cents)`` of money received or
    written off, dated on or before ``as_of``.
    """
    remaining = [amount for _, amount in dues]
    reductions: list[list[tuple[dt.date, int]]] = [[] for _ in dues]
    for day, amount in sorted(settlements):
        for i, left in enumerate(remaining):
            take = min(left, amount)
            if take > 0:
                reductions[i].append((day, take))
                remaining[i] -= take
                amount -= take
    total, provisional = Fraction(0), False
    for (due, amount), cuts in zip(dues, reductions):
        factor, prov = _accrual(table, due, as_of, contract_percent)
        if factor == 0:
            continue
        value = amount * factor
        for day, cut in cuts:
            stop, _ = _accrual(table, max(day, due), as_of, contract_percent)
            value -= cut * stop
        total += value
        provisional |= prov
    return round_cents(total), provisional


PENALTIES = {
    "invoice": "int64", "client": "int64", "overdue": "int64", "days_overdue": "int64",
    "interest": "int64", "indemnity": "int64", "professional": "bool", "provisional": "bool",
}


def penalties(invoices: pd.DataFrame, allocations: pd.DataFrame, write_offs: pd.DataFrame,
              clients: pd.DataFrame, as_of, table: RateTable,
              contract_percent: Decimal | None = None) -> pd.DataFrame:
    """Per invoice late on ``as_of`` (an overdue part still unpaid): interest and indemnity in cents.

    Frames follow ``schema`` (invoices with resolved due dates; ``allocations``
    active only). Columns: ``PENALTIES``: ``overdue`` is what is past due and
    unpaid, ``days_overdue`` counts from the oldest unpaid due date. A private
    client's rows carry zero interest and zero indemnity.
    """
    day = pd.Timestamp(as_of).normalize()
    as_of_date = day.date()
    inv = invoices[(invoices["kind"] != "credit_note").to_numpy() & (invoices["issue_date"] <= day).to_numpy()]
    kinds = clients.set_index("client")["kind"]
    moves = pd.concat([
        allocations.loc[allocations["date"] <= day, ["invoice", "date", "amount"]],
        write_offs.loc[write_offs["date"] <= day, ["invoice", "date", "amount"]],
    ])
    inv = inv[_late_mask(inv, moves, day)]  # the exact per-invoice work below runs on late invoices only
    moves = moves[moves["invoice"].isin(inv["invoice"]).to_numpy()]
    by_invoice: dict[int, list[tuple[dt.date, int]]] = {}
    for code, day_, cents in zip(moves["invoice"].tolist(), moves["date"].dt.date.tolist(),
                                 moves["amount"].tolist()):
        by_invoice.setdefault(code, []).append((day_, int(cents)))
    rows = []
    for row in inv.itertuples(index=False):
        net = int(row.total) - int(row.retention)
        dues = [(row.due_date.date(), net)]
        if row.retention > 0 and not pd.isna(row.retention_release_date):
            dues.append((row.retention_release_date.date(), int(row.retention)))
        settled = by_invoice.get(row.invoice, [])
        overdue, oldest = _overdue(dues, sum(a for _, a in settled), as_of_date)
        if overdue <= 0:
            continue
        professional = kinds.get(row.client) != PRIVATE
        interest, provisional = (invoice_interest(dues, settled, as_of_date, table, contract_percent)
                                 if professional else (0, False))
        rows.append((row.invoice, row.client, overdue, (as_of_date - oldest).days, interest,
                     INDEMNITY_CENTS if professional else 0, professional, provisional))
    return pd.DataFrame(rows, columns=list(PENALTIES)).astype(PENALTIES)


def _late_mask(inv: pd.DataFrame, moves: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    """Invoices with a part due before ``day`` and still unpaid (net part settled first), vectorised."""
    codes = inv["invoice"].to_numpy()
    settled = pd.Series(moves["amount"].to_numpy(), index=moves["invoice"].to_numpy()).groupby(level=0).sum()
    paid = settled.reindex(codes, fill_value=0).to_numpy()
    retention = inv["retention"].to_numpy()
    net = inv["total"].to_numpy() - retention
    net_unpaid = net - np.minimum(paid, net)
    retention_unpaid = retention - np.minimum(paid - (net - net_unpaid), retention)
    day64 = day.to_datetime64()
    return (((inv["due_date"].to_numpy() < day64) & (net_unpaid > 0))
            | ((inv["retention_release_date"].to_numpy() < day64) & (retention_unpaid > 0)))


def _overdue(dues: list[tuple[dt.date, int]], settled: int, as_of: dt.date) -> tuple[int, dt.date | None]:
    """Unpaid cents of the parts already due, and the oldest such due date."""
    overdue, oldest = 0, None
    for due, amount in dues:
        unpaid = amount - min(settled, amount)
        settled -= amount - unpaid
        if due < as_of and unpaid > 0:
            overdue += unpaid
            oldest = due if oldest is None else min(oldest, due)
    return overdue, oldest
