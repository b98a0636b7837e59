"""The whole dashboard: header, the "Échéances" tile and the tabs."""
from __future__ import annotations

import html

import ipywidgets as widgets

from echeances.ui.actions import ActionsBar
from echeances.ui.feedback import Notice, guarded
from echeances.ui.history_tab import HistoryTab
from echeances.ui.items_tab import ItemsTab
from echeances.ui.payments_tab import PaymentsTab
from echeances.ui.style import stylesheet
from echeances.ui.tile import SummaryTile

class Dashboard(widgets.VBox):
    """Échéances clients of one workspace on ``as_of`` (default: today)."""

    def __init__(self, workspace, as_of=None):
        self.workspace, self.as_of = workspace, as_of
        self.header = widgets.HTML()
        self.reload = widgets.Button(description="Actualiser", icon="refresh",
                                     tooltip="Relire les données (après une saisie ailleurs)")
        self.notice = Notice()
        self.reload.on_click(guarded(self.notice, "Impossible de relire les données.")(lambda _: self.refresh()))
        self.tile = SummaryTile()
        self.items = ItemsTab(workspace, as_of)
        self.actions = ActionsBar(workspace, self.items.selection, as_of, on_pay=self.pay,
                                   on_document=self.after_document)
        self.items.add_actions(self.actions)
        self.payments = PaymentsTab(workspace, as_of, on_recorded=self.redraw)
        self.history = HistoryTab(workspace, on_sent=self.redraw)  # its own list is redrawn by itself
        self.tabs = widgets.Tab([self.items, self.payments, self.history],
                                titles=["Échéances", "Règlements", "Historique"])
        top = widgets.HBox([self.header, self.reload],
                           layout=widgets.Layout(justify_content="space-between", align_items="center"))
        super().__init__([stylesheet(), top, self.notice, self.tile, self.tabs])
        self.add_class("ech-root")
        self._show_summary()

    def _show_summary(self) -> None:
        kpis = self.workspace.kpis(self.as_of)
        company = self.workspace.settings["company"].get("name") or "Échéances"
        self.header.value = (f'<div class="ech-header"><h1>{html.escape(company)} — Échéances clients</h1>'
                             f'<div class="ech-sub">Situation au {kpis["as_of"]:%d/%m/%Y}</div></div>')
        self.tile.show(kpis)

    def refresh(self) -> None:
        """Re-read the store, then redraw figures, chart, filter choices and grid."""
        self.workspace.refresh()
        self.redraw()
        self.payments.show_payments()
        self.history.show()

    def pay(self, client_id: str, cents: int, numbers=()) -> None:
        """Open the payment form for ``client_id``, pre-filled with ``cents`` on ``numbers``."""
        self.payments.form.fill(client_id, cents, numbers)
        self.tabs.selected_index = 1

    def after_document(self) -> None:
        """A letter was made or sent: the grid's reminder columns and the log change."""
        self.redraw()
        self.history.show()

    def redraw(self) -> None:
        """Redraw figures, chart, filter choices and grid from the workspace (after an action here)."""
        self._show_summary()
        self.items.refresh(reload_choices=True)


def build_dashboard(workspace, as_of=None) -> Dashboard:
    """The dashboard widget of ``workspace`` (a ``Workspace``); display it in a notebook or Voilà."""
    return Dashboard(workspace, as_of)
