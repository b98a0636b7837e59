"""Sending a document's message exactly once: check, record the attempt, deliver, then mark the result.

The attempt (with its Message-ID) is written in one transaction together with
the checks, before anything leaves; it is marked ``envoyé`` only once the
transport accepted. Without ``force``, a document is not sent again when an
earlier attempt was delivered or may have been (``en cours``: a crash or a lost
connection after hand-over), nor is a reminder sent to a client who got one for
any of the same invoices less than ``min_interval_days`` ago.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Callable, Mapping

from echeances.errors import EcheancesError
from echeances.mail.message import Recipients
from echeances.mail.transport import DeliveryError
from echeances.store import Store
from echeances.store import sendings as log
from echeances.store.sendings import PENDING, SENT

STATEMENT_KINDS = frozenset({"statement", "releve", "relevé"})


class AlreadySent(EcheancesError):
    """Sending again needs ``force``: the message says what was sent, when, and to whom."""


@dataclass(frozen=True)
class Outgoing:
    """A built message and the document it carries, as plain values."""

    document: int
    kind: str
    template: str
    client: int | None
    invoices: tuple[int, ...]
    message: EmailMessage
    recipients: Recipients
    numbers: Mapping[int, str] = field(default_factory=dict)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass(frozen=True)
class Sending:
    """One attempt and its outcome (``status``: en cours, envoyé, à renvoyer, échec)."""

    sending: int
    document: int
    attempt: int
    message_id: str
    status: str
    reason: str | None
    transport: str
    recipients: tuple[str, ...]
    started_at: dt.datetime
    finished_at: dt.datetime | None

    @property
    def sent(self) -> bool:
        return self.status == SENT


def utcnow() -> dt.datetime:
    """Naive UTC, as the store keeps times."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def format_time(moment: dt.datetime) -> str:
    """A stored (naive UTC) time as the user reads it: ``04/12/2026 à 16:54``, Paris time."""
    try:
        from zoneinfo import ZoneInfo
        local = moment.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo("Europe/Paris"))
        return local.strftime("%d/%m/%Y à %H:%M")
    except Exception:  # noqa: BLE001 - no time zone data on this machine: say UTC
        return moment.strftime("%d/%m/%Y à %H:%M UTC")


def is_reminder(kind: str | None, template: str | None) -> bool:
    """Statements are not reminders: the minimum interval applies to reminders only."""
    return (kind or "") not in STATEMENT_KINDS and not (template or "").startswith("releve")


def _check(conn, out: Outgoing, now: dt.datetime, min_interval_days: int) -> None:
    for row in reversed(log.attempts(conn, out.document)):
        if row.status == SENT:
            raise AlreadySent(f"Le document {out.document} a déjà été envoyé le {format_time(row.finished_at)} "
                              f"à {row.to_addrs} (Message-ID {row.message_id}). "
                              "Pour l'envoyer de nouveau, utilisez --force.")
        if row.status == PENDING:
            raise AlreadySent(f"Le document {out.document} a un envoi commencé le {format_time(row.started_at)} "
                              f"(Message-ID {row.message_id}) dont le résultat n'a pas été enregistré : le "
                              "message a peut-être été accepté. Vérifiez auprès du destinataire ou dans les "
                              "messages envoyés, puis utilisez --force pour l'envoyer de nouveau.")
    if out.client is None or min_interval_days <= 0 or not is_reminder(out.kind, out.template):
        return
    since = now - dt.timedelta(days=min_interval_days)
    for row in log.client_attempts_since(conn, out.client, since):
        common = set(log.decode_invoices(row.invoices)) & set(out.invoices)
        if row.document == out.document or not common or not is_reminder(row.kind, row.template):
            continue
        numbers = ", ".join(out.numbers.get(code, str(code)) for code in sorted(common))
        raise AlreadySent(f"Une relance pour {numbers} a déjà été envoyée le "
                          f"{format_time(row.finished_at or row.started_at)} à {row.to_addrs} "
                          f"(document {row.document}) : moins de {min_interval_days} jours. "
                          "Pour relancer quand même, utilisez --force.")


def send(store: Store, out: Outgoing, transport, *, min_interval_days: int = 7, force: bool = False,
         clock: Callable[[], dt.datetime] = utcnow) -> Sending:
    """Deliver ``out`` through ``transport`` unless it would be a duplicate; returns the recorded attempt.

    Raises ``AlreadySent`` (nothing recorded, nothing sent) when ``force`` is needed;
    a delivery failure is not raised but returned as the attempt's status and reason.
    """
    sender = out.message["From"].addresses[0].addr_spec
    envelope = out.recipients.envelope
    started = clock()
    with store.write() as conn:
        log.ensure_table(conn)
        if not force:
            _check(conn, out, started, min_interval_days)
        sending, attempt = log.record_attempt(
            conn, document=out.document, message_id=out.message_id, transport=transport.name,
            sender=str(out.message["From"]), to=[str(a) for a in out.recipients.to],
            cc=[str(a) for a in out.recipients.cc], bcc=[str(a) for a in out.recipients.bcc],
            client=out.client, kind=out.kind, template=out.template, invoices=out.invoices,
            started_at=started)
    try:
        delivery = transport.deliver(out.message, sender, envelope, bcc=[a.addr_spec for a in out.recipients.bcc])
    except DeliveryError as exc:
        status, reason = exc.status, exc.reason
    else:
        status = SENT
        refused = "; ".join(f"{address} : {answer}" for address, answer in delivery.refused.items())
        reason = (f"Accepté sauf pour : {refused}" if refused
                  else (f"Déposé dans {delivery.location}" if transport.name == "outbox" else None))
    finished = clock()
    with store.write() as conn:
        log.mark_result(conn, sending, status, reason, finished)
    return Sending(sending=sending, document=out.document, attempt=attempt, message_id=out.message_id,
                   status=status, reason=reason, transport=transport.name, recipients=tuple(envelope),
                   started_at=started, finished_at=finished)
