"""The ``sendings`` log: one row per email attempt of a document, written before and after delivery.

An attempt is recorded (status ``en cours``, with its Message-ID) before the
message leaves, and marked ``envoyé``/``à renvoyer``/``échec`` once the transport
answered. A row left ``en cours`` means the outcome is unknown (a crash, or a
connection lost after the message was handed over): it may have been delivered.
Client, template and invoices are a snapshot of the document at sending time.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from echeances.store.tables import metadata

PENDING, SENT, RETRY, FAILED = "en cours", "envoyé", "à renvoyer", "échec"
STATUSES = (PENDING, SENT, RETRY, FAILED)

sendings = sa.Table(
    "sendings", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # The documents log's id (no foreign key yet: the documents table is defined elsewhere).
    sa.Column("document", sa.Integer, nullable=False, index=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("message_id", sa.String(250), nullable=False, unique=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(1000)),
    sa.Column("transport", sa.String(20), nullable=False),
    sa.Column("sender", sa.String(400)),
    sa.Column("to_addrs", sa.String(2000), nullable=False),
    sa.Column("cc_addrs", sa.String(2000)),
    sa.Column("bcc_addrs", sa.String(2000)),
    sa.Column("client", sa.Integer, index=True),
    sa.Column("kind", sa.String(40)),
    sa.Column("template", sa.String(100)),
    # Invoice codes, comma-separated (",3,7," so a LIKE finds one code).
    sa.Column("invoices", sa.String(4000), nullable=False, server_default=""),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.UniqueConstraint("document", "attempt", name="sending_attempt"),
    sa.CheckConstraint("status IN ('en cours', 'envoyé', 'à renvoyer', 'échec')", name="sending_status"),
)

COLUMNS = {
    "sending": "int64", "document": "int64", "attempt": "int64", "message_id": "string",
    "status": "string", "reason": "string", "transport": "string", "sender": "string",
    "to_addrs": "string", "cc_addrs": "string", "bcc_addrs": "string", "client": "int64",
    "kind": "string", "template": "string", "invoices": "object",
    "started_at": "datetime64[ns]", "finished_at": "datetime64[ns]",
}


def encode_invoices(codes) -> str:
    return "," + ",".join(str(int(c)) for c in sorted(set(codes))) + "," if codes else ""


def decode_invoices(text: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in (text or "").split(",") if part)


def attempts(conn: sa.Connection, document: int) -> list[sa.Row]:
    """Every attempt of ``document``, oldest first."""
    query = sa.select(sendings).where(sendings.c.document == document).order_by(sendings.c.attempt)
    return list(conn.execute(query))


def client_attempts_since(conn: sa.Connection, client: int, since: dt.datetime) -> list[sa.Row]:
    """The client's attempts that were delivered or may have been, started or finished since ``since``."""
    when = sa.func.coalesce(sendings.c.finished_at, sendings.c.started_at)
    query = (sa.select(sendings)
             .where(sendings.c.client == client, sendings.c.status.in_((SENT, PENDING)), when >= since)
             .order_by(sendings.c.id))
    return list(conn.execute(query))


def record_attempt(conn: sa.Connection, *, document: int, message_id: str, transport: str, sender: str,
                   to: list[str], cc: list[str], bcc: list[str], client: int | None, kind: str,
                   template: str, invoices, started_at: dt.datetime) -> tuple[int, int]:
    """Insert an ``en cours`` attempt; returns ``(sending id, attempt number)``."""
    last = conn.execute(sa.select(sa.func.max(sendings.c.attempt))
                        .where(sendings.c.document == document)).scalar()
    attempt = int(last or 0) + 1
    result = conn.execute(sendings.insert().values(
        document=document, attempt=attempt, message_id=message_id, status=PENDING, transport=transport,
        sender=sender, to_addrs=", ".join(to), cc_addrs=", ".join(cc), bcc_addrs=", ".join(bcc),
        client=client, kind=kind, template=template, invoices=encode_invoices(invoices),
        started_at=started_at))
    return int(result.inserted_primary_key[0]), attempt


def mark_result(conn: sa.Connection, sending: int, status: str, reason: str | None,
                finished_at: dt.datetime | None) -> None:
    """Record what the transport answered for one attempt."""
    if status not in STATUSES:
        raise ValueError(f"statut d'envoi inconnu : {status}")
    conn.execute(sendings.update().where(sendings.c.id == sending)
                 .values(status=status, reason=reason, finished_at=finished_at))


def read_sendings(conn: sa.Connection) -> pd.DataFrame:
    """The whole log as a typed frame (``sending`` is the row id, ``invoices`` a tuple of codes).

    A store that never sent anything may not have the table yet: that is an empty log.
    """
    if not sa.inspect(conn).has_table(sendings.name):
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in COLUMNS.items()})
    frame = pd.read_sql(sa.select(sendings).order_by(sendings.c.id), conn).rename(columns={"id": "sending"})
    frame["client"] = frame["client"].fillna(-1)
    frame["invoices"] = frame["invoices"].map(decode_invoices)
    for column in ("started_at", "finished_at"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.astype({k: v for k, v in COLUMNS.items() if k != "invoices"})[list(COLUMNS)]


def ensure_table(conn: sa.Connection) -> None:
    """Create the table when the store predates it (the store creates ``metadata`` only when it was imported)."""
    sendings.create(conn, checkfirst=True)
