"""The remind, statement and templates commands."""
from __future__ import annotations

import json

import pytest

from echeances.cli import main
from tests.conftest import write_files
from tests.test_documents import FILES, pdf_text, squash


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    from echeances import Workspace

    ws = Workspace.open(root / "ws")
    ws.import_folder(write_files(root / "src", **FILES))
    ws.close()
    return root


def test_remind__writes_the_pdf_and_reports_it_as_json(folder, capsys):
    out = folder / "sortie" / "relance.pdf"
    code = main(["-w", str(folder / "ws"), "remind", "--template", "relance_1", "--site", "S2",
                 "--as-of", "20/04/2026", "--out", str(out), "--format", "json"])
    entry = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (entry["template"], entry["site_id"], entry["invoices"], entry["total"]) == (
        "relance_1", "S2", ["F3"], "3600.00")
    assert "Situation n° F3" in squash(pdf_text(out.read_bytes()))


def test_statement__table_output_names_the_pdf(folder, capsys):
    code = main(["-w", str(folder / "ws"), "statement", "--client", "C1", "--from", "2026-01-01", "--to", "2026-04-20"])
    text = capsys.readouterr().out
    assert code == 0
    assert squash(text.splitlines()[0]).endswith("(releve_compte_client) pour C1 — solde 14 700,00 €")
    assert "PDF : " in text and text.strip().endswith(".pdf")


def test_remind__wrong_scope_is_a_french_error_with_exit_code_2(folder, capsys):
    code = main(["-w", str(folder / "ws"), "remind", "-t", "facture_en_retard", "--client", "C1"])
    assert code == 2
    assert capsys.readouterr().err == "Erreur : Le modèle facture_en_retard s'utilise avec --invoice (une facture)\n"


def test_templates__lists_each_template_with_its_origin(folder, capsys):
    assert main(["-w", str(folder / "ws"), "templates"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["facture_en_retard", "défaut"]
    assert len([line for line in lines if "défaut" in line]) == 8
