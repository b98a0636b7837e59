"""Commands over payments: pay, apply-credit, write-off, cancel-payment, payments (the history)."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

import pandas as pd

from echeances.cli.output import add_format, date_arg, emit, machine_rows, open_workspace
from echeances.money import format_amount, parse_amount, to_decimal_text
from echeances.schema import PAYMENT_METHODS

PAYMENT_LABELS = {
    "payment_id": "Règlement", "date": "Date", "client_id": "Client", "client_name": "Nom", "amount": "Montant",
    "method": "Mode", "reference": "Référence", "allocated": "Imputé", "credit": "Non imputé",
    "allocations": "Imputations", "status": "État",
}
RESULT_LABELS = {"invoice": "Facture", "amount": "Imputé", "date": "Date", "outstanding": "Reste dû"}


def amount_arg(text: str) -> int:
    """argparse type: ``1 234,56`` → 123456 cents."""
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def invoice_arg(text: str) -> tuple[str, int | None]:
    """``F-2024-031=1250,00`` → (number, cents); ``F-2024-031`` → (number, None: as much as it needs)."""
    number, sep, amount = text.partition("=")
    if not number.strip():
        raise argparse.ArgumentTypeError(f"{text!r} : numéro de facture manquant")
    return number.strip(), amount_arg(amount) if sep else None


def _print_recorded(recorded, fmt: str, headline: str) -> None:
    rows = pd.DataFrame({
        "invoice": [a.invoice for a in recorded.allocations],
        "amount": [a.amount for a in recorded.allocations],
        "date": [a.date for a in recorded.allocations],
        "outstanding": [left for _, left in recorded.outstanding],
    }, columns=list(RESULT_LABELS))
    if fmt == "json":
        body = {"id": recorded.source_id, "credit": to_decimal_text(recorded.credit),
                "allocations": machine_rows(rows, ["amount", "outstanding"])}
        json.dump(body, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    if fmt == "table":
        print(headline)
    emit(rows, fmt, ["amount", "outstanding"], RESULT_LABELS)
    if fmt == "table":
        print(f"\nNon imputé (crédit client) : {format_amount(recorded.credit)}")


def cmd_pay(args) -> int:
    from echeances.payment_specs import PaymentSpec

    spec = PaymentSpec(
        client_id=args.client, date=args.date or dt.date.today(), amount=args.amount, method=args.method,
        reference=args.reference, bank=args.bank, label=args.label, allocations=tuple(args.invoice or ()),
        auto=True if args.auto else None, site_id=args.site, allow_early=args.confirm,
        confirm_duplicate=args.confirm, payment_id=args.id,
    )
    recorded = open_workspace(args).record_payment(spec)
    _print_recorded(recorded, args.format, f"Règlement {recorded.payment_id} enregistré : "
                                           f"{format_amount(spec.amount)} ({spec.method}) de {spec.client_id}")
    return 0


def cmd_apply_credit(args) -> int:
    from echeances.payment_specs import CreditSpec

    spec = CreditSpec(client_id=args.client, source=args.source, date=args.date or dt.date.today(),
                      allocations=tuple(args.invoice or ()), auto=True if args.auto else None, site_id=args.site,
                      allow_early=args.confirm)
    recorded = open_workspace(args).apply_credit(spec)
    _print_recorded(recorded, args.format, f"Crédit {recorded.source_id} imputé")
    return 0


def cmd_write_off(args) -> int:
    from echeances.payment_specs import WriteOffSpec

    spec = WriteOffSpec(invoice=args.invoice, date=args.date or dt.date.today(), reason=args.reason,
                        amount=args.amount, confirm=args.confirm)
    amount = open_workspace(args).write_off(spec)
    print(f"{args.invoice} soldée sans règlement : {format_amount(amount)} ({args.reason})")
    return 0


def cmd_cancel_payment(args) -> int:
    open_workspace(args).cancel_payment(args.payment_id, args.reason, date=args.date)
    print(f"Règlement {args.payment_id} annulé ({args.reason}) ; ses imputations sont libérées.")
    return 0


def _history(pays: pd.DataFrame, allocs: pd.DataFrame, fmt: str) -> pd.DataFrame:
    allocated = allocs.groupby("payment")["amount"].sum().reindex(pays["payment"], fill_value=0).to_numpy()
    if fmt == "table":
        text = allocs["invoice"] + " " + allocs["amount"].map(format_amount)
        joined = text.groupby(allocs["payment"]).agg(" ; ".join)
    else:
        text = allocs["invoice"] + "=" + allocs["amount"].map(to_decimal_text)
        joined = text.groupby(allocs["payment"]).agg(";".join)
    cancelled = pays["cancelled_date"].notna()
    status = pd.Series("", index=pays.index, dtype="string")
    if cancelled.any():
        status[cancelled] = ("annulé le " + pays.loc[cancelled, "cancelled_date"].dt.strftime("%d/%m/%Y")
                             + " : " + pays.loc[cancelled, "cancel_reason"].fillna(""))
    return pays.assign(
        allocated=allocated, credit=pays["amount"].to_numpy() - allocated,
        allocations=pays["payment"].map(joined).fillna("").astype("string"),
        status=status if fmt == "table" else pays["cancelled_date"].notna().map({True: "cancelled", False: "active"}),
    ).drop(columns=["payment"])


def cmd_payments(args) -> int:
    pays, allocs = open_workspace(args).payments(args.client, start=args.start, end=args.end)
    out = _history(pays, allocs, args.format)
    if args.format != "table":
        out["created_at"] = pays["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype("string")
    money = ["amount", "allocated", "credit"]
    emit(out, args.format, money, PAYMENT_LABELS, mark=pays["cancelled_date"].notna())
    if args.format == "table":
        alive = pays["cancelled_date"].isna()
        print(f"\n{len(pays)} règlement(s) dont {int((~alive).sum())} annulé(s) (lignes « ! »), "
              f"total hors annulés {format_amount(int(pays.loc[alive, 'amount'].sum()))}.")
    return 0


def _allocation_args(parser) -> None:
    parser.add_argument("--invoice", "-i", action="append", type=invoice_arg, metavar="N[=MONTANT]",
                        help="imputer sur la facture N (le montant, sinon tout ce qu'elle attend) ; répétable")
    parser.add_argument("--auto", action="store_true",
                        help="répartir le reste sur les échéances les plus anciennes (défaut sans --invoice)")
    parser.add_argument("--site", help="imputation automatique limitée à ce chantier")
    parser.add_argument("--date", type=date_arg, help="date (défaut : aujourd'hui)")


def register(subparsers) -> None:
    pay = subparsers.add_parser("pay", help="saisir un règlement et l'imputer")
    pay.add_argument("--client", "-c", required=True, help="code client")
    pay.add_argument("--amount", "-a", required=True, type=amount_arg, help="montant, ex. 1 250,00")
    pay.add_argument("--method", "-m", default="virement", choices=PAYMENT_METHODS, help="mode (défaut : virement)")
    pay.add_argument("--reference", "-r", help="n° de chèque, de virement…")
    pay.add_argument("--bank", help="compte bancaire crédité")
    pay.add_argument("--label", help="libellé")
    pay.add_argument("--id", help="numéro du règlement (défaut : P-AAAA-NNNNN)")
    pay.add_argument("--confirm", action="store_true",
                     help="accepter un doublon probable ou un règlement antérieur à la facture")
    _allocation_args(pay)
    add_format(pay)
    pay.set_defaults(handler=cmd_pay)

    credit = subparsers.add_parser("apply-credit", help="imputer un trop-perçu ou un avoir sur des factures")
    credit.add_argument("source", help="n° de règlement ou d'avoir")
    credit.add_argument("--client", "-c", required=True, help="code client")
    credit.add_argument("--confirm", action="store_true", help="accepter une imputation antérieure à la facture")
    _allocation_args(credit)
    add_format(credit)
    credit.set_defaults(handler=cmd_apply_credit)

    off = subparsers.add_parser("write-off", help="solder une facture sans règlement (petit écart)")
    off.add_argument("invoice", help="n° de facture")
    off.add_argument("--reason", required=True, help="motif (obligatoire)")
    off.add_argument("--amount", "-a", type=amount_arg, help="montant (défaut : tout le reste dû)")
    off.add_argument("--date", type=date_arg, help="date (défaut : aujourd'hui)")
    off.add_argument("--confirm", action="store_true", help="accepter un montant au-dessus du seuil")
    off.set_defaults(handler=cmd_write_off)

    cancel = subparsers.add_parser("cancel-payment", help="annuler un règlement (la trace reste)")
    cancel.add_argument("payment_id", metavar="ID", help="n° du règlement")
    cancel.add_argument("--reason", required=True, help="motif (obligatoire), ex. chèque impayé")
    cancel.add_argument("--date", type=date_arg, help="date d'annulation (défaut : aujourd'hui)")
    cancel.set_defaults(handler=cmd_cancel_payment)

    history = subparsers.add_parser("payments", help="liste des règlements et de leurs imputations")
    history.add_argument("--client", "-c", help="code client")
    history.add_argument("--from", dest="start", type=date_arg, help="depuis cette date")
    history.add_argument("--to", dest="end", type=date_arg, help="jusqu'à cette date")
    add_format(history)
    history.set_defaults(handler=cmd_payments)
