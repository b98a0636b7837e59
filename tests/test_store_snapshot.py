"""The frames snapshot beside a SQLite store: identical frames; after a payment, only its rows are read;
after any other change, by any program, the whole store."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echeances import Workspace
from echeances.demo import write_demo
from echeances.records import Frames
from echeances.store import snapshot as snapshots
from echeances.store.database import LAYOUT, DB_FILE, Store, read_frames, store_url

TABLES = snapshots.TABLES


def full_read(store: Store) -> Frames:
    with store.read() as conn:
        return read_frames(conn)


def assert_same(got: Frames, expected: Frames) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(got, table), getattr(expected, table), check_exact=True)


def kept(store: Store) -> tuple[Frames, bool] | None:
    """What the snapshot file offers for the store's current tokens (see ``snapshot.load``)."""
    with store.read() as conn:
        current = snapshots.tokens(conn)
    return snapshots.load(snapshots.snapshot_path(store.engine.url.database), current, LAYOUT)


def change_outside(store: Store, sql: str) -> None:
    """A change made by another program (the sqlite3 shell, a script…), not through Échéances."""
    outside = sqlite3.connect(store.engine.url.database)
    with outside:
        outside.execute(sql)
    outside.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder)
    return folder


@pytest.fixture
def store(demo, tmp_path):
    shutil.copy(demo / DB_FILE, tmp_path / DB_FILE)
    opened = Store.open(store_url(tmp_path))
    yield opened
    opened.close()


def test_a_full_read_leaves_a_snapshot_that_gives_the_same_frames(store):
    path = snapshots.snapshot_path(store.engine.url.database)
    assert not path.exists()
    first = store.frames()
    assert path.exists()
    frames, exact = kept(store)
    assert exact
    assert_same(frames, full_read(store))
    assert path.stat().st_mode == Path(store.engine.url.database).stat().st_mode  # as readable as the base
    assert_same(store.frames(), first)
    assert (store.frames().invoices["total"] > 0).all() and len(first.invoices) > 2_000


@pytest.mark.parametrize("change", [
    "UPDATE invoices SET total = total + 1 WHERE id = 7",
    "UPDATE clients SET name = 'Nom changé' WHERE id = 2",
    "UPDATE sites SET manager = NULL WHERE id = 1",
    "DELETE FROM allocations WHERE id = (SELECT max(id) FROM allocations)",
    "UPDATE payments SET amount = amount + 1 WHERE id = 3",
    "UPDATE payments SET cancelled_date = '2026-01-02', amount = amount + 1 WHERE id = 3",
    "UPDATE allocations SET amount = amount - 1 WHERE id = 5",
    # an allocation slipped in below the last id: reading "rows above the last id" would miss it
    "INSERT INTO allocations (id, payment, credit_note, invoice, amount, date) "
    "SELECT -5, payment, credit_note, invoice, 1, date "
    "FROM allocations WHERE id = 1",
])
def test_a_change_other_than_a_payment_makes_the_next_read_complete(store, change):
    store.frames()
    change_outside(store, change)
    assert kept(store) is None
    after = store.frames()
    assert_same(after, full_read(store))
    assert kept(store)[1]  # the new state is kept in turn
    assert_same(kept(store)[0], after)


@pytest.mark.parametrize("change", [
    "UPDATE payments SET cancelled_date = '2026-01-02', cancel_reason = 'chèque impayé' WHERE id = 3",
    "INSERT INTO write_offs (invoice, date, amount, reason) VALUES (5, '2026-02-03', 100, 'arrondi')",
    "INSERT INTO payments (payment_id, client, date, amount, method) VALUES ('R-X', 1, '2026-03-01', 500, 'chèque')",
])
def test_after_a_payment_only_its_rows_are_read_onto_the_snapshot(store, change):
    store.frames()
    change_outside(store, change)
    frames, exact = kept(store)
    assert not exact
    assert_same(store.frames(), full_read(store))


def test_a_cancelled_payment_made_valid_again_outside_is_a_complete_change(store):
    change_outside(store, "UPDATE payments SET cancelled_date = '2026-01-02', cancel_reason = 'erreur' WHERE id = 3")
    store.frames()
    change_outside(store, "UPDATE payments SET cancelled_date = NULL, cancel_reason = NULL WHERE id = 3")
    assert kept(store) is None
    assert_same(store.frames(), full_read(store))


def test_many_payments_since_rewrite_the_snapshot(store):
    before = store.frames()
    rows = sum(len(getattr(before, t)) for t in TABLES)
    change_outside(store, f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows // 10}) "
                          "INSERT INTO payments (payment_id, client, date, amount) "
                          "SELECT 'R-N' || i, 1, '2026-03-01', 100 FROM n")
    assert not kept(store)[1]
    assert_same(store.frames(), full_read(store))
    assert kept(store)[1]  # rewritten: the next opening reads nothing from the store


