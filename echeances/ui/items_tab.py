"""Tab "Échéances": filters, totals of the filtered rows and the open-items grid."""
from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from echeances.money import format_amount
from echeances.ui.feedback import Notice, guarded
from echeances.ui.filters import FilterBar
from echeances.ui.grid import build_grid, grid_frame
from echeances.ui.selection import Selection, summarise, visible_rows


def totals_html(items: pd.DataFrame) -> str:
    """One line: count and sums of the rows shown."""
    if items.empty:
        return '<div class="ech-empty">Aucune échéance ne correspond aux filtres.</div>'
    euros = lambda cents: html.escape(format_amount(int(cents)))  # noqa: E731
    late = items["days_overdue"] > 0
    parts = [f"<b>{len(items)}</b> échéance(s)"]
    parts += [f"{name} <b>{euros(items[column].sum())}</b>"
              for name, column in (("Montant", "amount"), ("Réglé", "paid"), ("Reste dû", "outstanding"))]
    parts.append(f'<span class="ech-late">dont en retard <b>{euros(items.loc[late, "outstanding"].sum())}</b>'
                 f" ({int(late.sum())})</span>")
    return '<div class="ech-totals">' + " · ".join(parts) + "</div>"


class ItemsTab(widgets.VBox):
    """The open items of ``workspace`` on ``as_of``, filtered by the user."""

    def __init__(self, workspace, as_of=None):
        self.workspace, self.as_of = workspace, as_of
        items = workspace.find_open_items(as_of)
        self.filters = FilterBar(items)
        self.totals = widgets.HTML(totals_html(items))
        self._items = items.reset_index(drop=True)
        self.grid = build_grid(items)
        self.notice = Notice()
        self.filters.on_change(guarded(self.notice, "Impossible d'afficher les échéances.")(self.refresh))
        # The grid's own header filters narrow the rows too: the totals follow what it shows.
        self.grid.observe(guarded(self.notice, "Impossible de recalculer les totaux.")(self._show_totals),
                          names=["_transforms", "_visible_rows"])
        super().__init__([self.filters, self.notice, self.totals, self.grid])
        self.add_class("ech-items")

    def add_actions(self, bar: widgets.Widget) -> None:
        """Put the row actions between the totals and the grid."""
        self.children = (self.filters, self.notice, self.totals, bar, self.grid)

    def refresh(self, reload_choices: bool = False) -> None:
        """Query the workspace with the current filters and show the result."""
        if reload_choices:
            self.filters.set_choices(self.workspace.open_items(self.as_of))
        items = self.workspace.find_open_items(self.as_of, **self.filters.values())
        self._items = items.reset_index(drop=True)
        self.grid.data = grid_frame(items)
        self._show_totals()

    def shown(self) -> pd.DataFrame:
        """The rows the grid shows, in cents, after its own header filters (sorting changes no total)."""
        # ipydatagrid reports the rows of its view in ``_visible_rows`` (positions in its data, ours too).
        if not any(t.get("type") == "filter" for t in self.grid._transforms):
            return self._items
        rows = sorted({r for r in self.grid._visible_rows if 0 <= r < len(self._items)})
        return self._items.iloc[rows]

    def _show_totals(self, _change=None) -> None:
        self.totals.value = totals_html(self.shown())

    def selection(self) -> Selection:
        """The selected rows as the user sees them (after the grid's own sorting and filtering)."""
        view = self.grid.get_visible_data()
        rows = visible_rows(self.grid.selections, len(view))
        # The view keeps the frame's index (0..n-1, as ``grid_frame`` left it): it points into ``_items``.
        return summarise(self._items.iloc[list(view.index[rows])])
