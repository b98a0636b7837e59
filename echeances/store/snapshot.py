"""A snapshot of the frames beside a SQLite store, used only while it still tells the store's content.

Reading 200 000 invoices with their payments and allocations through ``sqlite3``
builds millions of Python objects and takes seconds; loading the same frames
from a NumPy archive takes a tenth of that.

Two tokens, renewed by SQLite triggers (so a program other than Échéances moves
them too), say what changed since a snapshot was taken:

- ``token`` is drawn anew on every insert, update or delete in the six tables:
  while it is the snapshot's, the snapshot is the store;
- ``full_token`` is drawn anew on every change except the ones a payment makes —
  rows appended to payments, allocations or write-offs (above every id there),
  and a payment's first cancellation. While it is the snapshot's, the snapshot
  plus the rows read by ``database.read_growth`` is the store.

Random tokens rather than counters: a restored backup never matches a newer
snapshot. The archive holds only numbers and UTF-8 bytes, never a pickle:
loading it runs no code.
"""
from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from echeances.records import Frames

LOGGER = logging.getLogger(__name__)
FORMAT = 2
TABLES = ("clients", "sites", "invoices", "payments", "allocations", "write_offs")
# (column, dtype) in the order ``read_frames`` gives them, table by table.
Layout = dict[str, list[tuple[str, object]]]


GROWING = ("payments", "allocations", "write_offs")
TOKENS = "snapshot_tokens"
TRIGGER_PREFIX = "snapshot_"
CANCELLATION = ("cancelled_date", "cancel_reason", "cancelled_by")


def _triggers(payment_columns: list[str]) -> dict[str, str]:
    """Every trigger, by name: each name carries a digest of all their definitions, so a store whose
    triggers were made by another version of this code gets them replaced, never kept half right."""
    both, token_only = "token = random(), full_token = random()", "token = random()"
    first_cancellation = " AND ".join(
        ["OLD.cancelled_date IS NULL", "NEW.cancelled_date IS NOT NULL"]
        + [f"NEW.{c} IS OLD.{c}" for c in payment_columns if c not in CANCELLATION])
    bodies = {}
    for table in TABLES:
        bodies[f"{table}_delete"] = ("DELETE", table, both, "")
        if table in GROWING:
            appended = f"NOT EXISTS (SELECT 1 FROM {table} WHERE id > NEW.id)"
            bodies[f"{table}_append"] = ("INSERT", table, token_only, appended)
            bodies[f"{table}_insert"] = ("INSERT", table, both, "NOT " + appended)
        else:
            bodies[f"{table}_insert"] = ("INSERT", table, both, "")
        if table == "payments":
            bodies[f"{table}_cancel"] = ("UPDATE", table, token_only, first_cancellation)
            bodies[f"{table}_update"] = ("UPDATE", table, both, f"NOT ({first_cancellation})")
        else:
            bodies[f"{table}_update"] = ("UPDATE", table, both, "")
    sql = {key: f"AFTER {event} ON {table} {'WHEN ' + when if when else ''} "
                f"BEGIN UPDATE {TOKENS} SET {renew}; END"
           for key, (event, table, renew, when) in bodies.items()}
    digest = hashlib.sha256(repr(sorted(sql.items())).encode()).hexdigest()[:10]
    return {f"{TRIGGER_PREFIX}{digest}_{key}": text for key, text in sql.items()}


