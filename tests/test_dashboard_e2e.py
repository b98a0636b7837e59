"""The Voilà app in a real headless Chromium (Debian's), on the demo data: what a user sees and clicks."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psutil
import pytest

from echeances import Workspace
from echeances.demo import write_demo
from echeances.money import format_amount
from echeances.ui.grid import COLUMNS, WIDTHS
from echeances.ui.payments_tab import amount_text
from tests.net import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
HEADER_HEIGHT, ROW_HEIGHT = 30, 26  # as set in echeances.ui.grid.build_grid


def missing(reason: str):
    """No browser here: a local run skips, CI (CI=true) fails."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true : {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        missing(f"{CHROMIUM} absent (paquet Debian chromium, voir scripts/apt-packages-test.txt)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright absent (extra test de pyproject.toml)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo data; the oldest échéance's invoice got a reminder, emailed through the outbox."""
    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder)
    ws = Workspace.open(folder)
    reminder = ws.reminder("facture_en_retard", invoice=ws.open_items()["number"].iloc[0])
    assert ws.send(reminder.id, to=["compta@client.example"]).status == "envoyé"
    ws.close()
    return folder


@pytest.fixture(scope="module")
def app(demo):
    """``echeances --workspace DEMO app --no-browser`` on a free port, as scripts/app.sh runs it."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "voila.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "echeances", "--workspace", str(demo), "app",
                                "--port", str(port), "--no-browser"],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"Voilà s'est arrêté, voir {log.name}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "Voilà n'écoute toujours pas après 90 s"
                time.sleep(0.3)
        yield process, f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


def column_left(name: str) -> int:
    names = list(COLUMNS.values())
    return sum(WIDTHS[n] for n in names[: names.index(name)])


def colored_pixels(page, column: str, row: int, test: str) -> int:
    """Pixels painted by the grid in one cell whose ``[r, g, b]`` pass ``test`` (a JS expression).

    The grid draws on a canvas: there is no DOM text to read.
    """
    x, width = column_left(column) + 2, WIDTHS[column] - 4
    y = HEADER_HEIGHT + row * ROW_HEIGHT + 3
    return page.evaluate("""([x, y, w, h, test]) => {
        const pass = new Function('r', 'g', 'b', 'return ' + test);
        let n = 0;
        for (const canvas of document.querySelectorAll('.lm-DataGrid canvas')) {
            const d = canvas.getContext('2d').getImageData(x, y, w, h).data;
            for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && pass(d[i], d[i + 1], d[i + 2])) n++;
        }
        return n; }""", [x, y, width, ROW_HEIGHT - 6, test])


def red_pixels(page, column: str, row: int) -> int:
    return colored_pixels(page, column, row, "r > 140 && g < 90 && b < 90")


def blue_pixels(page, column: str, row: int) -> int:
    return colored_pixels(page, column, row, "b > 150 && r < 100 && g < 140")


def cell_pixels(page, column: str, row: int) -> str:
    """A fingerprint of what one cell shows."""
    x, y = column_left(column) + 2, HEADER_HEIGHT + row * ROW_HEIGHT + 3
    return page.evaluate("""([x, y, w, h]) => [...document.querySelectorAll('.lm-DataGrid canvas')]
        .map(c => Array.from(c.getContext('2d').getImageData(x, y, w, h).data).join(',')).join('|')""",
                         [x, y, WIDTHS[column] - 4, ROW_HEIGHT - 6])


def grid_painted(page) -> bool:
    return red_pixels(page, "Échéance", 0) > 0


def open_dashboard(browser, url: str, requests: list | None = None, **options):
    """A new page on the app, returned once the grid has painted its rows; ``requests`` collects every URL asked."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000}, locale="fr-FR", **options)
    if requests is not None:
        page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    page.wait_for_selector(".lm-DataGrid canvas", timeout=90_000)
    deadline = time.monotonic() + 30
    while not grid_painted(page):
        assert time.monotonic() < deadline, "la grille ne s'est pas dessinée"
        page.wait_for_timeout(100)
    return page


