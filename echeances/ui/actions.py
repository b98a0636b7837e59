"""Row actions of the Échéances tab for the selected rows: "Saisir un règlement", "Relancer", "Relevé"."""
from __future__ import annotations

import datetime as dt
from typing import Callable

import ipywidgets as widgets
import pandas as pd

from echeances.ui.batch import BatchPanel
from echeances.ui.documents_panel import DocumentPanel
from echeances.ui.feedback import Notice, guarded
from echeances.documents.context import TEMPLATE_SCOPES
from echeances.ui.forms import FormError, read_date
from echeances.ui.selection import Selection

STATEMENTS = ("releve_compte_client", "releve_compte_chantier")
TEMPLATE_LABELS = {
    "facture_en_retard": "Facture en retard (relance simple)",
    "factures_chantier_en_retard": "Factures du chantier en retard",
    "factures_client_en_retard": "Factures du client en retard",
}

DEFAULT_TEMPLATE = {"invoice": "facture_en_retard", "site": "factures_chantier_en_retard",
                    "client": "factures_client_en_retard"}


def reminder_templates(templates) -> list[tuple[str, str]]:
    """Letter templates (statements apart) as dropdown choices, French labels when known."""
    names = [t.name for t in templates if t.name not in STATEMENTS]
    return [(TEMPLATE_LABELS.get(name, name.replace("_", " ").capitalize()), name) for name in names]


def reminder_scope(selection: Selection, template: str | None = None) -> dict:
    """The ``Workspace.reminder`` scope: the one the template is made for, else the selection's own
    (one invoice, else its site, else its client)."""
    client = selection.client_id  # refuses an empty or multi-client selection in French
    wanted = TEMPLATE_SCOPES.get(template or "")
    if wanted == "invoice" or (wanted is None and len(selection.numbers) == 1):
        if len(selection.numbers) != 1:
            raise FormError(f"Le modèle « {TEMPLATE_LABELS.get(template, template)} » concerne une seule facture : "
                            f"sélectionnez-en une ({len(selection.numbers)} sélectionnées).")
        return {"invoice": selection.numbers[0]}
    if wanted == "site" or (wanted is None and selection.site_id is not None):
        if selection.site_id is None:
            raise FormError(f"Le modèle « {TEMPLATE_LABELS.get(template, template)} » concerne un chantier : "
                            "sélectionnez les échéances d'un seul chantier.")
        return {"site": selection.site_id}
    return {"client": client}


