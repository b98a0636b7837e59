"""Reminder letters and statements: PDF text, penalties lines, statement balances, document log."""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess

import pytest

from echeances import Workspace
from echeances.documents import ReminderRequest, StatementRequest
from echeances.documents.environment import long_date
from echeances.errors import EcheancesError
from echeances.settings import write_demo_settings
from tests.conftest import write_files

AS_OF = dt.date(2026, 4, 20)

FILES = dict(
    clients="""\
        client_id;name;kind;address;postcode;city;payment_terms
        C1;Dupont SARL;professionnel;5 avenue Foch;69006;Lyon;30 jours
        C2;M. Martin;particulier;3 impasse des Lilas;69100;Villeurbanne;comptant
        """,
    sites="""\
        site_id;client_id;name;address;postcode;city;manager
        S1;C1;Villa Les Pins;8 chemin des Pins;69130;Écully;Paul Girard
        S2;C1;Immeuble Garibaldi;40 rue Garibaldi;69003;Lyon;Inès Morel
        S3;C2;Salle de bains;3 impasse des Lilas;69100;Villeurbanne;Inès Morel
        """,
    invoices="""\
        number;client_id;site_id;kind;issue_date;due_date;total;retention;retention_release_date
        F1;C1;S1;invoice;2026-01-05;2026-01-10;10 000,00;;
        F2;C1;S1;invoice;2026-02-01;2026-03-01;2 400,00;120,00;2027-02-01
        F3;C1;S2;progress;2026-03-01;2026-03-31;3 600,00;;
        A1;C1;S2;credit_note;2026-03-20;;600,00;;
        F4;C2;S3;invoice;2026-02-10;2026-02-10;1 500,00;;
        F5;C1;S2;invoice;2026-04-10;2026-05-10;800,00;;
        """,
    payments="""\
        payment_id;client_id;date;amount;method;reference
        P1;C1;2026-03-15;1 000,00;virement;VIR-881
        P2;C1;2026-04-01;500,00;chèque;CHQ-0042
        """,
    allocations="""\
        source_id;invoice;amount;date
        P1;F2;1 000,00;2026-03-15
        """,
)


def pdf_text(pdf: bytes, layout: bool = True) -> str:
    """The PDF's text as pdftotext lays it out (table rows on one line), or block by block
    (``layout=False``: the address block stays whole beside the letterhead); pypdf without poppler."""
    if shutil.which("pdftotext"):
        command = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
        return subprocess.run(command, input=pdf, capture_output=True, check=True).stdout.decode()
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def squash(text: str) -> str:
    """Whitespace of any kind (narrow no-break spaces in amounts, line breaks) as one plain space."""
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    write_demo_settings(root / "ws")
    workspace = Workspace.open(root / "ws")
    workspace.import_folder(write_files(root / "src", **FILES))
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def notice(ws):
    return ws.reminder("mise_en_demeure", client="C1", as_of=AS_OF)


def test_mise_en_demeure__lists_client_invoices_outstanding_and_totals(notice):
    assert "Dupont SARL 5 avenue Foch 69006 Lyon" in squash(pdf_text(notice.pdf, layout=False))
    text = squash(pdf_text(notice.pdf))
    # F2: 2 280,00 € net, 1 000,00 € received; F3 overdue; F5 not yet due; retention not due
    assert "Facture n° F1 05/01/2026 10/01/2026 10 000,00 € 0,00 € 10 000,00 € 100 j" in text
    assert "Facture n° F2 01/02/2026 01/03/2026 2 280,00 € 1 000,00 € 1 280,00 € 50 j" in text
    assert "Situation n° F3 01/03/2026 31/03/2026 3 600,00 € 0,00 € 3 600,00 € 20 j" in text
    assert "F5" not in text
    assert "Total (3 échéances) 15 880,00 € 1 000,00 € 14 880,00 €" in text
    assert notice.invoices == ("F1", "F2", "F3")


