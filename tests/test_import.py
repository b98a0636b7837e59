import sqlite3

import pytest

from echeances import Workspace
from echeances.errors import ImportRefused
from tests.conftest import BASE, write_files


def refused(ws, folder) -> list[str]:
    with pytest.raises(ImportRefused) as info:
        ws.import_folder(folder)
    return [str(p) for p in info.value.problems]


def dump(ws) -> list:
    """Every row of every table: the store's exact content."""
    con = sqlite3.connect(ws.path / "echeances.sqlite")
    rows = [con.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
            for t in ("clients", "sites", "invoices", "payments", "allocations", "write_offs")]
    con.close()
    return rows


def test_import__reimporting_the_same_files_changes_nothing(workspace, base_folder):
    before = dump(workspace)
    counts = workspace.import_folder(base_folder)
    assert counts["invoices"] == {"inserted": 0, "updated": 0, "unchanged": 3}
    assert dump(workspace) == before


def test_import__cp1252_bom_commas_and_french_amounts(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "clients.csv").write_bytes("client_id,name\nC1,Société Générale Électricité\n".encode("cp1252"))
    (src / "invoices.csv").write_bytes(
        "\ufeffNuméro;Client;Date;Total TTC;Échéance\nF1;C1;15/04/2026;1\u00a0234,56\u00a0€;30/04/2026\n"
        .encode("utf-8"))
    ws = Workspace.open(tmp_path / "ws")
    ws.import_folder(src)
    assert ws.frames.clients["name"].tolist() == ["Société Générale Électricité"]
    invoice = ws.frames.invoices.iloc[0]
    assert (invoice["number"], invoice["total"], str(invoice["due_date"].date())) == ("F1", 123456, "2026-04-30")


def test_import__credit_note_total_may_be_negative(workspace, tmp_path):
    src = write_files(tmp_path / "more", invoices="""\
        number;client_id;kind;issue_date;total
        AV1;C1;avoir;2026-05-03;-120,00
        """)
    workspace.import_folder(src)
    note = workspace.frames.invoices.set_index("number").loc["AV1"]
    assert (note["kind"], note["total"]) == ("credit_note", 12000)


def test_import__every_problem_reported_with_file_and_line_and_nothing_written(tmp_path):
    src = write_files(tmp_path / "src", clients=BASE["clients"], sites=BASE["sites"], invoices="""\
        number;client_id;site_id;kind;issue_date;total;retention
        F1;C1;S1;invoice;31/02/2026;1 200,00;
        F2;C9;;invoice;2026-05-01;500;
        F3;C1;S2;invoice;2026-05-01;500;
        F4;C1;S9;invoice;2026-05-01;500;
        F5;C1;;invoice;2026-05-01;12,5O;
        F6;C1;;invoice;2026-05-01;100;150
        F6;C1;;invoice;2026-05-01;100;
        F7;C1;;invoice;2026-05-01;-100;
        """, payments="""\
        payment_id;client_id;date;amount
        P1;C1;2026-05-10;0
        """)
    ws = Workspace.open(tmp_path / "ws")
    assert refused(ws, src) == [
        "invoices.csv:2: issue_date « 31/02/2026 » n'est pas une date valide (attendu : 2026-04-15 ou 15/04/2026)",
        "invoices.csv:3: client inconnu « C9 »",
        "invoices.csv:4: le chantier S2 appartient au client C2, pas à C1",
        "invoices.csv:5: chantier inconnu « S9 »",
        "invoices.csv:6: total « 12,5O » n'est pas un montant",
        "invoices.csv:7: retenue 150,00\u00a0€ supérieure au total 100,00\u00a0€",
        "invoices.csv:8: number « F6 » en double (déjà ligne 7)",
        "invoices.csv:9: total -100,00\u00a0€ : une facture doit avoir un total positif",
        "payments.csv:2: montant 0,00\u00a0€ : un règlement doit être positif",
    ]
    assert ws.frames.invoices.empty and ws.frames.clients.empty


def test_import__missing_required_column_is_reported_on_the_header_line(tmp_path):
    src = write_files(tmp_path / "src", clients="""\
        client_id;nom_commercial
        C1;Dupont
        """)
    ws = Workspace.open(tmp_path / "ws")
    assert refused(ws, src) == ["clients.csv:1: colonne obligatoire « name » absente"]


