"""Writing payments, credit uses, write-offs and cancellations: each one write transaction, re-checked inside it.

Only the client's rows are read, under the write lock (SQLite ``BEGIN
IMMEDIATE``; a ``FOR UPDATE`` on the client row elsewhere), so the check and
the write see the same state: two processes can never allocate the same euro.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
from collections.abc import Callable
from typing import TypeVar
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from echeances import allocation, payment_specs, schema
from echeances.payment_specs import Allocation, CreditSource, CreditSpec, PaymentSpec, WriteOffSpec
from echeances.errors import EcheancesError, NotFound
from echeances.records import Frames
from echeances.store import tables
from echeances.store.database import Store
from echeances.terms import DEFAULT_TERMS, due_dates

T = tables
T_ = TypeVar("T_")
_RETRIES = 8


@dataclass(frozen=True)
class Recorded:
    """What a payment or a credit use wrote: its allocations, the credit left, each touched invoice's rest due."""

    source_id: str
    allocations: tuple[Allocation, ...]
    credit: int
    outstanding: tuple[tuple[str, int], ...]

    @property
    def payment_id(self) -> str:
        return self.source_id


# --- reading one client's rows -----------------------------------------------------------
def _typed(rows, keys, renames: dict[str, str], columns: dict[str, str]) -> pd.DataFrame:
    """Rows → a frame with ``columns``' dtypes, column by column from Python values (fast for a few hundred rows)."""
    names = [renames.get(k, k) for k in keys]
    values = dict(zip(names, zip(*rows))) if rows else {}
    data = {}
    for name, dtype in columns.items():
        column = values.get(name, (None,) * len(rows))
        if dtype == schema.DATE:
            data[name] = np.array(column, dtype="datetime64[us]").astype(schema.DATE)
        elif dtype in (schema.CENTS, schema.CODE):
            data[name] = np.array([schema.NO_CODE if v is None else v for v in column], dtype=np.int64)
        elif isinstance(dtype, pd.CategoricalDtype):
            data[name] = pd.Categorical(column, dtype=dtype)
        else:
            data[name] = pd.array(column, dtype=dtype)
    return pd.DataFrame(data)


def _select(conn: sa.Connection, query, renames: dict[str, str], columns: dict[str, str],
            extra: dict[str, str] | None = None) -> pd.DataFrame:
    result = conn.execute(query)
    return _typed(result.all(), result.keys(), renames, {**columns, **(extra or {})})


