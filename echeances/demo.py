"""The demo workspace: a deterministic, realistic French plumbing-and-heating firm's receivables.

``write_demo(dir)`` writes the source files to ``dir/sources/`` and imports
them the way a user would; ``write_demo(dir, size=N)`` writes a large
synthetic set straight into the store, for benchmarks.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from echeances.imports import import_folder
from echeances.records import Frames
from echeances.store import Store, tables
from echeances.store.database import store_url
from echeances.synthetic import synthetic_frames

FIRST_DAY = dt.date(2024, 1, 8)
LAST_DAY = dt.date(2026, 11, 27)

_COMPANIES = [
    "SCI Les Tilleuls", "Bâtir Provence", "Promogim Sud", "Syndic Foncia Lyon", "Mairie de Villeurbanne",
    "Cabinet Dentaire Rivoire", "Boulangerie Pâtisserie Roux", "Hôtel du Parc", "Clinique Saint-Joseph",
    "EHPAD Les Glycines", "Lycée Ampère", "Restaurant La Table d'Émile", "Groupe Nexity Rhône",
    "Immobilière 3F", "SARL Garage Chabert", "Crèche Les Petits Loups", "Camping Les Cigales",
    "Laboratoire Biomérieux", "Pharmacie Centrale", "SCI Bellecour", "Menuiserie Faure",
    "Électricité Lambert", "Maçonnerie Da Silva", "Bureau d'études Thermique Plus", "Gîtes du Vercors",
    "Office HLM Est Lyonnais", "Copropriété Le Belvédère", "Société Générale Immobilier", "Auberge du Lac",
    "Cave Coopérative de Tain", "Fromagerie Mons", "SAS Rénov'Habitat", "Collège Jean Moulin",
    "Centre Aquatique Decines", "Agence Immobilière Orpi Caluire", "Kiné Santé Vaise", "Résidence Les Marronniers",
    "SCI Croix-Rousse", "Entreprise Générale Ballet", "Vinci Construction Lyon", "Mairie de Bron",
    "Brasserie Georges", "Hôtel Carlton", "Promoteur Cogedim", "Syndic Citya",
]
_PEOPLE = [
    "M. Jean Dupont", "Mme Claire Martin", "M. et Mme Bernard", "M. Karim Benali", "Mme Sophie Petit",
    "M. Lucas Moreau", "Mme Nathalie Lefèvre", "M. Thomas Girard", "Mme Amélie Rousseau", "M. Pierre Fontaine",
    "Mme Julie Chevalier", "M. Antoine Mercier", "Mme Isabelle Blanc", "M. François Guerin", "Mme Léa Muller",
]
_CITIES = [("69001", "Lyon"), ("69003", "Lyon"), ("69006", "Lyon"), ("69100", "Villeurbanne"),
           ("69500", "Bron"), ("69300", "Caluire-et-Cuire"), ("69150", "Décines-Charpieu"),
           ("38000", "Grenoble"), ("26600", "Tain-l'Hermitage"), ("69009", "Lyon")]
_STREETS = ["rue de la République", "avenue Jean Jaurès", "cours Lafayette", "rue Garibaldi",
            "boulevard des Belges", "rue Paul Bert", "chemin des Vignes", "place Bellecour", "rue Victor Hugo",
            "avenue Berthelot", "rue du Président Édouard Herriot", "quai Saint-Antoine"]
_WORKS = ["Rénovation salle de bains", "Chaufferie collective", "Remplacement chaudière", "Réseau eau chaude",
          "Plomberie logements neufs", "Pompe à chaleur", "Mise aux normes sanitaires", "Extension cuisine",
          "Ventilation double flux", "Plancher chauffant", "Réfection colonnes d'eau", "Sanitaires vestiaires"]
_MANAGERS = ["Paul Girard", "Inès Morel", "Luc Perrin", "Sarah Blanc"]
_PRO_TERMS = ["30 jours fin de mois", "45 jours fin de mois", "30 jours", "60 jours", ""]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class _Book:
    """Accumulates the demo's rows table by table."""

    def __init__(self):
        self.rows = {name: [] for name in ("clients", "sites", "invoices", "payments", "allocations", "write_offs")}
        self.counters: dict[str, int] = {}

    def next_number(self, prefix: str, year: int) -> str:
        key = f"{prefix}{year}"
        self.counters[key] = self.counters.get(key, 0) + 1
        return f"{prefix}-{year}-{self.counters[key]:04d}"


