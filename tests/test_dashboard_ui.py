"""The dashboard's queries and widgets without a browser, on the tiny inline data of conftest."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_grid_frame__french_headers_euros_and_dates_kept(workspace):
    frame = grid_frame(workspace.find_open_items(AS_OF))
    assert list(frame.columns) == ["Facture", "Type", "Client", "Chantier", "Chargé d'affaire", "Date", "Échéance",
                                   "Montant", "Réglé", "Reste dû", "Retard (j)", "Relance", "Email"]
    assert list(frame["Facture"]) == ["F2", "F1", "F3", "F1"]  # due date ascending: late ones first
    assert list(frame["Reste dû"]) == [500.0, 1140.0, 300.0, 60.0]  # euros: what the header filter compares
    assert str(frame["Échéance"].dtype).startswith("datetime64")
    assert list(frame["Type"]) == ["Facture", "Facture", "Acompte", "Retenue de garantie"]


@settings(max_examples=500)
@given(st.integers(min_value=-10**15, max_value=10**15))
def test_grid_euros__shown_to_the_cent(cents):
    """The grid holds cents / 100 as a float: shown with two decimals, it is the amount to the cent."""
    items = pd.DataFrame({"number": ["F1"], "kind": ["invoice"], "part": ["net"], "client_name": ["Dupont"],
                          "site_name": [None], "manager": [None], "issue_date": pd.to_datetime(["2026-01-01"]),
                          "due_date": pd.to_datetime(["2026-02-01"]), "amount": [cents], "paid": [0],
                          "outstanding": [cents], "days_overdue": [0], "last_reminder_at": pd.to_datetime([None]),
                          "emailed": [False]})
    shown = grid_frame(items)["Reste dû"].iloc[0]
    sign = "-" if cents < 0 else ""
    assert f"{shown:.2f}" == f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def test_totals__follow_the_grid_header_filter(workspace):
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    tab = dashboard.items
    grid = tab.grid
    assert list(grid.data["Facture"]) == ["F2", "F1", "F3", "F1"]
    # What the front end sets when the user filters "Reste dû" > 400 € in the header menu.
    grid._transforms = [{"type": "filter", "column": "Reste dû", "columnIndex": 10, "operator": ">", "value": 400}]
    grid._visible_rows = [0, 1]
    assert tab.totals.value.startswith('<div class="ech-totals"><b>2</b> échéance(s)')
    assert "Reste dû <b>1\u202f640,00\xa0€</b>" in tab.totals.value
    grid._visible_rows = []  # nothing left: an empty view, not "no filter"
    assert "Aucune échéance ne correspond aux filtres." in tab.totals.value
    grid._transforms = [{"type": "sort", "column": "Reste dû", "columnIndex": 10, "desc": True}]
    grid._visible_rows = [1, 0, 2, 3]
    assert "Reste dû <b>2\u202f000,00\xa0€</b>" in tab.totals.value and tab.notice.value == ""


def test_grid__sends_the_browser_what_ipydatagrid_would(workspace):
    """The faster serialisation of the grid's data gives the very message ipydatagrid builds."""
    import ipydatagrid.datagrid as dg_datagrid
    import numpy as np

    from echeances.ui.grid import _serialize_data, build_grid

    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return bytes(value) if isinstance(value, (memoryview, np.ndarray)) else value

    grid = build_grid(workspace.find_open_items(AS_OF))
    ours, theirs = _serialize_data(grid._data, grid), dg_datagrid._data_serialization_impl(grid._data, grid)
    assert plain(ours) == plain(theirs) and list(ours["data"]) == list(theirs["data"])
    assert ours["data"]["Facture"] == ["F2", "F1", "F3", "F1"]  # a text column, as a JSON list
    assert ours["data"]["Email"] == {"value": [False] * 4, "type": "raw"}
    assert ours["data"]["Chantier"]["type"] == "raw"  # F3 has no site: ipydatagrid's own way
    assert _serialize_data({}, grid) == {}


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


def test_dashboard__tabs_in_french(workspace):
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    assert dashboard.tabs.titles == ("Échéances", "Règlements", "Historique")
    assert "Aucun document." in dashboard.history.listing.value
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


