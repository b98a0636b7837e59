"""Commands that make documents: remind, statement, templates, penalties."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from echeances.cli.mail import add_send_options, send_made
from echeances.cli.output import add_format, date_arg, emit, open_workspace

PENALTY_LABELS = {"number": "Facture", "client_id": "Client", "overdue": "En retard", "days_overdue": "Jours",
                  "interest": "Intérêts", "indemnity": "Indemnité"}


def _report(doc, args) -> int:
    """Say where the PDF is (and copy it to ``--out``); JSON gives the log entry for scripts."""
    out = Path(args.out) if args.out else None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(doc.file, out)
    if args.format == "json":
        from echeances.money import to_decimal_text

        entry = {"id": doc.id, "kind": doc.kind, "template": doc.template, "client_id": doc.client_id,
                 "site_id": doc.site_id, "invoices": list(doc.invoices), "as_of": doc.as_of.isoformat(),
                 "period_start": doc.period_start.isoformat() if doc.period_start else None,
                 "created_at": doc.created_at.isoformat(), "sha256": doc.sha256, "file": str(doc.file),
                 "out": str(out) if out else None, "total": to_decimal_text(doc.total)}
        json.dump(entry, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    from echeances.money import format_amount

    what = "Relevé" if doc.kind == "statement" else "Courrier"
    print(f"{what} n° {doc.id} ({doc.template}) pour {doc.client_id}"
          + (f", chantier {doc.site_id}" if doc.site_id else "")
          + (f" : {', '.join(doc.invoices)}" if doc.kind == "reminder" else "")
          + f" — {'solde' if doc.kind == 'statement' else 'reste dû'} {format_amount(doc.total)}")
    print(f"PDF : {out or doc.file}")
    return 0


def cmd_remind(args) -> int:
    ws = open_workspace(args)
    try:
        doc = ws.reminder(args.template, invoice=args.invoice, client=args.client, site=args.site, as_of=args.as_of)
        return _report(doc, args) or send_made(ws, doc.id, args)
    finally:
        ws.close()


def cmd_statement(args) -> int:
    ws = open_workspace(args)
    try:
        doc = ws.statement(client=args.client, site=args.site, start=args.start, end=args.end, template=args.template)
        return _report(doc, args) or send_made(ws, doc.id, args)
    finally:
        ws.close()


def cmd_templates(args) -> int:
    ws = open_workspace(args)
    try:
        for info in ws.templates():
            print(f"{info.name:<30} {info.origin:<13} {info.path}")
        print(f"\nPour personnaliser un modèle, copiez son fichier (ou style.css, _base.html…) dans "
              f"{ws.path / 'templates'} et modifiez la copie.")
        return 0
    finally:
        ws.close()


def cmd_penalties(args) -> int:
    ws = open_workspace(args)
    try:
        table = ws.penalties(client=args.client, as_of=args.as_of)
        emit(table[list(PENALTY_LABELS)], args.format, ["overdue", "interest", "indemnity"], PENALTY_LABELS)
        return 0
    finally:
        ws.close()


def _target(parser, with_invoice: bool) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    if with_invoice:
        group.add_argument("--invoice", metavar="NUMERO", help="une facture")
    group.add_argument("--client", metavar="CLIENT", help="un client (code client)")
    group.add_argument("--site", metavar="CHANTIER", help="un chantier (code chantier)")


def register(commands) -> None:
    p = commands.add_parser("remind", help="crée un courrier de relance (PDF) à partir d'un modèle")
    p.add_argument("--template", "-t", required=True, metavar="MODELE",
                   help="relance_1, relance_2, mise_en_demeure, facture_en_retard… (voir « templates »)")
    _target(p, with_invoice=True)
    p.add_argument("--as-of", type=date_arg, help="date du courrier et d'arrêté des retards (défaut : aujourd'hui)")
    p.add_argument("--out", metavar="FICHIER", help="copie aussi le PDF à cet endroit")
    p.add_argument("--format", choices=("table", "json"), default="table", help="table (défaut) ou json")
    add_send_options(p)
    p.set_defaults(handler=cmd_remind)

    p = commands.add_parser("statement", help="crée le relevé de compte (PDF) d'un client ou d'un chantier")
    _target(p, with_invoice=False)
    p.add_argument("--from", dest="start", type=date_arg, help="début de période (défaut : 1er janvier)")
    p.add_argument("--to", dest="end", type=date_arg, help="fin de période (défaut : aujourd'hui)")
    p.add_argument("--template", "-t", metavar="MODELE", help="autre modèle de relevé")
    p.add_argument("--out", metavar="FICHIER", help="copie aussi le PDF à cet endroit")
    p.add_argument("--format", choices=("table", "json"), default="table", help="table (défaut) ou json")
    add_send_options(p)
    p.set_defaults(handler=cmd_statement)

    p = commands.add_parser("templates", help="liste les modèles de courriers et d'où vient chacun")
    p.set_defaults(handler=cmd_templates)

    p = commands.add_parser("penalties", help="pénalités de retard et indemnités par facture (L441-10, D441-5)")
    p.add_argument("--client", metavar="CLIENT", help="seulement ce client")
    p.add_argument("--as-of", type=date_arg, help="date d'arrêté (défaut : aujourd'hui)")
    add_format(p)
    p.set_defaults(handler=cmd_penalties)
