"""Command line: ``echeances [--workspace DIR] COMMAND`` — thin calls into ``Workspace``."""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from echeances.errors import EcheancesError

# Each module defines ``register(subparsers)``; a parser's ``handler(ws, args)``
# returns the exit code. Add a command group by adding its module here.
COMMAND_MODULES = [
    "echeances.cli.receivables",
    "echeances.cli.payments",
    "echeances.cli.documents",
    "echeances.cli.mail",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="echeances", description="Échéances clients : qui doit quoi, depuis quand.")
    parser.add_argument("--workspace", "-w", default="data", type=Path,
                        help="dossier de l'espace de travail (défaut : data)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except EcheancesError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
