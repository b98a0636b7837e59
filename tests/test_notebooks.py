"""Both notebooks run top to bottom on a demo workspace, as a user would run them in JupyterLab."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from echeances import Workspace
from echeances.demo import write_demo

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder)
    return folder


def run(name: str, workspace: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("ECHEANCES_WORKSPACE", str(workspace))
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(notebook, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return notebook


def outputs(notebook, kind: str) -> list:
    return [out["data"][kind] for cell in notebook.cells if cell.cell_type == "code"
            for out in cell.outputs if kind in out.get("data", {})]


def test_dashboard_notebook__displays_the_dashboard_widget(demo, monkeypatch):
    notebook = run("echeances.ipynb", demo, monkeypatch)
    views = outputs(notebook, WIDGET)
    assert len(views) == 1 and views[0]["model_id"]
    assert len(notebook.cells) <= 4, "the dashboard notebook stays a few short cells"


def test_analysis_notebook__ranks_late_payers_and_formats_euros(demo, monkeypatch):
    notebook = run("analyse.ipynb", demo, monkeypatch)
    tables = outputs(notebook, "text/html")
    assert len(tables) == 4  # ranking, DSO by month, aging by manager, days late per client
    aging = Workspace.open(demo).aging(by="client")
    late = aging[["1-30", "31-60", "61-90", "90+"]].sum(axis=1)
    worst = aging.loc[late.idxmax()]
    ranking = tables[0]
    assert ranking.index(str(worst["client_id"])) < ranking.index("</tr>", ranking.index("<tbody"))  # first row
    assert "\u202f€" in ranking or "\xa0€" in ranking
    for manager in Workspace.open(demo).aging(by="manager")["name"]:
        assert manager in tables[2]