def test_dashboard__grid_shows_overdue_in_red_and_the_client_filter_narrows_it(app, browser, demo):
    process, url = app
    ws = Workspace.open(demo)
    items = ws.open_items()
    first_client = items["client_id"].iloc[0]
    other = next(c for c in items["client_id"] if c != first_client)
    expected = ws.find_open_items(client_id=other)
    assert items["days_overdue"].iloc[0] > 0, "the demo's oldest item is overdue"

    requests = []
    started = time.monotonic()
    page = open_dashboard(browser, url, requests)
    painted = time.monotonic() - started
    print(f"\nnavigation → grille dessinée : {painted:.1f} s ({len(items)} échéances)")

    # The oldest échéance is overdue: its due date is red, its issue date is not.
    assert red_pixels(page, "Échéance", 0) > 20
    assert red_pixels(page, "Date", 0) == 0
    # Its invoice's reminder was emailed: the envelope is blue; the next item got none.
    assert blue_pixels(page, "Email", 0) > 10
    assert blue_pixels(page, "Email", 1) == 0 and items["number"].iloc[1] != items["number"].iloc[0]
    assert page.title() == "Échéances clients" and page.locator("html").get_attribute("lang") == "fr"
    totals = page.locator(".ech-totals")
    assert f"{len(items)} échéance(s)" in totals.inner_text()
    assert "Balance âgée" in page.locator(".ech-tile").inner_text()
    page.wait_for_timeout(300)
    # Kept in test-artifacts/ only: docs/dashboard.png is refreshed by hand from it, so a
    # test run never leaves the work tree modified.
    page.screenshot(path=ARTIFACTS / "dashboard.png")

    # Choosing another client narrows rows and totals to that client's échéances.
    before = cell_pixels(page, "Client", 0)
    client = page.locator(".widget-dropdown").filter(has=page.locator("label", has_text="Client")).first
    client.locator("select").select_option(label=f"{expected['client_name'].iloc[0]} ({other})")
    page.wait_for_function("n => document.querySelector('.ech-totals').innerText.includes(n + ' échéance(s)')",
                           arg=str(len(expected)), timeout=20_000)
    deadline = time.monotonic() + 10
    while cell_pixels(page, "Client", 0) == before:
        assert time.monotonic() < deadline, "la grille n'a pas changé après le filtre client"
        page.wait_for_timeout(100)
    assert format_amount(int(expected["outstanding"].sum())) in totals.inner_text()
    page.screenshot(path=ARTIFACTS / "dashboard-client.png")

    # "En retard seulement" keeps that client's overdue échéances.
    late = ws.find_open_items(client_id=other, overdue_only=True)
    page.get_by_text("En retard seulement").click()
    page.wait_for_function("n => document.querySelector('.ech-totals').innerText.includes(n + ' échéance(s)')",
                           arg=str(len(late)), timeout=20_000)
    assert len(late) < len(expected)

    # Nothing was asked of any other machine, and the server listens on the loopback only.
    outside = [u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
               and urlparse(u).hostname != "127.0.0.1"]
    assert outside == []
    voila = psutil.Process(process.pid).children(recursive=True)
    listening = {c.laddr.ip for p in voila for c in p.net_connections("tcp") if c.status == psutil.CONN_LISTEN
                 and c.laddr.port == urlparse(url).port}
    assert listening == {"127.0.0.1"}
    page.close()


