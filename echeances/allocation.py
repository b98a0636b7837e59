"""Payments resolved into allocations: what a person typed (a spec) → what is written. Pure, no I/O."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from echeances import aging, schema
from echeances.dates import format_short_date
from echeances.money import format_amount
from echeances.payment_specs import (
    AboveAmount, AboveOutstanding, AboveThreshold, Allocation, AlreadyExists, AmountNotPositive, BadDate, BeforeIssue, Cancelled, CreditSource, CreditSpec, DEFAULT_WRITE_OFF_THRESHOLD, Duplicate, NEW_PAYMENT, NotPayable, OtherClient, PaymentRefused, PaymentSpec, ReasonRequired, UnknownInvoice, UnknownMethod, WriteOffSpec,
)

# Beyond every real date yet inside datetime64[ns]: "as of the end of time".
END_OF_TIME = pd.Timestamp("2200-01-01")


# --- what can still be allocated -------------------------------------------------
def _cancel_dates(payments: pd.DataFrame, allocations: pd.DataFrame) -> np.ndarray:
    """Per allocation, its payment's cancellation date (NaT: none, or a credit note's allocation)."""
    codes, cancelled = payments["payment"].to_numpy(), payments["cancelled_date"].to_numpy()
    wanted = allocations["payment"].to_numpy()
    out = np.full(len(wanted), np.datetime64("NaT"), dtype=schema.DATE)
    if len(codes) and len(wanted):
        order = np.argsort(codes, kind="stable")
        pos = np.minimum(np.searchsorted(codes, wanted, sorter=order), len(codes) - 1)
        found = codes[order[pos]] == wanted
        out[found] = cancelled[order[pos[found]]]
    return out


def settled_peak(invoices: pd.DataFrame, payments: pd.DataFrame, allocations: pd.DataFrame,
                 write_offs: pd.DataFrame, since) -> np.ndarray:
    """Per row of ``invoices``: the most it is settled on any day from ``since`` on.

    Allocations count from their date until their payment's cancellation,
    write-offs from their date. A new allocation dated ``since`` stays active
    for ever, so it fits only if it fits at that peak: checking the latest
    state alone would let a back-dated payment double-count money still
    allocated by a payment cancelled later.
    """
    day = np.datetime64(pd.Timestamp(since).normalize().to_datetime64(), "ns")
    cancel = _cancel_dates(payments, allocations)
    starts, amounts, targets = (allocations[c].to_numpy() for c in ("date", "amount", "invoice"))
    ends = ~np.isnat(cancel) & (cancel > starts)
    lives = np.isnat(cancel) | ends
    inv = np.concatenate([targets[lives], targets[ends], write_offs["invoice"].to_numpy()])
    date = np.concatenate([starts[lives], cancel[ends], write_offs["date"].to_numpy()])
    delta = np.concatenate([amounts[lives], -amounts[ends], write_offs["amount"].to_numpy()]).astype(np.int64)
    codes = invoices["invoice"].to_numpy()
    if not len(inv):
        return np.zeros(len(codes), dtype=np.int64)
    order = np.lexsort((date, inv))
    inv, date, delta = inv[order], date[order], delta[order]
    first = np.r_[True, inv[1:] != inv[:-1]]
    group = np.cumsum(first) - 1
    running = np.cumsum(delta)
    level = running - (running - delta)[first][group]
    # Only the level once all of a day's events are in counts (a cancellation and a new allocation may share it).
    day_end = np.r_[(inv[1:] != inv[:-1]) | (date[1:] != date[:-1]), True]
    peak = np.zeros(first.sum(), dtype=np.int64)
    after = day_end & (date > day)
    np.maximum.at(peak, group[after], level[after])
    upto = np.flatnonzero(day_end & (date <= day))
    last = np.full(len(peak), -1)
    np.maximum.at(last, group[upto], upto)
    peak = np.maximum(peak, np.where(last >= 0, level[np.maximum(last, 0)], 0))
    keys = inv[first]
    pos = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
    return np.where(keys[pos] == codes, peak[pos], 0).astype(np.int64)


def allocatable_items(invoices: pd.DataFrame, payments: pd.DataFrame, allocations: pd.DataFrame,
                      write_offs: pd.DataFrame, since) -> pd.DataFrame:
    """Open items (``schema.OPEN_ITEMS``) whose ``outstanding`` is what may still be allocated on ``since``.

    Every invoice counts whatever its issue date (an early payment is a
    separate rule); only ``invoice``, ``part``, ``site``, ``issue_date``,
    ``due_date``, ``amount`` and ``outstanding`` are meaningful.
    """
    peak = settled_peak(invoices, payments, allocations, write_offs, since)
    held = peak > 0
    n = int(held.sum())
    settled = pd.DataFrame({
        "allocation": np.arange(n, dtype=np.int64), "payment": np.full(n, schema.NO_CODE, dtype=np.int64),
        "credit_note": np.full(n, schema.NO_CODE, dtype=np.int64),
        "invoice": invoices["invoice"].to_numpy()[held].astype(np.int64), "amount": peak[held],
        "date": np.full(n, np.datetime64("1900-01-01", "ns")),
    })
    return aging.open_items(invoices, settled, schema.empty(schema.WRITE_OFFS), END_OF_TIME)


# --- resolving ---------------------------------------------------------------------
def _day(value) -> dt.date:
    return pd.Timestamp(value).date()


def _text(value) -> str:
    return "" if value is None or pd.isna(value) else str(value).strip()


class _Resolver:
    """Takes cents from ``amount`` for the invoices of one client; raises the first refusal.

    Plain dicts, not frames: a client has tens of items and this runs once per payment entered.
    """

    def __init__(self, label: str, client_id: str, date: dt.date, amount: int, allow_early: bool,
                 items: pd.DataFrame, invoices: pd.DataFrame):
        self.label, self.client_id, self.date = label, client_id, _day(date)
        self.amount, self.allow_early = amount, allow_early
        issued = [d.date() for d in invoices["issue_date"]]
        sites = [None if pd.isna(s) else s for s in invoices["site_id"].tolist()]
        self.rows = {number: {"invoice": code, "number": number, "client_id": client, "site_id": site,
                              "kind": kind, "issue_date": day}
                     for code, number, client, site, kind, day in zip(
                         invoices["invoice"].tolist(), invoices["number"].tolist(), invoices["client_id"].tolist(),
                         sites, invoices["kind"].astype(str).tolist(), issued)}
        self.items = list(zip(items["invoice"].tolist(), items["part"].cat.codes.tolist(),
                              items["due_date"].to_numpy().astype(np.int64).tolist(), items["outstanding"].tolist()))
        self.available: dict[int, int] = {}
        for code, _, _, left in self.items:
            self.available[code] = self.available.get(code, 0) + left
        self.taken: dict[str, int] = {}
        self.total = 0

    def refuse(self, error: type[PaymentRefused], reason: str) -> PaymentRefused:
        return error(f"{self.label} : {reason}")

    def invoice(self, number: str) -> dict:
        row = self.rows.get(number)
        if row is None:
            raise self.refuse(UnknownInvoice, f"facture inconnue {number}")
        if row["client_id"] != self.client_id:
            raise self.refuse(OtherClient, f"la facture {number} est du client {row['client_id']}, "
                                           f"pas de {self.client_id}")
        if row["kind"] == "credit_note":
            raise self.refuse(NotPayable, f"{number} est un avoir, rien ne peut lui être imputé")
        if self.date < row["issue_date"] and not self.allow_early:
            raise self.refuse(BeforeIssue, f"la date {format_short_date(self.date)} précède l'émission de "
                                           f"{number} ({format_short_date(row['issue_date'])}) ; "
                                           "confirmer pour l'accepter")
        return row

    def left_on(self, row: dict) -> int:
        return self.available.get(row["invoice"], 0) - self.taken.get(row["number"], 0)

    def take(self, row: dict, cents: int) -> None:
        if cents > 0:
            self.taken[row["number"]] = self.taken.get(row["number"], 0) + cents
            self.total += cents

    def explicit(self, pairs, limit: str) -> None:
        rows = [(self.invoice(number), cents) for number, cents in pairs]
        for row, cents in rows:
            if cents is None:
                continue
            if cents <= 0:
                raise self.refuse(AmountNotPositive, f"l'imputation {format_amount(cents)} sur {row['number']} "
                                                     "doit être positive")
            left = self.left_on(row)
            if cents > left:
                raise self.refuse(AboveOutstanding, f"{format_amount(cents)} dépasse le reste dû "
                                                    f"{format_amount(left)} de {row['number']}")
            self.take(row, cents)
        if self.total > self.amount:
            raise self.refuse(AboveAmount, f"les imputations {format_amount(self.total)} dépassent {limit} "
                                           f"{format_amount(self.amount)}")
        for row, cents in rows:
            if cents is None:
                self.take(row, min(self.amount - self.total, self.left_on(row)))

    def auto(self, site_id: str | None, restrict: tuple[str, ...]) -> None:
        chosen = [self.invoice(number) for number in restrict] if restrict else \
            [row for row in self.rows.values() if row["client_id"] == self.client_id and row["kind"] != "credit_note"]
        eligible = {row["invoice"]: row for row in chosen
                    if (site_id is None or row["site_id"] == site_id)
                    and (self.allow_early or row["issue_date"] <= self.date)}
        # Net part before the retention of the same invoice, whatever their dates.
        net_due = {code: due for code, part, due, _ in self.items if part == 0}
        order = sorted((due if part == 0 else max(due, net_due.get(code, due)), code, part)
                       for code, part, due, left in self.items if code in eligible and left > 0)
        for _, code, _ in order:
            if self.total >= self.amount:
                break
            self.take(eligible[code], min(self.amount - self.total, self.left_on(eligible[code])))

    def result(self) -> tuple[tuple[Allocation, ...], int]:
        allocations = tuple(Allocation(number, cents, max(self.date, self.rows[number]["issue_date"]))
                            for number, cents in self.taken.items() if cents > 0)
        return allocations, self.amount - self.total


def _check_method(label: str, method: str) -> None:
    if method not in schema.PAYMENT_METHODS:
        raise UnknownMethod(f"{label} : mode de règlement « {method} » inconnu "
                            f"(attendu : {', '.join(schema.PAYMENT_METHODS)})")


def _check_duplicate(label: str, spec: PaymentSpec, payments: pd.DataFrame) -> None:
    if spec.payment_id is not None and (payments["payment_id"] == spec.payment_id).any():
        raise AlreadyExists(f"{label} : ce numéro de règlement existe déjà")
    if spec.confirm_duplicate or payments.empty:
        return
    alive = payments[payments["cancelled_date"].isna()]
    same = alive[(alive["amount"] == spec.amount) & (alive["date"] == pd.Timestamp(spec.date))
                 & (alive["reference"].map(_text) == _text(spec.reference))]
    if len(same):
        raise Duplicate(f"{label} : même client, montant, date et référence que {same['payment_id'].iloc[0]} "
                        "(saisi deux fois ?) ; confirmer pour l'enregistrer")


def allocate_payment(spec: PaymentSpec, items: pd.DataFrame, invoices: pd.DataFrame,
                     payments: pd.DataFrame) -> tuple[tuple[Allocation, ...], int]:
    """Resolve ``spec`` into allocations and the cents left as client credit, or raise a ``PaymentRefused``.

    ``items``: what may still be allocated (``allocatable_items``) for the
    client's invoices; ``invoices``: the client's invoices and any other the
    spec names (``schema.INVOICES`` plus ``client_id`` and ``site_id``);
    ``payments``: the client's payments (for the duplicate guard).
    """
    label = f"Règlement {spec.payment_id or NEW_PAYMENT}"
    if spec.amount <= 0:
        raise AmountNotPositive(f"{label} : le montant {format_amount(spec.amount)} doit être positif")
    _check_method(label, spec.method)
    _check_duplicate(label, spec, payments)
    resolver = _Resolver(label, spec.client_id, spec.date, spec.amount, spec.allow_early, items, invoices)
    resolver.explicit(spec.allocations, "le montant")
    if spec.auto or (spec.auto is None and not spec.allocations):
        resolver.auto(spec.site_id, spec.invoices)
    return resolver.result()


def allocate_credit(spec: CreditSpec, source: CreditSource, items: pd.DataFrame,
                    invoices: pd.DataFrame) -> tuple[tuple[Allocation, ...], int]:
    """Resolve a use of client credit into allocations and the credit still left after them."""
    label = source.label
    if source.client_id != spec.client_id:
        raise OtherClient(f"{label} : il est du client {source.client_id}, pas de {spec.client_id}")
    if source.cancelled_date is not None:
        raise Cancelled(f"{label} : annulé le {format_short_date(source.cancelled_date)}, "
                        "il ne peut plus être imputé")
    if _day(spec.date) < _day(source.date):
        raise BadDate(f"{label} : la date {format_short_date(_day(spec.date))} précède "
                      f"{'le règlement' if source.kind == 'payment' else 'l’avoir'} "
                      f"({format_short_date(_day(source.date))})")
    if source.remaining <= 0:
        raise AboveAmount(f"{label} : plus rien à imputer, crédit disponible {format_amount(0)}")
    resolver = _Resolver(label, spec.client_id, spec.date, source.remaining, spec.allow_early, items, invoices)
    resolver.explicit(spec.allocations, "le crédit disponible")
    if spec.auto or (spec.auto is None and not spec.allocations):
        resolver.auto(spec.site_id, spec.invoices)
    return resolver.result()


# --- write-offs and cancellations ------------------------------------------------------
def check_write_off(spec: WriteOffSpec, invoice: pd.Series, outstanding: int,
                    threshold: int = DEFAULT_WRITE_OFF_THRESHOLD) -> int:
    """The cents ``spec`` writes off ``invoice`` (a ``schema.INVOICES`` row), or raise a ``PaymentRefused``.

    ``outstanding`` is what may still be settled (see ``allocatable_items``).
    """
    label = f"Solde sans règlement de {spec.invoice}"
    if not _text(spec.reason):
        raise ReasonRequired(f"{label} : le motif est obligatoire")
    if invoice["kind"] == "credit_note":
        raise NotPayable(f"{label} : {spec.invoice} est un avoir, il n'y a rien à solder")
    issued = _day(invoice["issue_date"])
    if _day(spec.date) < issued:
        raise BadDate(f"{label} : la date {format_short_date(_day(spec.date))} précède l'émission "
                      f"de la facture ({format_short_date(issued)})")
    amount = outstanding if spec.amount is None else int(spec.amount)
    if outstanding <= 0:
        raise AboveOutstanding(f"{label} : rien à solder, reste dû {format_amount(outstanding)}")
    if amount <= 0:
        raise AmountNotPositive(f"{label} : le montant {format_amount(amount)} doit être positif")
    if amount > outstanding:
        raise AboveOutstanding(f"{label} : {format_amount(amount)} dépasse le reste dû {format_amount(outstanding)}")
    if amount > threshold and not spec.confirm:
        raise AboveThreshold(f"{label} : {format_amount(amount)} dépasse le seuil de {format_amount(threshold)} ; "
                             "confirmer pour solder sans règlement")
    return amount


def check_cancel(payment_id: str, payment_date, cancelled_date, date, reason: str | None) -> None:
    """Raise a ``PaymentRefused`` unless payment ``payment_id`` may be cancelled on ``date`` for ``reason``."""
    label = f"Règlement {payment_id}"
    if cancelled_date is not None and not pd.isna(cancelled_date):
        raise Cancelled(f"{label} : déjà annulé le {format_short_date(_day(cancelled_date))}")
    if not _text(reason):
        raise ReasonRequired(f"{label} : le motif d'annulation est obligatoire")
    if _day(date) < _day(payment_date):
        raise BadDate(f"{label} : l'annulation du {format_short_date(_day(date))} précède le règlement "
                      f"({format_short_date(_day(payment_date))})")