def install(conn, payment_columns: list[str]) -> None:
    """Create the token row and the triggers that renew the tokens (SQLite; idempotent)."""
    wanted = _triggers(payment_columns)
    present = {name for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for name in present - set(wanted):
        # Ours from another version; "*_token": the first form, a single token in a table "store_token".
        if name.startswith(TRIGGER_PREFIX) or name.endswith("_token"):
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    conn.exec_driver_sql("DROP TABLE IF EXISTS store_token")
    conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {TOKENS} (id INTEGER PRIMARY KEY CHECK (id = 1), "
                         "token INTEGER NOT NULL, full_token INTEGER NOT NULL)")
    conn.exec_driver_sql(f"INSERT OR IGNORE INTO {TOKENS} (id, token, full_token) VALUES (1, random(), random())")
    missing = [name for name in wanted if name not in present]
    for name in missing:
        conn.exec_driver_sql(f'CREATE TRIGGER "{name}" {wanted[name]}')
    if missing:  # triggers made now did not see the changes before: whatever a snapshot holds is stale
        conn.exec_driver_sql(f"UPDATE {TOKENS} SET token = random(), full_token = random()")


def tokens(conn) -> tuple[int, int]:
    """The store's current ``(token, full_token)``, read in the caller's transaction."""
    row = conn.exec_driver_sql(f"SELECT token, full_token FROM {TOKENS}").one()
    return int(row[0]), int(row[1])


def snapshot_path(database: str | None) -> Path | None:
    """Where the snapshot of the SQLite file ``database`` lives (none for an in-memory store)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    return path.with_name(path.name + ".frames.npz")


def _encode(frame: pd.DataFrame, table: str) -> dict[str, np.ndarray]:
    arrays = {f"{table}.columns": np.array(list(frame.columns), dtype=str)}
    for name, column in frame.items():
        key = f"{table}.{name}"
        if isinstance(column.dtype, pd.StringDtype):
            codes, uniques = pd.factorize(column, use_na_sentinel=True)
            texts = [str(text) for text in uniques]
            arrays[key + ".codes"] = codes.astype(np.int64)
            arrays[key + ".lengths"] = np.array([len(text) for text in texts], dtype=np.int64)
            arrays[key + ".text"] = np.frombuffer("".join(texts).encode("utf-8"), dtype=np.uint8)
        elif isinstance(column.dtype, pd.CategoricalDtype):
            arrays[key + ".codes"] = column.cat.codes.to_numpy()
            arrays[key + ".categories"] = np.array(list(column.cat.categories), dtype=str)
        elif column.dtype.kind in "iM":
            arrays[key] = column.to_numpy()
        else:
            raise TypeError(f"{table}.{name}: type {column.dtype} hors du format de l'instantané")
    return arrays


def _decode_text(archive, key: str, dtype) -> pd.api.extensions.ExtensionArray:
    text = archive[key + ".text"].tobytes().decode("utf-8")
    ends = np.cumsum(archive[key + ".lengths"])
    starts = ends - archive[key + ".lengths"]
    if len(ends) and ends[-1] != len(text):
        raise ValueError(f"{key}: longueurs incohérentes")
    uniques = pd.array([text[a:b] for a, b in zip(starts.tolist(), ends.tolist())], dtype=dtype)
    codes = archive[key + ".codes"]
    if len(codes) and (codes.min() < -1 or codes.max() >= len(uniques)):
        raise ValueError(f"{key}: codes hors limites")
    return uniques.take(codes, allow_fill=True)  # code -1: a NULL


def _decode(archive, table: str, layout: list[tuple[str, object]]) -> pd.DataFrame:
    if list(archive[f"{table}.columns"]) != [name for name, _ in layout]:
        raise ValueError(f"{table}: colonnes différentes")
    columns = {}
    for name, dtype in layout:
        key = f"{table}.{name}"
        if isinstance(dtype, pd.CategoricalDtype):
            if list(archive[key + ".categories"]) != list(dtype.categories):
                raise ValueError(f"{key}: catégories différentes")
            columns[name] = pd.Categorical.from_codes(archive[key + ".codes"], dtype=dtype)
        elif pd.api.types.pandas_dtype(dtype) == pd.StringDtype():
            columns[name] = _decode_text(archive, key, dtype)
        else:
            values = archive[key]
            if values.dtype != np.dtype(dtype):
                raise ValueError(f"{key}: type {values.dtype} au lieu de {dtype}")
            columns[name] = values
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"{table}: colonnes de longueurs différentes")
    return pd.DataFrame(columns)


def load(path: Path | None, current: tuple[int, int], layout: Layout) -> tuple[Frames, bool] | None:
    """The frames kept at ``path`` and whether they are the store as it is (``True``) or only lack
    payment rows (``False``: bring them up to date with ``read_growth``); ``None`` if they are of no use."""
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            taken = tuple(int(t) for t in archive["meta.tokens"])
            if int(archive["meta.format"][0]) != FORMAT or taken[1] != current[1]:
                return None
            frames = Frames(**{table: _decode(archive, table, layout[table]) for table in TABLES})
            return frames, taken == current
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        LOGGER.info("Instantané %s inutilisable, lecture complète : %s", path, error)
        return None


def save(path: Path | None, current: tuple[int, int], frames: Frames, database: Path | None = None) -> None:
    """Keep ``frames`` (read at tokens ``current``) at ``path``, readable by whoever can read ``database``;
    a failure only costs the next read its speed."""
    if path is None:
        return
    try:
        arrays = {"meta.format": np.array([FORMAT]), "meta.tokens": np.array(current, dtype=np.int64)}
        for table in TABLES:
            arrays.update(_encode(getattr(frames, table), table))
        # Written aside then renamed: a reader sees the old snapshot or the new one, never half of one.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(out, **arrays)
            if database is not None:  # the same rights as the data it copies (mkstemp made it private)
                os.chmod(temporary, stat.S_IMODE(database.stat().st_mode))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError, UnicodeEncodeError) as error:
        LOGGER.info("Instantané %s non écrit : %s", path, error)
