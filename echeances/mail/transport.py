"""Handing a message over: ``outbox`` (``.eml`` files in the workspace) or ``smtp``; failures explained in French.

A failure is a ``DeliveryError`` with the status the attempt gets: ``à renvoyer``
(temporary: 4xx, timeout, connection refused), ``échec`` (permanent: 5xx, TLS or
login refused) or ``en cours`` (unknown: the connection broke after the message
was handed over, so it may have been accepted — sending again needs ``force``).
"""
from __future__ import annotations

import base64
import os
import re
import smtplib
import socket
import ssl
from copy import deepcopy
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from echeances.errors import EcheancesError
from echeances.mail.config import PASSWORD_ENV, MailConfig, MailConfigError
from echeances.store.sendings import FAILED, PENDING, RETRY

_CRLF = b"\r\n"


class DeliveryError(EcheancesError):
    """The transport did not deliver; ``status`` says what to do next, ``reason`` why (in French)."""

    def __init__(self, status: str, reason: str):
        self.status = status
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Delivery:
    """What the transport accepted: ``refused`` maps the recipients the server refused to its answer."""

    transport: str
    refused: dict[str, str] = field(default_factory=dict)
    location: str = ""


def smtp_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


class OutboxTransport:
    """Writes each message as an ``.eml`` file: works with no server, a mail client can send them later."""

    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def deliver(self, message: EmailMessage, sender: str, recipients: list[str],
                bcc: list[str] = ()) -> Delivery:
        self.folder.mkdir(parents=True, exist_ok=True)
        copy = message
        if bcc:
            # A draft keeps its Bcc so whoever sends it later knows; SMTP never shows it.
            copy = deepcopy(message)
            copy["Bcc"] = ", ".join(bcc)
        token = re.sub(r"[^A-Za-z0-9.-]", "_", message["Message-ID"].strip("<>"))
        path = self.folder / f"{token}.eml"
        temporary = self.folder / f".{token}.tmp"
        try:
            temporary.write_bytes(copy.as_bytes())
            os.replace(temporary, path)  # atomic: a half-written file never looks like a message
        except OSError as exc:
            raise DeliveryError(RETRY, f"Écriture impossible dans la boîte d'envoi {self.folder} : "
                                       f"{exc.strerror or exc}") from None
        return Delivery(self.name, location=str(path))


