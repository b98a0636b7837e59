"""The one state holder: opens the store, holds typed frames, answers and acts."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from echeances import aging as aging_core
from echeances import schema
from echeances.errors import NotFound
from echeances.imports import import_folder
from echeances.records import Frames
from echeances.settings import load_settings
from echeances.store import Store
from echeances.store import payments as payment_store
from echeances.store.database import store_url
from echeances.terms import due_dates, resolve_terms

DEFAULT_WORKSPACE = Path("data")
GROUPS = ("client", "site", "manager")


def _user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return None


def _day(as_of) -> dt.date:
    return dt.date.today() if as_of is None else pd.Timestamp(as_of).date()


def resolve_due_dates(frames: Frames, default_terms: str) -> Frames:
    """Fill each invoice's missing due date from its terms chain (invoice → site → client → default)."""
    inv = frames.invoices
    site_terms = inv["site"].map(frames.sites.set_index("site")["payment_terms"])
    client_terms = inv["client"].map(frames.clients.set_index("client")["payment_terms"])
    terms = resolve_terms(inv["payment_terms"], site_terms.astype("string"), client_terms.astype("string"),
                          default=default_terms)
    missing = inv["due_date"].isna()
    due = inv["due_date"].copy()
    if missing.any():
        due[missing] = due_dates(inv.loc[missing, "issue_date"], terms[missing])
    release = inv["retention_release_date"].copy()
    no_release = release.isna() & (inv["retention"] > 0)
    # Without a release date, a retention is due one year after the invoice (handover proxy).
    release[no_release] = inv.loc[no_release, "issue_date"] + pd.DateOffset(years=1)
    invoices = inv.assign(due_date=due.astype(schema.DATE), retention_release_date=release.astype(schema.DATE))
    return Frames(frames.clients, frames.sites, invoices, frames.payments, frames.allocations, frames.write_offs)


