"""The filter bar of the open items: client, site, manager, overdue only, text search."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable

import ipywidgets as widgets
import pandas as pd

ALL_CLIENTS, ALL_SITES, ALL_MANAGERS = "Tous les clients", "Tous les chantiers", "Tous les chargés d'affaire"


def _choices(items: pd.DataFrame, key: str, name: str | None, everyone: str) -> list[tuple[str, str]]:
    pairs = items[[key] + ([name] if name else [])].dropna().drop_duplicates()
    labels = [(f"{row[1]} ({row[0]})" if name else row[0], row[0]) for row in pairs.itertuples(index=False)]
    return [(everyone, "")] + sorted(labels, key=lambda pair: pair[0].casefold())


class FilterBar(widgets.HBox):
    """Dropdowns and search box; ``values()`` gives the keyword arguments of ``Workspace.find_open_items``."""

    def __init__(self, items: pd.DataFrame):
        self.client = widgets.Dropdown(description="Client", layout=widgets.Layout(width="260px"))
        self.site = widgets.Dropdown(description="Chantier", layout=widgets.Layout(width="290px"))
        self.manager = widgets.Dropdown(description="Chargé d'affaire", layout=widgets.Layout(width="300px"))
        self.overdue = widgets.Checkbox(description="En retard seulement", indent=False,
                                        layout=widgets.Layout(width="170px"))
        self.text = widgets.Text(placeholder="Rechercher : facture, client, chantier…", continuous_update=False,
                                 layout=widgets.Layout(width="240px"))
        for control, width in ((self.client, "48px"), (self.site, "62px"), (self.manager, "112px")):
            control.style.description_width = width
        self._items, self._updating, self._handler = items, False, lambda: None
        self.set_choices(items)
        super().__init__([self.client, self.site, self.manager, self.overdue, self.text],
                         layout=widgets.Layout(flex_flow="row wrap", align_items="center"))
        self.add_class("ech-filters")

    def set_choices(self, items: pd.DataFrame) -> None:
        """Offer the clients, sites and managers that have open items (keeps the current choice if still there)."""
        self._items = items
        with self._quiet():
            self._set(self.client, _choices(items, "client_id", "client_name", ALL_CLIENTS))
            self._set(self.manager, _choices(items, "manager", None, ALL_MANAGERS))
            self._narrow_sites()

    def _narrow_sites(self) -> None:
        items = self._items
        if self.client.value:
            items = items[items["client_id"] == self.client.value]
        self._set(self.site, _choices(items, "site_id", "site_name", ALL_SITES))

    @contextmanager
    def _quiet(self):
        # Options changed by code must not each trigger a query.
        self._updating = True
        try:
            yield
        finally:
            self._updating = False

    @staticmethod
    def _set(control: widgets.Dropdown, options: list[tuple[str, str]]) -> None:
        current = control.value
        control.options = options
        control.value = current if current in {value for _, value in options} else ""

    def values(self) -> dict:
        return {"client_id": self.client.value or None, "site_id": self.site.value or None,
                "manager": self.manager.value or None, "overdue_only": self.overdue.value, "text": self.text.value}

    def on_change(self, handler: Callable[[], None]) -> None:
        """Call ``handler()`` once per user change of any filter."""
        self._handler = handler
        for control in (self.client, self.site, self.manager, self.overdue, self.text):
            control.observe(self._changed, "value")

    def _changed(self, change) -> None:
        if self._updating:
            return
        if change["owner"] is self.client:
            with self._quiet():
                self._narrow_sites()
        self._handler()