def test_mise_en_demeure__professional_gets_l441_10_interest_and_40_euros_per_invoice(notice):
    text = squash(pdf_text(notice.pdf))
    assert "F1 10 000,00 € 100 332,88 € 40,00 €" in text  # 10 000 € × 12,15 % × 100/365
    assert "taux de 12,15 % l'an" in text
    assert "article L441-10 du Code de commerce" in text and "article D441-5" in text
    assert "Indemnités forfaitaires (art. D441-5) 120,00 €" in text
    # F2: 2 280,00 € late 14 days, then 1 280,00 € for 36 more days after the 1 000,00 € payment
    assert "F2 1 280,00 € 50 25,96 € 40,00 €" in text
    assert "F3 3 600,00 € 20 23,97 € 40,00 €" in text
    assert "Total à régler 15 382,81 €" in text  # 14 880,00 + 382,81 of interest + 3 × 40,00
    assert notice.total == 14_880_00  # the log keeps the principal in arrears
    # The subject tells the invoices' rest due apart from the sum claimed with penalties.
    assert ("Objet : mise en demeure — 3 échéances impayées (14 880,00 €), somme réclamée avec intérêts et "
            "indemnités : 15 382,81 €") in text


def test_mise_en_demeure__legal_mentions_deadline_and_legal_action(notice):
    text = squash(pdf_text(notice.pdf))
    assert "Recommandé avec accusé de réception" in text
    assert "MISE EN DEMEURE DE PAYER" in text
    assert "mettons en demeure" in text and "dans un délai de 8 jours à compter de la réception" in text
    assert "procédure judiciaire de recouvrement" in text
    assert "article 1344 du Code civil" in text
    assert "Lyon, le 20 avril 2026" in text


def test_mise_en_demeure__private_client_has_no_indemnity_and_no_commercial_interest(ws):
    doc = ws.reminder("mise_en_demeure", client="C2", as_of=AS_OF)
    text = squash(pdf_text(doc.pdf))
    assert "M. Martin" in text and "Facture n° F4" in text and "1 500,00 €" in text
    assert "40,00 €" not in text and "L441-10" not in text and "D441-5" not in text
    assert "article 1231-6 du Code civil" in text
    assert doc.total == 1_500_00 and "Total à régler 1 500,00 €" in text
    assert "Objet : mise en demeure — 1 échéance impayée (1 500,00 €) Madame" in text


def test_relance_2__recalls_penalties_for_a_professional(ws):
    text = squash(pdf_text(ws.reminder("relance_2", site="S1", as_of=AS_OF).pdf))
    assert "Chantier Villa Les Pins" in text and "F3" not in text
    assert "indemnité forfaitaire pour frais de recouvrement de 40,00 € par facture" in text


def test_facture_en_retard__one_invoice_with_its_partial_payment(ws):
    text = squash(pdf_text(ws.reminder("facture_en_retard", invoice="F2", as_of=AS_OF).pdf))
    assert "Objet : facture n° F2 restant impayée" in text
    assert "la facture n° F2 du 1er février 2026, d'un montant de 2 400,00 € TTC" in text
    assert "Compte tenu des 1 000,00 € déjà reçus, il reste dû à ce jour 1 280,00 €." in text
    assert "au plus tard le 28 avril 2026" in text


@pytest.mark.parametrize("template, kwargs, message", [
    ("facture_en_retard", {"client": "C1"}, "Le modèle facture_en_retard s'utilise avec --invoice (une facture)"),
    ("factures_chantier_en_retard", {"invoice": "F1"}, "Le modèle factures_chantier_en_retard s'utilise avec --site (un chantier)"),
    ("relance_1", {"invoice": "F5"}, "Rien à relancer : aucune échéance en retard pour la facture F5 au 20/04/2026"),
    ("relance_1", {"client": "C9"}, "Client inconnu : C9"),
    ("relance_9", {"client": "C1"}, "Modèle introuvable : relance_9"),
    ("releve_compte_client", {"client": "C1"},
     "Le modèle releve_compte_client est un relevé de compte : utilisez « statement »"),
])
def test_reminder__refusals_name_the_problem(ws, template, kwargs, message):
    with pytest.raises(EcheancesError) as err:
        ws.reminder(template, as_of=AS_OF, **kwargs)
    assert str(err.value).startswith(message)


