"""Serves the dashboard notebook as a Voilà app on this machine only."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK = NOTEBOOKS / "echeances.ipynb"
# notebooks/voila/templates/echeances: Voilà's lab template without requests to a CDN.
TEMPLATE = "echeances"
WORKSPACE_VARIABLE = "ECHEANCES_WORKSPACE"
# A kernel left without a browser (tab closed, machine asleep) and idle this long (seconds) is shut
# down; one still connected is kept, so a dashboard open all morning does not die over lunch.
CULL_IDLE = 900
CULL_INTERVAL = 60


def voila_command(port: int = 8866, open_browser: bool = True, host: str = "127.0.0.1",
                  notebook: Path = NOTEBOOK) -> list[str]:
    """The ``voila`` command line: local address, idle kernels culled, no traceback shown to the user."""
    command = [
        sys.executable, "-m", "voila", str(notebook),
        f"--port={port}",
        f"--Voila.ip={host}",
        "--theme=light",
        f"--template={TEMPLATE}",
        "--HTMLExporter.language_code=fr",
        "--show_tracebacks=False",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL}",
        # Kernel channels as Unix sockets, not TCP ports that any local user could reach.
        "--KernelManager.transport=ipc",
    ]
    if not open_browser:
        command.append("--no-browser")
    return command


def voila_environment(workspace) -> dict[str, str]:
    """This process's environment plus the workspace folder and the path of the app's Voilà template."""
    paths = [str(NOTEBOOKS)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    return {**os.environ, WORKSPACE_VARIABLE: str(Path(workspace).resolve()), "JUPYTER_PATH": os.pathsep.join(paths)}


def serve(workspace, port: int = 8866, open_browser: bool = True, host: str = "127.0.0.1") -> int:
    """Run the dashboard of ``workspace`` (a folder) with Voilà until interrupted; returns its exit code."""
    if not NOTEBOOK.exists():
        print(f"Tableau de bord introuvable : {NOTEBOOK}", file=sys.stderr)
        return 1
    env = voila_environment(workspace)
    print(f"Tableau de bord : http://{host}:{port}/  (Ctrl+C pour arrêter)", flush=True)
    process = subprocess.Popen(voila_command(port, open_browser, host), env=env, cwd=NOTEBOOK.parent)
    # A stop asked of this process (service manager, kill) stops Voilà and its kernels with it.
    previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=20)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
