#!/usr/bin/env bash
# Sets up everything the tests need on a fresh Debian/Ubuntu machine, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/lint-imports  # reads .importlinter
.venv/bin/ruff check --select F,E9 echeances tests benchmarks
.venv/bin/python -m pytest "$@"