def _clients(book: _Book, rng) -> list[dict]:
    clients = []
    names = [(n, "professionnel") for n in _COMPANIES] + [(n, "particulier") for n in _PEOPLE]
    for i, (name, kind) in enumerate(names, start=1):
        postcode, city = _CITIES[rng.integers(len(_CITIES))]
        pro = kind == "professionnel"
        # A payer profile drives when (and whether) the client pays: some always pay late.
        profile = rng.choice(["ponctuel", "ponctuel", "ponctuel", "retard", "mauvais"] if pro else
                             ["ponctuel", "ponctuel", "retard"])
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:14]
        row = {
            "client_id": f"CL{i:03d}", "name": name, "kind": kind,
            "email": f"compta@{slug}.fr" if pro else f"{slug}@example.fr",
            "phone": f"04 7{rng.integers(2, 9)} {rng.integers(10, 99)} {rng.integers(10, 99)} {rng.integers(10, 99)}",
            "address": f"{rng.integers(1, 120)} {_STREETS[rng.integers(len(_STREETS))]}",
            "postcode": postcode, "city": city,
            "payment_terms": _PRO_TERMS[rng.integers(len(_PRO_TERMS))] if pro else "comptant",
            "siret": f"{rng.integers(100_000_000, 999_999_999)}{rng.integers(10_000, 99_999)}" if pro else "",
            "vat_number": f"FR{rng.integers(10, 99)}{rng.integers(100_000_000, 999_999_999)}" if pro else "",
        }
        book.rows["clients"].append(row)
        clients.append({**row, "profile": profile})
    return clients


def _sites(book: _Book, rng, clients) -> list[dict]:
    sites = []
    for client in clients:
        count = 1 if client["kind"] == "particulier" else int(rng.integers(1, 6))
        for _ in range(count):
            n = len(sites) + 1
            postcode, city = _CITIES[rng.integers(len(_CITIES))]
            start = FIRST_DAY + dt.timedelta(days=int(rng.integers(0, (LAST_DAY - FIRST_DAY).days - 30)))
            row = {
                "site_id": f"CH{n:04d}", "client_id": client["client_id"],
                "name": f"{_WORKS[rng.integers(len(_WORKS))]} – {city}",
                "address": f"{rng.integers(1, 200)} {_STREETS[rng.integers(len(_STREETS))]}",
                "postcode": postcode, "city": city,
                "status": "terminé" if start < LAST_DAY - dt.timedelta(days=200) else "en cours",
                "manager": _MANAGERS[rng.integers(len(_MANAGERS))], "payment_terms": "",
            }
            book.rows["sites"].append(row)
            sites.append({**row, "client": client, "start": start})
    return sites


def _invoice(book, site, kind, day, total, retention=0):
    number = book.next_number("AV" if kind == "credit_note" else "FA", day.year)
    row = {"number": number, "client_id": site["client_id"], "site_id": site["site_id"], "kind": kind,
           "issue_date": day.isoformat(), "due_date": "", "total": _money(total),
           "retention": _money(retention) if retention else "",
           "retention_release_date": (day + dt.timedelta(days=365)).isoformat() if retention else "",
           "manager": site["manager"], "pdf": ""}
    book.rows["invoices"].append(row)
    return {"number": number, "day": day, "total": total, "retention": retention, "kind": kind, "site": site}


