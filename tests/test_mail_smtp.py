"""Sending through a real SMTP server on loopback (aiosmtpd): statuses, no duplicates, TLS, login."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402

from echeances.mail.compose import DocumentToSend, compose  # noqa: E402
from echeances.mail.config import MailConfig  # noqa: E402
from echeances.mail.sending import AlreadySent, send  # noqa: E402
from echeances.mail.transport import SMTPTransport  # noqa: E402
from echeances.store import Store  # noqa: E402
from echeances.store.sendings import read_sendings  # noqa: E402
from tests.mail_helpers import INVOICE_PDF, PDF, letter_workspace  # noqa: E402
from tests.net import free_port  # noqa: E402

PASSWORD = "mot-de-passe-très-secret"
CONTEXT = {
    "company": {"name": "Bâtiments Durand", "email": "compta@durand.example", "phone": "", "address": "",
                "signature": "Claire Durand"},
    "client": {"name": "Société Générale Bâtiment", "client_id": "C1"}, "site": None,
    "document": {"id": 7, "kind": "reminder", "template": "relance_1", "date": "04/12/2026", "filename": "r.pdf"},
    "invoices": [{"number": "F-2026-001", "issue_date": "15/04/2026", "due_date": "31/05/2026",
                  "total": "1 200,00 €", "outstanding": "1 140,00 €"}],
    "invoice_numbers": "F-2026-001", "total_outstanding": "1 140,00 €",
}


class Recorder:
    """Keeps every accepted message; can answer RCPT or DATA with a chosen reply."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.rcpt_replies: dict[str, str] = {}
        self.data_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"compta" \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made here: ``(cert.pem, key.pem)``."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    public = key.public_key()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def start_server(recorder: Recorder, port: int | None = None, **options) -> Controller:
    controller = Controller(recorder, hostname="127.0.0.1", port=port or free_port(), **options)
    controller.start()
    return controller


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def server(recorder):
    controller = start_server(recorder)
    yield controller
    controller.stop()


@pytest.fixture
def starttls_server(recorder, certificate):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    controller = start_server(recorder, tls_context=context, require_starttls=True, authenticator=authenticator,
                              auth_require_tls=True)
    yield controller
    controller.stop()


@pytest.fixture
def workspace(tmp_path) -> Path:
    return letter_workspace(tmp_path)


@pytest.fixture
def store(workspace):
    opened = Store.open(f"sqlite:///{workspace / 'echeances.sqlite'}")
    yield opened
    opened.close()


def config(port: int, **changes) -> MailConfig:
    values = dict(transport="smtp", sender="Bâtiments Durand <compta@durand.example>",
                  reply_to="compta@durand.example", host="127.0.0.1", port=port, security="none", timeout=5)
    values.update(changes)
    return MailConfig(**values)


def document(doc_id=7, invoices=(1,), template="relance_1") -> DocumentToSend:
    return DocumentToSend(id=doc_id, kind="reminder", template=template, file="documents/relance-7.pdf", client=1,
                          invoices=invoices, client_email="Société Générale Bâtiment <compta@sgb.example>",
                          invoice_pdfs=("factures/F-2026-001.pdf",), numbers={1: "F-2026-001", 2: "F-2026-002"})


def outgoing(workspace, cfg, doc=None, **extra):
    return compose(workspace, cfg, doc or document(), CONTEXT, **extra)


def statuses(store) -> list[tuple[int, int, str]]:
    with store.read() as conn:
        frame = read_sendings(conn)
    return list(zip(frame["document"], frame["attempt"], frame["status"]))


# --- accepted ---------------------------------------------------------------
def test_smtp__delivers_pdf_and_invoice_pdf_byte_identical_with_utf8_headers(workspace, store, server, recorder):
    cfg = config(server.port)
    out = outgoing(workspace, cfg, cc=["Chef de chantier <chef@sgb.example>"], bcc=["archive@durand.example"])
    sending = send(store, out, SMTPTransport(cfg, None))
    assert (sending.status, sending.reason, sending.attempt) == ("envoyé", None, 1), sending.reason
    assert len(recorder.messages) == 1
    mail_from, rcpt, content = recorder.messages[0]
    assert mail_from == "compta@durand.example"
    assert rcpt == ["compta@sgb.example", "chef@sgb.example", "archive@durand.example"]
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert parsed["Subject"] == "Rappel — factures en attente de règlement — Bâtiments Durand"
    assert parsed["From"] == "Bâtiments Durand <compta@durand.example>"
    assert parsed["To"] == "Société Générale Bâtiment <compta@sgb.example>"
    assert "Bcc" not in parsed and b"archive@durand.example" not in content
    assert parsed["Message-ID"] == sending.message_id
    attachments = {p.get_filename(): p.get_content() for p in parsed.iter_attachments()}
    assert attachments == {"relance-7.pdf": PDF, "F-2026-001.pdf": INVOICE_PDF}
    assert statuses(store) == [(7, 1, "envoyé")]


