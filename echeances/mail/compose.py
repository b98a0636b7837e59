"""From a document (plain values) to an ``Outgoing`` message: context, recipients, attachments.

The documents log gives what a document is (``DocumentToSend``); this module
turns it into the checked message: template rendered with ready data, the
client's address plus the typed ones, the document PDF, the invoices' PDFs
the workspace has, and any extra file.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from echeances.dates import format_short_date
from echeances.mail.attachments import check_total, load_attachment
from echeances.mail.config import MailConfig
from echeances.mail.message import (MessageRefused, build_message, new_message_id, parse_address,
                                    recipients)
from echeances.mail.sending import Outgoing, is_reminder
from echeances.mail.templates import render_email, template_folders
from echeances.money import format_amount


@dataclass(frozen=True)
class DocumentToSend:
    """What the mail side needs to know about a document of the log."""

    id: int
    kind: str
    template: str
    file: str
    client: int | None = None
    site: int | None = None
    invoices: tuple[int, ...] = ()
    client_email: str = ""
    client_label: str = ""
    invoice_pdfs: tuple[str, ...] = ()
    numbers: Mapping[int, str] = field(default_factory=dict)


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _day(value) -> str:
    return "" if value is None or pd.isna(value) else format_short_date(pd.Timestamp(value).date())


def company_context(company: Mapping[str, Any]) -> dict[str, str]:
    name = _text(company.get("name"))
    lines = [_text(company.get(k)) for k in ("signatory", "signatory_title")] + [name]
    contact = " — ".join(x for x in (_text(company.get("phone")), _text(company.get("email"))) if x)
    signature = "\n".join(x for x in [*lines, contact] if x)
    address = ", ".join(x for x in (_text(company.get("address")),
                                    " ".join(x for x in (_text(company.get("postcode")),
                                                         _text(company.get("city"))) if x)) if x)
    return {"name": name, "email": _text(company.get("email")), "phone": _text(company.get("phone")),
            "address": address, "signature": signature}


def email_context(settings: Mapping[str, Any], frames, open_items: pd.DataFrame, doc: DocumentToSend,
                  date: dt.date) -> dict[str, Any]:
    """The documented template context (see ``echeances.mail.templates``), every value ready to print."""
    clients = frames.clients.set_index("client")
    sites = frames.sites.set_index("site")
    invoices = frames.invoices.set_index("invoice")
    client = clients.loc[doc.client] if doc.client is not None and doc.client in clients.index else None
    site = sites.loc[doc.site] if doc.site is not None and doc.site in sites.index else None
    # What is late is what the email claims: a retention not yet due is not chased with the net part.
    late = open_items[open_items["days_overdue"] > 0] if len(open_items) else open_items
    outstanding = late.groupby("invoice")["outstanding"].sum() if len(late) else pd.Series(dtype="int64")
    if len(open_items):
        outstanding = outstanding.combine_first(open_items.groupby("invoice")["outstanding"].sum())
    rows = []
    for code in doc.invoices:
        if code not in invoices.index:
            continue
        inv = invoices.loc[code]
        rows.append({"number": _text(inv["number"]), "issue_date": _day(inv["issue_date"]),
                     "due_date": _day(inv["due_date"]), "total": format_amount(int(inv["total"])),
                     "outstanding": format_amount(int(outstanding.get(code, 0)))})
    return {
        "company": company_context(settings.get("company") or {}),
        "client": None if client is None else {"name": _text(client["name"]), "client_id": _text(client["client_id"])},
        "site": None if site is None else {"name": _text(site["name"]), "site_id": _text(site["site_id"])},
        "document": {"id": doc.id, "kind": doc.kind, "template": doc.template, "date": format_short_date(date),
                     "filename": Path(doc.file).name},
        "invoices": rows,
        "invoice_numbers": ", ".join(r["number"] for r in rows),
        "total_outstanding": format_amount(int(sum(int(outstanding.get(c, 0)) for c in doc.invoices))),
    }


def _invoice_pdfs(workspace: Path, paths, limit: int) -> list:
    found = []
    for path in paths:
        if not path:
            continue
        candidate = Path(path) if Path(path).is_absolute() else Path(workspace) / path
        # "When the workspace has them": a missing PDF is skipped, one outside the workspace refused.
        if not os.path.lexists(candidate):
            continue
        found.append(load_attachment(workspace, path, limit))
    return found


def email_text(workspace: Path, doc: DocumentToSend, context: Mapping[str, Any]) -> tuple[str, str]:
    """``(subject, body)`` of the email template of ``doc``'s letter."""
    fallback = "_relance" if is_reminder(doc.kind, doc.template) else "_releve"
    return render_email(doc.template, context, template_folders(workspace), fallback)


def compose(workspace: Path, config: MailConfig, doc: DocumentToSend, context: Mapping[str, Any], *,
            to=(), cc=(), bcc=(), attach=(), now: dt.datetime | None = None,
            subject: str | None = None, body: str | None = None) -> Outgoing:
    """The checked message for ``doc``: refused with a French reason, never half-built.

    ``subject``/``body``: what the user edited, instead of the email template's text.
    """
    if not config.sender:
        raise MessageRefused("Adresse d'expédition absente : renseignez « email » dans [company] "
                             "(ou « from » dans [mail]) de settings.toml.")
    sender = parse_address(config.sender)
    reply_to = parse_address(config.reply_to) if config.reply_to else None
    main = [doc.client_email] if _text(doc.client_email).strip() else []
    if not main and not to:
        who = f"le client {doc.client_label}" if doc.client_label else "le client"
        raise MessageRefused(f"Aucun destinataire : {who} n'a pas d'adresse email ; indiquez-en une (--to).")
    people = recipients([*main, *to], cc, bcc)
    if subject is None or body is None:
        template_subject, template_body = email_text(workspace, doc, context)
        subject = template_subject if subject is None else subject
        body = template_body if body is None else body
    files = [load_attachment(workspace, doc.file, config.max_attachment_bytes)]
    files += _invoice_pdfs(workspace, doc.invoice_pdfs, config.max_attachment_bytes)
    files += [load_attachment(workspace, path, config.max_attachment_bytes) for path in attach]
    check_total(files, config.max_total_bytes)
    moment = now or dt.datetime.now(dt.timezone.utc)
    message = build_message(sender=sender, to=people, subject=subject, body=body, attachments=tuple(files),
                            reply_to=reply_to, message_id=new_message_id(sender), date=moment)
    return Outgoing(document=doc.id, kind=doc.kind, template=doc.template, client=doc.client,
                    invoices=tuple(doc.invoices), message=message, recipients=people, numbers=doc.numbers)