class Workspace:
    """A firm's receivables: ``Workspace.open("data")`` then ask or act."""

    def __init__(self, path: Path, store: Store):
        self.path = Path(path)
        self.store = store
        self.settings = load_settings(self.path)
        self._frames: Frames | None = None

    @classmethod
    def open(cls, path: str | Path = DEFAULT_WORKSPACE) -> "Workspace":
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        return cls(path, Store.open(store_url(path)))

    def close(self) -> None:
        self.store.close()

    # --- state -----------------------------------------------------------
    @property
    def frames(self) -> Frames:
        """The store as frames, due dates resolved; read once, then cached until ``refresh``."""
        if self._frames is None:
            terms = self.settings["company"].get("payment_terms") or "30 jours"
            self._frames = resolve_due_dates(self.store.frames(), terms)
        return self._frames

    def refresh(self) -> None:
        """Forget cached frames (after a write, or to see other users' writes)."""
        self._frames = None

    @property
    def edges(self) -> tuple[int, ...]:
        return tuple(int(e) for e in self.settings["aging"]["edges"])

    # --- lookups ---------------------------------------------------------
    def client_code(self, client_id: str) -> int:
        found = self.frames.clients.loc[self.frames.clients["client_id"] == client_id, "client"]
        if found.empty:
            raise NotFound(f"Client inconnu : {client_id}")
        return int(found.iloc[0])

    def site_code(self, site_id: str) -> int:
        found = self.frames.sites.loc[self.frames.sites["site_id"] == site_id, "site"]
        if found.empty:
            raise NotFound(f"Chantier inconnu : {site_id}")
        return int(found.iloc[0])

    def invoice_code(self, number: str) -> int:
        found = self.frames.invoices.loc[self.frames.invoices["number"] == number, "invoice"]
        if found.empty:
            raise NotFound(f"Facture inconnue : {number}")
        return int(found.iloc[0])

    # --- questions -------------------------------------------------------
    def active_allocations(self, as_of=None) -> pd.DataFrame:
        f = self.frames
        return aging_core.active_allocations(f.allocations, f.payments, _day(as_of))

    def open_items(self, as_of=None, include_settled: bool = False) -> pd.DataFrame:
        """One row per échéance still due on ``as_of`` (default today), by due date ascending.

        Columns: ``schema.OPEN_ITEMS`` plus ``number``, ``client_id``,
        ``client_name``, ``client_kind``, ``site_id``, ``site_name``, ``manager``.
        """
        f = self.frames
        day = _day(as_of)
        items = aging_core.open_items(f.invoices, self.active_allocations(day), f.write_offs, day,
                                      edges=self.edges, include_settled=include_settled)
        return self._describe(items)

    def _describe(self, items: pd.DataFrame) -> pd.DataFrame:
        f = self.frames
        inv = f.invoices.set_index("invoice")
        clients = f.clients.set_index("client")
        sites = f.sites.set_index("site")
        site_manager = items["site"].map(sites["manager"]).astype("string")
        manager = items["invoice"].map(inv["manager"]).astype("string")
        return items.assign(
            number=items["invoice"].map(inv["number"]).astype("string"),
            client_id=items["client"].map(clients["client_id"]).astype("string"),
            client_name=items["client"].map(clients["name"]).astype("string"),
            client_kind=items["client"].map(clients["kind"]).astype("string"),
            site_id=items["site"].map(sites["site_id"]).astype("string"),
            site_name=items["site"].map(sites["name"]).astype("string"),
            manager=manager.fillna(site_manager),
        )

    def credit(self, as_of=None) -> pd.DataFrame:
        """Unapplied payment money and credit notes per source on ``as_of`` (see ``aging.unapplied_credit``)."""
        f = self.frames
        day = _day(as_of)
        return aging_core.unapplied_credit(f.invoices, f.payments, self.active_allocations(day), day)

    def aging(self, by: str = "client", as_of=None) -> pd.DataFrame:
        """Buckets per client, site or manager on ``as_of``; buckets sum to ``outstanding``.

        Columns: the group key (``client_id``/``site_id``/``manager``), ``name``,
        the bucket keys, ``outstanding``, ``credit``, ``balance`` (integer cents).
        Payment credit counts for clients only; credit notes count for their site and manager.
        """
        if by not in GROUPS:
            raise ValueError(f"Regroupement inconnu : {by} (attendu : client, site ou manager)")
        items = self.open_items(as_of)
        credit = self.credit(as_of)
        f = self.frames
        if by == "client":
            table = aging_core.aging(items, "client", credit)
            clients = f.clients.set_index("client")
            keys = clients["client_id"].reindex(table.index)
            names = clients["name"].reindex(table.index)
        elif by == "site":
            table = aging_core.aging(items, "site", credit[credit["source"] == "credit_note"])
            sites = f.sites.set_index("site")
            keys = sites["site_id"].reindex(table.index).fillna("")
            names = sites["name"].reindex(table.index).fillna("(sans chantier)")
        else:
            table, labels = self._manager_aging(items, credit)
            keys = pd.Series(labels, dtype="string").reindex(table.index).fillna("")
            names = keys.replace("", "(non attribué)")
        column = {"client": "client_id", "site": "site_id", "manager": "manager"}[by]
        out = table.reset_index(drop=True)
        out.insert(0, "name", names.to_numpy())
        out.insert(0, column, keys.to_numpy())
        return out.sort_values(["balance", column], ascending=[False, True], kind="stable").reset_index(drop=True)

    def _manager_aging(self, items: pd.DataFrame, credit: pd.DataFrame):
        """Aging by manager: managers become dense codes, credit notes count for their manager."""
        f = self.frames
        notes = credit[credit["source"] == "credit_note"]
        note_manager = notes["code"].map(f.invoices.set_index("invoice")["manager"]).astype("string")
        names = pd.concat([items["manager"].astype("string"), note_manager]).fillna("")
        codes, labels = pd.factorize(names, sort=True)
        table = aging_core.aging(items.assign(manager_code=codes[: len(items)]), "manager_code",
                                 notes.assign(manager_code=codes[len(items):]))
        return table, dict(enumerate(labels))

    # --- actions ---------------------------------------------------------
    def import_folder(self, source: str | Path) -> dict[str, int]:
        """Import every known CSV/XLSX file of ``source``, all or nothing; returns rows per table."""
        counts = import_folder(self.store, Path(source))
        self.refresh()
        return counts

    # --- payments --------------------------------------------------------
    def _resolve_due_dates(self, frames: Frames) -> Frames:
        return resolve_due_dates(frames, self.settings["company"].get("payment_terms") or "30 jours")

    def record_payment(self, spec, user: str | None = None):
        """Enter a payment (``allocation.PaymentSpec``) and its allocations; returns ``store.payments.Recorded``."""
        recorded = payment_store.record_payment(self.store, spec, self._resolve_due_dates, user or _user())
        self.refresh()
        return recorded

    def apply_credit(self, spec):
        """Allocate unused payment money or a credit note (``allocation.CreditSpec``) to invoices."""
        recorded = payment_store.apply_credit(self.store, spec, self._resolve_due_dates)
        self.refresh()
        return recorded

    def write_off(self, spec) -> int:
        """Close a small rest without money (``allocation.WriteOffSpec``); returns the cents written off."""
        from echeances.money import parse_amount

        threshold = self.settings.get("payments", {}).get("write_off_threshold", "5,00")
        amount = payment_store.write_off(self.store, spec, parse_amount(str(threshold)), self._resolve_due_dates)
        self.refresh()
        return amount

    def cancel_payment(self, payment_id: str, reason: str, date=None, user: str | None = None) -> None:
        """Cancel a payment (never edited nor deleted): its allocations stop counting from ``date`` (today)."""
        payment_store.cancel_payment(self.store, payment_id, reason, _day(date), user or _user())
        self.refresh()

    def payments(self, client_id: str | None = None, start=None, end=None):
        """Payments between ``start`` and ``end`` (with their trace) and their allocations: two frames."""
        day = lambda value: None if value is None else _day(value)  # noqa: E731
        return payment_store.list_payments(self.store, client_id, day(start), day(end))

