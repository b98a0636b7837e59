"""What ``Workspace`` calls for email: send a logged document, test the settings, read the sendings log.

``ws`` is the workspace (``path``, ``store``, ``settings``, ``frames``,
``open_items``, ``documents``); these functions keep its methods one line long.
"""
from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

import pandas as pd

from echeances.errors import NotFound
from echeances.mail.compose import DocumentToSend, compose, email_context, email_text
from echeances.mail.config import mail_config, smtp_password
from echeances.mail.marks import reminder_marks
from echeances.mail.message import MessageRefused, new_message_id, parse_address, recipients
from echeances.mail.sending import AlreadySent, Sending, is_reminder, send
from echeances.mail.transport import Delivery, make_transport
from echeances.store import sendings as log


def _none(value):
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def document_to_send(row, frames) -> DocumentToSend:
    """A documents-log row (``id``, ``kind``, ``template``, ``client``, ``site``, ``file``, ``invoices``)."""
    clients = frames.clients.set_index("client")
    invoices = frames.invoices.set_index("invoice")
    client = int(row["client"])
    site = _none(row.get("site"))
    codes = tuple(int(c) for c in row["invoices"])
    known = [c for c in codes if c in invoices.index]
    pdfs = tuple(dict.fromkeys(str(p) for p in invoices.loc[known, "pdf"] if _none(p)))
    email_address = _none(clients["email"].get(client)) if client in clients.index else None
    name = _none(clients["name"].get(client)) if client in clients.index else None
    return DocumentToSend(id=int(row["id"]), kind=str(row["kind"]), template=str(row["template"]),
                          file=str(row["file"]), client=client, site=None if site is None else int(site),
                          invoices=codes, client_email=email_address or "",
                          client_label=name or "", invoice_pdfs=pdfs,
                          numbers={c: str(invoices.loc[c, "number"]) for c in known})


def _document_row(ws, document_id: int):
    found = ws.documents()
    found = found[found["id"] == int(document_id)]
    if found.empty:
        raise NotFound(f"Document inconnu : {document_id}")
    return found.iloc[0]


def _refuse_settled(doc: DocumentToSend, items: pd.DataFrame) -> None:
    """A reminder for invoices paid since it was made would be the worst email to send."""
    open_codes = set(items["invoice"])
    settled = [doc.numbers.get(c, str(c)) for c in doc.invoices if c not in open_codes]
    if settled:
        raise AlreadySent(f"Relance inutile : {', '.join(settled)} "
                          f"{'est réglée' if len(settled) == 1 else 'sont réglées'} depuis la création du "
                          f"document {doc.id}. Refaites la relance, ou utilisez --force pour l'envoyer quand même.")


def _prepared(ws, document_id: int):
    """The document to send, today's open items and the email template's context."""
    row = _document_row(ws, document_id)
    doc = document_to_send(row, ws.frames)
    items = ws.open_items()
    return doc, items, email_context(ws.settings, ws.frames, items, doc, pd.Timestamp(row["as_of"]).date())


def email_draft(ws, document_id: int) -> tuple[str, str]:
    """``(subject, body)`` the email of document ``document_id`` would have, for the user to edit."""
    doc, _, context = _prepared(ws, document_id)
    return email_text(ws.path, doc, context)


def send_document(ws, document_id: int, to=(), cc=(), bcc=(), attach=(), force: bool = False,
                  subject: str | None = None, body: str | None = None) -> Sending:
    """Email document ``document_id`` of the log through the configured transport (see ``sending.send``)."""
    config = mail_config(ws.settings)
    doc, items, context = _prepared(ws, document_id)
    if not force and is_reminder(doc.kind, doc.template):
        _refuse_settled(doc, items)
    out = compose(ws.path, config, doc, context, to=to, cc=cc, bcc=bcc, attach=attach, subject=subject, body=body)
    transport = make_transport(config, ws.path, smtp_password(config) if config.transport == "smtp" else None)
    return send(ws.store, out, transport, min_interval_days=config.min_interval_days, force=force)


def mail_test(ws, to: str | None = None) -> Delivery:
    """Send a short test message with the workspace's settings; raises ``DeliveryError`` explained in French."""
    config = mail_config(ws.settings)
    if not config.sender:
        raise MessageRefused("Adresse d'expédition absente : renseignez « email » dans [company] "
                             "(ou « from » dans [mail]) de settings.toml.")
    sender = parse_address(config.sender)
    people = recipients([to or sender.addr_spec])
    message = EmailMessage()
    message["Subject"] = "Échéances : message de test"
    message["From"] = sender
    message["To"] = people.to
    message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message["Message-ID"] = new_message_id(sender)
    message.set_content("Ce message vérifie les réglages d'envoi d'Échéances. Il n'appelle aucune réponse.\n",
                        charset="utf-8", cte="quoted-printable")
    transport = make_transport(config, ws.path, smtp_password(config) if config.transport == "smtp" else None)
    return transport.deliver(message, sender.addr_spec, people.envelope)


def sendings_frame(ws) -> pd.DataFrame:
    """The sendings log, one row per attempt (see ``store.sendings.read_sendings``)."""
    with ws.store.read() as conn:
        return log.read_sendings(conn)


def sent_status(ws) -> pd.DataFrame:
    """Per document of the log, its latest email attempt: ``document``, ``kind``, ``template``, ``client_id``,
    ``file``, ``created_at``, ``status`` (empty when never emailed), ``attempts``, ``sent_at``, ``to_addrs``,
    ``reason``, ``message_id``."""
    documents = ws.documents().rename(columns={"id": "document"})
    attempts = sendings_frame(ws)
    latest = attempts.sort_values("sending").groupby("document").tail(1).set_index("document")
    counts = attempts.groupby("document").size()
    sent_at = attempts[attempts["status"] == log.SENT].groupby("document")["finished_at"].max()
    client_ids = ws.frames.clients.set_index("client")["client_id"]
    return pd.DataFrame({
        "document": documents["document"].astype("int64"),
        "kind": documents["kind"].astype("string"),
        "template": documents["template"].astype("string"),
        "client_id": documents["client"].map(client_ids).astype("string"),
        "file": documents["file"].astype("string"),
        "created_at": pd.to_datetime(documents["created_at"]),
        "status": documents["document"].map(latest["status"]).astype("string").fillna(""),
        "attempts": documents["document"].map(counts).fillna(0).astype("int64"),
        "sent_at": sent_at.astype("datetime64[ns]").reindex(documents["document"]).to_numpy(),
        "to_addrs": documents["document"].map(latest["to_addrs"]).astype("string"),
        "reason": documents["document"].map(latest["reason"]).astype("string"),
        "message_id": documents["document"].map(latest["message_id"]).astype("string"),
    }).reset_index(drop=True)


def marks(ws) -> pd.DataFrame:
    """Per invoice: ``last_reminder_at``, ``last_reminder_template``, ``reminders_sent``, ``emailed``."""
    documents = ws.documents().rename(columns={"id": "document"})
    return reminder_marks(documents, sendings_frame(ws))
