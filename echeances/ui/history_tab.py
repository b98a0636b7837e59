"""Tab "Historique": the letters and statements made, their email status, filterable by client, with "Renvoyer"."""
from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets
import pandas as pd

from echeances.ui.documents_panel import sending_html
from echeances.ui.feedback import Notice, guarded
from echeances.ui.forms import FormError, read_addresses
from echeances.ui.payments_tab import client_options

DOCUMENT_KINDS = {"reminder": "Relance", "statement": "Relevé"}
SHOWN = 200  # rows of the log drawn at once, newest first


def _text(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def history_rows(status: pd.DataFrame, client_id: str | None) -> pd.DataFrame:
    """``Workspace.sent_status()`` narrowed to a client, newest first, at most ``SHOWN`` rows."""
    if client_id:
        status = status[status["client_id"] == client_id]
    return status.sort_values("document", ascending=False).head(SHOWN)


def history_html(rows: pd.DataFrame) -> str:
    if rows.empty:
        return "<div class='ech-empty'>Aucun document.</div>"
    head = "".join(f"<th>{h}</th>" for h in ("N°", "Créé le", "Type", "Modèle", "Client", "Email", "Envoyé le",
                                              "Destinataires", "Détail"))
    body = []
    for r in rows.itertuples(index=False):
        status = _text(r.status) or "non envoyé"
        cells = [r.document, f"{r.created_at:%d/%m/%Y %H:%M}", DOCUMENT_KINDS.get(r.kind, r.kind), r.template,
                 r.client_id, status, "" if pd.isna(r.sent_at) else f"{r.sent_at:%d/%m/%Y %H:%M}",
                 _text(r.to_addrs), "" if status == "envoyé" else _text(r.reason)]
        css = "ech-sent" if status == "envoyé" else ""
        body.append(f"<tr class='{css}'>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return f"<table class='ech-table ech-history'><tr>{head}</tr>{''.join(body)}</table>"


class HistoryTab(widgets.VBox):
    """The document log of ``workspace``; "Renvoyer" emails a logged document again."""

    def __init__(self, workspace, on_sent: Callable[[], None] = lambda: None):
        self.workspace, self.on_sent = workspace, on_sent
        self.client = widgets.Dropdown(description="Client", layout=widgets.Layout(width="380px"),
                                       options=[("Tous les clients", "")] + client_options(
                                           workspace.frames.clients)[1:])
        self.client.style.description_width = "56px"
        self.listing = widgets.HTML()
        self.document = widgets.Dropdown(description="Document", layout=widgets.Layout(width="420px"))
        self.to = widgets.Text(description="À", placeholder="vide : l'adresse de la fiche client",
                               layout=widgets.Layout(width="380px"))
        self.force = widgets.Checkbox(description="Envoyer quand même", indent=False,
                                      layout=widgets.Layout(display="none"))
        self.resend = widgets.Button(description="Renvoyer", icon="envelope", button_style="primary")
        for control in (self.document, self.to):
            control.style.description_width = "70px"
        self.notice = Notice()
        self.status = widgets.HTML()
        self.client.observe(guarded(self.notice, "Impossible d'afficher l'historique.")(lambda _: self.show()), "value")
        self.resend.on_click(guarded(self.notice, "Le document n'a pas pu être renvoyé.")(lambda _: self.send()))
        super().__init__([self.client, self.listing,
                          widgets.HBox([self.document, self.to, self.resend],
                                       layout=widgets.Layout(flex_flow="row wrap")),
                          self.force, self.notice, self.status])
        self.add_class("ech-history-tab")
        self.show()

    def show(self) -> None:
        rows = history_rows(self.workspace.sent_status(), self.client.value or None)
        self.listing.value = history_html(rows)
        self.document.options = [("Choisir…", 0)] + [
            (f"n° {d} — {DOCUMENT_KINDS.get(k, k)} {t} — {c}", int(d))
            for d, k, t, c in zip(rows["document"], rows["kind"], rows["template"], rows["client_id"])]

    def send(self) -> None:
        from echeances.mail.sending import AlreadySent  # the mail layer loads on first use

        if not self.document.value:
            raise FormError("Renvoyer : choisissez le document à envoyer")
        try:
            sending = self.workspace.send(self.document.value, to=read_addresses(self.to.value),
                                          force=self.force.value)
        except AlreadySent:
            self.force.layout.display = ""  # the switch the refusal speaks of (see feedback.in_ui_words)
            raise
        self.status.value = sending_html(sending)
        self.force.value, self.force.layout.display = False, "none"
        self.show()
        self.on_sent()