def _site_invoices(book, rng, site) -> list[dict]:
    """A job's billing: a deposit, progress invoices (with a 5 % retention for professionals), a final one."""
    pro = site["client"]["kind"] == "professionnel"
    budget = int(rng.integers(300_000, 8_000_000 if pro else 2_500_000))
    day = site["start"]
    made = [_invoice(book, site, "deposit", day, budget * 30 // 100)]
    steps = int(rng.integers(6, 36) if pro else rng.integers(1, 4))
    for _ in range(steps):
        day += dt.timedelta(days=int(rng.integers(14, 32)))
        if day > LAST_DAY:
            return made
        amount = budget * 70 // 100 // steps
        retention = amount * 5 // 100 if pro and rng.random() < 0.6 else 0
        made.append(_invoice(book, site, "progress", day, amount, retention))
        if rng.random() < 0.05:
            made.append(_invoice(book, site, "credit_note", day + dt.timedelta(days=3),
                                 int(rng.integers(5_000, 60_000))))
    day += dt.timedelta(days=int(rng.integers(10, 40)))
    if day <= LAST_DAY:
        made.append(_invoice(book, site, "invoice", day, int(rng.integers(20_000, 400_000))))
    return made


def _terms_due(invoice, client) -> dt.date:
    terms = client["payment_terms"] or "30 jours"
    if terms == "comptant":
        return invoice["day"]
    days = int(terms.split()[0])
    due = invoice["day"] + dt.timedelta(days=days)
    if "fin de mois" in terms:
        due = (due.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return due


def _payments(book: _Book, rng, invoices: list[dict]) -> None:
    """Clients pay by profile; several invoices of one client due together are often paid at once."""
    for note in (i for i in invoices if i["kind"] == "credit_note"):
        # Most credit notes are applied to the invoice of the same site they correct.
        targets = [i for i in invoices if i["site"] is note["site"] and i["kind"] != "credit_note"
                   and i["day"] <= note["day"]]
        if targets and rng.random() < 0.7:
            target = targets[-1]
            room = target["total"] - target["retention"] - target.get("credited", 0)
            amount = min(note["total"], room)
            if amount > 0:
                book.rows["allocations"].append({"source_id": note["number"], "invoice": target["number"],
                                                 "amount": _money(amount), "date": ""})
                target["credited"] = target.get("credited", 0) + amount
    pending: dict[tuple[str, dt.date], list[tuple[dict, int]]] = {}
    for inv in invoices:
        client = inv["site"]["client"]
        if inv["kind"] == "credit_note":
            continue
        profile = client["profile"]
        delay = {"ponctuel": rng.integers(-5, 12), "retard": rng.integers(20, 110),
                 "mauvais": rng.integers(60, 300)}[profile]
        pay_day = _terms_due(inv, client) + dt.timedelta(days=int(delay))
        if pay_day > LAST_DAY or (profile == "mauvais" and rng.random() < 0.15):
            continue
        net = inv["total"] - inv["retention"] - inv.get("credited", 0)
        if net <= 0:
            continue
        paid = net
        roll = rng.random()
        if roll < 0.06:
            paid = net * int(rng.integers(40, 90)) // 100         # partial payment, rest still due
        elif roll < 0.09:
            gap = int(rng.integers(1, 480))                        # a few euros short: written off
            paid = max(net - gap, 1)
            book.rows["write_offs"].append({"invoice": inv["number"], "date": pay_day.isoformat(),
                                            "amount": _money(net - paid), "reason": "Écart de règlement"})
        pending.setdefault((client["client_id"], pay_day), []).append((inv, paid))
        # The retention is paid within two months of its release, if that day has come.
        ret_day = inv["day"] + dt.timedelta(days=365 + int(rng.integers(0, 60)))
        if inv["retention"] and ret_day <= LAST_DAY:
            pending.setdefault((client["client_id"], ret_day), []).append((inv, inv["retention"]))
    _group_payments(book, rng, pending)


def _group_payments(book, rng, pending) -> None:
    methods = ["virement"] * 6 + ["chèque"] * 3 + ["LCR", "carte"]
    for (client_id, day), parts in sorted(pending.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        n = len(book.rows["payments"]) + 1
        method = methods[rng.integers(len(methods))]
        amount = sum(p for _, p in parts)
        if rng.random() < 0.03:
            amount += int(rng.integers(100, 20_000))                # overpayment stays as client credit
        book.rows["payments"].append({
            "payment_id": f"RG-{day.year}-{n:05d}", "client_id": client_id, "date": day.isoformat(),
            "amount": _money(amount), "method": method,
            "reference": f"CHQ {rng.integers(1_000_000, 9_999_999)}" if method == "chèque" else f"VIR{n:06d}",
            "bank": "Crédit Agricole Centre-Est", "label": "Règlement " + ", ".join(i["number"] for i, _ in parts),
        })
        for inv, paid in parts:
            book.rows["allocations"].append({"source_id": f"RG-{day.year}-{n:05d}", "invoice": inv["number"],
                                             "amount": _money(paid), "date": ""})


def demo_sources(directory: Path, seed: int = 2026) -> dict[str, int]:
    """Write the demo's CSV files in ``directory``; returns rows per file."""
    rng = np.random.default_rng(seed)
    book = _Book()
    clients = _clients(book, rng)
    sites = _sites(book, rng, clients)
    invoices = []
    for site in sorted(sites, key=lambda s: s["start"]):
        invoices += _site_invoices(book, rng, site)
    _payments(book, rng, sorted(invoices, key=lambda i: i["day"]))
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in book.rows.items():
        with open(directory / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return {name: len(rows) for name, rows in book.rows.items()}


def write_demo(workspace: str | Path, size: int | None = None) -> dict[str, int]:
    """Create (or refresh) the demo workspace in ``workspace``."""
    workspace = Path(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    store = Store.open(store_url(workspace))
    try:
        if size:
            return write_frames(store, synthetic_frames(size))
        counts = demo_sources(workspace / "sources")
        import_folder(store, workspace / "sources")
        _write_settings(workspace)
        return counts
    finally:
        store.close()


def _write_settings(workspace: Path) -> None:
    from echeances import settings

    writer = getattr(settings, "write_demo_settings", None)
    if writer is not None:
        writer(workspace)


def write_frames(store: Store, frames: Frames) -> dict[str, int]:
    """Bulk-write synthetic frames into an empty store (one transaction)."""
    def rows(frame, mapping):
        out = frame.rename(columns=mapping)
        out = out.astype(object).where(out.notna(), None)
        for column in out.columns:
            if out[column].map(lambda v: hasattr(v, "date")).any():
                out[column] = out[column].map(lambda v: v.date() if v is not None else None)
        return out.to_dict("records")

    with store.write() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(tables.invoices)).scalar():
            from echeances.errors import EcheancesError
            raise EcheancesError("L'espace de travail contient déjà des factures : choisissez un dossier vide")
        conn.execute(sa.insert(tables.clients), rows(frames.clients, {"client": "id"}))
        conn.execute(sa.insert(tables.sites), rows(frames.sites, {"site": "id"}))
        conn.execute(sa.insert(tables.invoices), rows(frames.invoices.assign(kind=frames.invoices["kind"].astype(str)),
                                                     {"invoice": "id"}))
        conn.execute(sa.insert(tables.payments), rows(frames.payments, {"payment": "id"}))
        conn.execute(sa.insert(tables.allocations),
                     rows(frames.allocations.assign(credit_note=None), {"allocation": "id"}))
    return {"clients": len(frames.clients), "sites": len(frames.sites), "invoices": len(frames.invoices),
            "payments": len(frames.payments), "allocations": len(frames.allocations)}
