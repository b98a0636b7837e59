"""The dashboard's queries and widgets without a browser, on the tiny inline data of conftest."""
from __future__ import annotations

import datetime as dt

import pytest

from echeances.errors import EcheancesError
from echeances.ui import build_dashboard
from echeances.ui.feedback import Notice, guarded
from echeances.ui.grid import grid_frame
from echeances.ui.tile import cards_html, chart_html

AS_OF = "2026-06-30"
# On 30/06/2026: F1 net 1 140,00 € due 31/05 (30 days late), F1 retention 60,00 € due 15/04/2027,
# F2 500,00 € due 01/05 (60 days late, client C2 pays cash), F3 300,00 € due 30/06 (due today, not late).


def test_kpis__totals_overdue_and_buckets_reconcile(workspace):
    kpis = workspace.kpis(AS_OF)
    assert kpis["as_of"] == dt.date(2026, 6, 30)
    assert (kpis["count"], kpis["total"], kpis["overdue"], kpis["overdue_count"], kpis["credit"]) == (
        4, 200000, 164000, 2, 0)
    assert kpis["buckets"] == {"not_due": 36000, "1-30": 114000, "31-60": 50000, "61-90": 0, "90+": 0}
    assert sum(kpis["buckets"].values()) == kpis["total"]


def test_dso__client_balance_over_sales_of_the_last_90_days(workspace):
    assert workspace.dso(AS_OF) == pytest.approx(90.0)  # everything sold in the window is still due
    assert workspace.dso(AS_OF, days=30) is None  # no invoice issued in June
    assert workspace.dso("2026-04-10") is None  # nothing issued yet


def test_find_open_items__filters_combine(workspace):
    numbers = lambda **kw: list(workspace.find_open_items(AS_OF, **kw)["number"])  # noqa: E731
    assert numbers(client_id="C1") == ["F1", "F3", "F1"]
    assert numbers(client_id="C1", overdue_only=True) == ["F1"]
    assert numbers(site_id="S2") == ["F2"]
    assert numbers(manager="Paul Girard") == ["F1", "F1"]
    assert numbers(text="  salle DE bains ") == ["F2"]  # site name, any case
    assert numbers(text="dupont", overdue_only=True) == ["F1"]
    assert numbers(client_id="C2", text="pins") == []


def test_grid_frame__french_headers_cents_and_dates_kept(workspace):
    frame = grid_frame(workspace.find_open_items(AS_OF))
    assert list(frame.columns) == ["Facture", "Type", "Client", "Chantier", "Chargé d'affaire", "Date", "Échéance",
                                   "Montant", "Réglé", "Reste dû", "Retard (j)", "Relance", "Email"]
    assert list(frame["Facture"]) == ["F2", "F1", "F3", "F1"]  # due date ascending: late ones first
    assert list(frame["Reste dû"]) == [50000, 114000, 30000, 6000]
    assert str(frame["Échéance"].dtype).startswith("datetime64")
    assert list(frame["Type"]) == ["Facture", "Facture", "Acompte", "Retenue de garantie"]


def test_tile__french_figures():
    kpis = {"count": 4, "total": 200000, "overdue": 164000, "overdue_count": 2, "credit": 12345, "dso": 90.4,
            "buckets": {"not_due": 36000, "1-30": 114000, "31-60": 50000, "61-90": 0, "90+": 0}}
    cards = cards_html(kpis)
    for text in ("2\u202f000,00\xa0€", "1\u202f640,00\xa0€", "123,45\xa0€", "90 jours", "82\u202f% du total"):
        assert text in cards
    chart = chart_html(kpis["buckets"])
    assert "Non échu" in chart and "&gt; 90 j" in chart and "1\u202f140,00\xa0€" in chart
    assert "width:100.0%" in chart  # the largest bucket fills its row


def test_dashboard__client_filter_narrows_grid_and_totals(workspace):
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    tab = dashboard.items
    assert "<b>4</b> échéance(s)" in tab.totals.value
    assert [label for label, _ in tab.filters.client.options] == ["Tous les clients", "Dupont SARL (C1)",
                                                                   "M. Martin (C2)"]
    tab.filters.client.value = "C2"
    assert list(tab.grid.data["Facture"]) == ["F2"]
    assert "<b>1</b> échéance(s)" in tab.totals.value and "500,00\xa0€" in tab.totals.value
    assert [value for _, value in tab.filters.site.options] == ["", "S2"]  # sites narrowed to the client
    tab.filters.client.value = ""
    tab.filters.overdue.value = True
    assert list(tab.grid.data["Facture"]) == ["F2", "F1"]
    assert "dont en retard <b>1\u202f640,00\xa0€</b> (2)" in tab.totals.value
    tab.filters.text.value = "aucune facture de ce nom"
    assert "Aucune échéance ne correspond aux filtres." in tab.totals.value


def test_dashboard__tabs_in_french_and_placeholders_say_so(workspace):
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    assert dashboard.tabs.titles == ("Échéances", "Règlements", "Historique")
    assert "prochaine version" in dashboard.tabs.children[1].value
    assert "Situation au 30/06/2026" in dashboard.header.value


def test_guarded__errors_become_a_french_line():
    notice = Notice()

    def refused():
        raise EcheancesError("Client inconnu : C9")

    def broken():
        raise KeyError("x")

    guarded(notice, "Impossible d'afficher les échéances.")(refused)()
    assert "Client inconnu : C9" in notice.value
    guarded(notice, "Impossible d'afficher les échéances.")(broken)()
    assert "Impossible d'afficher les échéances." in notice.value and "KeyError" not in notice.value
    guarded(notice, "…")(lambda: None)()
    assert notice.value == "" and notice.layout.display == "none"


def test_refresh__shows_a_payment_entered_elsewhere(workspace):
    from echeances import Workspace
    from echeances.payment_specs import PaymentSpec

    dashboard = build_dashboard(workspace, as_of=AS_OF)
    assert "Reste dû <b>2\u202f000,00\xa0€</b>" in dashboard.items.totals.value
    other_user = Workspace.open(workspace.path)
    other_user.record_payment(PaymentSpec(client_id="C2", date="2026-06-15", amount=20000))
    other_user.close()
    assert "Reste dû <b>2\u202f000,00\xa0€</b>" in dashboard.items.totals.value  # nothing re-read yet
    dashboard.reload.click()
    assert "Reste dû <b>1\u202f800,00\xa0€</b>" in dashboard.items.totals.value
    assert "1\u202f800,00\xa0€" in dashboard.tile._cards.value
    assert dashboard.notice.value == ""


def test_grid__a_reminder_emailed_through_the_outbox_marks_its_items(workspace):
    from echeances import Workspace
    from echeances.settings import write_demo_settings

    write_demo_settings(workspace.path)  # a letterhead and a sender address
    workspace = Workspace.open(workspace.path)
    document = workspace.reminder("facture_en_retard", invoice="F2", as_of=AS_OF)
    grid = build_dashboard(workspace, as_of=AS_OF).items.grid
    frame = grid.data.set_index("Facture")
    assert frame.loc["F2", "Relance"] == f"{dt.date.today():%d/%m/%Y}" and not frame.loc["F2", "Email"]
    assert (frame["Relance"].drop("F2") == "").all()
    workspace.send(document.id, to=["compta@martin.example"])
    frame = build_dashboard(workspace, as_of=AS_OF).items.grid.data.set_index("Facture")
    assert frame.loc["F2", "Email"] and not frame["Email"].drop("F2").any()
