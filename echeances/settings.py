"""Workspace settings: a TOML file (company letterhead, default terms, buckets, mail)."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from echeances.errors import EcheancesError
from echeances.terms import DEFAULT_TERMS

SETTINGS_FILE = "settings.toml"

DEFAULTS: dict[str, Any] = {
    "company": {"name": "Mon entreprise", "payment_terms": DEFAULT_TERMS},
    "aging": {"edges": [30, 60, 90]},
}


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def load_settings(workspace: Path) -> dict[str, Any]:
    """The workspace's ``settings.toml`` over the defaults (missing file: defaults)."""
    path = Path(workspace) / SETTINGS_FILE
    if not path.exists():
        return _merge(DEFAULTS, {})
    try:
        return _merge(DEFAULTS, tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise EcheancesError(f"{path} : fichier de réglages illisible ({exc})") from exc