@pytest.mark.parametrize("scope", [{"client": "C1"}, {"site": "S1"}, {"site": "S2"}, {"client": "C2"}])
@pytest.mark.parametrize("end", [dt.date(2026, 3, 16), AS_OF, dt.date(2026, 12, 31)])
def test_statement__running_balance_ends_on_the_aging_balance(ws, scope, end):
    doc = ws.statement(start=dt.date(2026, 2, 1), end=end, **scope)
    by, key = ("client", "client_id") if "client" in scope else ("site", "site_id")
    aging = ws.aging(by=by, as_of=end).set_index(key)["balance"]
    expected = int(aging.get(next(iter(scope.values())), 0))
    assert doc.total == expected
    text = squash(pdf_text(doc.pdf))
    assert f"Solde au {long_date(end)}" in text
    from echeances.money import format_amount
    assert squash(format_amount(expected)) in text.split(f"Solde au {long_date(end)}")[1][:80]


def test_statement__client_movements_opening_balance_credit_and_retention(ws):
    doc = ws.statement(client="C1", start=dt.date(2026, 3, 1), end=AS_OF)
    text = squash(pdf_text(doc.pdf))
    assert "Solde à l'ouverture 12 400,00 €" in text  # F1 + F2 before March
    assert "Règlement par virement réf. VIR-881 1 000,00 € 15 000,00 €" in text
    assert "Avoir n° A1" in text and "Règlement par chèque réf. CHQ-0042" in text
    assert "Crédit en votre faveur − 1 100,00 €" in text  # credit note 600 + cheque 500
    assert "Retenues de garantie" in text and "01/02/2027 120,00 € 120,00 €" in text


def test_document_log__pdf_stored_under_year_with_sha256_and_invoices(ws, notice):
    assert notice.file.parent == ws.path / "documents" / "2026"
    assert notice.file.read_bytes() == notice.pdf
    assert hashlib.sha256(notice.pdf).hexdigest() == notice.sha256
    log = ws.documents(client="C1").set_index("id").loc[notice.id]
    assert (log["kind"], log["template"], log["sha256"]) == ("reminder", "mise_en_demeure", notice.sha256)
    assert log["file"] == notice.file.relative_to(ws.path).as_posix()
    codes = ws.frames.invoices.set_index("number")["invoice"]
    assert log["invoices"] == tuple(int(codes[n]) for n in ("F1", "F2", "F3"))


def test_render_many__on_two_processes_keeps_order_and_reports_progress(ws):
    calls = []
    requests = [ReminderRequest("relance_1", client="C1", as_of=AS_OF),
                StatementRequest(site="S2", start=dt.date(2026, 1, 1), end=AS_OF),
                ReminderRequest("relance_1", client="C2", as_of=AS_OF)]
    docs = ws.render_many(requests, progress=lambda done, total: calls.append((done, total)), processes=2)
    assert [(d.template, d.client_id, d.site_id) for d in docs] == [
        ("relance_1", "C1", None), ("releve_compte_chantier", "C1", "S2"), ("relance_1", "C2", None)]
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert all(d.file.exists() for d in docs)


def test_render_many__one_bad_request_makes_nothing_and_lists_all(ws):
    before = len(ws.documents())
    with pytest.raises(EcheancesError) as err:
        ws.render_many([ReminderRequest("relance_1", client="C1", as_of=AS_OF),
                        ReminderRequest("relance_1", client="C9"), ReminderRequest("relance_1", site="S9")])
    assert str(err.value) == ("2 document(s) impossible(s), aucun n'a été créé :\n"
                              "Client inconnu : C9\nChantier inconnu : S9")
    assert len(ws.documents()) == before


def test_penalties__per_invoice_for_a_client(ws):
    table = ws.penalties(client="C1", as_of=AS_OF)
    assert table[["number", "overdue", "days_overdue", "interest", "indemnity"]].to_dict("records")[0] == {
        "number": "F1", "overdue": 1_000_000, "days_overdue": 100, "interest": 33288, "indemnity": 4000}
    assert ws.penalties(client="C2", as_of=AS_OF)[["interest", "indemnity"]].to_dict("records") == [
        {"interest": 0, "indemnity": 0}]


def test_long_date__first_of_month_is_an_ordinal():
    assert long_date(dt.date(2026, 8, 1)) == "1er août 2026"
    assert long_date(dt.date(2026, 4, 15)) == "15 avril 2026"


