import json
import subprocess
import sys

import pandas as pd
import pytest

from echeances.cli import main
from tests.conftest import write_files

KEYS = ["invoice", "part", "client_id", "client_name", "site_id", "kind", "issue_date", "due_date", "amount",
        "paid", "outstanding", "days_overdue", "bucket"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli__import_then_open_items_json(tmp_path, base_folder, capsys):
    ws = tmp_path / "ws"
    code, out, _ = run(capsys, "--workspace", ws, "import", base_folder)
    assert code == 0 and "invoices : 3 ajouté(s), 0 modifié(s), 0 inchangé(s)" in out
    code, out, _ = run(capsys, "--workspace", ws, "open-items", "--as-of", "2026-06-15", "--format", "json")
    rows = json.loads(out)
    assert [list(r) for r in rows] == [KEYS] * 4
    assert rows[0] == {"invoice": "F2", "part": "net", "client_id": "C2", "client_name": "M. Martin",
                       "site_id": "S2", "kind": "invoice", "issue_date": "2026-05-01", "due_date": "2026-05-01",
                       "amount": "500.00", "paid": "0.00", "outstanding": "500.00", "days_overdue": 45,
                       "bucket": "31-60"}
    assert [(r["invoice"], r["part"], r["amount"]) for r in rows[1:]] == [
        ("F1", "net", "1140.00"), ("F3", "net", "300.00"), ("F1", "retention", "60.00")]


def test_cli__aging_csv_and_table(tmp_path, base_folder, capsys):
    ws = tmp_path / "ws"
    run(capsys, "--workspace", ws, "import", base_folder)
    code, out, _ = run(capsys, "--workspace", ws, "aging", "--as-of", "15/06/2026", "--format", "csv")
    assert out.splitlines() == [
        "client_id,name,not_due,1-30,31-60,61-90,90+,outstanding,credit,balance",
        "C1,Dupont SARL,360.00,1140.00,0.00,0.00,0.00,1500.00,0.00,1500.00",
        "C2,M. Martin,0.00,0.00,500.00,0.00,0.00,500.00,0.00,500.00",
    ]
    code, out, _ = run(capsys, "--workspace", ws, "aging", "--by", "manager", "--as-of", "2026-06-15")
    assert "Chargé d'affaire" in out and "Paul Girard" in out and "1\u202f200,00\u00a0€" in out


def test_cli__open_items_table_marks_overdue_rows(tmp_path, base_folder, capsys):
    ws = tmp_path / "ws"
    run(capsys, "--workspace", ws, "import", base_folder)
    code, out, _ = run(capsys, "--workspace", ws, "open-items", "--as-of", "2026-06-15")
    lines = out.splitlines()
    assert lines[0].split() == ["Facture", "Part", "Client", "Nom", "Chantier", "Type", "Date", "Échéance",
                                "Montant", "Réglé", "Reste", "dû", "Retard", "(j)"]
    assert lines[2].startswith("! F2") and lines[5].startswith("  F1")
    assert "4 échéance(s), reste dû 2\u202f000,00\u00a0€, dont en retard 1\u202f640,00\u00a0€" in out


def test_cli__refused_import_prints_every_problem_and_exits_1(tmp_path, capsys):
    src = write_files(tmp_path / "src", clients="client_id;name;kind\nC1;X;grossiste\n")
    code, out, err = run(capsys, "--workspace", tmp_path / "ws", "import", src)
    assert code == 1
    assert err.splitlines() == [
        "clients.csv:2: type de client « grossiste » inconnu (attendu : particulier, professionnel)",
        "Import refusé : 1 problème(s), rien n'a été écrit.",
    ]


def test_cli__bad_date_argument_is_a_french_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["--workspace", str(tmp_path), "open-items", "--as-of", "31/02/2026"])
    assert info.value.code == 2
    assert "pas une date valide" in capsys.readouterr().err


def test_demo__deterministic_realistic_and_idempotent(tmp_path):
    from echeances.demo import write_demo
    from echeances import Workspace

    counts = write_demo(tmp_path / "a")
    assert counts["clients"] == 60 and 140 <= counts["sites"] <= 200 and 2500 <= counts["invoices"] <= 3500
    assert counts["write_offs"] > 0
    again = write_demo(tmp_path / "b")
    assert counts == again
    for name in ("invoices", "payments", "allocations"):
        assert (tmp_path / "a/sources" / f"{name}.csv").read_bytes() == (tmp_path / "b/sources" / f"{name}.csv").read_bytes()
    ws = Workspace.open(tmp_path / "a")
    inv = ws.frames.invoices
    assert set(inv["kind"].astype(str)) == {"invoice", "deposit", "progress", "credit_note"}
    assert (inv["retention"] > 0).sum() > 100
    assert set(ws.frames.clients["kind"]) == {"professionnel", "particulier"}
    # nothing dated after the demo's last day: no payment from the future
    from echeances.demo import LAST_DAY

    for frame, column in ((inv, "issue_date"), (ws.frames.payments, "date"), (ws.frames.write_offs, "date")):
        assert frame[column].max() <= pd.Timestamp(LAST_DAY), column
    table = ws.aging(as_of="2026-12-04")
    assert (table[["not_due", "1-30", "31-60", "61-90", "90+"]].sum(axis=1) == table["outstanding"]).all()
    assert table["credit"].sum() > 0 and table["90+"].sum() > 0
    write_demo(tmp_path / "a")  # re-running the demo on the same folder changes nothing
    ws.refresh()
    assert len(ws.frames.invoices) == counts["invoices"]


def test_console_script__runs_as_a_module(tmp_path):
    result = subprocess.run([sys.executable, "-m", "echeances", "--workspace", str(tmp_path), "aging"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "(aucune ligne)" in result.stdout
