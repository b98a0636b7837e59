"""Message building, refusals, templates, settings and the outbox (no server needed)."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
from pathlib import Path

import pytest

from echeances.mail.attachments import load_attachment
from echeances.mail.compose import DocumentToSend, compose
from echeances.mail.config import MailConfig, MailConfigError, mail_config, smtp_password
from echeances.mail.message import MessageRefused, parse_address, recipients
from echeances.mail.templates import SHIPPED, render_email, template_folders
from echeances.mail.transport import OutboxTransport
from tests.mail_helpers import INVOICE_PDF, PDF, letter_workspace

TEMPLATES = ["facture_en_retard", "factures_chantier_en_retard", "factures_client_en_retard",
             "releve_compte_chantier", "releve_compte_client", "relance_1", "relance_2", "mise_en_demeure"]
CONFIG = MailConfig(sender="Bâtiments Durand <compta@durand.example>", reply_to="claire@durand.example")


def context(client_name="Société Générale Bâtiment"):
    return {
        "company": {"name": "Bâtiments Durand", "email": "compta@durand.example", "phone": "04 78 00 00 00",
                    "address": "12 rue des Artisans, 69007 Lyon", "signature": "Claire Durand\nGérante"},
        "client": {"name": client_name, "client_id": "C1"},
        "site": {"name": "Villa Les Pins", "site_id": "S1"},
        "document": {"id": 7, "kind": "reminder", "template": "relance_1", "date": "04/12/2026",
                     "filename": "relance.pdf"},
        "invoices": [{"number": "F-2026-001", "issue_date": "15/04/2026", "due_date": "31/05/2026",
                      "total": "1 200,00 €", "outstanding": "1 140,00 €"}],
        "invoice_numbers": "F-2026-001", "total_outstanding": "1 140,00 €",
    }


@pytest.fixture
def root(tmp_path) -> Path:
    ws = letter_workspace(tmp_path)
    (tmp_path / "secret.pdf").write_bytes(b"secret")
    return ws


def document(**changes) -> DocumentToSend:
    values = dict(id=7, kind="reminder", template="relance_1", file="documents/relance-7.pdf", client=1,
                  invoices=(1,), client_email="Société Générale Bâtiment <compta@sgb.example>",
                  client_label="Société Générale Bâtiment", invoice_pdfs=("factures/F-2026-001.pdf",),
                  numbers={1: "F-2026-001"})
    values.update(changes)
    return DocumentToSend(**values)


# --- addresses and headers --------------------------------------------------
def test_parse_address__keeps_utf8_display_name():
    address = parse_address("Société Générale Bâtiment <compta@sgb.example>")
    assert (address.display_name, address.addr_spec) == ("Société Générale Bâtiment", "compta@sgb.example")


@pytest.mark.parametrize("text", ["pas-une-adresse", "a@b", "a..b@sgb.example", "<@sgb.example>", "a@-x.example"])
def test_parse_address__invalid_is_refused(text):
    with pytest.raises(MessageRefused, match="^Adresse email invalide"):
        parse_address(text)


def test_parse_address__line_break_is_refused_as_injection():
    with pytest.raises(MessageRefused) as refused:
        recipients(["compta@sgb.example\r\nBcc: espion@evil.example"])
    assert str(refused.value) == ("L'adresse « compta@sgb.example  Bcc: espion@evil.example » contient un saut "
                                  "de ligne : refusé (injection d'en-tête).")


def test_recipients__several_in_one_text_and_none_at_all():
    assert recipients(["a@sgb.example; b@sgb.example"], cc=["c@sgb.example"]).envelope == [
        "a@sgb.example", "b@sgb.example", "c@sgb.example"]
    with pytest.raises(MessageRefused) as refused:
        recipients([], cc=["c@sgb.example"])
    assert str(refused.value) == "Aucun destinataire : indiquez au moins une adresse email (--to)."


def test_compose__client_without_email_and_no_to_is_refused(root):
    with pytest.raises(MessageRefused) as refused:
        compose(root, CONFIG, document(client_email=""), context())
    assert str(refused.value) == ("Aucun destinataire : le client Société Générale Bâtiment n'a pas d'adresse "
                                  "email ; indiquez-en une (--to).")


def test_compose__subject_with_a_line_break_from_data_is_refused(root):
    with pytest.raises(MessageRefused) as refused:
        compose(root, CONFIG, document(template="releve_compte_client"),
                context(client_name="Dupont\nBcc: espion@evil.example"))
    assert str(refused.value) == "L'objet contient un saut de ligne : refusé (injection d'en-tête)."


# --- attachments ------------------------------------------------------------
@pytest.mark.parametrize("path", ["../secret.pdf", "documents/../../secret.pdf"])
def test_attachment__path_traversal_is_refused(root, path):
    with pytest.raises(MessageRefused) as refused:
        load_attachment(root, path, 1_000_000)
    assert str(refused.value) == f"Pièce jointe refusée : « {path} » est en dehors de l'espace de travail."


def test_attachment__absolute_path_outside_is_refused(root):
    outside = root.parent / "secret.pdf"
    with pytest.raises(MessageRefused) as refused:
        load_attachment(root, outside, 1_000_000)
    assert str(refused.value) == f"Pièce jointe refusée : « {outside} » est en dehors de l'espace de travail."


def test_attachment__symlink_pointing_outside_is_refused(root):
    os.symlink(root.parent / "secret.pdf", root / "documents" / "lien.pdf")
    with pytest.raises(MessageRefused) as refused:
        compose(root, CONFIG, document(), context(), attach=["documents/lien.pdf"])
    assert str(refused.value) == ("Pièce jointe refusée : « documents/lien.pdf » est en dehors de l'espace "
                                  "de travail.")


def test_attachment__too_big_and_missing_are_refused(root):
    with pytest.raises(MessageRefused) as refused:
        load_attachment(root, "documents/relance-7.pdf", 1024 * 1024 // 1000)
    assert str(refused.value) == ("Pièce jointe refusée : « documents/relance-7.pdf » pèse 0,0 Mo, au-delà de "
                                  "la limite de 0,0 Mo.")
    with pytest.raises(MessageRefused) as refused:
        load_attachment(root, "documents/absent.pdf", 1_000_000)
    assert str(refused.value) == "Pièce jointe introuvable : « documents/absent.pdf »."


def test_compose__missing_invoice_pdf_is_skipped(root):
    out = compose(root, CONFIG, document(invoice_pdfs=("factures/absent.pdf",)), context())
    assert [part.get_filename() for part in out.message.iter_attachments()] == ["relance-7.pdf"]


# --- templates --------------------------------------------------------------
@pytest.mark.parametrize("name", TEMPLATES)
def test_templates__every_shipped_template_renders(name):
    subject, body = render_email(name, context(), template_folders(None))
    assert subject and "\n" not in subject
    assert "Claire Durand" in body
    assert (SHIPPED / f"{name}.txt").exists()


def test_templates__relance_1_exact_subject_and_lines():
    subject, body = render_email("relance_1", context(), template_folders(None))
    assert subject == "Rappel — factures en attente de règlement — Bâtiments Durand"
    assert "- F-2026-001 du 15/04/2026, échue le 31/05/2026 : 1 140,00 €\n" in body


def test_templates__workspace_file_overrides_the_shipped_one(root):
    folder = root / "templates" / "emails"
    folder.mkdir(parents=True)
    (folder / "relance_1.txt").write_text("Objet : Petit rappel {{ invoice_numbers }}\n\nMerci !\n", encoding="utf-8")
    assert render_email("relance_1", context(), template_folders(root)) == ("Petit rappel F-2026-001", "Merci !\n")


def test_templates__unknown_variable_and_sandbox_are_refused(root):
    folder = root / "templates" / "emails"
    folder.mkdir(parents=True)
    (folder / "relance_1.txt").write_text("Objet : {{ oups }}\n\nx\n", encoding="utf-8")
    with pytest.raises(MessageRefused, match="'oups' is undefined"):
        render_email("relance_1", context(), template_folders(root))
    (folder / "relance_2.txt").write_text("Objet : x\n\n{{ ''.__class__.__mro__ }}\n", encoding="utf-8")
    with pytest.raises(MessageRefused, match="unsafe|__class__"):
        render_email("relance_2", context(), template_folders(root))
    with pytest.raises(MessageRefused, match="^Modèle d'email invalide"):
        render_email("../relance_1", context(), template_folders(root))


# --- settings ---------------------------------------------------------------
def test_config__environment_overrides_settings():
    settings = {"company": {"name": "Durand", "email": "compta@durand.example"},
                "mail": {"transport": "outbox", "smtp": {"host": "smtp.durand.example", "user": "a"}}}
    env = {"ECHEANCES_MAIL_TRANSPORT": "smtp", "ECHEANCES_SMTP_HOST": "127.0.0.1", "ECHEANCES_SMTP_PORT": "2525",
           "ECHEANCES_SMTP_SECURITY": "ssl", "ECHEANCES_SMTP_USER": "compta", "ECHEANCES_SMTP_PASSWORD": "s3cret"}
    config = mail_config(settings, env)
    assert (config.transport, config.host, config.port, config.security, config.user) == (
        "smtp", "127.0.0.1", 2525, "ssl", "compta")
    assert config.sender == "Durand <compta@durand.example>" and config.reply_to == "compta@durand.example"
    assert smtp_password(config, env) == "s3cret"
    assert "s3cret" not in repr(config)
    assert mail_config(settings, {}).port == 587


def test_config__password_in_settings_is_refused_and_bad_values_explained():
    with pytest.raises(MailConfigError, match="^Le mot de passe SMTP ne doit pas être écrit dans settings.toml"):
        mail_config({"mail": {"smtp": {"password": "x"}}}, {})
    with pytest.raises(MailConfigError) as refused:
        mail_config({}, {"ECHEANCES_SMTP_SECURITY": "tls"})
    assert str(refused.value) == "Mode de sécurité SMTP inconnu : 'tls' (attendu : starttls, ssl, none)"


# --- outbox -----------------------------------------------------------------
def test_outbox__eml_parses_with_the_right_parts(root):
    out = compose(root, CONFIG, document(), context(), cc=["Chef de chantier <chef@sgb.example>"],
                  bcc=["archive@durand.example"], now=dt.datetime(2026, 12, 4, 16, 0, tzinfo=dt.timezone.utc))
    delivery = OutboxTransport(root / "outbox").deliver(out.message, "compta@durand.example",
                                                        out.recipients.envelope, bcc=["archive@durand.example"])
    files = list((root / "outbox").glob("*.eml"))
    assert [str(f) for f in files] == [delivery.location]
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Rappel — factures en attente de règlement — Bâtiments Durand"
    assert parsed["To"] == "Société Générale Bâtiment <compta@sgb.example>"
    assert parsed["Cc"] == "Chef de chantier <chef@sgb.example>"
    assert parsed["Bcc"] == "archive@durand.example"
    assert parsed["Reply-To"] == "claire@durand.example"
    assert parsed["Message-ID"] == out.message_id and parsed["Message-ID"].endswith("@durand.example>")
    assert parsed.get_content_type() == "multipart/mixed"
    assert "Sauf erreur de notre part" in parsed.get_body(("plain",)).get_content()
    parts = {p.get_filename(): (p.get_content_type(), p.get_content()) for p in parsed.iter_attachments()}
    assert parts == {"relance-7.pdf": ("application/pdf", PDF), "F-2026-001.pdf": ("application/pdf", INVOICE_PDF)}
    assert not list((root / "outbox").glob(".*.tmp"))
    assert "Bcc" not in out.message  # only the draft keeps it


# --- reminder marks (pure) --------------------------------------------------
def test_reminder_marks__latest_reminder_decides_the_blue_icon():
    import pandas as pd

    from echeances.mail.marks import reminder_marks

    t = pd.Timestamp
    documents = pd.DataFrame({
        "document": [1, 2, 3], "kind": ["reminder", "reminder", "statement"],
        "template": ["relance_1", "relance_2", "releve_compte_client"],
        "created_at": [t("2026-11-01 09:00"), t("2026-11-20 09:00"), t("2026-11-25 09:00")],
        "invoices": [(10, 11), (10,), (10, 11)],
    })
    sendings = pd.DataFrame({
        "sending": [1, 2, 3], "document": [1, 1, 3], "status": ["à renvoyer", "envoyé", "envoyé"],
        "kind": ["reminder", "reminder", "statement"], "template": ["relance_1", "relance_1", "releve_compte_client"],
        "invoices": [(10, 11), (10, 11), (10, 11)],
        "started_at": [t("2026-11-02 08:00"), t("2026-11-03 08:00"), t("2026-11-26 08:00")],
        "finished_at": [t("2026-11-02 08:01"), t("2026-11-03 08:01"), t("2026-11-26 08:01")],
    })
    marks = reminder_marks(documents, sendings)
    assert marks.loc[10].tolist() == [t("2026-11-20 09:00"), "relance_2", 2, False]  # printed letter last
    assert marks.loc[11].tolist() == [t("2026-11-03 08:01"), "relance_1", 1, True]   # statement does not count


def test_templates__letter_without_its_own_email_uses_the_generic_one(root):
    (root / "templates").mkdir()
    out = compose(root, CONFIG, document(template="relance_chantier_perso"), context())
    assert out.message["Subject"] == "Factures en attente de règlement — Bâtiments Durand"
    with pytest.raises(MessageRefused) as refused:
        render_email("relance_chantier_perso", context(), template_folders(root))
    assert str(refused.value) == "Modèle d'email introuvable : relance_chantier_perso.txt"
