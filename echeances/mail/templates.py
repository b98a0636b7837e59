"""French email subject and body from a template file (``templates/emails/NAME.txt``), sandboxed.

A template's first line is ``Objet : …`` (the subject), then a blank line,
then the plain-text body. The workspace's ``templates/emails/`` overrides the
shipped files one by one. Templates get ready data (see ``email_context``):

- ``company``: ``name``, ``email``, ``phone``, ``address``, ``signature``
- ``client``: ``name``, ``client_id``; ``site``: ``name``, ``site_id`` (or none)
- ``document``: ``id``, ``kind``, ``template``, ``date``, ``filename``
- ``invoices``: list of ``number``, ``issue_date``, ``due_date``, ``total``,
  ``outstanding`` (what is overdue; all of it when nothing is) — text, already formatted
- ``invoice_numbers`` (``F-1, F-2``), ``total_outstanding`` (``1 234,56 €``)
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from echeances.mail.message import MessageRefused, check_header

SHIPPED = Path(__file__).resolve().parents[2] / "templates" / "emails"
_NAME = re.compile(r"[a-z0-9_]+")
_SUBJECT = re.compile(r"Objet\s*:\s*(.*)")


def template_folders(workspace: Path | None) -> list[Path]:
    """Where email templates are looked up, the user's folder first."""
    folders = [Path(workspace) / "templates" / "emails"] if workspace is not None else []
    return [*folders, SHIPPED]


def _environment(folders: list[Path]) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(loader=FileSystemLoader([str(f) for f in folders]), undefined=StrictUndefined,
                                autoescape=False, keep_trailing_newline=True, trim_blocks=True,
                                lstrip_blocks=True)


def render_email(template: str, context: Mapping[str, Any], folders: list[Path],
                 fallback: str | None = None) -> tuple[str, str]:
    """``(subject, body)`` of ``template`` rendered with ``context``; refused with the reason otherwise.

    ``fallback`` (``_relance`` or ``_releve``) serves a letter template that has no email of its own.
    """
    if not _NAME.fullmatch(template or ""):
        raise MessageRefused(f"Modèle d'email invalide : « {template} ».")
    env = _environment(folders)
    try:
        source, filename, _ = env.loader.get_source(env, f"{template}.txt")
    except TemplateError:
        if fallback is None:
            raise MessageRefused(f"Modèle d'email introuvable : {template}.txt") from None
        source, filename, _ = env.loader.get_source(env, f"{fallback}.txt")
    first, _, rest = source.partition("\n")
    match = _SUBJECT.fullmatch(first.strip())
    if not match:
        raise MessageRefused(f"{filename} : la première ligne doit être « Objet : … ».")
    try:
        # Subject and body render separately, so a line break coming from the data
        # (a client name, say) cannot push text out of the subject unnoticed.
        subject = env.from_string(match.group(1)).render(**context).strip()
        body = env.from_string(rest.lstrip("\n")).render(**context)
    except TemplateError as exc:
        raise MessageRefused(f"{filename} : {exc.message or exc}") from None
    check_header("L'objet", subject)
    if not subject:
        raise MessageRefused(f"{filename} : l'objet est vide.")
    return subject, body
