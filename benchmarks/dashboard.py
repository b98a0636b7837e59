"""Time from navigation to the grid painted, in Chromium through Voilà: the dashboard vs a bare ipydatagrid.

Run: .venv/bin/python benchmarks/dashboard.py [--open-items 10000 100000] [--runs 3]
For each size, a synthetic workspace is written, then two Voilà servers run on 127.0.0.1 with the
same options: the app (``echeances app``) and a bare notebook that only unpickles the same open-items
frame and displays ``DataGrid(frame)``. Each run opens a new page and waits until the first data row
of the grid has text drawn on its canvas. Prints the medians and the ratio (goal: ≤ 1.3).

The app reads the store from its frames snapshot while no row changed since the last read (see
``echeances.store.snapshot``); the last column times the first opening after a change (a row touched
by another program before each run), which reads the whole store and writes a new snapshot.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.net import free_port  # noqa: E402
from tests.test_dashboard_e2e import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

from echeances import Workspace  # noqa: E402
from echeances.app import NOTEBOOK, voila_command, voila_environment  # noqa: E402
from echeances.demo import write_demo  # noqa: E402
from echeances.store.database import DB_FILE  # noqa: E402
from echeances.ui.grid import grid_frame  # noqa: E402

OPEN_SHARE = 0.48  # open items per synthetic invoice, measured on 20,000 invoices
PAINTED = """() => {
    const canvases = document.querySelectorAll('.lm-DataGrid canvas');
    for (const c of canvases) {
        const d = c.getContext('2d').getImageData(4, 34, 200, 18).data;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] + d[i + 1] + d[i + 2] < 300) return true;
    }
    return false; }"""


def bare_notebook(folder: Path, frame_path: Path) -> Path:
    source = (f"import pandas as pd\nfrom ipydatagrid import DataGrid\n\n"
              f"frame = pd.read_pickle({str(frame_path)!r})\n"
              f"DataGrid(frame, layout={{'height': '560px'}})")
    path = folder / "bare.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)],
                                            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                     "language": "python"}}), path)
    return path


def start(notebook: Path | None, workspace: Path, log: Path):
    port = free_port()
    command = voila_command(port, open_browser=False, **({"notebook": notebook} if notebook else {}))
    process = subprocess.Popen(command, env=voila_environment(workspace), cwd=(notebook or NOTEBOOK).parent,
                               stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}/"
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"Voilà n'a pas démarré, voir {log}")
            time.sleep(0.3)


def time_to_grid(browser, url: str, name: str) -> float | None:
    """Seconds from navigation to the grid painted; ``None`` (screenshot kept) if it never paints."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    started = time.monotonic()
    page.goto(url)
    try:
        page.wait_for_function(PAINTED, timeout=120_000, polling=50)
        return time.monotonic() - started
    except Exception:  # noqa: BLE001 - a failed load is a result to report, not a reason to stop
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        page.screenshot(path=ROOT / "test-artifacts" / f"benchmark-failed-{name}.png")
        return None
    finally:
        page.close()


def touch(workspace: Path) -> None:
    """Change nothing, but as another program would: the snapshot no longer matches the store."""
    with sqlite3.connect(workspace / DB_FILE) as conn:
        conn.execute("UPDATE clients SET name = name WHERE id = (SELECT min(id) FROM clients)")


def measure(size: int, runs: int, browser, folder: Path) -> tuple[int, list, list, list]:
    workspace = folder / f"ws-{size}"
    write_demo(workspace, size=round(size / OPEN_SHARE))
    items = Workspace.open(workspace).find_open_items()
    frame_path = folder / f"frame-{size}.pkl"
    grid_frame(items).to_pickle(frame_path)
    bare = bare_notebook(folder, frame_path)
    results = {}
    for name, notebook in (("bare", bare), ("app", None)):
        process, url = start(notebook, workspace, folder / f"voila-{name}-{size}.log")
        try:
            time_to_grid(browser, url, name)  # warm-up: first kernel start, compiled bytecode, browser cache
            results[name] = [time_to_grid(browser, url, name) for _ in range(runs)]
            if name == "app":
                results["changed"] = []
                for _ in range(runs):
                    touch(workspace)
                    results["changed"].append(time_to_grid(browser, url, name))
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    return len(items), results["bare"], results["app"], results["changed"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open-items", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size in args.open_items:
            count, *measured = measure(size, args.runs, browser, Path(tmp))
            bare, app, changed = ([round(t, 2) if t else None for t in runs] for runs in measured)
            ok = [[t for t in runs if t] for runs in (bare, app, changed)]
            if not all(ok):
                print(f"{count:>8} échéances : aucune mesure complète (passages : {bare} / {app} / {changed})",
                      flush=True)
                continue
            rows.append((count, *(statistics.median(times) for times in ok)))
            failed = bare.count(None) + app.count(None) + changed.count(None)
            print(f"{count:>8} échéances : grille seule {rows[-1][1]:.2f} s, tableau de bord {rows[-1][2]:.2f} s, "
                  f"ratio {rows[-1][2] / rows[-1][1]:.2f} ; après une modification {rows[-1][3]:.2f} s, "
                  f"ratio {rows[-1][3] / rows[-1][1]:.2f}  (passages : {bare} / {app} / {changed}"
                  + (f", {failed} page(s) jamais dessinée(s)" if failed else "") + ")", flush=True)
        browser.close()
    print("\n| échéances | grille seule (s) | tableau de bord (s) | ratio | après une modification (s) | ratio |\n"
          "|---:|---:|---:|---:|---:|---:|")
    for count, bare, app, changed in rows:
        print(f"| {count:,} | {bare:.2f} | {app:.2f} | {app / bare:.2f} | {changed:.2f} | {changed / bare:.2f} |"
              .replace(",", "\u202f"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
