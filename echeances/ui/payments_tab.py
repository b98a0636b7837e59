"""Tab "Règlements": the payment form with a live preview of its allocations, and the payments with cancellation."""
from __future__ import annotations

import datetime as dt
import html
from typing import Callable

import ipywidgets as widgets
import pandas as pd

from echeances import schema
from echeances.money import format_amount
from echeances.payment_specs import PaymentRefused, PaymentSpec
from echeances.ui.feedback import Notice, guarded
from echeances.ui.forms import FormError, optional, read_amount, read_date

AUTO, BY_INVOICE = "auto", "invoices"
RECENT, RECENT_DAYS = 40, 31  # payments listed when no client is chosen: the last 40 of the last 31 days


def amount_text(cents: int) -> str:
    """Cents as a user would type them: ``125000`` → ``1 250,00``."""
    return format_amount(cents).replace("\xa0€", "").replace("\u202f", " ")


def client_options(clients: pd.DataFrame) -> list[tuple[str, str]]:
    pairs = sorted(((f"{name} ({cid})", cid) for cid, name in zip(clients["client_id"], clients["name"])),
                   key=lambda pair: pair[0].casefold())
    return [("Choisir un client…", "")] + pairs


def preview_html(allocations, credit: int, amount: int) -> str:
    """The allocations a payment would make and what would stay as client credit."""
    rows = "".join(f"<tr><td>{html.escape(a.invoice)}</td><td class='ech-num'>{html.escape(format_amount(a.amount))}"
                   f"</td></tr>" for a in allocations)
    table = (f"<table class='ech-table'><tr><th>Facture</th><th>Imputé</th></tr>{rows}</table>" if rows
             else "<div class='ech-empty'>Aucune facture à imputer.</div>")
    return (f"<div class='ech-preview'><b>Aperçu de l'imputation</b> de {html.escape(format_amount(amount))}"
            f"{table}<div>Reste en crédit client : <b>{html.escape(format_amount(credit))}</b></div></div>")


def _text(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def payments_html(pays: pd.DataFrame, allocs: pd.DataFrame) -> str:
    """The payments, newest first, with their allocations and cancellation."""
    if pays.empty:
        return "<div class='ech-empty'>Aucun règlement.</div>"
    allocs = allocs[allocs["payment"].isin(pays["payment"])]  # only the payments shown
    applied = allocs.groupby("payment")["invoice"].agg(", ".join) if len(allocs) else pd.Series(dtype=str)
    rows = []
    for p in pays.iloc[::-1].itertuples(index=False):
        cancelled = not pd.isna(p.cancelled_date)
        status = f"Annulé le {p.cancelled_date:%d/%m/%Y} : {_text(p.cancel_reason)}" if cancelled else ""
        cells = [p.payment_id, f"{p.date:%d/%m/%Y}", f"{p.client_name} ({p.client_id})", format_amount(p.amount),
                 p.method, _text(p.reference), applied.get(p.payment, "")]
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        rows.append(f"<tr class='{'ech-cancelled' if cancelled else ''}'>{tds}<td>{status}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("N°", "Date", "Client", "Montant", "Mode", "Référence", "Imputé sur",
                                              "Annulation"))
    return f"<table class='ech-table ech-payments'><tr>{head}</tr>{''.join(rows)}</table>"


def cancel_options(pays: pd.DataFrame) -> list[tuple[str, str]]:
    """The payments not cancelled yet, newest first, as dropdown choices."""
    alive = pays[pays["cancelled_date"].isna()].iloc[::-1]
    return [("Choisir…", "")] + [(f"{p} — {format_amount(a)}", p)
                                 for p, a in zip(alive["payment_id"], alive["amount"])]


class InvoiceChoice(widgets.HBox):
    """One open invoice of the client: take it or not, and how much (blank: what it still needs)."""

    def __init__(self, number: str, due: dt.date, outstanding: int):
        self.number = number
        self.take = widgets.Checkbox(description=f"{number} — échéance {due:%d/%m/%Y} — reste "
                                                 f"{format_amount(outstanding)}", indent=False,
                                     layout=widgets.Layout(width="440px"))
        self.amount = widgets.Text(placeholder="montant (vide : le reste dû)", continuous_update=False,
                                   layout=widgets.Layout(width="200px"))
        super().__init__([self.take, self.amount])

    def allocation(self) -> tuple[str, int | None] | None:
        if not self.take.value:
            return None
        text = self.amount.value
        return self.number, (read_amount(f"Montant imputé sur {self.number}", text) if text.strip() else None)


