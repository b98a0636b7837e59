"""Email through the workspace and the command line: a logged document goes out once, marks follow."""
from __future__ import annotations

import email
import email.policy
import json
import socket
import textwrap

import pandas as pd
import pytest
import sqlalchemy as sa

from echeances import Workspace
from echeances.cli import main
from echeances.mail import AlreadySent
from echeances.mail.marks import with_reminder_marks
from echeances.store import documents as document_log

FILES = {
    "clients": """\
        client_id;name;kind;email;payment_terms
        C1;Dupont SARL;professionnel;Dupont SARL <compta@dupont.example>;30 jours fin de mois
        C2;M. Martin;particulier;;comptant
        """,
    "sites": """\
        site_id;client_id;name;manager
        S1;C1;Villa Les Pins;Paul Girard
        S2;C2;Salle de bains;Inès Morel
        """,
    "invoices": """\
        number;client_id;site_id;kind;issue_date;total;retention;pdf
        F1;C1;S1;invoice;15/04/2026;1 200,00;60,00;factures/F1.pdf
        F2;C2;S2;invoice;2026-05-01;500;;
        F3;C1;;deposit;2026-05-02;300;;
        """,
}
INVOICE_PDF = b"%PDF-1.4\n% facture F1\n" + bytes(range(256)) * 2 + b"\n%%EOF\n"
SETTINGS = '[company]\nname = "Bâtiments Durand"\nemail = "compta@durand.example"\n'


