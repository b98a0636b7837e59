"""What the user selected in the grid, summed up for the row actions (no widget here)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from echeances.ui.forms import FormError


@dataclass(frozen=True)
class Selection:
    """The selected échéances: their invoices, clients, sites and what they still owe (cents)."""

    numbers: tuple[str, ...]
    client_ids: tuple[str, ...]
    site_ids: tuple[str, ...]
    outstanding: int

    @property
    def client_id(self) -> str:
        """The one client of the selection, or a ``FormError`` in French."""
        if not self.client_ids:
            raise FormError("Sélectionnez d'abord une ou plusieurs lignes de la grille.")
        if len(self.client_ids) > 1:
            raise FormError(f"Sélectionnez les échéances d'un seul client ({len(self.client_ids)} clients "
                            "sélectionnés).")
        return self.client_ids[0]

    @property
    def site_id(self) -> str | None:
        """The one site of the selection (None when several or none)."""
        return self.site_ids[0] if len(self.site_ids) == 1 else None


def visible_rows(selections: list[dict], count: int) -> list[int]:
    """Row positions in the grid's view covered by its selection rectangles, in order."""
    rows = {r for rect in selections for r in range(int(rect["r1"]), int(rect["r2"]) + 1)}
    return sorted(r for r in rows if 0 <= r < count)


def summarise(items: pd.DataFrame) -> Selection:
    """``items`` (rows of ``Workspace.find_open_items``) as a ``Selection``."""
    unique = lambda column: tuple(dict.fromkeys(items[column].dropna().astype(str)))  # noqa: E731
    return Selection(unique("number"), unique("client_id"), unique("site_id"), int(items["outstanding"].sum()))