class ActionsBar(widgets.VBox):
    """Buttons acting on ``selected()`` (a ``Selection``) and the panel each one opens."""

    def __init__(self, workspace, selected: Callable[[], Selection], as_of=None,
                 on_pay: Callable[[str, int, tuple], None] = lambda *_: None,
                 on_document: Callable[[], None] = lambda: None):
        self.workspace, self.selected, self.as_of, self.on_pay = workspace, selected, as_of, on_pay
        self.on_document = on_document
        self.notice = Notice()
        act = lambda text: guarded(self.notice, text)  # noqa: E731
        self.pay = widgets.Button(description="Saisir un règlement", icon="eur")
        self.remind = widgets.Button(description="Relancer", icon="envelope")
        self.state = widgets.Button(description="Relevé", icon="list")
        self.pay.on_click(act("Impossible de préparer le règlement.")(lambda _: self.open_payment()))
        self.remind.on_click(act("Impossible d'ouvrir la relance.")(lambda _: self.open_reminder()))
        self.state.on_click(act("Impossible d'ouvrir le relevé.")(lambda _: self.open_statement()))
        # "Relancer" panel
        self.template = widgets.Dropdown(description="Modèle", layout=widgets.Layout(width="460px"))
        self.make_reminder = widgets.Button(description="Préparer la lettre", button_style="primary")
        self.make_reminder.on_click(act("La lettre n'a pas pu être préparée.")(lambda _: self.reminder()))
        self.reminder_box = widgets.VBox([widgets.HBox([self.template, self.make_reminder])],
                                         layout=widgets.Layout(display="none"))
        # "Relevé" panel
        self.scope = widgets.Dropdown(description="Relevé", layout=widgets.Layout(width="360px"))
        self.start = widgets.Text(description="Du", layout=widgets.Layout(width="170px"))
        self.end = widgets.Text(description="au", layout=widgets.Layout(width="170px"))
        self.make_statement = widgets.Button(description="Préparer le relevé", button_style="primary")
        self.make_statement.on_click(act("Le relevé n'a pas pu être préparé.")(lambda _: self.statement()))
        self.statement_box = widgets.HBox([self.scope, self.start, self.end, self.make_statement],
                                          layout=widgets.Layout(display="none"))
        for control in (self.template, self.scope, self.start, self.end):
            control.style.description_width = "56px"
        self.document = DocumentPanel(workspace, on_sent=on_document)
        self.batch = BatchPanel(workspace, on_done=on_document)
        self.hint = widgets.HTML('<span class="ech-hint">Sélectionnez une ou plusieurs lignes, puis :</span>')
        bar = widgets.HBox([self.hint, self.pay, self.remind, self.state], layout=widgets.Layout(align_items="center"))
        bar.add_class("ech-actions")
        super().__init__([bar, self.notice, self.reminder_box, self.statement_box, self.document, self.batch])

    def _day(self) -> dt.date:
        return dt.date.today() if self.as_of is None else pd.Timestamp(self.as_of).date()

    def _open(self, box) -> None:
        for panel in (self.reminder_box, self.statement_box, self.document, self.batch):
            panel.layout.display = "none"
        if box is not None:
            box.layout.display = ""

    def open_payment(self) -> None:
        selection = self.selected()
        self._open(None)
        self.on_pay(selection.client_id, selection.outstanding, selection.numbers)

    def open_reminder(self) -> None:
        selection = self.selected()
        several = len(selection.client_ids) > 1
        default = "factures_client_en_retard" if several else DEFAULT_TEMPLATE[next(iter(reminder_scope(selection)))]
        options = reminder_templates(self.workspace.templates())
        if several:  # one letter per client: only the templates a client-wide letter can use
            options = [(label, name) for label, name in options if TEMPLATE_SCOPES.get(name, "client") == "client"]
        self.template.options = options
        names = [name for _, name in options]
        self.template.value = default if default in names else (names[0] if names else None)
        self.make_reminder.description = (f"Préparer {len(selection.client_ids)} lettres (une par client)"
                                          if several else "Préparer la lettre")
        self._selection = selection
        self._open(self.reminder_box)

    def reminder(self) -> None:
        if len(self._selection.client_ids) > 1:
            from echeances.documents import ReminderRequest

            self._open(self.reminder_box)
            self.batch.make([ReminderRequest(self.template.value, client=client, as_of=self.as_of)
                             for client in self._selection.client_ids])
            return
        self._client = self._selection.client_id
        scope = reminder_scope(self._selection, self.template.value)
        document = self.workspace.reminder(self.template.value, as_of=self.as_of, **scope)
        self.document.show(document, to=self.workspace.client_email(self._client))
        self.on_document()  # the grid's "Relance" column

    def open_statement(self) -> None:
        selection = self.selected()
        client = selection.client_id
        choices = [(f"Client {client}", ("client", client))]
        if selection.site_id is not None:
            choices.append((f"Chantier {selection.site_id}", ("site", selection.site_id)))
        self.scope.options = choices
        self.scope.value = choices[-1][1] if len(choices) > 1 else choices[0][1]
        day = self._day()
        self.start.value, self.end.value = f"{dt.date(day.year, 1, 1):%d/%m/%Y}", f"{day:%d/%m/%Y}"
        self._client = client
        self._open(self.statement_box)

    def statement(self) -> None:
        kind, key = self.scope.value
        document = self.workspace.statement(**{kind: key}, start=read_date("Du", self.start.value),
                                            end=read_date("Au", self.end.value))
        self.document.show(document, to=self.workspace.client_email(self._client))