@pytest.fixture
def ws(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name, text in FILES.items():
        (source / f"{name}.csv").write_text(textwrap.dedent(text), encoding="utf-8")
    root = tmp_path / "ws"
    (root / "factures").mkdir(parents=True)
    (root / "factures" / "F1.pdf").write_bytes(INVOICE_PDF)
    (root / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    workspace = Workspace.open(root)
    workspace.import_folder(source)
    yield workspace
    workspace.close()


def log_document(ws, template="relance_1", client="C1", invoices=("F1", "F3"), kind="reminder") -> int:
    """A document in the log without rendering it (the PDF is a few bytes made here)."""
    path = ws.path / "documents" / f"{template}-{client}.pdf"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n% " + template.encode() + b"\n%%EOF\n")
    row = dict(kind=kind, template=template, client=ws.client_code(client), site=None,
               as_of=pd.Timestamp("2026-12-01").date(), created_at=pd.Timestamp("2026-12-01 08:00").to_pydatetime(),
               sha256="0" * 64, file=str(path.relative_to(ws.path)), size=path.stat().st_size, total=0)
    with ws.store.write() as conn:
        return document_log.insert_document(conn, row, [ws.invoice_code(n) for n in invoices])


def outbox_messages(ws):
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted((ws.path / "outbox").glob("*.eml"))]


def test_send__rendered_reminder_goes_to_the_outbox_once_with_pdfs(ws):
    doc = ws.reminder("relance_1", client="C1")
    sending = ws.send(doc.id)
    assert (sending.status, sending.transport, sending.recipients) == ("envoyé", "outbox", ("compta@dupont.example",))
    [message] = outbox_messages(ws)
    assert message["To"] == "Dupont SARL <compta@dupont.example>"
    assert message["Reply-To"] == "compta@durand.example"
    attachments = {p.get_filename(): p.get_content() for p in message.iter_attachments()}
    assert attachments == {doc.file.name: doc.pdf, "F1.pdf": INVOICE_PDF}
    body = message.get_body(("plain",)).get_content()
    assert "- F1 du 15/04/2026, échue le 31/05/2026 : 1\u202f140,00\xa0€\n" in body  # the retention is not due
    assert "Total restant dû : 1\u202f440,00\xa0€." in body
    with pytest.raises(AlreadySent, match=f"^Le document {doc.id} a déjà été envoyé le "):
        ws.send(doc.id)
    assert len(outbox_messages(ws)) == 1


def test_send__status_and_marks_follow_the_log(ws):
    printed = log_document(ws, "relance_1", invoices=("F1",))
    emailed = log_document(ws, "relance_2", invoices=("F1", "F3"))
    statement = log_document(ws, "releve_compte_client", invoices=("F1", "F3"), kind="statement")
    assert ws.send(emailed).status == "envoyé"
    assert ws.send(statement).status == "envoyé"  # a statement is not a reminder: no interval
    status = ws.sent_status().set_index("document")
    assert status.loc[[printed, emailed, statement], "status"].tolist() == ["", "envoyé", "envoyé"]
    assert status.loc[emailed, "to_addrs"] == "Dupont SARL <compta@dupont.example>"
    marks = ws.reminder_marks()
    f1, f3 = ws.invoice_code("F1"), ws.invoice_code("F3")
    assert marks.loc[f1, ["last_reminder_template", "reminders_sent", "emailed"]].tolist() == ["relance_2", 2, True]
    assert marks.loc[f3, ["last_reminder_template", "reminders_sent", "emailed"]].tolist() == ["relance_2", 1, True]
    items = with_reminder_marks(ws.open_items(as_of="2026-12-04"), marks)
    f2 = items[items["number"] == "F2"].iloc[0]
    assert (f2["reminders_sent"], f2["emailed"], pd.isna(f2["last_reminder_at"])) == (0, False, True)


def test_send__new_reminder_for_same_invoice_within_interval_needs_force(ws):
    first = log_document(ws, "relance_1", invoices=("F1",))
    second = log_document(ws, "relance_2", invoices=("F1", "F3"))
    ws.send(first)
    with pytest.raises(AlreadySent, match=r"^Une relance pour F1 a déjà été envoyée le .* \(document "
                                          rf"{first}\) : moins de 7 jours\. Pour relancer quand même"):
        ws.send(second)
    assert ws.send(second, force=True).status == "envoyé"
    assert len(outbox_messages(ws)) == 2


def test_send__client_without_email_and_traversal_are_refused_before_any_record(ws):
    doc = log_document(ws, "facture_en_retard", client="C2", invoices=("F2",))
    with pytest.raises(Exception) as refused:
        ws.send(doc)
    assert str(refused.value) == "Aucun destinataire : le client M. Martin n'a pas d'adresse email ; indiquez-en une (--to)."
    with pytest.raises(Exception) as refused:
        ws.send(doc, to=["martin@example.fr"], attach=["../src/clients.csv"])
    assert str(refused.value) == ("Pièce jointe refusée : « ../src/clients.csv » est en dehors de l'espace de "
                                  "travail.")
    with ws.store.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM sendings")).scalar() == 0
    assert ws.send(doc, to=["martin@example.fr"]).status == "envoyé"


def test_cli__send_documents_and_refusal(ws, capsys):
    doc = log_document(ws, "relance_1", invoices=("F1",))
    assert main(["-w", str(ws.path), "send", str(doc), "--cc", "chef@dupont.example"]) == 0
    assert capsys.readouterr().out.startswith(f"Document {doc} déposé dans la boîte d'envoi (essai 1) à "
                                              "compta@dupont.example, chef@dupont.example — Message-ID <")
    assert main(["-w", str(ws.path), "send", str(doc)]) == 2
    assert capsys.readouterr().err.startswith(f"Erreur : Le document {doc} a déjà été envoyé le ")
    assert main(["-w", str(ws.path), "documents", "--client", "C1", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["document"], row["status"], row["template"]) == (doc, "envoyé", "relance_1")


def test_cli__mail_test_explains_a_server_that_is_down(ws, capsys, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("ECHEANCES_MAIL_TRANSPORT", "smtp")
    monkeypatch.setenv("ECHEANCES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ECHEANCES_SMTP_PORT", str(port))
    monkeypatch.setenv("ECHEANCES_SMTP_SECURITY", "none")
    assert main(["-w", str(ws.path), "mail-test"]) == 75
    assert capsys.readouterr().err == (f"Échec du test d'envoi (à renvoyer) : Connexion refusée par 127.0.0.1:{port} : "
                                       "le serveur SMTP est arrêté ou l'adresse est fausse. Le message est à renvoyer.\n")


def test_cli__mail_test_reaches_a_real_server(ws, capsys, monkeypatch):
    from aiosmtpd.controller import Controller

    class Keep:
        messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope.content)
            return "250 OK"

    handler = Keep()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for name, value in (("TRANSPORT", "smtp"),):
            monkeypatch.setenv(f"ECHEANCES_MAIL_{name}", value)
        monkeypatch.setenv("ECHEANCES_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ECHEANCES_SMTP_PORT", str(port))
        monkeypatch.setenv("ECHEANCES_SMTP_SECURITY", "none")
        assert main(["-w", str(ws.path), "mail-test", "--to", "moi@durand.example"]) == 0
    finally:
        controller.stop()
    assert capsys.readouterr().out == f"Message de test accepté par 127.0.0.1:{port}.\n"
    [content] = handler.messages
    assert email.message_from_bytes(content, policy=email.policy.default)["Subject"] == "Échéances : message de test"


def test_send__two_processes_at_once_send_once(ws):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    doc = log_document(ws, "relance_1", invoices=("F1",))
    barrier = Barrier(4)

    def attempt(_):
        other = Workspace.open(ws.path)  # its own engine and connections, like another process
        try:
            barrier.wait()
            return other.send(doc).status
        except AlreadySent:
            return "refusé"
        finally:
            other.close()

    with ThreadPoolExecutor(4) as pool:
        results = sorted(pool.map(attempt, range(4)))
    assert results == ["envoyé", "refusé", "refusé", "refusé"]
    assert len(outbox_messages(ws)) == 1


def test_send__reminder_for_an_invoice_paid_since_needs_force(ws):
    import datetime as dt

    from echeances.payment_specs import PaymentSpec

    doc = log_document(ws, "relance_1", invoices=("F1", "F3"))
    ws.record_payment(PaymentSpec(client_id="C1", date=dt.date(2026, 12, 2), amount=30000,
                                  allocations=(("F3", None),)))
    with pytest.raises(AlreadySent) as refused:
        ws.send(doc)
    assert str(refused.value) == (f"Relance inutile : F3 est réglée depuis la création du document {doc}. "
                                  "Refaites la relance, ou utilisez --force pour l'envoyer quand même.")
    assert not (ws.path / "outbox").exists()
    assert ws.send(doc, force=True).status == "envoyé"


def test_cli__send_options_for_commands_that_make_a_document(ws, capsys):
    import argparse

    from echeances.cli.mail import add_send_options, send_made

    parser = argparse.ArgumentParser()
    add_send_options(parser)
    doc = log_document(ws, "relance_1", invoices=("F1",))
    assert send_made(ws, doc, parser.parse_args([])) == 0 and not (ws.path / "outbox").exists()
    assert send_made(ws, doc, parser.parse_args(["--send", "--mail-cc", "chef@dupont.example"])) == 0
    assert capsys.readouterr().out.startswith(f"Document {doc} déposé dans la boîte d'envoi (essai 1) à "
                                              "compta@dupont.example, chef@dupont.example")
    with pytest.raises(AlreadySent):
        send_made(ws, doc, parser.parse_args(["--send"]))


def test_sent_status__a_store_that_never_sent_has_an_empty_log(ws):
    doc = log_document(ws, "relance_1", invoices=("F1",))
    status = ws.sent_status()
    assert status[["document", "status", "attempts"]].values.tolist() == [[doc, "", 0]]
    assert ws.reminder_marks().loc[ws.invoice_code("F1"), ["reminders_sent", "emailed"]].tolist() == [1, False]