def _client_row(conn: sa.Connection, client_id: str):
    # FOR UPDATE serialises writers per client on PostgreSQL; SQLite's
    # BEGIN IMMEDIATE already holds the database write lock.
    row = conn.execute(sa.select(T.clients.c.id, T.clients.c.client_id)
                       .where(T.clients.c.client_id == client_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"Client inconnu : {client_id}")
    return row


def _terms_chain():
    """The first non-blank terms of invoice → site → client, in SQL (the chain of ``workspace.resolve_due_dates``)."""
    blank = lambda column: sa.func.nullif(sa.func.trim(column), "")  # noqa: E731
    return sa.func.coalesce(blank(T.invoices.c.payment_terms), blank(T.sites.c.payment_terms),
                            blank(T.clients.c.payment_terms)).label("terms")


def read_client(conn: sa.Connection, client: int, numbers=()) -> Frames:
    """The client's rows, plus any invoice in ``numbers`` (another client's shows who it belongs to).

    ``invoices`` carries ``client_id``, ``site_id`` and ``terms`` (the resolved
    terms text, or missing) besides ``schema.INVOICES``; ``clients`` and
    ``sites`` stay empty: nothing here needs them.
    """
    mine = sa.select(T.invoices.c.id).where(T.invoices.c.client == client)
    where = T.invoices.c.client == client
    if numbers:
        where = where | T.invoices.c.number.in_(list(numbers))
    invoices = _select(conn, sa.select(T.invoices, T.clients.c.client_id, T.sites.c.site_id, _terms_chain())
                       .join(T.clients, T.clients.c.id == T.invoices.c.client)
                       .outerjoin(T.sites, T.sites.c.id == T.invoices.c.site).where(where).order_by(T.invoices.c.id),
                       {"id": "invoice"}, schema.INVOICES,
                       {"client_id": schema.TEXT, "site_id": schema.TEXT, "terms": schema.TEXT})
    allocations = _select(conn, sa.select(T.allocations).where(
        T.allocations.c.invoice.in_(mine) | T.allocations.c.credit_note.in_(mine)
        | T.allocations.c.payment.in_(sa.select(T.payments.c.id).where(T.payments.c.client == client))
    ).order_by(T.allocations.c.id), {"id": "allocation"}, schema.ALLOCATIONS)
    paying = sa.select(T.allocations.c.payment).where(T.allocations.c.invoice.in_(mine))
    payments = _select(conn, sa.select(T.payments).where((T.payments.c.client == client) | T.payments.c.id.in_(paying))
                       .order_by(T.payments.c.id), {"id": "payment"}, schema.PAYMENTS)
    write_offs = _select(conn, sa.select(T.write_offs).where(T.write_offs.c.invoice.in_(mine))
                         .order_by(T.write_offs.c.id), {"id": "write_off"}, schema.WRITE_OFFS)
    return Frames(schema.empty(schema.CLIENTS), schema.empty(schema.SITES), invoices, payments, allocations,
                  write_offs)


def resolve_dates(invoices: pd.DataFrame, default_terms: str) -> pd.DataFrame:
    """Missing due dates from ``terms`` (else ``default_terms``), missing retention releases one year after issue.

    The same rules as ``Workspace.frames`` (``workspace.resolve_due_dates``), on a
    client's few rows: a test keeps the two in step.
    """
    due, release = invoices["due_date"].copy(), invoices["retention_release_date"].copy()
    missing = due.isna()
    if missing.any():
        terms = invoices.loc[missing, "terms"].fillna(default_terms)
        due[missing] = due_dates(invoices.loc[missing, "issue_date"], terms)
    no_release = release.isna() & (invoices["retention"] > 0)
    if no_release.any():
        release[no_release] = invoices.loc[no_release, "issue_date"] + pd.DateOffset(years=1)
    return invoices.assign(due_date=due.astype(schema.DATE), retention_release_date=release.astype(schema.DATE))


def _state(conn, client: int, numbers, default_terms: str, since):
    """The client's frames (due dates resolved) and what may still be allocated on ``since``."""
    frames = read_client(conn, client, numbers)
    invoices = resolve_dates(frames.invoices, default_terms)
    frames = Frames(frames.clients, frames.sites, invoices, frames.payments, frames.allocations, frames.write_offs)
    items = allocation.allocatable_items(invoices, frames.payments, frames.allocations, frames.write_offs, since)
    return frames, items


def _named(spec) -> list[str]:
    return [number for number, _ in spec.allocations] + list(spec.invoices)


def _write_allocations(conn, frames: Frames, allocations, items, source: dict) -> tuple[tuple[str, int], ...]:
    codes = frames.invoices.set_index("number")["invoice"]
    if allocations:
        conn.execute(sa.insert(T.allocations), [
            {**source, "invoice": int(codes[a.invoice]), "amount": a.amount, "date": a.date} for a in allocations
        ])
    left = items.groupby("invoice")["outstanding"].sum()
    return tuple((a.invoice, int(left.get(int(codes[a.invoice]), 0)) - a.amount) for a in allocations)


class StoreBusy(EcheancesError):
    """The database stayed locked by another writer longer than the busy timeout; nothing was written."""


def _serialization_failure(exc: sa.exc.DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in ("40001", "40P01")


@contextlib.contextmanager
def _client_mutex(store: Store, client_id: str | None):
    """PostgreSQL: hold a session advisory lock on the client while its write transaction runs.

    A serializable transaction takes its snapshot at its first statement, so a
    row lock waited for inside it would leave it reading stale rows (and failing
    to commit). Taking this lock first, outside, lets each writer of a client
    start from what the previous one committed. SQLite needs nothing:
    ``BEGIN IMMEDIATE`` takes the database lock before anything is read.
    """
    if client_id is None or store.is_sqlite:
        yield
        return
    key = sa.func.hashtext(f"echeances.client:{client_id}")
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.select(sa.func.pg_advisory_lock(key)))
        try:
            yield
        finally:
            conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))


def _in_transaction(store: Store, work: Callable[[sa.Connection], T_], client_id: str | None = None) -> T_:
    """Run ``work`` in one write transaction, the client's writers one at a time.

    Serialisation failures PostgreSQL still reports (an import at the same
    time, index-page conflicts between clients) are retried from a fresh start.
    """
    with _client_mutex(store, client_id):
        return _retrying(store, work)


def _retrying(store: Store, work: Callable[[sa.Connection], T_]) -> T_:
    for attempt in range(_RETRIES):
        try:
            with store.write() as conn:
                return work(conn)
        except sa.exc.OperationalError as exc:
            if _serialization_failure(exc) and attempt + 1 < _RETRIES:
                time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
                continue
            text = str(exc.orig).lower()
            if _serialization_failure(exc) or "locked" in text or "busy" in text:
                raise StoreBusy("La base est occupée par une autre saisie ; rien n'a été écrit, réessayez.") from exc
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


