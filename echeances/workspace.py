"""The one state holder: opens the store, holds typed frames, answers and acts."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from echeances import aging as aging_core
from echeances import indicators
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
        self._open_items: tuple | None = None  # (frames, day, include_settled, items) of the last answer

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

    def refresh(self, payments_only: bool = False) -> None:
        """Forget cached frames (after a write, or to see other users' writes).

        ``payments_only``: the write only entered, applied, wrote off or cancelled
        payments, so only the rows added or cancelled since are read.
        """
        # On PostgreSQL concurrent transactions may commit ids out of order, so
        # "rows above the last id seen" is only exact with SQLite's single writer.
        if payments_only and self._frames is not None and self.store.is_sqlite:
            self._frames = self.store.grown(self._frames)
        else:
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
        # The dashboard asks twice on opening (grid, then tile): the last answer is kept for these frames.
        kept = self._open_items
        if kept is not None and kept[0] is f and kept[1:3] == (day, include_settled):
            return kept[3].copy()
        items = aging_core.open_items(f.invoices, self.active_allocations(day), f.write_offs, day,
                                      edges=self.edges, include_settled=include_settled)
        items = self._describe(items)
        self._open_items = (f, day, include_settled, items)
        return items.copy()

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
        # Read back now: this writes the SQLite snapshot, so the next opening of the
        # dashboard after an import reads it instead of the whole store.
        if self.store.is_sqlite:
            _ = self.frames
        return counts

    # --- payments --------------------------------------------------------
    @property
    def _default_terms(self) -> str:
        return self.settings["company"].get("payment_terms") or "30 jours"

    def record_payment(self, spec, user: str | None = None):
        """Enter a payment (``payment_specs.PaymentSpec``) and its allocations; returns ``store.payments.Recorded``."""
        recorded = payment_store.record_payment(self.store, spec, self._default_terms, user or _user())
        self.refresh(payments_only=True)
        return recorded

    def apply_credit(self, spec):
        """Allocate unused payment money or a credit note (``payment_specs.CreditSpec``) to invoices."""
        recorded = payment_store.apply_credit(self.store, spec, self._default_terms)
        self.refresh(payments_only=True)
        return recorded

    def write_off(self, spec) -> int:
        """Close a small rest without money (``payment_specs.WriteOffSpec``); returns the cents written off."""
        from echeances.money import parse_amount

        threshold = self.settings.get("payments", {}).get("write_off_threshold", "5,00")
        amount = payment_store.write_off(self.store, spec, parse_amount(str(threshold)), self._default_terms)
        self.refresh(payments_only=True)
        return amount

    def cancel_payment(self, payment_id: str, reason: str, date=None, user: str | None = None) -> None:
        """Cancel a payment (never edited nor deleted): its allocations stop counting from ``date`` (today)."""
        payment_store.cancel_payment(self.store, payment_id, reason, _day(date), user or _user())
        self.refresh(payments_only=True)

    def payments(self, client_id: str | None = None, start=None, end=None, last: int | None = None):
        """Payments between ``start`` and ``end`` (with their trace) and their allocations: two frames;
        ``last``: only the latest ones, that many."""
        day = lambda value: None if value is None else _day(value)  # noqa: E731
        return payment_store.list_payments(self.store, client_id, day(start), day(end), last)


    # --- documents -------------------------------------------------------
    def _document_maker(self):
        """The letters and statements engine, built on first use (Jinja and WeasyPrint load only then)."""
        maker = getattr(self, "_maker", None)
        if maker is None:
            from echeances.documents import Maker

            maker = self._maker = Maker(self.path, self.store, self.settings)
        return maker

    def rate_table(self):
        """Late-payment rate tables: ``ecb_rates.csv``/``legal_rates.csv`` of the workspace, else those shipped."""
        from echeances import penalties as penalties_core

        shipped = Path(__file__).resolve().parents[1] / "data"
        tables = []
        for name in ("ecb_rates.csv", "legal_rates.csv"):
            path = self.path / name if (self.path / name).exists() else shipped / name
            tables.append(penalties_core.parse_rates(path.read_text(encoding="utf-8"), str(path))
                          if path.exists() else ())
        return penalties_core.RateTable(*tables)

    def _contract_rate(self):
        from decimal import Decimal

        from decimal import InvalidOperation

        from echeances.errors import EcheancesError

        rate = str(self.settings.get("documents", {}).get("contract_rate", "")).strip().replace(",", ".")
        try:
            return Decimal(rate.rstrip("% ")) if rate else None
        except InvalidOperation:
            raise EcheancesError(f"settings.toml : [documents] contract_rate = {rate!r} n'est pas un taux "
                                 "(exemple : \"12.5\", ou \"\" pour le taux légal)") from None

    def penalties(self, client: str | None = None, as_of=None) -> pd.DataFrame:
        """Per invoice late on ``as_of``: ``overdue``, ``days_overdue``, ``interest``, ``indemnity`` (cents),
        plus ``number`` and ``client_id``; nothing owed by a ``particulier`` (see ``penalties``)."""
        from echeances import penalties as penalties_core

        f, day = self.frames, _day(as_of)
        result = penalties_core.penalties(f.invoices, self.active_allocations(day), f.write_offs, f.clients,
                                          day, self.rate_table(), self._contract_rate())
        if client is not None:
            result = result[result["client"] == self.client_code(client)]
        return result.assign(
            number=result["invoice"].map(f.invoices.set_index("invoice")["number"]).astype("string"),
            client_id=result["client"].map(f.clients.set_index("client")["client_id"]).astype("string"),
        ).reset_index(drop=True)

    def _draft_reminder(self, request, cache: dict):
        from echeances import penalties as penalties_core
        from echeances.documents import reminder_context, resolve_scope, split_by_client

        day = _day(request.as_of)
        contract = self._contract_rate()
        if day not in cache:  # a batch often shares a date: compute its frames and rate once, split by client
            start = penalties_core.half_year_start(day)
            cache[day] = (split_by_client(self.open_items(day)), split_by_client(self.penalties(as_of=day)),
                          split_by_client(self.credit(day)),
                          penalties_core.late_rate(self.rate_table(), start, contract).percent)
        items, late, credit, rate = cache[day]
        scope = resolve_scope(self.frames, request.invoice, request.client, request.site)
        context = reminder_context(request.template, scope, self.frames, items(scope.client), late(scope.client),
                                   credit(scope.client), self.settings, day, rate, contractual=contract is not None)
        return self._document_maker().draft("reminder", request.template, scope, context, self.frames, day)

    def _draft_statement(self, request):
        from echeances.documents import resolve_scope, statement_context
        from echeances.schema import BUCKET_LABELS

        end = _day(request.end)
        start = _day(request.start) if request.start is not None else dt.date(end.year, 1, 1)
        scope = resolve_scope(self.frames, None, request.client, request.site)
        template = request.template or ("releve_compte_chantier" if request.site else "releve_compte_client")
        context = statement_context(template, scope, self.frames, start, end,
                                    self.open_items(end, include_settled=True), self.credit(end), self.settings,
                                    BUCKET_LABELS)
        return self._document_maker().draft("statement", template, scope, context, self.frames, end, start)

    def reminder(self, template: str, invoice: str | None = None, client: str | None = None,
                 site: str | None = None, as_of=None):
        """Make, store and log one reminder letter; returns a ``documents.Document`` (PDF, HTML, log entry)."""
        from echeances.documents import ReminderRequest

        return self.render_many([ReminderRequest(template, invoice, client, site, as_of)], processes=1)[0]

    def statement(self, client: str | None = None, site: str | None = None, start=None, end=None,
                  template: str | None = None):
        """Make, store and log the account statement of a client or a site (default: 1 January → today)."""
        from echeances.documents import StatementRequest

        return self.render_many([StatementRequest(client, site, start, end, template)], processes=1)[0]

    def render_many(self, requests, progress=None, processes: int | None = None) -> list:
        """Make many documents (``ReminderRequest``/``StatementRequest``), PDFs on all cores.

        Every request is checked and rendered to HTML; if any fails, nothing is
        stored nor logged and the error lists them all. ``progress(done, total)``
        is called as PDFs complete.
        """
        from echeances.documents import StatementRequest
        from echeances.errors import EcheancesError

        requests = list(requests)
        problems, cache = [], {}

        def drafts():
            for request in requests:
                try:
                    yield (self._draft_statement(request) if isinstance(request, StatementRequest)
                           else self._draft_reminder(request, cache))
                except EcheancesError as exc:
                    problems.append(exc)

        maker = self._document_maker()
        made = maker.pdfs(drafts(), len(requests), progress, processes)
        if len(problems) == 1:
            raise problems[0]
        if problems:
            raise EcheancesError(f"{len(problems)} document(s) impossible(s), aucun n'a été créé :\n"
                                 + "\n".join(map(str, problems)))
        return maker.save(made)

    def templates(self) -> list:
        """Letter and statement templates, each with the file used (workspace override or default)."""
        return self._document_maker().templates()

    def documents(self, client: str | None = None) -> pd.DataFrame:
        """The document log, newest first (``store.documents.read_documents``)."""
        from echeances.store import documents as document_log

        code = None if client is None else self.client_code(client)
        with self.store.read() as conn:
            return document_log.read_documents(conn, code)

    # --- dashboard -------------------------------------------------------
    def find_open_items(self, as_of=None, client_id: str | None = None, site_id: str | None = None,
                        manager: str | None = None, overdue_only: bool = False, text: str = "") -> pd.DataFrame:
        """``open_items`` with their reminder marks (``reminder_marks``), narrowed by client, site, manager,
        lateness and a case-insensitive text search (see ``indicators.filter_items``)."""
        from echeances.mail.marks import with_reminder_marks

        items = with_reminder_marks(self.open_items(as_of), self.reminder_marks())
        return indicators.filter_items(items, client_id, site_id, manager, overdue_only, text)

    def dso(self, as_of=None, days: int = 90) -> float | None:
        """Days sales outstanding on ``as_of`` (see ``indicators.dso``)."""
        day = _day(as_of)
        balance = int(self.open_items(day)["outstanding"].sum()) - int(self.credit(day)["remaining"].sum())
        return indicators.dso(self.frames.invoices, balance, day, days)

    def kpis(self, as_of=None) -> dict:
        """The dashboard's figures on ``as_of``: totals in cents, overdue count, credit, DSO, cents per bucket."""
        day = _day(as_of)
        return indicators.kpis(self.open_items(day), self.credit(day), self.frames.invoices, day)

    # --- mail ------------------------------------------------------------
    def email_draft(self, document_id: int) -> tuple[str, str]:
        """``(subject, body)`` from the email template of document ``document_id``, for the user to edit."""
        from echeances.mail import service

        return service.email_draft(self, document_id)

    def send(self, document_id: int, to=(), cc=(), bcc=(), attach=(), force: bool = False,
             subject: str | None = None, body: str | None = None):
        """Email document ``document_id`` of the log (outbox or SMTP, per settings); returns the attempt.

        Without ``force``, raises ``mail.AlreadySent`` when the document was sent (or may have been), when
        it is a reminder for invoices the client was reminded of by email less than ``[mail]
        min_interval_days`` ago, or for invoices paid since. A delivery failure is not raised: it is the
        returned ``mail.Sending``'s ``status`` (``à renvoyer``/``échec``) and ``reason``.
        """
        from echeances.mail import service

        return service.send_document(self, document_id, to=to, cc=cc, bcc=bcc, attach=attach, force=force,
                                     subject=subject, body=body)

    def sent_status(self) -> pd.DataFrame:
        """Per logged document, its latest email attempt (status, time, recipients, reason)."""
        from echeances.mail import service

        return service.sent_status(self)

    def reminder_marks(self) -> pd.DataFrame:
        """Per invoice code: ``last_reminder_at``, ``last_reminder_template``, ``reminders_sent``, ``emailed``
        (join to open items with ``echeances.mail.marks.with_reminder_marks``)."""
        from echeances.mail import service

        return service.marks(self)

    def mail_test(self, to: str | None = None):
        """Send a test message with the mail settings; raises ``mail.DeliveryError`` explained in French."""
        from echeances.mail import service

        return service.mail_test(self, to)

    # --- dashboard actions -----------------------------------------------
    def preview_payment(self, spec):
        """What ``record_payment(spec)`` would allocate now: ``(allocations, credit cents)``; nothing is written.

        The same resolver on the same rows as ``record_payment``, read outside a write
        transaction: a payment entered meanwhile elsewhere is only seen by the real one.
        """
        from echeances import allocation

        client = self.client_code(spec.client_id)
        named = [number for number, _ in spec.allocations] + list(spec.invoices)
        with self.store.read() as conn:
            frames = payment_store.read_client(conn, client, named)
        invoices = payment_store.resolve_dates(frames.invoices, self._default_terms)
        items = allocation.allocatable_items(invoices, frames.payments, frames.allocations, frames.write_offs,
                                             spec.date)
        return allocation.allocate_payment(spec, items, invoices, frames.payments[frames.payments["client"] == client])

    def open_invoices(self, client_id: str, as_of=None) -> pd.DataFrame:
        """The client's invoices still due on ``as_of``, one row each (net and retention together):
        ``number``, ``due_date`` (earliest), ``outstanding`` cents; by due date."""
        items = self.open_items(as_of)
        items = items[items["client_id"] == client_id]
        table = items.groupby("number", sort=False).agg(due_date=("due_date", "min"),
                                                        outstanding=("outstanding", "sum"))
        return table.reset_index().sort_values(["due_date", "number"], kind="stable").reset_index(drop=True)

    def client_email(self, client_id: str) -> str:
        """The client's email address from its record ("" when none)."""
        clients = self.frames.clients
        found = clients.loc[clients["client_id"] == client_id, "email"] if "email" in clients else pd.Series([])
        return "" if found.empty or pd.isna(found.iloc[0]) else str(found.iloc[0])

    def keep_attachment(self, name: str, content: bytes) -> Path:
        """Store a file uploaded in the dashboard under ``pieces_jointes/`` of the workspace (mail only attaches
        files from inside it); returns its path. Size limits are checked when the message is built."""
        import re

        safe = re.sub(r"[^\w.-]+", "_", Path(str(name)).name).strip("._") or "piece_jointe"
        folder = self.path / "pieces_jointes" / dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / safe).write_bytes(bytes(content))
        return folder / safe