def test_ui_words__no_command_line_option_reaches_the_user(workspace):
    """The mail layer's advice names options of the command line; the dashboard names its controls."""
    from echeances import Workspace
    from echeances.settings import write_demo_settings
    from echeances.ui.feedback import in_ui_words

    write_demo_settings(workspace.path)
    workspace = Workspace.open(workspace.path)
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    actions = dashboard.actions
    dashboard.items.grid.select(1, 0)  # F3: client C1, who has no email address in the base data
    actions.remind.click()
    actions.make_reminder.click()
    panel = actions.document
    panel.to.value = ""
    panel.send.click()
    assert "indiquez-en une (champ « À »)" in panel.notice.value and "--" not in panel.notice.value
    assert in_ui_words("Le message a peut-être été accepté : vérifiez avant de le renvoyer (--force).") == (
        "Le message a peut-être été accepté : vérifiez avant de le renvoyer (case « Envoyer quand même »).")
    assert in_ui_words("Le modèle releve_chantier s'utilise avec --site (un chantier)") == (
        "Le modèle releve_chantier s'utilise avec les échéances d'un chantier")


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


# --- tab "Règlements" -----------------------------------------------------------------------
def test_payment_form__bad_amount_is_a_french_line_and_nothing_is_written(workspace):
    tab = build_dashboard(workspace, as_of=AS_OF).payments
    tab.form.client.value = "C1"
    tab.form.amount.value = "12,5O"
    assert "Montant : « 12,5O » n'est pas un montant (exemple : 1 250,00)" in tab.notice.value
    tab.save.click()
    assert "Montant : « 12,5O » n'est pas un montant" in tab.notice.value and "Traceback" not in tab.notice.value
    assert workspace.payments()[0].empty


def test_payment_form__preview_then_record_lowers_grid_totals_and_tile(workspace):
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    tab = dashboard.payments
    tab.form.client.value = "C1"
    tab.form.date.value = "15/06/2026"
    tab.form.amount.value = "1 250,00"
    # Oldest first: F1 with its retention (1 200,00), then F3 (300,00) gets the 50,00 left; no credit.
    assert "F1</td><td class='ech-num'>1\u202f200,00\xa0€" in tab.preview.value
    assert "F3</td><td class='ech-num'>50,00\xa0€" in tab.preview.value
    assert "Reste en crédit client : <b>0,00\xa0€</b>" in tab.preview.value
    assert workspace.payments()[0].empty  # a preview writes nothing
    tab.save.click()
    assert tab.notice.value == ""
    pays, allocs = workspace.payments(client_id="C1")
    assert list(pays["amount"]) == [125000] and list(zip(allocs["invoice"], allocs["amount"])) == [
        ("F1", 120000), ("F3", 5000)]
    assert "enregistré" in tab.done.value and tab.form.amount.value == ""
    grid = dashboard.items.grid.data
    assert list(zip(grid["Facture"], grid["Reste dû"])) == [("F2", 500.0), ("F3", 250.0)]  # F1 settled
    assert "Reste dû <b>750,00\xa0€</b>" in dashboard.items.totals.value
    assert "750,00\xa0€" in dashboard.tile._cards.value
    assert "P-2026-00001" in tab.listing.value


def test_payment_form__per_invoice_amount_and_the_rest_stays_credit(workspace):
    tab = build_dashboard(workspace, as_of=AS_OF).payments
    tab.form.fill("C1", 50000, ["F3"])
    assert tab.form.amount.value == "500,00" and tab.form.mode.value == "invoices"
    assert [row.take.value for row in tab.form.invoices.children] == [False, True]  # F1, F3
    tab.form.invoices.children[1].amount.value = "200"
    assert "Reste en crédit client : <b>300,00\xa0€</b>" in tab.preview.value
    tab.form.invoices.children[1].amount.value = "400"
    assert "400,00\xa0€ dépasse le reste dû 300,00\xa0€ de F3" in tab.notice.value
    tab.form.invoices.children[1].amount.value = ""  # blank: what F3 still needs
    tab.save.click()
    pays, allocs = workspace.payments(client_id="C1")
    assert list(zip(allocs["invoice"], allocs["amount"])) == [("F3", 30000)]
    assert int(workspace.credit(AS_OF)["remaining"].sum()) == 20000


