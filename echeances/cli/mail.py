"""Commands over email: send (a logged document), documents (the log with statuses), mail-test."""
from __future__ import annotations

import json
import sys

from echeances.cli.output import add_format, emit, open_workspace

DOCUMENT_LABELS = {
    "document": "N°", "created_at": "Créé le", "kind": "Type", "template": "Modèle", "client_id": "Client",
    "file": "Fichier", "status": "Envoi", "sent_at": "Envoyé le", "to_addrs": "Destinataires", "reason": "Motif",
}
KIND_LABELS = {"reminder": "relance", "statement": "relevé"}
EXIT = {"envoyé": 0, "à renvoyer": 75, "en cours": 75, "échec": 1}


def _print_sending(sending, fmt: str) -> int:
    if fmt == "json":
        json.dump({"document": sending.document, "attempt": sending.attempt, "status": sending.status,
                   "reason": sending.reason, "transport": sending.transport, "message_id": sending.message_id,
                   "recipients": list(sending.recipients)}, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    elif sending.sent:
        where = "déposé dans la boîte d'envoi" if sending.transport == "outbox" else "envoyé"
        print(f"Document {sending.document} {where} (essai {sending.attempt}) à {', '.join(sending.recipients)}"
              f" — Message-ID {sending.message_id}" + (f"\n{sending.reason}" if sending.reason else ""))
    else:
        print(f"Document {sending.document} non envoyé ({sending.status}) : {sending.reason}", file=sys.stderr)
    return EXIT.get(sending.status, 1)


def cmd_send(args) -> int:
    ws = open_workspace(args)
    try:
        sending = ws.send(args.document, to=args.to, cc=args.cc, bcc=args.bcc, attach=args.attach,
                          force=args.force)
    finally:
        ws.close()
    return _print_sending(sending, args.format)


def add_send_options(parser) -> None:
    """``--send`` and its recipients, for commands that make a document (``remind``, ``statement``)."""
    parser.add_argument("--send", action="store_true", help="envoie aussi le document par email")
    parser.add_argument("--mail-to", action="append", default=[], metavar="ADRESSE",
                        help="avec --send : destinataire en plus de l'adresse du client (répétable)")
    parser.add_argument("--mail-cc", action="append", default=[], metavar="ADRESSE",
                        help="avec --send : copie (répétable)")
    parser.add_argument("--force", dest="force_send", action="store_true",
                        help="avec --send : envoie même si une relance des mêmes factures est trop récente")


def send_made(ws, document_id: int, args) -> int:
    """After ``remind``/``statement --send``: email the document just made; returns the exit code."""
    if not getattr(args, "send", False):
        return 0
    sending = ws.send(document_id, to=args.mail_to, cc=args.mail_cc, force=args.force_send)
    # In JSON mode the document's entry is already on stdout: the sending is told on stderr.
    if getattr(args, "format", "table") == "json":
        print(f"Envoi : {sending.status}" + (f" — {sending.reason}" if sending.reason else ""), file=sys.stderr)
        return EXIT.get(sending.status, 1)
    return _print_sending(sending, "table")


def cmd_documents(args) -> int:
    ws = open_workspace(args)
    try:
        status = ws.sent_status()
        if args.client:
            status = status[status["client_id"] == args.client]
    finally:
        ws.close()
    status = status.reset_index(drop=True)
    if args.format == "table":
        status = status.assign(kind=status["kind"].map(KIND_LABELS).fillna(status["kind"]))
    emit(status, args.format, [], DOCUMENT_LABELS)
    return 0


def cmd_mail_test(args) -> int:
    from echeances.mail import DeliveryError

    ws = open_workspace(args)
    try:
        delivery = ws.mail_test(args.to)
    except DeliveryError as exc:
        print(f"Échec du test d'envoi ({exc.status}) : {exc.reason}", file=sys.stderr)
        return EXIT.get(exc.status, 1)
    finally:
        ws.close()
    if delivery.transport == "outbox":
        print(f"Message de test déposé dans {delivery.location} (mode outbox : aucun serveur contacté ; "
              "ECHEANCES_MAIL_TRANSPORT=smtp pour tester le serveur).")
    else:
        print(f"Message de test accepté par {delivery.location}.")
    return 0


def register(commands) -> None:
    send = commands.add_parser("send", help="envoie par email un document du journal (relance, relevé)")
    send.add_argument("document", type=int, metavar="DOCUMENT_ID", help="numéro du document (echeances documents)")
    send.add_argument("--to", action="append", default=[], metavar="ADRESSE",
                      help="destinataire en plus de l'adresse du client (répétable)")
    send.add_argument("--cc", action="append", default=[], metavar="ADRESSE", help="copie (répétable)")
    send.add_argument("--bcc", action="append", default=[], metavar="ADRESSE", help="copie cachée (répétable)")
    send.add_argument("--attach", action="append", default=[], metavar="FICHIER",
                      help="pièce jointe en plus, dans l'espace de travail (répétable)")
    send.add_argument("--force", action="store_true",
                      help="envoie même si le document a déjà été envoyé ou si une relance est trop récente")
    send.add_argument("--format", choices=("table", "json"), default="table", help="table (défaut) ou json")
    send.set_defaults(handler=cmd_send)

    if "documents" not in commands.choices:  # the documents commands may list the log themselves
        listing = commands.add_parser("documents", help="journal des documents avec leur état d'envoi")
        listing.add_argument("--client", metavar="CLIENT", help="seulement ce client (code client)")
        add_format(listing)
        listing.set_defaults(handler=cmd_documents)

    test = commands.add_parser("mail-test", help="envoie un message de test avec les réglages d'envoi")
    test.add_argument("--to", metavar="ADRESSE", help="destinataire (défaut : l'adresse de l'entreprise)")
    test.set_defaults(handler=cmd_mail_test)