def test_dashboard__a_bad_amount_is_explained_and_a_partial_payment_lowers_the_row(app, browser, demo):
    _, url = app
    ws = Workspace.open(demo)
    items = ws.find_open_items()
    client, name = items["client_id"].iloc[0], items["client_name"].iloc[0]
    before_cents = int(items["outstanding"].iloc[0])
    total = int(items["outstanding"].sum())
    assert before_cents > 10000
    ws.close()

    page = open_dashboard(browser, url)
    before = cell_pixels(page, "Reste dû", 0)

    page.locator(".lm-TabBar-tab", has_text="Règlements").click()
    form = page.locator(".ech-payments-tab")
    form.locator(".widget-dropdown").filter(has=page.locator("label", has_text="Client")).first \
        .locator("select").select_option(label=f"{name} ({client})")
    amount = form.locator(".widget-text").filter(has=page.locator("label", has_text="Montant")).locator("input")
    amount.fill("12,5O")
    amount.press("Enter")
    error = form.locator(".ech-error").first
    error.wait_for(timeout=20_000)
    assert "Montant : « 12,5O » n'est pas un montant (exemple : 1 250,00)" in error.inner_text()
    assert "Traceback" not in form.inner_text()
    page.screenshot(path=ARTIFACTS / "dashboard-bad-amount.png")

    amount.fill("100,00")
    amount.press("Enter")
    form.locator(".ech-preview").wait_for(timeout=20_000)
    form.get_by_role("button", name="Enregistrer").click()
    form.locator(".ech-ok").wait_for(timeout=20_000)
    assert "enregistré" in form.locator(".ech-ok").inner_text()

    # Back on the grid: the row paid is lower by 100,00 € and so are the totals.
    page.locator(".lm-TabBar-tab", has_text="Échéances").first.click()
    page.wait_for_function("t => document.querySelector('.ech-totals').innerText.includes(t)",
                           arg=format_amount(total - 10000), timeout=20_000)
    deadline = time.monotonic() + 10
    while cell_pixels(page, "Reste dû", 0) == before:
        assert time.monotonic() < deadline, "le reste dû de la ligne réglée n'a pas changé dans la grille"
        page.wait_for_timeout(100)
    ws = Workspace.open(demo)
    after = ws.find_open_items()
    assert int(after.loc[after["client_id"] == client, "outstanding"].iloc[0]) == before_cents - 10000
    ws.close()
    page.close()


def test_dashboard__selected_row_reminder_downloads_a_pdf_and_emailing_turns_its_marker_blue(app, browser, demo):
    _, url = app
    page = open_dashboard(browser, url, accept_downloads=True)
    assert blue_pixels(page, "Email", 1) == 0  # the second échéance was never emailed

    # Click the second row of the grid (a canvas: by position), then "Relancer".
    box = page.locator(".lm-DataGrid").first.bounding_box()
    page.mouse.click(box["x"] + column_left("Client") + 20, box["y"] + HEADER_HEIGHT + ROW_HEIGHT + ROW_HEIGHT // 2)
    page.get_by_role("button", name="Relancer").click()
    page.get_by_role("button", name="Préparer la lettre").click()
    link = page.locator("a.ech-download")
    link.wait_for(timeout=60_000)
    with page.expect_download(timeout=20_000) as download:
        link.click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".pdf") and Path(path).read_bytes().startswith(b"%PDF")

    page.get_by_role("button", name="Envoyer par email").click()
    page.wait_for_function("() => [...document.querySelectorAll('.ech-ok')].some(e => e.innerText.includes('envoyé'))",
                           timeout=30_000)
    deadline = time.monotonic() + 15
    while blue_pixels(page, "Email", 1) <= 10:
        assert time.monotonic() < deadline, "l'enveloppe de la ligne relancée n'est pas devenue bleue"
        page.wait_for_timeout(100)
    page.screenshot(path=ARTIFACTS / "dashboard-reminder.png")
    page.close()