def test_import__allocation_rules(workspace, tmp_path):
    before = dump(workspace)
    src = write_files(tmp_path / "pay", payments="""\
        payment_id;client_id;date;amount;method
        P1;C1;2026-05-10;1000;virement
        P2;C2;2026-05-11;400;chèque
        """, allocations="""\
        source_id;invoice;amount
        P1;F1;800
        P1;F3;300
        P2;F1;100
        P2;F2;300
        P9;F2;10
        F2;F2;10
        P2;F8;10
        """)
    assert refused(workspace, src) == [
        "allocations.csv:3: les imputations de P1 (1\u202f100,00\u00a0€) dépassent son montant 1\u202f000,00\u00a0€",
        "allocations.csv:4: le règlement P2 du client C2 ne peut pas être imputé sur F1 du client C1",
        "allocations.csv:6: règlement ou avoir inconnu « P9 »",
        "allocations.csv:7: « F2 » n'est ni un règlement ni un avoir",
        "allocations.csv:8: facture inconnue « F8 »",
        "allocations.csv:8: les imputations de P2 (410,00\u00a0€) dépassent son montant 400,00\u00a0€",
    ]
    assert dump(workspace) == before


def test_import__allocations_and_write_offs_above_invoice_total(workspace, tmp_path):
    src = write_files(tmp_path / "pay", payments="""\
        payment_id;client_id;date;amount
        P1;C2;2026-05-10;450
        """, allocations="""\
        source_id;invoice;amount
        P1;F2;450
        """, write_offs="""\
        invoice;date;amount;reason
        F2;2026-05-12;60;écart
        """)
    assert refused(workspace, src) == [
        "write_offs.csv:2: les imputations et pertes sur F2 (510,00\u00a0€) dépassent son total 500,00\u00a0€",
    ]


def test_import__a_payment_is_never_modified_by_a_reimport(workspace, tmp_path):
    write_files(tmp_path / "p1", payments="payment_id;client_id;date;amount\nP1;C1;2026-05-10;100\n")
    workspace.import_folder(tmp_path / "p1")
    write_files(tmp_path / "p2", payments="payment_id;client_id;date;amount\nP1;C1;2026-05-10;120\n")
    assert refused(workspace, tmp_path / "p2") == [
        "payments.csv:2: le règlement P1 existe déjà (C1, 100,00\u00a0€, 10/05/2026) : un règlement ne se "
        "modifie pas, il s'annule puis se saisit à nouveau"]


def test_import__xlsx_file_of_the_same_name(tmp_path):
    import openpyxl
    import datetime as dt

    src = write_files(tmp_path / "src", clients=BASE["clients"])
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["number", "client_id", "issue_date", "total"])
    sheet.append(["F1", "C1", dt.datetime(2026, 4, 15), 1234.56])
    sheet.append(["F2", "C1", "15/04/2026", "bad"])
    book.save(src / "invoices.xlsx")
    ws = Workspace.open(tmp_path / "ws")
    assert refused(ws, src) == ["invoices.xlsx:3: total « bad » n'est pas un montant"]
    sheet.delete_rows(3)
    book.save(src / "invoices.xlsx")
    ws.import_folder(src)
    assert ws.frames.invoices["total"].tolist() == [123456]


def test_import__unknown_folder_and_empty_folder_say_so(tmp_path):
    from echeances.errors import EcheancesError

    ws = Workspace.open(tmp_path / "ws")
    with pytest.raises(EcheancesError, match="Dossier introuvable"):
        ws.import_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EcheancesError, match="Aucun fichier à importer"):
        ws.import_folder(tmp_path / "empty")


def test_import__the_database_itself_refuses_bad_rows(workspace):
    import sqlalchemy as sa

    from echeances.store import tables

    with pytest.raises(sa.exc.IntegrityError):
        with workspace.store.write() as conn:
            conn.execute(sa.insert(tables.payments).values(payment_id="X", client=1, date=sa.func.date("now"),
                                                            amount=-5))
    with pytest.raises(sa.exc.IntegrityError):
        with workspace.store.write() as conn:
            conn.execute(sa.insert(tables.invoices).values(number="F1", client=1, kind="invoice",
                                                            issue_date=sa.func.date("now"), total=100))


def test_import__a_changed_allocation_is_updated_not_added(workspace, tmp_path):
    pay = "payment_id;client_id;date;amount\nP1;C1;2026-05-10;1 000\n"
    write_files(tmp_path / "a", payments=pay, allocations="source_id;invoice;amount\nP1;F1;800\n")
    write_files(tmp_path / "b", payments=pay, allocations="source_id;invoice;amount;date\nP1;F1;900;2026-05-11\n")
    workspace.import_folder(tmp_path / "a")
    counts = workspace.import_folder(tmp_path / "b")
    assert counts["allocations"] == {"inserted": 0, "updated": 1, "unchanged": 0}
    assert counts["payments"] == {"inserted": 0, "updated": 0, "unchanged": 1}
    alloc = workspace.frames.allocations
    assert alloc[["amount"]].values.tolist() == [[90000]] and str(alloc["date"].iloc[0].date()) == "2026-05-11"
