"""Shared fixtures: tiny import folders written inline, and workspaces in tmp_path."""
from __future__ import annotations

import itertools
import os
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from echeances import Workspace


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a test that would be skipped (a missing browser, server…) fails instead."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"CI=true : un test ne peut pas être sauté ici ({report.longrepr})"


def write_files(folder: Path, **files: str) -> Path:
    """``write_files(dir, clients="...")`` writes ``clients.csv`` etc. (dedented text)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


BASE = dict(
    clients="""\
        client_id;name;kind;payment_terms
        C1;Dupont SARL;professionnel;30 jours fin de mois
        C2;M. Martin;particulier;comptant
        """,
    sites="""\
        site_id;client_id;name;manager
        S1;C1;Villa Les Pins;Paul Girard
        S2;C2;Salle de bains;Inès Morel
        """,
    invoices="""\
        number;client_id;site_id;kind;issue_date;total;retention
        F1;C1;S1;invoice;15/04/2026;1 200,00;60,00
        F2;C2;S2;invoice;2026-05-01;500;
        F3;C1;;deposit;2026-05-02;300;
        """,
)


@pytest.fixture
def base_folder(tmp_path) -> Path:
    return write_files(tmp_path / "src", **BASE)


@pytest.fixture
def workspace(tmp_path, base_folder) -> Workspace:
    ws = Workspace.open(tmp_path / "ws")
    ws.import_folder(base_folder)
    yield ws
    ws.close()


_databases = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    """One throwaway PostgreSQL cluster on 127.0.0.1 for the whole run (see ``tests/postgres.py``)."""
    from tests.postgres import Cluster

    try:
        cluster = Cluster()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    url = cluster.start()
    yield url
    cluster.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL of a fresh, empty database on the test server."""
    name = f"echeances_{next(_databases)}"
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return pg_server.rsplit("/", 1)[0] + "/" + name