class PaymentForm(widgets.VBox):
    """A payment as typed; ``spec()`` reads it into a ``PaymentSpec`` or raises a French ``FormError``."""

    def __init__(self, workspace, as_of=None):
        self.workspace, self.as_of = workspace, as_of
        wide = widgets.Layout(width="380px")
        self.client = widgets.Dropdown(description="Client", options=client_options(workspace.frames.clients),
                                       layout=wide)
        self.date = widgets.Text(description="Date", value=f"{self.today():%d/%m/%Y}", continuous_update=False,
                                 layout=widgets.Layout(width="230px"))
        self.amount = widgets.Text(description="Montant", placeholder="1 250,00", continuous_update=False,
                                   layout=widgets.Layout(width="230px"))
        self.method = widgets.Dropdown(description="Mode", options=schema.PAYMENT_METHODS,
                                       layout=widgets.Layout(width="230px"))
        self.reference = widgets.Text(description="Référence", continuous_update=False, layout=wide)
        self.bank = widgets.Text(description="Banque", continuous_update=False, layout=wide)
        self.mode = widgets.ToggleButtons(options=[("Automatique (plus anciennes d'abord)", AUTO),
                                                   ("Par facture", BY_INVOICE)], value=AUTO)
        self.mode.style.button_width = "240px"
        self.invoices = widgets.VBox(layout=widgets.Layout(display="none"))
        self.confirm = widgets.Checkbox(description="Confirmer malgré l'avertissement", indent=False,
                                        layout=widgets.Layout(display="none"))
        for control in (self.client, self.date, self.amount, self.method, self.reference, self.bank):
            control.style.description_width = "80px"
        self.client.observe(lambda _: self.show_invoices(), "value")
        self.mode.observe(lambda _: self._show_mode(), "value")
        super().__init__([
            widgets.HBox([self.client, self.date]), widgets.HBox([self.amount, self.method]),
            widgets.HBox([self.reference, self.bank]), self.mode, self.invoices, self.confirm])

    def today(self) -> dt.date:
        return dt.date.today() if self.as_of is None else pd.Timestamp(self.as_of).date()

    def show_invoices(self, chosen=()) -> None:
        """One line per open invoice of the chosen client; ``chosen`` numbers are ticked."""
        rows = []
        if self.client.value:
            table = self.workspace.open_invoices(self.client.value, self.as_of)
            rows = [InvoiceChoice(n, d, int(o)) for n, d, o in
                    zip(table["number"], table["due_date"], table["outstanding"])]
        for row in rows:
            row.take.value = row.number in chosen
            for control in (row.take, row.amount):
                control.observe(lambda _: self._changed(), "value")
        self.invoices.children = rows

    def _show_mode(self) -> None:
        self.invoices.layout.display = "" if self.mode.value == BY_INVOICE else "none"

    def on_change(self, handler: Callable[[], None]) -> None:
        self._handler = handler
        for control in (self.client, self.date, self.amount, self.method, self.mode, self.confirm):
            control.observe(lambda _: self._changed(), "value")

    def _changed(self) -> None:
        getattr(self, "_handler", lambda: None)()

    def spec(self) -> PaymentSpec:
        if not self.client.value:
            raise FormError("Client : choisissez le client qui paie")
        allocations = []
        if self.mode.value == BY_INVOICE:
            allocations = [a for a in (row.allocation() for row in self.invoices.children) if a is not None]
            if not allocations:
                raise FormError("Par facture : cochez au moins une facture (ou choisissez l'imputation automatique)")
        return PaymentSpec(client_id=self.client.value, date=read_date("Date", self.date.value),
                           amount=read_amount("Montant", self.amount.value), method=self.method.value,
                           reference=optional(self.reference.value), bank=optional(self.bank.value),
                           allocations=allocations, auto=self.mode.value == AUTO,
                           allow_early=self.confirm.value, confirm_duplicate=self.confirm.value)

    def fill(self, client_id: str, cents: int, numbers=()) -> None:
        """Pre-fill for a client, an amount and (optionally) the invoices it pays."""
        self.client.value = client_id
        self.mode.value = BY_INVOICE if numbers else AUTO
        self.show_invoices(chosen=set(numbers))
        self.amount.value = amount_text(cents)

    def clear(self) -> None:
        for control in (self.amount, self.reference, self.bank):
            control.value = ""
        self.confirm.value = False
        self.confirm.layout.display = "none"
        self.show_invoices()