def test_smtp__same_document_again_needs_force(workspace, store, server, recorder):
    cfg = config(server.port)
    first = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None))
    with pytest.raises(AlreadySent) as refused:
        send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None))
    assert str(refused.value).startswith("Le document 7 a déjà été envoyé le ")
    assert str(refused.value).endswith(f" à Société Générale Bâtiment <compta@sgb.example> (Message-ID "
                                       f"{first.message_id}). Pour l'envoyer de nouveau, utilisez --force.")
    assert len(recorder.messages) == 1 and statuses(store) == [(7, 1, "envoyé")]
    again = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None), force=True)
    assert (again.status, again.attempt) == ("envoyé", 2)
    assert len(recorder.messages) == 2


def test_smtp__new_reminder_for_same_invoices_within_interval_needs_force(workspace, store, server, recorder):
    cfg = config(server.port)
    day = dt.datetime(2026, 12, 4, 9, 0)
    send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None), clock=lambda: day)
    later = outgoing(workspace, cfg, document(doc_id=8, invoices=(1, 2), template="relance_2"))
    with pytest.raises(AlreadySent) as refused:
        send(store, later, SMTPTransport(cfg, None), clock=lambda: day + dt.timedelta(days=6, hours=23))
    assert str(refused.value) == ("Une relance pour F-2026-001 a déjà été envoyée le 04/12/2026 à 10:00 à "
                                  "Société Générale Bâtiment <compta@sgb.example> (document 7) : moins de 7 "
                                  "jours. Pour relancer quand même, utilisez --force.")
    assert len(recorder.messages) == 1
    other = outgoing(workspace, cfg, document(doc_id=9, invoices=(2,)))
    assert send(store, other, SMTPTransport(cfg, None), clock=lambda: day).status == "envoyé"
    sent = send(store, later, SMTPTransport(cfg, None), clock=lambda: day + dt.timedelta(days=7, hours=1))
    assert sent.status == "envoyé" and len(recorder.messages) == 3


def test_smtp__one_refused_recipient_among_several_is_sent_with_the_reason(workspace, store, server, recorder):
    recorder.rcpt_replies["chef@sgb.example"] = "550 5.1.1 Mailbox unknown"
    cfg = config(server.port)
    sending = send(store, outgoing(workspace, cfg, cc=["chef@sgb.example"]), SMTPTransport(cfg, None))
    assert sending.status == "envoyé"
    assert sending.reason == "Accepté sauf pour : chef@sgb.example : 550 5.1.1 Mailbox unknown"
    assert recorder.messages[0][1] == ["compta@sgb.example"]


# --- TLS and login ----------------------------------------------------------
def test_smtp__starttls_with_self_signed_certificate_and_login(workspace, store, starttls_server, recorder,
                                                               certificate):
    cfg = config(starttls_server.port, security="starttls", user="compta", ca_file=str(certificate[0]))
    sending = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, PASSWORD))
    assert sending.status == "envoyé", sending.reason
    assert len(recorder.messages) == 1


def test_smtp__wrong_password_fails_and_is_never_shown(workspace, store, starttls_server, recorder, certificate):
    cfg = config(starttls_server.port, security="starttls", user="compta", ca_file=str(certificate[0]))
    sending = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, "mauvais-mot-de-passe"))
    assert sending.status == "échec", sending.reason
    assert sending.reason == (f"Identifiant ou mot de passe SMTP refusé par 127.0.0.1:{starttls_server.port} "
                              "pour compta (535 5.7.8 Authentication credentials invalid).")
    assert "mauvais" not in sending.reason and not recorder.messages
    assert statuses(store) == [(7, 1, "échec")]


def test_smtp__untrusted_certificate_fails(workspace, store, starttls_server, recorder):
    cfg = config(starttls_server.port, security="starttls", user="compta")
    sending = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, PASSWORD))
    assert sending.status == "échec"
    assert sending.reason.startswith(f"Certificat du serveur SMTP 127.0.0.1:{starttls_server.port} non vérifié (")
    assert PASSWORD not in sending.reason and not recorder.messages


def test_smtp__implicit_tls(workspace, store, recorder, certificate):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    controller = start_server(recorder, ssl_context=context)
    try:
        cfg = config(controller.port, security="ssl", ca_file=str(certificate[0]))
        assert send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None)).status == "envoyé"
    finally:
        controller.stop()
    assert len(recorder.messages) == 1


# --- temporary and permanent failures ---------------------------------------
def test_smtp__server_down_is_to_resend_then_goes_without_force(workspace, store, recorder):
    port = free_port()
    cfg = config(port)
    sending = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None))
    assert sending.status == "à renvoyer"
    assert sending.reason == (f"Connexion refusée par 127.0.0.1:{port} : le serveur SMTP est arrêté ou "
                              "l'adresse est fausse. Le message est à renvoyer.")
    controller = start_server(recorder, port=port)
    try:
        retry = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None))
    finally:
        controller.stop()
    assert (retry.status, retry.attempt) == ("envoyé", 2)
    assert len(recorder.messages) == 1
    assert statuses(store) == [(7, 1, "à renvoyer"), (7, 2, "envoyé")]


