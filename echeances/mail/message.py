"""Building an ``EmailMessage`` from ready parts, refusing bad addresses and header injection (no I/O)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

from echeances.errors import EcheancesError

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_BREAKS = re.compile(r"[\r\n\x00\x0b\x0c\x85\u2028\u2029]")


class MessageRefused(EcheancesError):
    """The message cannot be built as asked (recipient, header or attachment problem)."""


@dataclass(frozen=True)
class Attachment:
    """A file to attach: its name as the recipient sees it, and its bytes."""

    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "octet-stream"


@dataclass(frozen=True)
class Recipients:
    """Checked recipients, each as ``Address`` objects (Bcc never becomes a header)."""

    to: tuple[Address, ...]
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()

    @property
    def envelope(self) -> list[str]:
        """Every address the server must deliver to, without duplicates, in order."""
        seen: dict[str, None] = {}
        for address in (*self.to, *self.cc, *self.bcc):
            seen.setdefault(address.addr_spec.lower(), None)
        return list(seen)


def check_header(what: str, value: str) -> str:
    """``value`` unchanged, or refused when it holds a line break (header injection)."""
    if _BREAKS.search(value):
        raise MessageRefused(f"{what} contient un saut de ligne : refusé (injection d'en-tête).")
    return value


def _domain(domain: str) -> str | None:
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return ascii_domain


def parse_address(text: str) -> Address:
    """One address, ``compta@client.fr`` or ``Jean Dupont <compta@client.fr>``, checked."""
    check_header(f"L'adresse « {_BREAKS.sub(' ', text)} »", text)
    pairs = getaddresses([text])
    if len(pairs) != 1:
        raise MessageRefused(f"Adresse email invalide : « {text} » (une seule adresse attendue).")
    name, spec = pairs[0]
    local, at, domain = spec.rpartition("@")
    ascii_domain = _domain(domain) if at else None
    if not local or not _LOCAL.fullmatch(local) or ".." in local or local.startswith(".") \
            or local.endswith(".") or ascii_domain is None:
        raise MessageRefused(f"Adresse email invalide : « {text.strip()} ».")
    return Address(display_name=name, username=local, domain=ascii_domain)


def parse_addresses(texts) -> tuple[Address, ...]:
    """Addresses from texts that may each hold several, separated by ``,`` or ``;``."""
    found: list[Address] = []
    for text in texts or ():
        check_header(f"L'adresse « {_BREAKS.sub(' ', str(text))} »", str(text))
        for part in re.split(r"[;,](?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", str(text)):
            if part.strip():
                found.append(parse_address(part.strip()))
    return tuple(found)


def recipients(to=(), cc=(), bcc=()) -> Recipients:
    """Checked recipients; refused when there is no main (To) recipient."""
    result = Recipients(parse_addresses(to), parse_addresses(cc), parse_addresses(bcc))
    if not result.to:
        raise MessageRefused("Aucun destinataire : indiquez au moins une adresse email (--to).")
    return result


def new_message_id(sender: Address | None) -> str:
    domain = sender.domain if sender is not None and sender.domain else "echeances.invalid"
    return make_msgid(idstring="echeances", domain=domain)


def build_message(*, sender: Address, to: Recipients, subject: str, body: str,
                  attachments: tuple[Attachment, ...] = (), reply_to: Address | None = None,
                  message_id: str, date: dt.datetime) -> EmailMessage:
    """The message itself: plain-text French body (quoted-printable UTF-8), then the attachments."""
    check_header("L'objet", subject)
    check_header("Le Message-ID", message_id)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to.to
    if to.cc:
        message["Cc"] = to.cc
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message.set_content(body, subtype="plain", charset="utf-8", cte="quoted-printable")
    for item in attachments:
        check_header("Le nom de la pièce jointe", item.filename)
        message.add_attachment(item.content, maintype=item.maintype, subtype=item.subtype,
                               filename=item.filename)
    return message