def test_a_payment_entered_in_another_workspace_is_seen(store, tmp_path):
    from echeances.payment_specs import PaymentSpec

    before = Workspace(tmp_path, store)
    items = before.open_items(as_of="2026-12-01")
    client = str(items["client_id"].iloc[0])
    other = Workspace.open(tmp_path)
    other.record_payment(PaymentSpec(client, pd.Timestamp("2026-12-01").date(), "12,34", method="virement"))
    other.close()
    later = Workspace.open(tmp_path)
    assert (later.frames.payments["amount"] == 1_234).sum() == (before.frames.payments["amount"] == 1_234).sum() + 1
    assert_same(later.frames, Workspace(tmp_path, Store.open(store_url(tmp_path))).frames)
    later.close()


def test_a_restored_backup_is_read_as_it_is(store, tmp_path):
    store.frames()
    backup = tmp_path / "backup.sqlite"
    shutil.copy(tmp_path / DB_FILE, backup)
    with store.write() as conn:
        conn.exec_driver_sql("UPDATE invoices SET total = total + 100 WHERE id = 1")
    store.frames()  # the snapshot now holds the changed total
    store.close()
    shutil.copy(backup, tmp_path / DB_FILE)
    restored = Store.open(store_url(tmp_path))
    assert_same(restored.frames(), full_read(restored))
    restored.close()


@pytest.mark.parametrize("damage", [b"", b"not a zip", b"PK\x03\x04" + b"\x00" * 64])
def test_a_damaged_snapshot_is_ignored_and_replaced(store, damage):
    store.frames()
    path = snapshots.snapshot_path(store.engine.url.database)
    path.write_bytes(damage)
    assert_same(store.frames(), full_read(store))
    assert_same(kept(store)[0], full_read(store))


def test_a_snapshot_with_other_columns_is_not_used(store):
    frames = store.frames()
    with store.read() as conn:
        current = snapshots.tokens(conn)
    path = snapshots.snapshot_path(store.engine.url.database)
    snapshots.save(path, current, Frames(**{t: getattr(frames, t) for t in TABLES if t != "invoices"},
                                         invoices=frames.invoices.drop(columns=["pdf"])))
    assert kept(store) is None
    assert_same(store.frames(), full_read(store))


def test_no_snapshot_for_an_in_memory_store():
    assert snapshots.snapshot_path(":memory:") is None and snapshots.snapshot_path(None) is None
    memory = Store.open("sqlite://")
    assert memory.frames().invoices.empty
    memory.close()


TEXT = st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs",)), max_size=12))


@settings(max_examples=60, deadline=None)
@given(names=st.lists(TEXT, max_size=30))
def test_text_round_trips_exactly(tmp_path_factory, names):
    """NULL, empty text, separators, accents and any character come back as they were."""
    empty = {t: pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in LAYOUT[t]}) for t in TABLES}
    clients = pd.DataFrame({name: pd.array(names, dtype="string") if dtype == "string" else
                            pd.Series(range(len(names)), dtype="int64").to_numpy()
                            for name, dtype in LAYOUT["clients"]})
    frames = Frames(**{**empty, "clients": clients})
    path = tmp_path_factory.mktemp("text") / "x.frames.npz"
    snapshots.save(path, (42, 7), frames)
    back, exact = snapshots.load(path, (42, 7), LAYOUT)
    assert exact
    pd.testing.assert_frame_equal(back.clients, clients, check_exact=True)
    assert snapshots.load(path, (43, 8), LAYOUT) is None and not snapshots.load(path, (43, 7), LAYOUT)[1]


def test_triggers_of_another_version_are_replaced(store, tmp_path):
    """A store whose triggers were made by another version (here the first one: a single token that
    no change ever marked as more than a payment) gets exactly the current ones."""
    store.close()
    database = str(tmp_path / DB_FILE)
    old = sqlite3.connect(database)
    with old:
        for (name,) in old.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            old.execute(f'DROP TRIGGER "{name}"')
        old.execute("DROP TABLE snapshot_tokens")
        old.execute("CREATE TABLE store_token (id INTEGER PRIMARY KEY, token INTEGER NOT NULL)")
        old.execute("INSERT INTO store_token VALUES (1, 0)")
        old.execute("CREATE TRIGGER invoices_update_token AFTER UPDATE ON invoices "
                    "BEGIN UPDATE store_token SET token = random(); END")
    old.close()
    reopened = Store.open(store_url(tmp_path))
    names = {n for (n,) in sqlite3.connect(database).execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    # each table: insert, update, delete; payments, allocations, write-offs: append; payments: cancel
    assert not any(n.endswith("_token") for n in names) and len(names) == 6 * 3 + 3 + 1
    assert all(n.startswith("snapshot_") for n in names)
    reopened.frames()
    change_outside(reopened, "UPDATE invoices SET total = total + 1 WHERE id = 7")
    assert kept(reopened) is None
    assert_same(reopened.frames(), full_read(reopened))
    reopened.close()


def test_an_import_leaves_the_snapshot_of_what_it_wrote(tmp_path, base_folder):
    ws = Workspace.open(tmp_path / "ws")
    ws.import_folder(base_folder)
    frames, exact = kept(ws.store)
    assert exact  # the next opening (the dashboard after the morning's import) reads no table
    assert_same(frames, full_read(ws.store))
    ws.close()
