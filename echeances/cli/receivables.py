"""Commands over the receivables: demo, import, open-items, aging, app."""
from __future__ import annotations

import datetime as dt
import sys

from echeances.cli.output import add_format, date_arg, emit, open_workspace
from echeances.schema import BUCKET_LABELS

OPEN_ITEM_KEYS = ["invoice", "part", "client_id", "client_name", "site_id", "kind", "issue_date", "due_date",
                  "amount", "paid", "outstanding", "days_overdue", "bucket"]
OPEN_ITEM_LABELS = {
    "invoice": "Facture", "part": "Part", "client_id": "Client", "client_name": "Nom", "site_id": "Chantier",
    "kind": "Type", "issue_date": "Date", "due_date": "Échéance", "amount": "Montant", "paid": "Réglé",
    "outstanding": "Reste dû", "days_overdue": "Retard (j)",
}
PART_LABELS = {"net": "", "retention": "retenue"}


def _as_of(args) -> dt.date:
    return args.as_of or dt.date.today()


def cmd_demo(args) -> int:
    from echeances.demo import write_demo

    target = args.directory or args.workspace
    summary = write_demo(target, size=args.size)
    print(f"Espace de démonstration écrit dans {target} : " + ", ".join(f"{n} {k}" for k, n in summary.items()))
    return 0


def cmd_import(args) -> int:
    from echeances.errors import ImportRefused

    ws = open_workspace(args)
    try:
        counts = ws.import_folder(args.source)
    except ImportRefused as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"Import refusé : {len(exc.problems)} problème(s), rien n'a été écrit.", file=sys.stderr)
        return 1
    for table, c in counts.items():
        print(f"{table} : {c['inserted']} ajouté(s), {c['updated']} modifié(s), {c['unchanged']} inchangé(s)")
    return 0


def cmd_open_items(args) -> int:
    ws = open_workspace(args)
    items = ws.open_items(as_of=_as_of(args))
    out = items.assign(invoice=items["number"], part=items["part"].astype(str), kind=items["kind"].astype(str),
                       bucket=items["bucket"].astype(str))[OPEN_ITEM_KEYS]
    if args.format == "table":
        from echeances.schema import KIND_LABELS
        out = out.assign(kind=out["kind"].map(KIND_LABELS), part=out["part"].map(PART_LABELS))
    emit(out, args.format, ["amount", "paid", "outstanding"], OPEN_ITEM_LABELS, mark=out["days_overdue"] > 0)
    if args.format == "table":
        total, late = int(items["outstanding"].sum()), int(items.loc[items["days_overdue"] > 0, "outstanding"].sum())
        from echeances.money import format_amount
        print(f"\n{len(items)} échéance(s), reste dû {format_amount(total)}, dont en retard "
              f"{format_amount(late)} (lignes marquées « ! »), au {_as_of(args):%d/%m/%Y}.")
    return 0


def cmd_aging(args) -> int:
    ws = open_workspace(args)
    table = ws.aging(by=args.by, as_of=_as_of(args))
    keys = [c for c in table.columns if c not in ("name",)]
    money = [c for c in table.columns if c not in ("client_id", "site_id", "manager", "name")]
    labels = {keys[0]: {"client_id": "Client", "site_id": "Chantier", "manager": "Chargé d'affaire"}[keys[0]],
              "name": "Nom", **BUCKET_LABELS, "outstanding": "Reste dû", "credit": "Crédit", "balance": "Solde"}
    emit(table, args.format, money, labels)
    return 0


def cmd_app(args) -> int:
    from echeances.app import serve

    return serve(args.workspace, port=args.port, open_browser=not args.no_browser, host=args.host)


def register(commands) -> None:
    p = commands.add_parser("demo", help="écrit un espace de démonstration réaliste et l'importe")
    p.add_argument("directory", nargs="?", help="dossier (défaut : celui de --workspace)")
    p.add_argument("--size", type=int, help="nombre de factures d'un grand jeu synthétique (bancs d'essai)")
    p.set_defaults(handler=cmd_demo)

    p = commands.add_parser("import", help="importe clients, chantiers, factures, règlements… (tout ou rien)")
    p.add_argument("source", help="dossier contenant clients.csv, invoices.csv… (ou .xlsx)")
    p.set_defaults(handler=cmd_import)

    p = commands.add_parser("open-items", help="liste les échéances non réglées, par date d'échéance")
    p.add_argument("--as-of", type=date_arg, help="date d'arrêté (défaut : aujourd'hui)")
    add_format(p)
    p.set_defaults(handler=cmd_open_items)

    p = commands.add_parser("aging", help="balance âgée par client, chantier ou chargé d'affaire")
    p.add_argument("--as-of", type=date_arg, help="date d'arrêté (défaut : aujourd'hui)")
    p.add_argument("--by", choices=("client", "site", "manager"), default="client")
    add_format(p)
    p.set_defaults(handler=cmd_aging)

    p = commands.add_parser("app", help="lance le tableau de bord (Voilà)")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1)")
    p.add_argument("--no-browser", action="store_true")
    p.set_defaults(handler=cmd_app)
