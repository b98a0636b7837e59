"""The dashboard's look: one stylesheet, shipped as an HTML widget so it works in JupyterLab and Voilà."""
from __future__ import annotations

import ipywidgets as widgets

RED = "#b42318"
BLUE = "#1d4ed8"
INK = "#1f2937"
MUTED = "#6b7280"

CSS = f"""
<style>
.ech-root {{ font-family: "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: {INK};
             margin: 0 auto; gap: 10px; }}
.ech-filters {{ gap: 6px; }}
.ech-items {{ gap: 6px; }}
.ech-tile-body {{ gap: 16px; }}
.ech-header h1 {{ font-size: 22px; margin: 0; font-weight: 600; }}
.ech-header .ech-sub {{ color: {MUTED}; font-size: 13px; }}
.ech-cards {{ display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 10px; }}
.ech-card {{ background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 14px;
            box-shadow: 0 1px 2px rgba(0,0,0,.04); }}
.ech-card .ech-label {{ color: {MUTED}; font-size: 13px; font-weight: 500; }}
.ech-card .ech-value {{ font-size: 19px; font-weight: 600; white-space: nowrap; }}
.ech-card .ech-note {{ color: {MUTED}; font-size: 12px; line-height: 1.3; }}
.ech-card.ech-alert .ech-value {{ color: {RED}; }}
.ech-tile {{ background: #f9fafb; border: 1px solid #e5e7eb; border-radius: 10px; padding: 12px; }}
.ech-tile-title {{ font-size: 15px; font-weight: 600; margin-bottom: 6px; }}
.ech-chart .ech-label {{ color: {MUTED}; font-size: 13px; font-weight: 500; margin: 0 0 4px 6px; }}
.ech-chart table {{ border-collapse: collapse; font-size: 13px; width: 100%; }}
.ech-chart td {{ padding: 3px 6px; white-space: nowrap; }}
.ech-chart .ech-bar {{ height: 14px; border-radius: 3px; }}
.ech-chart .ech-amount {{ text-align: right; font-variant-numeric: tabular-nums; }}
.ech-totals {{ font-size: 13px; color: {INK}; padding: 4px 2px; }}
.ech-totals b {{ font-variant-numeric: tabular-nums; }}
.ech-totals .ech-late {{ color: {RED}; }}
.ech-error {{ color: {RED}; background: #fef3f2; border: 1px solid #fecdca; border-radius: 6px;
              padding: 6px 10px; font-size: 13px; }}
.ech-placeholder {{ color: {MUTED}; font-size: 14px; padding: 24px 8px; }}
.ech-empty {{ color: {MUTED}; font-style: italic; padding: 8px 2px; }}
.ech-section {{ font-size: 15px; font-weight: 600; margin: 10px 0 4px; }}
.ech-table {{ border-collapse: collapse; font-size: 13px; margin: 4px 0; }}
.ech-table th {{ background: #f3f4f6; text-align: left; padding: 4px 8px; }}
.ech-table td {{ border-top: 1px solid #e5e7eb; padding: 3px 8px; }}
.ech-table .ech-num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.ech-table tr.ech-cancelled td {{ color: {MUTED}; text-decoration: line-through; }}
.ech-table tr.ech-cancelled td:last-child {{ text-decoration: none; }}
.ech-preview {{ background: #f9fafb; border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 12px;
                font-size: 13px; max-width: 520px; }}
.ech-ok {{ color: #166534; background: #f0fdf4; border: 1px solid #bbf7d0; border-radius: 6px;
           padding: 6px 10px; font-size: 13px; }}
.ech-actions {{ gap: 6px; }}
.ech-panel {{ background: #f9fafb; border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px; gap: 4px; }}
.ech-hint {{ color: {MUTED}; font-size: 13px; margin-right: 4px; }}
.ech-download {{ display: inline-block; background: {BLUE}; color: #fff !important; border-radius: 4px;
                 padding: 5px 12px; font-size: 13px; text-decoration: none; margin: 4px 0; }}
.ech-table tr.ech-sent td:nth-child(6) {{ color: {BLUE}; font-weight: 600; }}
</style>
"""


def stylesheet() -> widgets.HTML:
    """The stylesheet, to put once at the top of the dashboard."""
    return widgets.HTML(CSS, layout=widgets.Layout(height="0px", margin="0"))
