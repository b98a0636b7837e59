#!/usr/bin/env bash
# Sets up the app, writes the demo workspace in data/ if it is not there, and starts it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -f data/echeances.sqlite ] || .venv/bin/echeances demo data
exec .venv/bin/echeances --workspace data app "$@"
