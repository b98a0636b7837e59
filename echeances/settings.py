"""Workspace settings: a TOML file (company letterhead, default terms, buckets, mail)."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from echeances.errors import EcheancesError
from echeances.terms import DEFAULT_TERMS

SETTINGS_FILE = "settings.toml"

DEFAULTS: dict[str, Any] = {
    "company": {
        "name": "Mon entreprise", "payment_terms": DEFAULT_TERMS,
        # Letterhead of letters and statements; empty fields are left out.
        "legal_form": "", "address": "", "postcode": "", "city": "", "siret": "", "vat_number": "",
        "iban": "", "bic": "", "bank": "", "phone": "", "email": "", "website": "",
        "logo": "", "signature": "", "signatory": "", "signatory_title": "", "place": "",
    },
    "aging": {"edges": [30, 60, 90]},
    # Reminder letters: payment deadline in days, contractual late rate in percent ("" = legal rate).
    "documents": {"deadline_days": 8, "contract_rate": ""},
}

DEMO_SETTINGS = """\
# Réglages de l'espace de travail (valeurs de démonstration : remplacez-les par les vôtres).
[company]
name = "Bâtiments Durand & Fils"
legal_form = "SARL au capital de 50 000 €"
address = "12 rue des Artisans"
postcode = "69007"
city = "Lyon"
place = "Lyon"
siret = "123 456 789 00012"
vat_number = "FR 12 123456789"
phone = "04 78 00 00 00"
email = "compta@durand-batiment.example"
website = "www.durand-batiment.example"
bank = "Banque Populaire Auvergne Rhône Alpes"
iban = "FR76 1234 5678 9012 3456 7890 123"
bic = "CCBPFRPPLYO"
payment_terms = "30 jours"
logo = "logo-demo.svg"
signature = ""
signatory = "Claire Durand"
signatory_title = "Gérante"

[aging]
edges = [30, 60, 90]

[documents]
deadline_days = 8
contract_rate = ""
"""


def write_demo_settings(workspace: Path) -> Path:
    """Write the demo ``settings.toml`` (a fictitious building firm) into ``workspace``; returns its path."""
    path = Path(workspace) / SETTINGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEMO_SETTINGS, encoding="utf-8")
    return path


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