def test_payment_form__a_duplicate_asks_for_confirmation(workspace):
    tab = build_dashboard(workspace, as_of=AS_OF).payments
    for _ in range(2):
        tab.form.client.value = "C2"
        tab.form.date.value = "2026-06-15"
        tab.form.amount.value = "100"
        tab.save.click()
    assert "saisi deux fois ?" in tab.notice.value and tab.form.confirm.layout.display == ""
    assert len(workspace.payments()[0]) == 1
    tab.form.confirm.value = True
    tab.save.click()
    assert len(workspace.payments()[0]) == 2


def test_payments_list__cancel_needs_a_reason_then_restores_the_outstanding(workspace):
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    tab = dashboard.payments
    tab.form.client.value = "C2"
    tab.form.amount.value = "200,00"
    tab.form.date.value = "15/06/2026"
    tab.save.click()
    assert "Reste dû <b>1\u202f800,00\xa0€</b>" in dashboard.items.totals.value
    tab.cancelled.value = "P-2026-00001"
    tab.cancel.click()
    assert "Règlement P-2026-00001 : le motif d'annulation est obligatoire" in tab.cancel_notice.value
    tab.reason.value = "chèque impayé"
    tab.cancel.click()
    assert tab.cancel_notice.value == ""
    assert not workspace.payments()[0]["cancelled_date"].isna().iloc[0]
    assert "Annulé le" in tab.listing.value and "chèque impayé" in tab.listing.value
    assert [value for _, value in tab.cancelled.options] == [""]


# --- row actions -----------------------------------------------------------------------------
def test_selection__follows_the_grid_view_after_sorting(workspace):
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    grid = dashboard.items.grid
    assert list(grid.data["Facture"]) == ["F2", "F1", "F3", "F1"]
    grid._visible_rows = [3, 2, 1, 0]  # what the front end reports after sorting by due date descending
    grid.select(0, 0, 1, 12)  # the first two rows on screen: F1's retention and F3
    selection = dashboard.items.selection()
    assert selection.numbers == ("F1", "F3") and selection.client_ids == ("C1",)
    assert selection.outstanding == 36000


def test_actions__need_rows_of_one_client(workspace):
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    dashboard.actions.remind.click()
    assert "Sélectionnez d'abord une ou plusieurs lignes de la grille." in dashboard.actions.notice.value
    dashboard.items.grid.select(0, 0, 1, 12)  # F2 (C2) and F1 (C1)
    dashboard.actions.pay.click()
    notice = dashboard.actions.notice.value
    assert "Sélectionnez les échéances d'un seul client (2 clients sélectionnés)." in notice
    assert dashboard.tabs.selected_index == 0


def test_action_pay__opens_the_form_prefilled_then_a_partial_payment_lowers_the_row(workspace):
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    dashboard.items.grid.select(0, 0)  # F2, 500,00 € due by C2
    dashboard.actions.pay.click()
    form = dashboard.payments.form
    assert dashboard.tabs.selected_index == 1
    assert (form.client.value, form.amount.value, form.mode.value) == ("C2", "500,00", "invoices")
    assert [row.take.value for row in form.invoices.children] == [True]
    form.amount.value = "123,45"
    dashboard.payments.save.click()
    assert workspace.payments(client_id="C2")[1]["amount"].tolist() == [12345]
    frame = dashboard.items.grid.data.set_index("Facture")
    assert f'{frame.loc["F2", "Reste dû"]:.2f}' == "376.55"


