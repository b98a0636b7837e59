"""Payments as typed (specs) and the reasons they are refused: frozen records, French messages. Pure."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from echeances.dates import parse_date
from echeances.errors import EcheancesError
from echeances.money import parse_amount

DEFAULT_WRITE_OFF_THRESHOLD = 500
NEW_PAYMENT = "(nouveau)"


# --- refusals ---------------------------------------------------------------
class PaymentRefused(EcheancesError):
    """A payment, credit application, write-off or cancellation was refused; nothing was written."""

    #: the refusal can be overridden by an explicit flag (``allow_early`` / ``confirm``…)
    confirmable = False


class AmountNotPositive(PaymentRefused):
    """The amount of a payment or an allocation is zero or negative."""


class UnknownMethod(PaymentRefused):
    """The payment method is not one of ``schema.PAYMENT_METHODS``."""


class UnknownInvoice(PaymentRefused):
    """An allocation names an invoice that does not exist."""


class NotPayable(PaymentRefused):
    """An allocation names a credit note: it is a source of credit, not something due."""


class OtherClient(PaymentRefused):
    """An allocation names an invoice (or a credit source) of another client."""


class AboveOutstanding(PaymentRefused):
    """An allocation or write-off is above what is still due on the invoice."""


class AboveAmount(PaymentRefused):
    """The allocations add up to more than the payment (or the credit left)."""


class BeforeIssue(PaymentRefused):
    """The payment is dated before the invoice was issued (allowed with ``allow_early``)."""

    confirmable = True


class Cancelled(PaymentRefused):
    """The payment is cancelled: it can be neither allocated nor cancelled again."""


class Duplicate(PaymentRefused):
    """Same client, amount, date and reference as an existing payment (allowed with ``confirm_duplicate``)."""

    confirmable = True


class AlreadyExists(PaymentRefused):
    """A payment with this id already exists (a cancelled one is entered again under a new id)."""


class AboveThreshold(PaymentRefused):
    """A write-off above the threshold (allowed with ``confirm``)."""

    confirmable = True


class ReasonRequired(PaymentRefused):
    """A write-off or a cancellation without a reason."""


class BadDate(PaymentRefused):
    """A date that cannot be right (a cancellation before its payment, credit used before it existed)."""


# --- specs and results --------------------------------------------------------
def _cents(value) -> int:
    """Cents from an int, or from euro text as typed (``"1 250,00"``); a float is refused, never rounded."""
    if isinstance(value, str):
        return parse_amount(value)
    if isinstance(value, (float, np.floating)):
        raise TypeError(f"montant {value!r} : des centimes entiers ou un texte, jamais un float")
    return int(value)


def _pairs(allocations) -> tuple[tuple[str, int | None], ...]:
    items = allocations.items() if isinstance(allocations, Mapping) else allocations or ()
    return tuple((str(number), None if cents is None else _cents(cents)) for number, cents in items)


def _normalise(spec, **fields) -> None:
    """Frozen specs accept what a person or a form gives (text dates and amounts, lists, dicts)."""
    for name, value in fields.items():
        object.__setattr__(spec, name, value)


@dataclass(frozen=True)
class PaymentSpec:
    """A payment as typed: explicit ``allocations`` ``{invoice number: cents or None}`` and/or ``auto``.

    ``None`` as an amount means "as much as this invoice still needs". ``auto``
    (default: when no explicit allocation is given) spreads what is left over
    the client's open items, oldest due date first, restricted to ``site_id``
    and/or ``invoices`` when given. What is not allocated stays client credit.
    """

    client_id: str
    date: dt.date
    amount: int
    method: str = "virement"
    reference: str | None = None
    bank: str | None = None
    label: str | None = None
    allocations: tuple[tuple[str, int | None], ...] = ()
    auto: bool | None = None
    site_id: str | None = None
    invoices: tuple[str, ...] = ()
    allow_early: bool = False
    confirm_duplicate: bool = False
    payment_id: str | None = None

    def __post_init__(self):
        _normalise(self, date=parse_date(self.date), amount=_cents(self.amount), allocations=_pairs(self.allocations),
                   invoices=tuple(self.invoices or ()))


@dataclass(frozen=True)
class CreditSpec:
    """Client credit put to use: ``source`` is a payment id with money left, or a credit-note number."""

    client_id: str
    source: str
    date: dt.date
    allocations: tuple[tuple[str, int | None], ...] = ()
    auto: bool | None = None
    site_id: str | None = None
    invoices: tuple[str, ...] = ()
    allow_early: bool = False

    def __post_init__(self):
        _normalise(self, date=parse_date(self.date), allocations=_pairs(self.allocations),
                   invoices=tuple(self.invoices or ()))


@dataclass(frozen=True)
class WriteOffSpec:
    """Close what is left on ``invoice`` without money (``amount`` None: all of it)."""

    invoice: str
    date: dt.date
    reason: str
    amount: int | None = None
    confirm: bool = False

    def __post_init__(self):
        _normalise(self, date=parse_date(self.date), amount=None if self.amount is None else _cents(self.amount))


@dataclass(frozen=True)
class Allocation:
    """``amount`` cents of a payment or credit note applied to ``invoice`` on ``date``."""

    invoice: str
    amount: int
    date: dt.date


@dataclass(frozen=True)
class CreditSource:
    """Where credit comes from: ``kind`` is ``payment`` or ``credit_note``; ``remaining`` cents are unused."""

    kind: str
    id: str
    client_id: str
    date: dt.date
    remaining: int
    cancelled_date: dt.date | None = None

    @property
    def label(self) -> str:
        return f"{'Règlement' if self.kind == 'payment' else 'Avoir'} {self.id}"