class SMTPTransport:
    """Sends through an SMTP server (STARTTLS, implicit TLS or plain), logging in when a user is set."""

    name = "smtp"

    def __init__(self, config: MailConfig, password: str | None):
        if config.user and not password:
            raise MailConfigError(f"Mot de passe SMTP absent pour {config.user} : définissez la variable "
                                  f"{PASSWORD_ENV} ou enregistrez-le dans le trousseau du système "
                                  "(service « echeances »).")
        if config.user and config.security == "none":
            raise MailConfigError("Identifiants SMTP sur une connexion non chiffrée : refusé "
                                  "(choisissez la sécurité starttls ou ssl).")
        self.config = config
        self._password = password

    def __repr__(self) -> str:  # never show the password, even in a traceback's locals
        c = self.config
        return f"SMTPTransport({c.host}:{c.port}, {c.security}, user={c.user!r})"

    @property
    def where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def deliver(self, message: EmailMessage, sender: str, recipients: list[str],
                bcc: list[str] = ()) -> Delivery:
        phase = ["connexion"]
        try:
            return self._deliver(message, sender, recipients, phase)
        except DeliveryError as exc:
            raise DeliveryError(exc.status, self._scrub(exc.reason)) from None
        except Exception as exc:  # noqa: BLE001 - every failure becomes a classified, readable reason
            status, reason = self._classify(exc, phase[0])
            raise DeliveryError(status, self._scrub(reason)) from None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        context = ssl.create_default_context(cafile=c.ca_file or None)
        if c.security == "ssl":
            return smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=context)
        smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        try:
            if c.security == "starttls":
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(FAILED, f"Le serveur SMTP {self.where} ne propose pas STARTTLS : "
                                                "choisissez la sécurité ssl ou none.")
                smtp.starttls(context=context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _deliver(self, message, sender, recipients, phase) -> Delivery:
        smtp = self._connect()
        try:
            smtp.ehlo_or_helo_if_needed()
            if self.config.user:
                phase[0] = "authentification"
                self._login(smtp)
            phase[0] = "enveloppe"
            code, reply = smtp.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            refused = {}
            for address in recipients:
                code, reply = smtp.rcpt(address)
                if code not in (250, 251):
                    refused[address] = (code, reply)
            if len(refused) == len(recipients):
                raise smtplib.SMTPRecipientsRefused(refused)
            code, reply = smtp.docmd("DATA")
            if code != 354:
                raise smtplib.SMTPDataError(code, reply)
            # From here the server may take the message even if we never hear back.
            phase[0] = "données"
            data = re.sub(rb"(?m)^\.", b"..", smtp_bytes(message))
            if not data.endswith(_CRLF):
                data += _CRLF
            smtp.send(data + b"." + _CRLF)
            code, reply = smtp.getreply()
            phase[0] = "fin"
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
            return Delivery(self.name, refused={a: _reply(c, r) for a, (c, r) in refused.items()},
                            location=self.where)
        finally:
            try:
                if phase[0] == "fin":
                    smtp.quit()
                else:
                    smtp.close()
            except Exception:  # noqa: BLE001 - the message is accepted or refused already; QUIT is courtesy
                smtp.close()

    def _login(self, smtp: smtplib.SMTP) -> None:
        user, password = self.config.user, self._password
        if user.isascii() and password.isascii():
            smtp.login(user, password)
            return
        # smtplib encodes credentials as ASCII; AUTH PLAIN is UTF-8 (RFC 4616), so send it ourselves.
        if "plain" not in smtp.esmtp_features.get("auth", "").lower().split():
            raise DeliveryError(FAILED, f"Le serveur SMTP {self.where} ne propose pas AUTH PLAIN, nécessaire "
                                        "pour un identifiant ou un mot de passe accentué.")
        token = base64.b64encode(f"\0{user}\0{password}".encode("utf-8")).decode("ascii")
        code, reply = smtp.docmd("AUTH", "PLAIN " + token)
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, reply)

    def _classify(self, exc: BaseException, phase: str) -> tuple[str, str]:
        where = self.where
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return FAILED, (f"Identifiant ou mot de passe SMTP refusé par {where} pour {self.config.user} "
                            f"({_reply(exc.smtp_code, exc.smtp_error)}).")
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            answers = "; ".join(f"{a} : {_reply(c, r)}" for a, (c, r) in exc.recipients.items())
            temporary = any(400 <= c < 500 for c, _ in exc.recipients.values())
            return _by_code(400 if temporary else 500, f"Destinataire(s) refusé(s) par {where} — {answers}")
        if isinstance(exc, smtplib.SMTPResponseException):
            return _by_code(exc.smtp_code, f"Le serveur {where} a répondu « {_reply(exc.smtp_code, exc.smtp_error)} »")
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return FAILED, f"Le serveur {where} ne prend pas en charge cette demande ({exc})."
        if isinstance(exc, ssl.SSLCertVerificationError):
            return FAILED, (f"Certificat du serveur SMTP {where} non vérifié ({exc.verify_message}) : vérifiez "
                            "le nom du serveur ou indiquez le certificat de l'autorité (ECHEANCES_SMTP_CAFILE).")
        if isinstance(exc, ssl.SSLError):
            return FAILED, f"Échec de la négociation TLS avec {where} ({exc.reason or exc}) : vérifiez le port et la sécurité."
        uncertain = phase == "données"
        silent = isinstance(exc.__context__, (TimeoutError, socket.timeout))
        if isinstance(exc, smtplib.SMTPServerDisconnected) and silent:
            exc = exc.__context__  # smtplib reports a silent server as a disconnection
        if isinstance(exc, ConnectionRefusedError):
            reason = f"Connexion refusée par {where} : le serveur SMTP est arrêté ou l'adresse est fausse."
        elif isinstance(exc, socket.gaierror):
            reason = f"Serveur SMTP introuvable : {self.config.host} (nom inconnu ou réseau coupé)."
        elif isinstance(exc, (TimeoutError, socket.timeout)):
            reason = f"Délai dépassé ({self.config.timeout:g} s) pendant l'étape « {phase} » avec {where}."
        elif isinstance(exc, smtplib.SMTPServerDisconnected):
            reason = f"Le serveur {where} a coupé la connexion pendant l'étape « {phase} »."
        elif isinstance(exc, OSError):
            reason = f"Erreur réseau avec {where} pendant l'étape « {phase} » : {exc.strerror or exc}."
        else:
            reason = f"Erreur inattendue pendant l'étape « {phase} » avec {where} : {type(exc).__name__}."
        if uncertain:
            return PENDING, (reason + " Le message a peut-être été accepté : vérifiez avant de le renvoyer "
                                      "(--force).")
        return RETRY, reason + " Le message est à renvoyer."

    def _scrub(self, text: str) -> str:
        if not self._password:
            return text
        secrets = {self._password, base64.b64encode(self._password.encode()).decode(),
                   base64.b64encode(f"\0{self.config.user}\0{self._password}".encode()).decode(),
                   base64.b64encode(self._password.encode("latin-1", "replace")).decode()}
        for secret in secrets:
            text = text.replace(secret, "***")
        return text


def _reply(code: int, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}".strip()


def _by_code(code: int, reason: str) -> tuple[str, str]:
    if 400 <= code < 500:
        return RETRY, f"{reason} : refus temporaire, le message est à renvoyer."
    return FAILED, f"{reason} : refus définitif, le message n'est pas parti."


def make_transport(config: MailConfig, workspace: Path, password: str | None):
    """The configured transport (``outbox`` needs no server, ``smtp`` needs one)."""
    if config.transport == "smtp":
        return SMTPTransport(config, password)
    return OutboxTransport(Path(workspace) / config.outbox)
