"""Mail settings: the workspace's ``[mail]`` section, each value overridable by the environment.

The SMTP password is never read from a file: only ``ECHEANCES_SMTP_PASSWORD``
or the OS keyring (service ``echeances``, user name = the SMTP login).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from echeances.errors import EcheancesError

TRANSPORTS = ("outbox", "smtp")
SECURITIES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
KEYRING_SERVICE = "echeances"

ENV = {
    "transport": "ECHEANCES_MAIL_TRANSPORT",
    "host": "ECHEANCES_SMTP_HOST",
    "port": "ECHEANCES_SMTP_PORT",
    "security": "ECHEANCES_SMTP_SECURITY",
    "user": "ECHEANCES_SMTP_USER",
    "ca_file": "ECHEANCES_SMTP_CAFILE",
}
PASSWORD_ENV = "ECHEANCES_SMTP_PASSWORD"


class MailConfigError(EcheancesError):
    """The mail settings cannot be used as they are."""


@dataclass(frozen=True)
class MailConfig:
    """Resolved mail settings (the password is deliberately not a field)."""

    transport: str = "outbox"
    sender: str = ""
    reply_to: str = ""
    outbox: str = "outbox"
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    user: str = ""
    ca_file: str = ""
    timeout: float = 30.0
    min_interval_days: int = 7
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_total_bytes: int = 20 * 1024 * 1024


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    value = value.strip().lower()
    if value not in allowed:
        raise MailConfigError(f"{what} inconnu : {value!r} (attendu : {', '.join(allowed)})")
    return value


def mail_config(settings: Mapping[str, Any], env: Mapping[str, str] | None = None) -> MailConfig:
    """Read ``settings["mail"]`` (and ``settings["company"]`` for the addresses), then the environment."""
    env = os.environ if env is None else env
    mail = dict(settings.get("mail") or {})
    smtp = dict(mail.get("smtp") or {})
    if "password" in mail or "password" in smtp:
        raise MailConfigError("Le mot de passe SMTP ne doit pas être écrit dans settings.toml : "
                              f"utilisez la variable {PASSWORD_ENV} ou le trousseau du système.")
    company = settings.get("company") or {}
    company_email = str(company.get("email") or "")
    raw = {
        "transport": str(mail.get("transport") or "outbox"),
        "host": str(smtp.get("host") or "localhost"),
        "port": smtp.get("port"),
        "security": str(smtp.get("security") or "starttls"),
        "user": str(smtp.get("user") or ""),
        "ca_file": str(smtp.get("ca_file") or ""),
    }
    for key, name in ENV.items():
        if env.get(name):
            raw[key] = env[name]
    security = _choice(raw["security"], SECURITIES, "Mode de sécurité SMTP")
    port = raw["port"] or DEFAULT_PORTS[security]
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise MailConfigError(f"Port SMTP invalide : {raw['port']!r}") from None
    name = str(company.get("name") or "")
    sender = str(mail.get("from") or "")
    if not sender and company_email:
        sender = f"{name} <{company_email}>" if name else company_email
    try:
        return MailConfig(
            transport=_choice(raw["transport"], TRANSPORTS, "Mode d'envoi"),
            sender=sender,
            reply_to=str(mail.get("reply_to") or company_email),
            outbox=str(mail.get("outbox") or "outbox"),
            host=raw["host"], port=port, security=security, user=raw["user"], ca_file=raw["ca_file"],
            timeout=float(smtp.get("timeout") or 30),
            min_interval_days=int(mail.get("min_interval_days", 7)),
            max_attachment_bytes=int(float(mail.get("max_attachment_mb", 10)) * 1024 * 1024),
            max_total_bytes=int(float(mail.get("max_total_mb", 20)) * 1024 * 1024),
        )
    except (TypeError, ValueError) as exc:
        raise MailConfigError(f"Réglages [mail] invalides dans settings.toml : {exc}") from None


def smtp_password(config: MailConfig, env: Mapping[str, str] | None = None) -> str | None:
    """The SMTP password from the environment, else the OS keyring when installed; ``None`` if neither."""
    env = os.environ if env is None else env
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    if not config.user:
        return None
    try:
        import keyring  # optional: only when the user keeps the password in the OS keyring
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, config.user)
    except Exception:  # noqa: BLE001 - a broken keyring backend means "no password there"
        return None


def outbox_folder(workspace: Path, config: MailConfig) -> Path:
    return Path(workspace) / config.outbox
