"""The open-items grid: French headers, amounts in euros for the eye, formatted by the renderer.

The grid's own header menu filters and sorts what it holds, and its user types
euros ("Supérieur à : 1000"): the view therefore holds ``cents / 100``. It is
only shown, never summed: every figure of the dashboard (totals, selection,
payment) comes from the integer cents of ``Workspace.find_open_items``.
"""
from __future__ import annotations

import ipydatagrid as dg
import ipydatagrid.datagrid as dg_datagrid
import pandas as pd
import traitlets

from echeances.schema import KIND_LABELS
from echeances.ui.style import BLUE, INK, MUTED, RED

# Open-item column → grid header (what the user reads).
COLUMNS = {
    "number": "Facture",
    "type": "Type",
    "client_name": "Client",
    "site_name": "Chantier",
    "manager": "Chargé d'affaire",
    "issue_date": "Date",
    "due_date": "Échéance",
    "amount": "Montant",
    "paid": "Réglé",
    "outstanding": "Reste dû",
    "days_overdue": "Retard (j)",
    "last_reminder_at": "Relance",
    "emailed": "Email",
}
MONEY = ("Montant", "Réglé", "Reste dû")
WIDTHS = {"Facture": 98, "Type": 128, "Client": 170, "Chantier": 196, "Chargé d'affaire": 142, "Date": 84,
          "Échéance": 90, "Montant": 100, "Réglé": 96, "Reste dû": 100, "Retard (j)": 88, "Relance": 88, "Email": 70}
LATE = "cell.metadata.data['Retard (j)'] > 0"
# An empty text_value makes ipydatagrid draw the raw value instead: blank cells are a space.
# Euros → "1 234,56 €" as Babel writes it in fr_FR (narrow no-break space, no-break space before €).
# Cents → euros as a float64 shows every amount below 10¹³ € exact to the cent with two decimals: the
# nearest double of c / 100 is then within 0.004 of it (see test_grid_euros__shown_to_the_cent).
EUROS = ("replace(replace(format(cell.value, ',.2f'), regexp(',', 'g'), '\u202f'), '.', ',') + '\u00a0€'")


def grid_frame(items: pd.DataFrame) -> pd.DataFrame:
    """Open items with reminder marks (``Workspace.find_open_items``) as the grid shows them: French headers,
    amounts in euros, dates kept as dates."""
    kind = items["kind"].astype(str).map(KIND_LABELS)
    kind = kind.where(items["part"].astype(str) != "retention", "Retenue de garantie")
    # ipydatagrid cannot carry a missing date (NaT breaks its front end): the reminder date is text.
    reminded = items["last_reminder_at"].dt.strftime("%d/%m/%Y").astype("string").fillna("")
    euros = {column: items[column].to_numpy(dtype="int64") / 100 for column in ("amount", "paid", "outstanding")}
    frame = items.assign(type=kind, last_reminder_at=reminded, **euros)[list(COLUMNS)].rename(columns=COLUMNS)
    return frame.reset_index(drop=True)


def _renderers() -> dict:
    font = dg.VegaExpr(f"{LATE} ? 'bold 13px sans-serif' : '13px sans-serif'")
    money = dg.TextRenderer(text_value=dg.VegaExpr(EUROS), horizontal_alignment="right")
    date = dict(format="%d/%m/%Y", format_type="time", horizontal_alignment="center")
    return {
        "Date": dg.TextRenderer(**date),
        "Échéance": dg.TextRenderer(**date, font=font, text_color=dg.VegaExpr(f"{LATE} ? '{RED}' : '{INK}'")),
        **{name: money for name in MONEY},
        "Retard (j)": dg.TextRenderer(text_value=dg.VegaExpr("cell.value > 0 ? cell.value : ' '"),
                                      horizontal_alignment="right", text_color=RED),
        "Relance": dg.TextRenderer(horizontal_alignment="center"),
        # The envelope of an item that got a reminder turns blue once the last one was emailed.
        "Email": dg.TextRenderer(text_value=dg.VegaExpr("cell.metadata.data['Relance'] ? '\u2709' : ' '"),
                                 text_color=dg.VegaExpr(f"cell.value ? '{BLUE}' : '{MUTED}'"),
                                 font="16px sans-serif", horizontal_alignment="center"),
    }


def _serialize_data(data: dict, widget) -> dict:
    """ipydatagrid's serialisation of its data, without its three per-cell type checks on each text
    column (paid again on every filter change): a column whose values are all text, none missing, or
    all true/false, is sent as ipydatagrid sends it, a JSON list; the others go through ipydatagrid."""
    if not data:
        return {}
    frame = data["data"]
    # infer_dtype reads a pandas string column's dtype, not its cells: a missing value is checked apart.
    text = [c for c, values in frame.items()
            if (values.dtype == object or isinstance(values.dtype, pd.StringDtype)) and len(values)
            and not values.isna().any()
            and pd.api.types.infer_dtype(values.to_numpy(dtype=object), skipna=False) == "string"]
    # A true/false column is "raw" for ipydatagrid (its array encoding has no booleans): a JSON list.
    flags = [c for c, values in frame.items() if values.dtype == bool]
    sent = dg_datagrid._data_serialization_impl({**data, "data": frame.drop(columns=text + flags)}, widget)
    fast = {**{c: frame[c].tolist() for c in text}, **{c: {"value": frame[c].tolist(), "type": "raw"} for c in flags}}
    sent["data"] = {str(c): fast[c] if c in fast else sent["data"][str(c)] for c in frame.columns}
    return sent


class OpenItemsGrid(dg.DataGrid):
    """The ipydatagrid ``DataGrid``, serialising its text columns faster (same message to the browser)."""

    _data = traitlets.Dict().tag(sync=True, to_json=_serialize_data,
                                 from_json=dg_datagrid._data_serialization["from_json"])


def build_grid(items: pd.DataFrame) -> dg.DataGrid:
    """An ipydatagrid of ``items`` (as ``Workspace.find_open_items`` returns them)."""
    return OpenItemsGrid(
        grid_frame(items),
        renderers=_renderers(),
        default_renderer=dg.TextRenderer(font="13px sans-serif", text_color=INK),
        header_renderer=dg.TextRenderer(font="bold 13px sans-serif", background_color="#f3f4f6"),
        header_visibility="column",
        column_widths=WIDTHS,
        base_row_size=26,
        base_column_header_size=30,
        selection_mode="row",
        horizontal_stripes=True,
        grid_style={"header_background_color": "#f3f4f6",
                    "selection_fill_color": "rgba(29, 78, 216, 0.12)"},
        layout={"height": "560px", "width": "100%"},
    )
