"""The payment commands: what they print, their exit codes, and that a refusal writes nothing."""
from __future__ import annotations

import json

import pytest

from echeances import Workspace
from echeances.cli import main
from tests.payments_helpers import make_workspace, table_counts

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.fixture
def folder(tmp_path):
    make_workspace(tmp_path).close()
    return tmp_path


def run(folder, *argv):
    return main(["--workspace", str(folder), *argv])


def test_pay__auto_prints_allocations_and_new_outstanding(folder, capsys):
    assert run(folder, "pay", "--client", "C1", "--date", "01/07/2024", "--amount", "2 500,00",
               "--method", "chèque", "--reference", "CHQ 1") == 0
    out = capsys.readouterr().out
    assert f"Règlement P-2024-00001 enregistré : 2{NNBSP}500,00{NBSP}€ (chèque) de C1" in out
    assert f"F-2024-031    500,00{NBSP}€  01/07/2024  500,00{NBSP}€" in out
    assert f"Non imputé (crédit client) : 0,00{NBSP}€" in out


def test_pay__explicit_invoices_as_json(folder, capsys):
    assert run(folder, "pay", "-c", "C1", "--date", "2024-07-01", "-a", "1000", "-i", "F-2024-040=100",
               "-i", "F-2024-031", "--format", "json") == 0
    body = json.loads(capsys.readouterr().out)
    assert body == {"id": "P-2024-00001", "credit": "0.00", "allocations": [
        {"invoice": "F-2024-040", "amount": "100.00", "date": "2024-07-01", "outstanding": "400.00"},
        {"invoice": "F-2024-031", "amount": "900.00", "date": "2024-07-01", "outstanding": "100.00"},
    ]}


def test_pay__refusal_prints_french_error_and_writes_nothing(folder, capsys):
    ws = Workspace.open(folder)
    before = table_counts(ws)
    assert run(folder, "pay", "-c", "C1", "--date", "2024-07-01", "-a", "1250", "-i", "F-2024-031=1250,00",
               "-i", "F-2024-040=10") != 0
    err = capsys.readouterr().err
    assert err == (f"Erreur : Règlement (nouveau) : 1{NNBSP}250,00{NBSP}€ dépasse le reste dû "
                   f"1{NNBSP}000,00{NBSP}€ de F-2024-031\n")
    assert table_counts(ws) == before
    ws.close()


def test_pay__duplicate_needs_confirm(folder, capsys):
    argv = ["pay", "-c", "C1", "--date", "2024-07-01", "-a", "10", "-m", "chèque", "-r", "CHQ 9"]
    assert run(folder, *argv) == 0
    assert run(folder, *argv) == 2
    assert "saisi deux fois" in capsys.readouterr().err
    assert run(folder, *argv, "--confirm") == 0


def test_pay__bad_amount_is_an_argument_error(folder, capsys):
    with pytest.raises(SystemExit) as exited:
        run(folder, "pay", "-c", "C1", "-a", "12,5O")
    assert exited.value.code == 2
    assert "'12,5O' n'est pas un montant" in capsys.readouterr().err


def test_cancel_then_history(folder, capsys):
    run(folder, "pay", "-c", "C1", "--date", "2024-07-01", "-a", "100", "-r", "VIR 1")
    assert run(folder, "cancel-payment", "P-2024-00001", "--reason", "erreur de client", "--date", "2024-07-02") == 0
    assert run(folder, "cancel-payment", "P-2024-00001", "--reason", "encore") == 2
    capsys.readouterr()
    assert run(folder, "payments", "--client", "C1", "--format", "csv") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("payment_id,client_id,client_name,date,amount,method,reference")
    assert lines[1].startswith("P-2024-00001,C1,Dupont SARL,2024-07-01,100.00,virement,VIR 1,,,2024-07-02,"
                               "erreur de client,")
    assert lines[1].endswith(",100.00,0.00,F-2024-050=100.00,cancelled")


def test_write_off_and_apply_credit(folder, capsys):
    assert run(folder, "write-off", "F-2024-040", "--reason", "écart", "--amount", "4,99", "--date", "2024-07-03") == 0
    assert run(folder, "apply-credit", "A-2024-001", "-c", "C1", "--date", "2024-07-03", "-i", "F-2024-040",
               "--format", "csv") == 0
    out = capsys.readouterr().out
    assert f"F-2024-040 soldée sans règlement : 4,99{NBSP}€ (écart)" in out
    assert "F-2024-040,120.00,2024-07-03,375.01" in out
