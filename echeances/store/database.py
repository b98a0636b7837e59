"""Opening the store and reading it into typed frames; every write is one transaction."""
from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path
from typing import Iterator

import pandas as pd
import sqlalchemy as sa

from echeances import schema
from echeances.records import Frames
from echeances.store import tables

DB_FILE = "echeances.sqlite"


def store_url(workspace: Path) -> str:
    """``ECHEANCES_DB`` when set (PostgreSQL for several users), else the workspace's SQLite file."""
    return os.environ.get("ECHEANCES_DB") or f"sqlite:///{Path(workspace) / DB_FILE}"


def _sqlite_setup(engine: sa.Engine) -> None:
    # pysqlite's own transaction handling would defer the write lock until the
    # first write; we issue BEGIN ourselves so a write transaction takes the
    # lock at once (BEGIN IMMEDIATE) and re-checks happen under it.
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """A database holding one firm's receivables, reached through SQLAlchemy Core."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> "Store":
        engine = sa.create_engine(url, future=True)
        if engine.dialect.name == "sqlite":
            _sqlite_setup(engine)
        store = cls(engine)
        with store.write() as conn:
            tables.metadata.create_all(conn)
        return store

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One write transaction: committed whole on success, rolled back whole on any error."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="SERIALIZABLE")
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A consistent read snapshot that takes no write lock."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(sqlite_begin="DEFERRED")
            else:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def frames(self, conn: sa.Connection | None = None) -> Frames:
        """The whole store as typed frames (see ``schema``)."""
        if conn is None:
            with self.read() as snapshot:
                return read_frames(snapshot)
        return read_frames(conn)

    def grown(self, base: Frames) -> Frames:
        """``base`` brought up to date after payment-path writes (see ``read_growth``)."""
        with self.read() as snapshot:
            return read_growth(snapshot, base)

    def close(self) -> None:
        self.engine.dispose()


def _read(conn: sa.Connection, table: sa.Table, renames: dict[str, str], columns: dict[str, str],
          where=None) -> pd.DataFrame:
    # Dates come back as ISO text and are parsed in one vectorised call: building
    # a Python date per cell is most of the cost of loading a large store.
    selected = [sa.cast(c, sa.String).label(c.name) if isinstance(c.type, sa.Date) else c for c in table.c]
    query = sa.select(*selected).order_by(table.c.id)
    result = conn.execute(query if where is None else query.where(where))
    names = list(result.keys())
    # Plain DBAPI tuples: no per-cell processing is needed once dates are text.
    rows = result.cursor.fetchall()
    result.close()
    frame = pd.DataFrame.from_records(rows, columns=names, coerce_float=False)
    frame = frame.rename(columns=renames)
    for name, dtype in columns.items():
        if name not in frame:
            continue
        if dtype == schema.DATE:
            frame[name] = pd.to_datetime(frame[name], format="%Y-%m-%d").astype(schema.DATE)
        elif dtype in (schema.CENTS, schema.CODE):
            frame[name] = frame[name].fillna(schema.NO_CODE).astype("int64")
        else:
            frame[name] = frame[name].astype(dtype)
    return frame


_SOURCES = {
    "clients": (tables.clients, {"id": "client"}, schema.CLIENTS),
    "sites": (tables.sites, {"id": "site"}, schema.SITES),
    "invoices": (tables.invoices, {"id": "invoice"}, schema.INVOICES),
    "payments": (tables.payments, {"id": "payment"}, schema.PAYMENTS),
    "allocations": (tables.allocations, {"id": "allocation"}, schema.ALLOCATIONS),
    "write_offs": (tables.write_offs, {"id": "write_off"}, schema.WRITE_OFFS),
}
# Tables that a payment, a credit application, a write-off or a cancellation
# changes: they only grow, except a payment row getting its cancellation.
GROWING = ("payments", "allocations", "write_offs")


def read_frames(conn: sa.Connection) -> Frames:
    """Read every table; invoice ``due_date`` stays as stored (explicit or NaT)."""
    return Frames(**{name: _read(conn, *source) for name, source in _SOURCES.items()})


def read_growth(conn: sa.Connection, base: Frames) -> Frames:
    """``base`` with the rows added since it was read (ids above its largest) in the ``GROWING``
    tables, and the payments cancelled since — the only change a stored payment ever gets."""
    updated = {}
    for name in GROWING:
        table, renames, columns = _SOURCES[name]
        key = renames["id"]
        old = getattr(base, name)
        last = int(old[key].max()) if len(old) else 0
        condition = table.c.id > last
        if name == "payments":
            condition = condition | table.c.cancelled_date.is_not(None)
        new = _read(conn, table, renames, columns, condition)
        kept = old[~old[key].isin(new[key])]
        updated[name] = pd.concat([kept, new], ignore_index=True) if len(new) else old
        if len(new) and len(kept) != len(old):
            updated[name] = updated[name].sort_values(key, kind="stable").reset_index(drop=True)
    return dataclasses.replace(base, **updated)