# --- payments ----------------------------------------------------------------------------
def next_payment_id(conn: sa.Connection, day: dt.date) -> str:
    """``P-YYYY-NNNNN``, one more than the highest of that year (called under the write lock)."""
    prefix = f"P-{day.year}-"
    column = T.payments.c.payment_id
    # A range on the unique index (not LIKE, which SQLite will not index): '.' follows '-'.
    last = conn.execute(sa.select(column).where(column >= prefix, column < f"P-{day.year}.")
                        .order_by(sa.func.length(column).desc(), column.desc()).limit(1)).scalar()
    tail = (last or prefix + "0")[len(prefix):]
    number = int(tail) + 1 if tail.isdigit() else 1
    return f"{prefix}{number:05d}"


def _check_new_id(conn: sa.Connection, payment_id: str) -> None:
    """A given payment id must be new, whoever's it is; a cancelled one is entered again under another id."""
    row = conn.execute(sa.select(T.payments.c.cancelled_date).where(T.payments.c.payment_id == payment_id)).first()
    if row is not None and row.cancelled_date is not None:
        raise payment_specs.Cancelled(f"Règlement {payment_id} : annulé le {row.cancelled_date:%d/%m/%Y}, "
                                   "il se saisit à nouveau sous un autre numéro")
    if row is not None:
        raise payment_specs.AlreadyExists(f"Règlement {payment_id} : ce numéro de règlement existe déjà")


def record_payment(store: Store, spec: PaymentSpec, default_terms: str = DEFAULT_TERMS,
                   user: str | None = None) -> Recorded:
    """Write ``spec`` as a payment and its allocations, all or nothing; raises ``PaymentRefused``/``NotFound``."""
    def work(conn: sa.Connection) -> Recorded:
        client = _client_row(conn, spec.client_id)
        if spec.payment_id is not None:
            _check_new_id(conn, spec.payment_id)
        frames, items = _state(conn, client.id, _named(spec), default_terms, spec.date)
        client_payments = frames.payments[frames.payments["client"] == client.id]
        allocations, credit = allocation.allocate_payment(spec, items, frames.invoices, client_payments)
        # Numbered only once accepted: a refused payment leaves no gap and names no id it never had.
        payment_id = spec.payment_id or next_payment_id(conn, spec.date)
        code = conn.execute(sa.insert(T.payments).values(
            payment_id=payment_id, client=client.id, date=spec.date, amount=spec.amount, method=spec.method,
            reference=spec.reference, bank=spec.bank, label=spec.label, created_at=_now(), created_by=user,
        )).inserted_primary_key[0]
        outstanding = _write_allocations(conn, frames, allocations, items, {"payment": code, "credit_note": None})
        return Recorded(payment_id, allocations, credit, outstanding)

    return _in_transaction(store, work, spec.client_id)


def apply_credit(store: Store, spec: CreditSpec, default_terms: str = DEFAULT_TERMS) -> Recorded:
    """Allocate a client's unused payment money or credit note (``spec.source``) to invoices."""
    def work(conn: sa.Connection) -> Recorded:
        client = _client_row(conn, spec.client_id)
        pay = conn.execute(sa.select(T.payments, T.clients.c.client_id.label("owner"))
                           .join(T.clients, T.clients.c.id == T.payments.c.client)
                           .where(T.payments.c.payment_id == spec.source)).first()
        note = None if pay else conn.execute(
            sa.select(T.invoices, T.clients.c.client_id.label("owner"))
            .join(T.clients, T.clients.c.id == T.invoices.c.client)
            .where(T.invoices.c.number == spec.source, T.invoices.c.kind == "credit_note")).first()
        if pay is None and note is None:
            raise NotFound(f"Règlement ou avoir inconnu : {spec.source}")
        column = T.allocations.c.payment if pay else T.allocations.c.credit_note
        used = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(T.allocations.c.amount), 0))
                            .where(column == (pay or note).id)).scalar()
        source = (CreditSource("payment", spec.source, pay.owner, pay.date, pay.amount - used, pay.cancelled_date)
                  if pay else CreditSource("credit_note", spec.source, note.owner, note.issue_date, note.total - used))
        frames, items = _state(conn, client.id, _named(spec), default_terms, spec.date)
        allocations, credit = allocation.allocate_credit(spec, source, items, frames.invoices)
        link = {"payment": pay.id, "credit_note": None} if pay else {"payment": None, "credit_note": note.id}
        outstanding = _write_allocations(conn, frames, allocations, items, link)
        return Recorded(spec.source, allocations, credit, outstanding)

    return _in_transaction(store, work, spec.client_id)


