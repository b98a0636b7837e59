"""How ``echeances app`` starts Voilà: local address, culling, the app's template, the workspace passed on."""
from __future__ import annotations

import re
from pathlib import Path

from echeances import app


def test_voila_command__loopback_culling_template_no_tracebacks():
    command = app.voila_command(port=8900, open_browser=False)
    assert command[1:4] == ["-m", "voila", str(app.NOTEBOOK)]
    assert {"--port=8900", "--Voila.ip=127.0.0.1", "--template=echeances", "--show_tracebacks=False",
            "--no-browser", "--MappingKernelManager.cull_idle_timeout=900",
            "--MappingKernelManager.cull_interval=60", "--KernelManager.transport=ipc"} <= set(command)
    assert "--no-browser" not in app.voila_command()


def test_voila_environment__absolute_workspace_and_template_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JUPYTER_PATH", "/opt/elsewhere")
    env = app.voila_environment("data")
    assert env["ECHEANCES_WORKSPACE"] == str(tmp_path / "data")
    assert env["JUPYTER_PATH"].split(":") == [str(app.NOTEBOOKS), "/opt/elsewhere"]
    assert (Path(env["JUPYTER_PATH"].split(":")[0]) / "voila" / "templates" / app.TEMPLATE / "index.html.j2").exists()


def test_template__asks_nothing_of_another_machine():
    template = (app.NOTEBOOKS / "voila" / "templates" / app.TEMPLATE / "index.html.j2").read_text(encoding="utf-8")
    assert re.findall(r"""(?:src|href)=["']https?://""", template) == []
    assert "Chargement des échéances" in template


def test_serve__missing_notebook_is_a_french_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(app, "NOTEBOOK", tmp_path / "absent.ipynb")
    assert app.serve(tmp_path) == 1
    assert "Tableau de bord introuvable" in capsys.readouterr().err