def test_dashboard__sorting_by_a_column_header_then_selecting_acts_on_the_row_shown(app, browser, demo):
    ws = Workspace.open(demo)
    items = ws.find_open_items()
    ws.close()
    largest = int(items["outstanding"].max())
    assert int(items["outstanding"].iloc[0]) != largest, "the oldest échéance is not the largest: sorting shows"

    _, url = app
    page = open_dashboard(browser, url)
    before = cell_pixels(page, "Reste dû", 0)
    grid = page.locator(".lm-DataGrid").first.bounding_box()
    # The menu button drawn in the bottom-right corner of the "Reste dû" header, as a user sorts the grid.
    page.mouse.click(grid["x"] + column_left("Reste dû") + WIDTHS["Reste dû"] - 8, grid["y"] + HEADER_HEIGHT - 8)
    menu = page.locator(".lm-Menu").last
    menu.wait_for(timeout=10_000)
    page.wait_for_function("m => m.innerText.includes('Tri décroissant')", arg=menu.element_handle(), timeout=10_000)
    assert "Sort" not in menu.inner_text() and "Filtrer par valeur…" in menu.inner_text()  # ipydatagrid's, in French
    page.screenshot(path=ARTIFACTS / "dashboard-header-menu.png")
    menu.locator(".lm-Menu-item", has_text="Tri décroissant").click()
    deadline = time.monotonic() + 10
    while cell_pixels(page, "Reste dû", 0) == before:
        assert time.monotonic() < deadline, f"la grille de {url} n'a pas été triée par le reste dû"
        page.wait_for_timeout(100)
    page.screenshot(path=ARTIFACTS / "dashboard-sorted.png")

    # The first row shown is now the largest outstanding: selecting it pre-fills the payment with it.
    page.mouse.click(grid["x"] + column_left("Client") + 20, grid["y"] + HEADER_HEIGHT + ROW_HEIGHT // 2)
    page.get_by_role("button", name="Saisir un règlement").click()
    form = page.locator(".ech-payments-tab")
    amount = form.locator(".widget-text").filter(has=page.locator("label", has_text="Montant")).locator("input")
    expected = amount_text(largest)
    page.wait_for_function("([e, t]) => e.value.trim() === t", arg=[amount.element_handle(), expected],
                           timeout=20_000)
    chosen = form.locator(".widget-dropdown").filter(has=page.locator("label", has_text="Client")).first
    label = chosen.locator("select").evaluate("s => s.options[s.selectedIndex].text")
    assert any(label.endswith(f"({c})") for c in items.loc[items["outstanding"] == largest, "client_id"])
    page.close()


def totals_show(page, count: int, cents: int) -> None:
    """Wait until the totals line reads ``count`` échéances whose outstanding sums to ``cents``."""
    page.wait_for_function("([n, t]) => { const s = document.querySelector('.ech-totals').innerText;"
                           " return s.startsWith(n + ' échéance(s)') && s.includes('Reste dû ' + t); }",
                           arg=[str(count), format_amount(cents)], timeout=20_000)


def test_dashboard__the_header_filter_reads_euros_and_the_totals_follow_it(app, browser, demo):
    ws = Workspace.open(demo)
    items = ws.find_open_items()
    ws.close()
    large = items[items["outstanding"] > 5_000_00]
    client = next(c for c in large["client_id"] if (items["client_id"] == c).sum() > (large["client_id"] == c).sum())
    name = items.loc[items["client_id"] == client, "client_name"].iloc[0]
    assert 0 < len(large) < len(items)

    _, url = app
    page = open_dashboard(browser, url)
    grid = page.locator(".lm-DataGrid").first.bounding_box()
    page.mouse.click(grid["x"] + column_left("Reste dû") + WIDTHS["Reste dû"] - 8, grid["y"] + HEADER_HEIGHT - 8)
    page.locator(".lm-Menu-item", has_text="Filtrer par condition…").click()
    dialog = page.locator(".ipydatagrid-filterMenu")
    dialog.locator("select").select_option(label="Supérieur à :")
    dialog.locator("input").first.press_sequentially("5 000,00")  # euros, typed the French way, key by key
    dialog.get_by_role("button", name="OK").click()
    totals_show(page, len(large), int(large["outstanding"].sum()))
    page.screenshot(path=ARTIFACTS / "dashboard-header-filter.png")

    # The client filter above the grid combines with it.
    chosen = large[large["client_id"] == client]
    page.locator(".widget-dropdown").filter(has=page.locator("label", has_text="Client")).first \
        .locator("select").select_option(label=f"{name} ({client})")
    totals_show(page, len(chosen), int(chosen["outstanding"].sum()))
    page.close()