@pytest.fixture
def ws_with_corrections(tmp_path):
    files = dict(FILES, write_offs="""\
        invoice;date;amount;reason
        F3;2026-04-05;0,40;écart de règlement
        """)
    workspace = Workspace.open(tmp_path / "ws")
    workspace.import_folder(write_files(tmp_path / "src", **files))
    workspace.cancel_payment("P1", "virement rejeté", date=dt.date(2026, 4, 10))
    yield workspace
    workspace.close()


@pytest.mark.parametrize("scope, key", [({"client": "C1"}, "client"), ({"site": "S1"}, "site"),
                                        ({"site": "S2"}, "site")])
def test_statement__cancellation_and_write_off_keep_balance_equal_to_aging(ws_with_corrections, scope, key):
    ws = ws_with_corrections
    for end in (dt.date(2026, 4, 6), dt.date(2026, 4, 9), AS_OF):
        doc = ws.statement(start=dt.date(2026, 3, 1), end=end, **scope)
        column = "client_id" if key == "client" else "site_id"
        balance = ws.aging(by=key, as_of=end).set_index(column)["balance"]
        assert doc.total == int(balance.get(next(iter(scope.values())), 0)), (scope, end)
    text = squash(pdf_text(doc.pdf))
    if scope != {"site": "S2"}:
        assert "Annulation du règlement P1 1 000,00 €" in text
    if scope != {"site": "S1"}:
        assert "Solde sans règlement, facture n° F3" in text and "0,40 €" in text


@pytest.mark.parametrize("rate, expected", [
    ("9", "taux de 9,00 % l'an"),
    ("5", "Taux contractuel de 5 % refusé : il ne peut être inférieur à trois fois le taux d'intérêt légal "
          "(2.62 % × 3 = 7.86 % au semestre du 01/01/2026)"),
    ("douze", "settings.toml : [documents] contract_rate = 'douze' n'est pas un taux"),
])
def test_contract_rate__from_settings_used_or_refused(tmp_path, rate, expected):
    write_demo_settings(tmp_path / "ws")
    settings = tmp_path / "ws" / "settings.toml"
    settings.write_text(settings.read_text("utf-8").replace('contract_rate = ""', f'contract_rate = "{rate}"'), "utf-8")
    workspace = Workspace.open(tmp_path / "ws")
    workspace.import_folder(write_files(tmp_path / "src", **FILES))
    try:
        doc = workspace.reminder("mise_en_demeure", client="C1", as_of=AS_OF)
    except EcheancesError as exc:
        assert str(exc).startswith(expected)
    else:
        text = squash(pdf_text(doc.pdf))
        assert expected in text and "Banque centrale" not in text
        assert "F1 10 000,00 € 100 246,58 € 40,00 €" in text  # 10 000 € × 9 % × 100/365
    finally:
        workspace.close()


@pytest.mark.parametrize("template, scope", [
    ("facture_en_retard", {"invoice": "F3"}), ("factures_chantier_en_retard", {"site": "S1"}),
    ("factures_client_en_retard", {"client": "C1"}), ("relance_1", {"client": "C1"}),
    ("relance_2", {"site": "S2"}), ("mise_en_demeure", {"invoice": "F2"}),
])
def test_every_letter_template__names_client_each_invoice_outstanding_and_total(ws, template, scope):
    from echeances.money import format_amount

    doc = ws.reminder(template, as_of=AS_OF, **scope)
    text = squash(pdf_text(doc.pdf))
    assert "Dupont SARL" in text and "Lyon, le 20 avril 2026" in text and "Page 1 / " in text
    items = ws.open_items(AS_OF)
    items = items[(items["number"].isin(doc.invoices)) & (items["days_overdue"] > 0)]
    assert len(items) == len(doc.invoices) > 0
    for row in items.itertuples():
        assert f"n° {row.number} " in text and squash(format_amount(row.outstanding)) in text
    assert squash(format_amount(int(items["outstanding"].sum()))) in text
    assert "SIRET 123 456 789 00012" in text and "IBAN FR76 1234 5678 9012 3456 7890 123" in text
