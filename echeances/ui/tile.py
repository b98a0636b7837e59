"""The "Échéances" tile: key figures and the aging chart, from ``Workspace.kpis``."""
from __future__ import annotations

import html

import ipywidgets as widgets

from echeances.money import format_amount
from echeances.schema import BUCKET_LABELS

BUCKET_COLORS = {"not_due": "#16a34a", "1-30": "#facc15", "31-60": "#f59e0b", "61-90": "#ea580c", "90+": "#b42318"}


def _card(label: str, value: str, note: str = "", alert: bool = False) -> str:
    note_html = f'<div class="ech-note">{html.escape(note)}</div>' if note else ""
    return (f'<div class="ech-card{" ech-alert" if alert else ""}"><div class="ech-label">{html.escape(label)}</div>'
            f'<div class="ech-value">{html.escape(value)}</div>{note_html}</div>')


def cards_html(kpis: dict) -> str:
    """The five key figures as HTML cards."""
    dso = "—" if kpis["dso"] is None else f"{kpis['dso']:.0f} jours"
    late_share = f"{kpis['overdue'] / kpis['total'] * 100 if kpis['total'] else 0:.0f}\u202f% du total"
    return "".join([
        _card("Total dû", format_amount(kpis["total"]), f"{kpis['count']} échéance(s)"),
        _card("Total en retard", format_amount(kpis["overdue"]), late_share, alert=kpis["overdue"] > 0),
        _card("Échéances en retard", str(kpis["overdue_count"]), "dépassées à ce jour",
              alert=kpis["overdue_count"] > 0),
        _card("Crédit clients", format_amount(kpis["credit"]), "non imputé et avoirs"),
        _card("DSO", dso, "délai moyen, 90\u00a0derniers\u00a0jours"),
    ])


def chart_html(buckets: dict[str, int]) -> str:
    """Aging by bucket as horizontal bars, each labelled with its amount."""
    top = max(list(buckets.values()) + [1])
    rows = []
    for key, cents in buckets.items():
        width = max(cents, 0) / top * 100
        color = BUCKET_COLORS.get(key, "#6b7280")
        rows.append(
            f'<tr data-bucket="{key}"><td>{html.escape(BUCKET_LABELS.get(key, key))}</td>'
            f'<td style="width:60%"><div class="ech-bar" style="width:{width:.1f}%;background:{color}"></div></td>'
            f'<td class="ech-amount">{html.escape(format_amount(cents))}</td></tr>')
    return f'<div class="ech-chart"><div class="ech-label">Balance âgée</div><table>{"".join(rows)}</table></div>'


class SummaryTile(widgets.VBox):
    """Tile "Échéances": total due, overdue, overdue count, client credit, DSO and the aging chart."""

    def __init__(self):
        self._cards = widgets.HTML(layout=widgets.Layout(flex="3 1 0"))
        self._chart = widgets.HTML(layout=widgets.Layout(flex="1.6 1 0", min_width="340px"))
        title = widgets.HTML('<div class="ech-tile-title">Échéances</div>')
        body = widgets.HBox([self._cards, self._chart], layout=widgets.Layout(align_items="flex-start"))
        body.add_class("ech-tile-body")
        super().__init__([title, body])
        self.add_class("ech-tile")

    def show(self, kpis: dict) -> None:
        self._cards.value = f'<div class="ech-cards">{cards_html(kpis)}</div>'
        self._chart.value = chart_html(kpis["buckets"])