def test_smtp__451_is_to_resend(workspace, store, server, recorder):
    recorder.data_reply = "451 4.3.0 Try again later"
    cfg = config(server.port)
    sending = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None))
    assert sending.status == "à renvoyer"
    assert sending.reason == (f"Le serveur 127.0.0.1:{server.port} a répondu « 451 4.3.0 Try again later » : "
                              "refus temporaire, le message est à renvoyer.")
    assert not recorder.messages
    recorder.data_reply = None
    assert send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None)).status == "envoyé"
    assert len(recorder.messages) == 1


def test_smtp__550_is_a_failure(workspace, store, server, recorder):
    recorder.rcpt_replies["compta@sgb.example"] = "550 5.1.1 No such user"
    cfg = config(server.port)
    sending = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None))
    assert sending.status == "échec"
    assert sending.reason == (f"Destinataire(s) refusé(s) par 127.0.0.1:{server.port} — compta@sgb.example : "
                              "550 5.1.1 No such user : refus définitif, le message n'est pas parti.")
    assert not recorder.messages and statuses(store) == [(7, 1, "échec")]


# --- crash between acceptance and logging -----------------------------------
CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from echeances.mail.compose import DocumentToSend, compose
    from echeances.mail.config import MailConfig
    from echeances.mail.sending import send
    from echeances.mail.transport import SMTPTransport
    from echeances.store import Store

    class KilledAfterAcceptance(SMTPTransport):
        def deliver(self, *args, **kwargs):
            super().deliver(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)  # the server said 250; we die before logging it

    workspace, port = Path(sys.argv[1]), int(sys.argv[2])
    cfg = MailConfig(transport="smtp", sender="compta@durand.example", host="127.0.0.1", port=port,
                     security="none", timeout=5)
    doc = DocumentToSend(id=7, kind="reminder", template="relance_1", file="documents/relance-7.pdf", client=1,
                         invoices=(1,), client_email="compta@sgb.example")
    context = {"company": {"name": "D", "signature": "D"}, "invoices": [], "invoice_numbers": "",
               "total_outstanding": "0,00 €"}
    store = Store.open(f"sqlite:///{workspace / 'echeances.sqlite'}")
    send(store, compose(workspace, cfg, doc, context), KilledAfterAcceptance(cfg, None))
""")


def test_smtp__killed_after_acceptance_is_detected_and_not_sent_twice(workspace, store, server, recorder):
    child = subprocess.run([sys.executable, "-c", CHILD, str(workspace), str(server.port)],
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == -9, child.stderr
    assert len(recorder.messages) == 1
    with store.read() as conn:
        row = conn.execute(sa.text("SELECT status, message_id, finished_at FROM sendings")).one()
    assert row.status == "en cours" and row.finished_at is None
    parsed = email.message_from_bytes(recorder.messages[0][2], policy=email.policy.default)
    assert parsed["Message-ID"] == row.message_id
    cfg = config(server.port)
    with pytest.raises(AlreadySent) as refused:
        send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None))
    assert str(refused.value).startswith("Le document 7 a un envoi commencé le ")
    assert str(refused.value).endswith(f"(Message-ID {row.message_id}) dont le résultat n'a pas été enregistré : "
                                       "le message a peut-être été accepté. Vérifiez auprès du destinataire ou "
                                       "dans les messages envoyés, puis utilisez --force pour l'envoyer de nouveau.")
    assert len(recorder.messages) == 1
    forced = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None), force=True)
    assert (forced.status, forced.attempt) == ("envoyé", 2)
    assert len(recorder.messages) == 2


# --- timeouts ---------------------------------------------------------------
def test_smtp__silent_server_times_out_and_is_to_resend(workspace, store):
    with socket.socket() as silent:  # accepts the connection, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        cfg = config(port, timeout=1)
        sending = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None))
    assert sending.status == "à renvoyer"
    assert sending.reason == (f"Délai dépassé (1 s) pendant l'étape « connexion » avec 127.0.0.1:{port}. "
                              "Le message est à renvoyer.")


def test_smtp__no_answer_after_the_message_is_uncertain_and_needs_force(workspace, store, recorder):
    import asyncio

    class SlowToAnswer(Recorder):
        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            await asyncio.sleep(3)  # took the message; the "250" comes too late for the client
            return "250 OK"

    slow = SlowToAnswer()
    controller = start_server(slow)
    try:
        cfg = config(controller.port, timeout=1)
        sending = send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None))
        assert sending.status == "en cours"
        assert sending.reason.endswith("Le message a peut-être été accepté : vérifiez avant de le renvoyer "
                                       "(--force).")
        with pytest.raises(AlreadySent, match="^Le document 7 a un envoi commencé le "):
            send(store, outgoing(workspace, cfg), SMTPTransport(cfg, None))
    finally:
        controller.stop()
    assert len(slow.messages) == 1 and statuses(store) == [(7, 1, "en cours")]