class PaymentsTab(widgets.VBox):
    """Enter a payment (preview, then "Enregistrer"), see the payments, cancel one with a reason."""

    def __init__(self, workspace, as_of=None, on_recorded: Callable[[], None] = lambda: None):
        self.workspace, self.on_recorded = workspace, on_recorded
        self.form = PaymentForm(workspace, as_of)
        self.preview = widgets.HTML()
        self.notice = Notice()
        self.done = widgets.HTML()
        self.save = widgets.Button(description="Enregistrer", icon="check", button_style="primary")
        self.save.on_click(guarded(self.notice, "Le règlement n'a pas pu être enregistré.")(lambda _: self.record()))
        self.form.on_change(guarded(self.notice, "L'aperçu de l'imputation a échoué.")(self.show_preview))
        self.listing = widgets.HTML()
        self.cancelled = widgets.Dropdown(description="Règlement", layout=widgets.Layout(width="300px"))
        self.reason = widgets.Text(description="Motif", placeholder="chèque impayé, erreur de saisie…",
                                   layout=widgets.Layout(width="380px"))
        self.cancel = widgets.Button(description="Annuler le règlement", icon="times", button_style="danger")
        self.cancel_notice = Notice()
        self.cancel.on_click(guarded(self.cancel_notice, "Le règlement n'a pas pu être annulé.")(
            lambda _: self.cancel_payment()))
        self.form.client.observe(lambda _: self.show_payments(), "value")
        title = lambda text: widgets.HTML(f"<div class='ech-section'>{text}</div>")  # noqa: E731
        super().__init__([
            title("Saisir un règlement"), self.form, self.preview, self.notice, self.done, self.save,
            title("Règlements"), self.listing,
            widgets.HBox([self.cancelled, self.reason, self.cancel]), self.cancel_notice])
        self.add_class("ech-payments-tab")
        self.show_payments()

    def show_preview(self) -> None:
        """The allocations the typed payment would make; a French line instead when it cannot be read."""
        self.done.value = self.preview.value = ""
        if self.form.client.value and self.form.amount.value.strip():
            spec = self.form.spec()
            allocations, credit = self._confirmable(self.workspace.preview_payment, spec)
            self.preview.value = preview_html(allocations, credit, spec.amount)

    def _confirmable(self, action, spec):
        """Run ``action(spec)``; a refusal the user may override shows the "Confirmer" box, then is raised."""
        try:
            return action(spec)
        except PaymentRefused as exc:
            if exc.confirmable:
                self.form.confirm.layout.display = ""
            raise

    def record(self) -> None:
        recorded = self._confirmable(self.workspace.record_payment, self.form.spec())
        applied = ", ".join(f"{a.invoice} {format_amount(a.amount)}" for a in recorded.allocations) or "aucune facture"
        self.form.clear()
        self.preview.value = ""
        self.done.value = (f"<div class='ech-ok'>Règlement {html.escape(recorded.payment_id)} enregistré : "
                           f"{html.escape(applied)} ; crédit client {html.escape(format_amount(recorded.credit))}."
                           "</div>")
        self.show_payments()
        self.on_recorded()

    def show_payments(self) -> None:
        """The chosen client's payments (else the latest ones) and the ones that may still be cancelled."""
        client = self.form.client.value or None
        # Without a client, only the last weeks are read: a large store has hundreds of thousands of payments.
        since = None if client else self.form.today() - dt.timedelta(days=RECENT_DAYS)
        pays, allocs = self.workspace.payments(client_id=client, start=since, last=None if client else RECENT)
        self.listing.value = payments_html(pays, allocs)
        self.cancelled.options = cancel_options(pays)

    def cancel_payment(self) -> None:
        if not self.cancelled.value:
            raise FormError("Annulation : choisissez le règlement à annuler")
        self.workspace.cancel_payment(self.cancelled.value, self.reason.value)
        self.reason.value = ""
        self.show_payments()
        self.on_recorded()