def write_off(store: Store, spec: WriteOffSpec, threshold: int = payment_specs.DEFAULT_WRITE_OFF_THRESHOLD,
              default_terms: str = DEFAULT_TERMS) -> int:
    """Close what is left on an invoice without money (with a reason); returns the cents written off."""
    def work(conn: sa.Connection) -> int:
        owner = conn.execute(sa.select(T.invoices.c.client).where(T.invoices.c.number == spec.invoice)).scalar()
        if owner is None:
            raise NotFound(f"Facture inconnue : {spec.invoice}")
        conn.execute(sa.select(T.clients.c.id).where(T.clients.c.id == owner).with_for_update())
        frames, items = _state(conn, owner, (), default_terms, spec.date)
        invoice = frames.invoices.set_index("number").loc[spec.invoice]
        left = int(items.loc[items["invoice"] == invoice["invoice"], "outstanding"].sum())
        amount = allocation.check_write_off(spec, invoice, left, threshold)
        conn.execute(sa.insert(T.write_offs).values(invoice=int(invoice["invoice"]), date=spec.date, amount=amount,
                                                    reason=spec.reason.strip()))
        return amount

    return _in_transaction(store, work, None if store.is_sqlite else _owner_id(store, spec.invoice))


def _owner_id(store: Store, number: str) -> str | None:
    with store.read() as conn:
        return conn.execute(sa.select(T.clients.c.client_id).join(T.invoices, T.invoices.c.client == T.clients.c.id)
                            .where(T.invoices.c.number == number)).scalar()


def cancel_payment(store: Store, payment_id: str, reason: str, date: dt.date, user: str | None = None) -> None:
    """Mark a payment cancelled on ``date``: its allocations stop counting from then on; the rows stay."""
    def work(conn: sa.Connection) -> None:
        row = conn.execute(sa.select(T.payments).where(T.payments.c.payment_id == payment_id)).first()
        if row is None:
            raise NotFound(f"Règlement inconnu : {payment_id}")
        allocation.check_cancel(payment_id, row.date, row.cancelled_date, date, reason)
        conn.execute(sa.update(T.payments).where(T.payments.c.id == row.id)
                     .values(cancelled_date=date, cancel_reason=reason.strip(), cancelled_by=user))

    _in_transaction(store, work)


# --- history -------------------------------------------------------------------------------
def list_payments(store: Store, client_id: str | None = None, start: dt.date | None = None,
                  end: dt.date | None = None, last: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Payments (with client, cancellation and creation trace) and their allocations, by date then id;
    ``last``: only the latest ones, that many."""
    filters = []
    if client_id is not None:
        filters.append(T.clients.c.client_id == client_id)
    if start is not None:
        filters.append(T.payments.c.date >= start)
    if end is not None:
        filters.append(T.payments.c.date <= end)
    chosen = sa.select(T.payments.c.id).join(T.clients, T.clients.c.id == T.payments.c.client).where(*filters)
    if last is not None:
        chosen = chosen.order_by(T.payments.c.date.desc(), T.payments.c.id.desc()).limit(last)
    query = (sa.select(T.payments.c.id.label("payment"), T.payments.c.payment_id, T.clients.c.client_id,
                       T.clients.c.name.label("client_name"), T.payments.c.date, T.payments.c.amount,
                       T.payments.c.method, T.payments.c.reference, T.payments.c.bank, T.payments.c.label,
                       T.payments.c.cancelled_date, T.payments.c.cancel_reason, T.payments.c.cancelled_by,
                       T.payments.c.created_at, T.payments.c.created_by)
             .join(T.clients, T.clients.c.id == T.payments.c.client).where(T.payments.c.id.in_(chosen)))
    text = schema.TEXT
    columns = {"payment": schema.CODE, "payment_id": text, "client_id": text, "client_name": text, "date": schema.DATE,
               "amount": schema.CENTS, "method": text, "reference": text, "bank": text, "label": text,
               "cancelled_date": schema.DATE, "cancel_reason": text, "cancelled_by": text,
               "created_at": schema.DATE, "created_by": text}
    with store.read() as conn:
        pays = _select(conn, query.order_by(T.payments.c.date, T.payments.c.id), {}, columns)
        allocs = _select(conn, sa.select(T.allocations.c.payment, T.invoices.c.number.label("invoice"),
                                         T.allocations.c.amount, T.allocations.c.date)
                         .join(T.invoices, T.invoices.c.id == T.allocations.c.invoice)
                         .where(T.allocations.c.payment.in_(chosen))
                         .order_by(T.allocations.c.id), {},
                         {"payment": schema.CODE, "invoice": text, "amount": schema.CENTS, "date": schema.DATE})
    return pays, allocs