def test_action_remind__letter_download_and_email_marks_the_grid(workspace):
    import base64

    from echeances import Workspace
    from echeances.settings import write_demo_settings

    write_demo_settings(workspace.path)
    workspace = Workspace.open(workspace.path)
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    actions = dashboard.actions
    dashboard.items.grid.select(0, 0)  # F2
    actions.remind.click()
    assert actions.template.value == "facture_en_retard"
    assert "releve_compte_client" not in [name for _, name in actions.template.options]
    actions.template.value = "factures_chantier_en_retard"  # F2 is on site S2: a letter for the site
    actions.make_reminder.click()
    assert actions.notice.value == "" and actions.document.document.site_id == "S2"
    actions.template.value = "facture_en_retard"
    actions.make_reminder.click()
    assert actions.notice.value == ""
    panel = actions.document
    link = panel.download.value
    assert 'download="' in link and ".pdf" in link and "Télécharger le PDF" in link
    pdf = base64.b64decode(link.split("base64,")[1].split('"')[0])
    assert pdf.startswith(b"%PDF") and pdf == panel.document.pdf
    # the preview is the letter's first page as the client receives it
    png = base64.b64decode(panel.preview.value.split("base64,")[1].split('"')[0])
    assert png.startswith(b"\x89PNG") and 'alt="Aperçu de la première page"' in panel.preview.value
    assert dashboard.items.grid.data.set_index("Facture").loc["F2", "Relance"] != ""
    panel.to.value = "compta@martin.example, compta@immobilière3f.fr"
    assert panel.subject.value == "Facture F2 en attente de règlement — Bâtiments Durand & Fils"  # editable
    assert "Sauf erreur de notre part, la facture F2 du 01/05/2026" in panel.body.value
    panel.subject.value = "Facture F2 : votre règlement"
    panel.body.value = "Bonjour,\nsauf erreur de notre part, la facture F2 reste à régler.\nCordialement"
    panel.files.value = ({"name": "../bon de commande.txt", "type": "text/plain", "size": 4,
                          "content": memoryview(b"BC-7"), "last_modified": dt.datetime(2026, 6, 1)},)
    panel.send.click()
    assert panel.notice.value == "" and "Email envoyé" in panel.status.value
    assert "compta@immobilière3f.fr" in panel.status.value  # shown as typed, not in punycode
    sent = next((workspace.path / "outbox").glob("*.eml")).read_bytes()
    assert b"bon_de_commande.txt" in sent and b"compta@martin.example" in sent
    import email
    import email.policy

    message = email.message_from_bytes(sent, policy=email.policy.default)
    assert message["Subject"] == "Facture F2 : votre règlement"
    assert "sauf erreur de notre part, la facture F2 reste à régler." in message.get_body(("plain",)).get_content()
    assert dashboard.items.grid.data.set_index("Facture").loc["F2", "Email"]
    panel.send.click()  # the same letter again: refused, unless confirmed
    assert "cochez « Envoyer quand même »" in panel.notice.value and panel.force.layout.display == ""


def test_reminder_scope__follows_the_template_else_the_selection():
    from echeances.ui.actions import reminder_scope
    from echeances.ui.forms import FormError
    from echeances.ui.selection import Selection

    two = Selection(("F1", "F3"), ("C1",), ("S1",), 0)
    assert reminder_scope(two) == {"site": "S1"}
    assert reminder_scope(two, "factures_client_en_retard") == {"client": "C1"}
    assert reminder_scope(two, "relance_1") == {"site": "S1"}
    assert reminder_scope(Selection(("F3",), ("C1",), (), 0), "mise_en_demeure") == {"invoice": "F3"}
    with pytest.raises(FormError, match=r"concerne une seule facture : sélectionnez-en une \(2 sélectionnées\)"):
        reminder_scope(two, "facture_en_retard")
    with pytest.raises(FormError, match="concerne un chantier"):
        reminder_scope(Selection(("F3",), ("C1",), (), 0), "factures_chantier_en_retard")


def test_action_statement__client_or_site_for_a_period(workspace):
    from echeances import Workspace
    from echeances.settings import write_demo_settings

    write_demo_settings(workspace.path)
    workspace = Workspace.open(workspace.path)
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    actions = dashboard.actions
    dashboard.items.grid.select(1, 0)  # F1, site S1 of C1
    actions.state.click()
    assert [value for _, value in actions.scope.options] == [("client", "C1"), ("site", "S1")]
    assert (actions.start.value, actions.end.value) == ("01/01/2026", "30/06/2026")
    actions.start.value = "31/02/2026"
    actions.make_statement.click()
    assert "Du : « 31/02/2026 » n'est pas une date (exemple : 15/04/2026)" in actions.notice.value
    actions.start.value = "01/04/2026"
    actions.scope.value = ("client", "C1")
    actions.make_statement.click()
    assert actions.notice.value == ""
    assert actions.document.document.template == "releve_compte_client"
    assert actions.document.document.period_start == dt.date(2026, 4, 1)


