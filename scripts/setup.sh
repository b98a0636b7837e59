#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine: system packages, then a virtualenv in .venv.
# Usage: scripts/setup.sh [--test]   (--test adds what the test suite needs)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

lists=(scripts/apt-packages.txt)
[ "$want_test" = 1 ] && lists+=(scripts/apt-packages-test.txt)
missing=()
for list in "${lists[@]}"; do
    [ -f "$list" ] || continue
    while read -r pkg _; do
        [ -z "$pkg" ] || [ "${pkg:0:1}" = "#" ] && continue
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done < "$list"
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installation des paquets système : ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$want_test" = 1 ]; then
    .venv/bin/python -m pip install -q -e ".[test]"
else
    .venv/bin/python -m pip install -q -e .
fi
