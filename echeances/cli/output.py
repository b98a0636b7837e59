"""Printing frames for people (French table) or machines (CSV/JSON with decimal-text amounts)."""
from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from typing import Iterable

import pandas as pd

from echeances.dates import format_short_date, parse_date
from echeances.money import format_amount, to_decimal_text

FORMATS = ("table", "csv", "json")


def open_workspace(args):
    """The workspace named by ``--workspace`` (imported late: ``--help`` stays instant)."""
    from echeances.workspace import Workspace

    return Workspace.open(args.workspace)


def add_format(parser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table", help="table (défaut), csv ou json")


def date_arg(text: str) -> dt.date:
    """argparse type for ``2026-04-15`` or ``15/04/2026``."""
    import argparse

    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def machine_rows(frame: pd.DataFrame, money: Iterable[str]) -> list[dict]:
    """Rows with amounts as ``"1234.56"`` text, dates ISO, missing values as ``None``."""
    money = set(money)
    rows = []
    for record in frame.to_dict("records"):
        row = {}
        for key, value in record.items():
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                row[key] = None
            elif key in money:
                row[key] = to_decimal_text(value)
            elif isinstance(value, (pd.Timestamp, dt.date)):
                row[key] = pd.Timestamp(value).date().isoformat()
            elif hasattr(value, "item"):
                row[key] = value.item()
            else:
                row[key] = value
        rows.append(row)
    return rows


def emit(frame: pd.DataFrame, fmt: str, money: Iterable[str], labels: dict[str, str],
         mark: pd.Series | None = None, out=None) -> None:
    """Write ``frame`` as ``fmt``; ``labels`` gives the French headers of the table format."""
    out = out or sys.stdout
    if fmt == "json":
        json.dump(machine_rows(frame, money), out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(frame.columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(machine_rows(frame, money))
    else:
        out.write(table(frame, set(money), labels, mark) + "\n")


def _cell(value, is_money: bool) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if is_money:
        return format_amount(value)
    if isinstance(value, (pd.Timestamp, dt.date)):
        return format_short_date(pd.Timestamp(value).date())
    return str(value)


def table(frame: pd.DataFrame, money: set[str], labels: dict[str, str], mark: pd.Series | None = None) -> str:
    """Aligned text table with French headers; rows where ``mark`` is true start with ``!``."""
    columns = [c for c in labels if c in frame.columns]
    cells = [[_cell(v, c in money) for c, v in zip(columns, row)] for row in frame[columns].itertuples(index=False)]
    marks = ["!" if m else " " for m in (mark if mark is not None else [False] * len(frame))]
    heads = [labels[c] for c in columns]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(heads)]
    right = [c in money or pd.api.types.is_numeric_dtype(frame[c]) for c in columns]

    def line(values, flag=" "):
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)]
        return f"{flag} " + "  ".join(parts).rstrip()

    lines = [line(heads), "  " + "  ".join("-" * w for w in widths)]
    lines += [line(row, flag) for row, flag in zip(cells, marks)]
    if not cells:
        lines.append("  (aucune ligne)")
    return "\n".join(lines)