# --- tab "Historique" -------------------------------------------------------------------------
def test_history__log_filtered_by_client_and_resend(workspace):
    from echeances import Workspace
    from echeances.settings import write_demo_settings

    write_demo_settings(workspace.path)
    workspace = Workspace.open(workspace.path)
    workspace.reminder("facture_en_retard", invoice="F2", as_of=AS_OF)
    letter = workspace.reminder("facture_en_retard", invoice="F1", as_of=AS_OF)
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    history = dashboard.history
    assert history.listing.value.count("<tr") == 3 and "non envoyé" in history.listing.value
    history.client.value = "C1"
    assert history.listing.value.count("<tr") == 2 and "C2" not in history.listing.value
    assert [value for _, value in history.document.options] == [0, letter.id]
    history.resend.click()
    assert "Renvoyer : choisissez le document à envoyer" in history.notice.value
    history.document.value = letter.id
    history.to.value = "compta@dupont.example"
    history.resend.click()
    assert history.notice.value == "" and "Email envoyé" in history.status.value
    assert "<td>envoyé</td>" in history.listing.value and "compta@dupont.example" in history.listing.value
    assert workspace.sent_status().set_index("document").loc[letter.id, "status"] == "envoyé"
    history.document.value = letter.id
    history.resend.click()
    assert "cochez « Envoyer quand même »" in history.notice.value
    history.force.value = True
    history.resend.click()
    assert history.notice.value == ""
    assert workspace.sent_status().set_index("document").loc[letter.id, "attempts"] == 2


def test_payments_list__without_a_client_shows_the_last_weeks_only(workspace):
    from echeances.payment_specs import PaymentSpec

    workspace.record_payment(PaymentSpec(client_id="C1", date="2026-05-20", amount=1000, reference="ANCIEN"))
    workspace.record_payment(PaymentSpec(client_id="C2", date="2026-06-15", amount=2000, reference="RECENT"))
    tab = build_dashboard(workspace, as_of=AS_OF).payments
    assert "RECENT" in tab.listing.value and "ANCIEN" not in tab.listing.value  # 31 days before 30/06
    tab.form.client.value = "C1"
    assert "ANCIEN" in tab.listing.value and "RECENT" not in tab.listing.value


def test_action_remind__several_clients_one_letter_each_with_progress(workspace):
    from echeances import Workspace
    from echeances.settings import write_demo_settings

    write_demo_settings(workspace.path)
    workspace = Workspace.open(workspace.path)
    dashboard = build_dashboard(workspace, as_of=AS_OF)
    actions = dashboard.actions
    dashboard.items.grid.select(0, 0, 1, 12)  # F2 (C2) and F1 (C1)
    actions.remind.click()
    assert actions.notice.value == "" and actions.template.value == "factures_client_en_retard"
    assert "facture_en_retard" not in [name for _, name in actions.template.options]
    assert actions.make_reminder.description == "Préparer 2 lettres (une par client)"
    actions.make_reminder.click()
    assert actions.notice.value == ""
    batch = actions.batch
    assert (batch.progress.value, batch.progress.max) == (2, 2)
    assert [d.client_id for d in batch.documents] == ["C2", "C1"]
    assert batch.links.value.count('download="') == 2
    assert len(workspace.sent_status()) == 2 and "<td>C1</td>" in dashboard.history.listing.value
    batch.send.click()  # neither client has an address: each refusal is reported, none stops the other
    assert batch.notice.value == ""
    assert "C2 : Aucun destinataire : le client M. Martin" in batch.report.value
    assert "C1 : Aucun destinataire : le client Dupont SARL" in batch.report.value
