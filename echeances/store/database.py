"""Opening the store and reading it into typed frames; every write is one transaction."""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import sqlalchemy as sa

from echeances import schema
from echeances.records import Frames
from echeances.store import snapshot as snapshots
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
            # create_all adds no index to a table that exists: a store made before an index gets it here
            for table in tables.metadata.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            if store.is_sqlite:
                snapshots.install(conn, [c.name for c in tables.payments.c])
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
        """The whole store as typed frames (see ``schema``).

        Without ``conn``, a SQLite store answers from its snapshot file while no row changed
        since it was written, and writes a new one after a full read (see ``snapshot``).
        """
        if conn is not None:
            return read_frames(conn)
        path = snapshots.snapshot_path(self.engine.url.database) if self.is_sqlite else None
        with self.read() as transaction:
            if path is None:
                return read_frames(transaction)
            current = snapshots.tokens(transaction)
            kept = snapshots.load(path, current, LAYOUT)
            if kept is not None and kept[1]:
                return kept[0]
            if kept is not None:
                frames = read_growth(transaction, kept[0])
                # A few payments since: re-read them each time rather than rewrite the whole snapshot.
                if _rows(frames) - _rows(kept[0]) < SNAPSHOT_GROWTH * _rows(kept[0]):
                    return frames
            else:
                frames = read_frames(transaction)
        snapshots.save(path, current, frames, Path(self.engine.url.database))
        return frames

    def grown(self, base: Frames) -> Frames:
        """``base`` brought up to date after payment-path writes (see ``read_growth``)."""
        with self.read() as snapshot:
            return read_growth(snapshot, base)

    def close(self) -> None:
        self.engine.dispose()


SNAPSHOT_GROWTH = 0.02  # rewrite the snapshot once payment rows added since reach 2 % of its rows


def _rows(frames: Frames) -> int:
    return sum(len(getattr(frames, name)) for name in snapshots.TABLES)


_NULL_DAY = -(2**40)  # stands for a NULL date in a day-number column: no real date is that far back
_EPOCH = dt.date(1970, 1, 1)


def _day_number(conn: sa.Connection, column: sa.Column):
    """The date as whole days since 1970-01-01 (NULL → ``_NULL_DAY``), computed by the database."""
    if conn.dialect.name == "sqlite":
        days = sa.cast(sa.func.julianday(column) - 2440587.5, sa.Integer)
    else:
        days = column - sa.literal(_EPOCH, sa.Date)
    return sa.func.coalesce(days, _NULL_DAY).label(column.name)


def _column(values: tuple, column: sa.Column, dtype):
    if isinstance(column.type, sa.Date):
        days = np.array(values, dtype=np.int64)
        dates = days.astype("datetime64[D]").astype(schema.DATE)
        dates[days == _NULL_DAY] = np.datetime64("NaT")
        return dates
    if isinstance(column.type, sa.Integer):
        return np.array(values, dtype=np.int64)
    return pd.array(values, dtype=dtype) if dtype is not None else pd.array(values, dtype=object)


def _read(conn: sa.Connection, table: sa.Table, renames: dict[str, str], columns: dict[str, str],
          where=None) -> pd.DataFrame:
    # The database hands over dates as day numbers and NULL codes as -1, so each
    # column is built straight at its dtype from plain DBAPI tuples: no Python
    # object per date and no type inference, most of the cost of a large load.
    selected = [_day_number(conn, c) if isinstance(c.type, sa.Date)
                else sa.func.coalesce(c, schema.NO_CODE).label(c.name) if isinstance(c.type, sa.Integer)
                else c for c in table.c]
    query = sa.select(*selected).order_by(table.c.id)
    result = conn.execute(query if where is None else query.where(where))
    rows = result.cursor.fetchall()
    result.close()
    values = list(zip(*rows)) if rows else [()] * len(table.c)
    frame = pd.DataFrame({renames.get(c.name, c.name): _column(v, c, columns.get(renames.get(c.name, c.name)))
                          for c, v in zip(table.c, values)})
    return frame.astype({name: dtype for name, dtype in columns.items()
                         if name in frame and dtype not in (schema.DATE, schema.CENTS, schema.CODE)})


_SOURCES = {
    "clients": (tables.clients, {"id": "client"}, schema.CLIENTS),
    "sites": (tables.sites, {"id": "site"}, schema.SITES),
    "invoices": (tables.invoices, {"id": "invoice"}, schema.INVOICES),
    "payments": (tables.payments, {"id": "payment"}, schema.PAYMENTS),
    "allocations": (tables.allocations, {"id": "allocation"}, schema.ALLOCATIONS),
    "write_offs": (tables.write_offs, {"id": "write_off"}, schema.WRITE_OFFS),
}
# Each table's columns as ``read_frames`` gives them: (name, dtype), in order.
LAYOUT = {name: [(renames.get(c.name, c.name), columns.get(renames.get(c.name, c.name), "object")) for c in table.c]
          for name, (table, renames, columns) in _SOURCES.items()}
# Tables that a payment, a credit application, a write-off or a cancellation
# changes: they only grow, except a payment row getting its cancellation.
GROWING = snapshots.GROWING


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
            # As a union of two index searches: with OR, SQLite scans a whole index (50 ms at 1M payments).
            condition = table.c.id.in_(sa.select(table.c.id).where(condition).union(
                sa.select(table.c.id).where(table.c.cancelled_date.is_not(None))))
        new = _read(conn, table, renames, columns, condition)
        if not len(new):
            updated[name] = old
            continue
        replaced = new[key] <= last  # rows seen before: a payment cancelled since
        kept = old[~old[key].isin(new.loc[replaced, key])] if replaced.any() else old
        updated[name] = pd.concat([kept, new], ignore_index=True)
        if len(kept) != len(old):
            updated[name] = updated[name].sort_values(key, kind="stable").reset_index(drop=True)
    return dataclasses.replace(base, **updated)
