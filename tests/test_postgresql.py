"""The store on a real PostgreSQL server gives exactly what SQLite gives."""
import pandas as pd
import pytest

from echeances import Workspace
from echeances.demo import demo_sources
from echeances.errors import ImportRefused
from tests.conftest import write_files

def open_on(path, url, monkeypatch) -> Workspace:
    monkeypatch.setenv("ECHEANCES_DB", url)
    ws = Workspace.open(path)
    monkeypatch.delenv("ECHEANCES_DB")
    return ws


def test_postgresql__demo_gives_the_same_open_items_and_aging_as_sqlite(tmp_path, pg_url, monkeypatch):
    demo_sources(tmp_path / "src")
    lite = Workspace.open(tmp_path / "lite")
    lite.import_folder(tmp_path / "src")
    pg = open_on(tmp_path / "pg", pg_url, monkeypatch)
    assert pg.store.engine.dialect.name == "postgresql"
    pg.import_folder(tmp_path / "src")
    for as_of in ("2025-06-30", "2026-12-04"):
        columns = ["number", "part", "client_id", "due_date", "amount", "paid", "outstanding", "bucket"]
        pd.testing.assert_frame_equal(pg.open_items(as_of)[columns], lite.open_items(as_of)[columns])
        for by in ("client", "site", "manager"):
            pd.testing.assert_frame_equal(pg.aging(by=by, as_of=as_of), lite.aging(by=by, as_of=as_of))
    counts = pg.import_folder(tmp_path / "src")
    assert all(c["inserted"] == c["updated"] == 0 for c in counts.values())


def test_postgresql__refused_import_leaves_the_database_untouched(tmp_path, pg_url, monkeypatch, base_folder):
    pg = open_on(tmp_path / "pg", pg_url, monkeypatch)
    pg.import_folder(base_folder)
    bad = write_files(tmp_path / "bad", clients="client_id;name\nC3;Nouveau client\n",
                      payments="payment_id;client_id;date;amount\nP1;C1;2026-05-10;1 000\n",
                      allocations="source_id;invoice;amount\nP1;F1;900\nP1;F3;300\n")
    with pytest.raises(ImportRefused) as info:
        pg.import_folder(bad)
    assert [str(p) for p in info.value.problems] == [
        "allocations.csv:3: les imputations de P1 (1\u202f200,00\u00a0€) dépassent son montant 1\u202f000,00\u00a0€"]
    pg.refresh()
    assert pg.frames.clients["client_id"].tolist() == ["C1", "C2"]
    assert pg.frames.payments.empty and pg.frames.allocations.empty
