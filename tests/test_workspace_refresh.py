"""After payment-path writes the workspace re-reads only new and cancelled rows: same frames as a full reload."""
import datetime as dt

import pandas as pd

from echeances import Workspace
from echeances.payment_specs import CreditSpec, PaymentSpec, WriteOffSpec


def assert_same_as_fresh(ws: Workspace) -> None:
    fresh = Workspace.open(ws.path)
    for name in ("payments", "allocations", "write_offs", "invoices"):
        pd.testing.assert_frame_equal(getattr(ws.frames, name), getattr(fresh.frames, name), check_like=False)
    pd.testing.assert_frame_equal(ws.aging(as_of="2026-08-01"), fresh.aging(as_of="2026-08-01"))
    fresh.close()


def test_refresh__incremental_after_payments_equals_full_reload(workspace):
    workspace.frames  # cached before the writes
    first = workspace.record_payment(PaymentSpec("C1", dt.date(2026, 6, 1), 150_000, reference="VIR1"))
    assert_same_as_fresh(workspace)
    workspace.record_payment(PaymentSpec("C2", dt.date(2026, 6, 2), 10_000, allocations=(("F2", 10_000),)))
    workspace.write_off(WriteOffSpec("F2", dt.date(2026, 6, 3), "écart", amount=300))
    assert_same_as_fresh(workspace)
    workspace.cancel_payment(first.source_id, "chèque rejeté", date=dt.date(2026, 6, 10))
    assert_same_as_fresh(workspace)
    # the cancelled payment's money is free again: F1 and F3 are due in full on 1 August
    c1 = workspace.aging(as_of="2026-08-01").set_index("client_id").loc["C1"]
    assert (c1["outstanding"], c1["credit"]) == (150_000, 0)


def test_refresh__incremental_sees_another_users_payment(workspace):
    other = Workspace.open(workspace.path)
    workspace.frames
    other.record_payment(PaymentSpec("C2", dt.date(2026, 6, 2), 5_000, reference="CHQ 1", auto=False))
    workspace.apply_credit(CreditSpec("C2", other.payments()[0]["payment_id"].iloc[0], dt.date(2026, 6, 3)))
    assert_same_as_fresh(workspace)
    other.close()


def test_open_items__the_kept_answer_is_never_shared_nor_stale(workspace):
    first = workspace.open_items(as_of="2026-06-30")
    first.loc[:, "outstanding"] = 0  # what a caller does to its copy stays there
    again = workspace.open_items(as_of="2026-06-30")
    assert again["outstanding"].sum() > 0
    assert workspace.open_items(as_of="2026-07-31")["days_overdue"].max() > again["days_overdue"].max()
    workspace.record_payment(PaymentSpec("C2", dt.date(2026, 6, 2), 10_000, allocations=(("F2", 10_000),)))
    after = workspace.open_items(as_of="2026-06-30").set_index("number")
    assert after.loc["F2", "outstanding"] == again.set_index("number").loc["F2", "outstanding"] - 10_000
