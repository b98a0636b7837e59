"""A snapshot of the frames beside a SQLite store, used only while no row has changed since.

Reading 200 000 invoices with their payments and allocations through ``sqlite3``
builds millions of Python objects and takes seconds; loading the same frames
from a NumPy archive takes a tenth of that. Every insert, update or delete on
the six tables draws a new random token (SQLite triggers, so a program other
than Échéances moves it too, and a restored backup never matches a newer
snapshot); a snapshot carries the token it was taken at and is used only while
the store's token is still that one. The archive holds only numbers and UTF-8
bytes, never a pickle: loading it runs no code.
"""
from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from echeances.records import Frames

LOGGER = logging.getLogger(__name__)
FORMAT = 1
TABLES = ("clients", "sites", "invoices", "payments", "allocations", "write_offs")
# (column, dtype) in the order ``read_frames`` gives them, table by table.
Layout = dict[str, list[tuple[str, object]]]


def install(conn) -> None:
    """Create the token row and the triggers that renew it (SQLite; idempotent)."""
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS store_token "
                         "(id INTEGER PRIMARY KEY CHECK (id = 1), token INTEGER NOT NULL)")
    conn.exec_driver_sql("INSERT OR IGNORE INTO store_token (id, token) VALUES (1, random())")
    for table in TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            conn.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS {table}_{event.lower()}_token AFTER {event} "
                                 f"ON {table} BEGIN UPDATE store_token SET token = random(); END")


def token(conn) -> int:
    """The store's current token, read in the caller's transaction."""
    return int(conn.exec_driver_sql("SELECT token FROM store_token").scalar_one())


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


def load(path: Path | None, current: int, layout: Layout) -> Frames | None:
    """The frames kept at ``path`` if they were taken at token ``current``; ``None`` otherwise."""
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            if int(archive["meta.format"][0]) != FORMAT or int(archive["meta.token"][0]) != current:
                return None
            return Frames(**{table: _decode(archive, table, layout[table]) for table in TABLES})
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        LOGGER.info("Instantané %s inutilisable, lecture complète : %s", path, error)
        return None


def save(path: Path | None, current: int, frames: Frames) -> None:
    """Keep ``frames`` (read at token ``current``) at ``path``; a failure only costs the next read its speed."""
    if path is None:
        return
    try:
        arrays = {"meta.format": np.array([FORMAT]), "meta.token": np.array([current], dtype=np.int64)}
        for table in TABLES:
            arrays.update(_encode(getattr(frames, table), table))
        # Written aside then renamed: a reader sees the old snapshot or the new one, never half of one.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(out, **arrays)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError, UnicodeEncodeError) as error:
        LOGGER.info("Instantané %s non écrit : %s", path, error)
