"""Serves the dashboard notebook as a Voilà app on this machine only."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "echeances.ipynb"
WORKSPACE_VARIABLE = "ECHEANCES_WORKSPACE"
# A kernel idle this long (seconds) is shut down: a forgotten browser tab does not hold memory forever.
CULL_IDLE = 1800
CULL_INTERVAL = 120


def voila_command(port: int = 8866, open_browser: bool = True, host: str = "127.0.0.1",
                  notebook: Path = NOTEBOOK) -> list[str]:
    """The ``voila`` command line: local address, idle kernels culled, no traceback shown to the user."""
    command = [
        sys.executable, "-m", "voila", str(notebook),
        f"--port={port}",
        f"--Voila.ip={host}",
        "--theme=light",
        "--show_tracebacks=False",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL}",
        "--MappingKernelManager.cull_connected=True",
    ]
    if not open_browser:
        command.append("--no-browser")
    return command


def serve(workspace, port: int = 8866, open_browser: bool = True, host: str = "127.0.0.1") -> int:
    """Run the dashboard of ``workspace`` (a folder) with Voilà until interrupted; returns its exit code."""
    if not NOTEBOOK.exists():
        print(f"Tableau de bord introuvable : {NOTEBOOK}", file=sys.stderr)
        return 1
    env = {**os.environ, WORKSPACE_VARIABLE: str(Path(workspace).resolve())}
    print(f"Tableau de bord : http://{host}:{port}/  (Ctrl+C pour arrêter)", flush=True)
    process = subprocess.Popen(voila_command(port, open_browser, host), env=env, cwd=NOTEBOOK.parent)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)
        return 0
