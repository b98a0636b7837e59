"""Errors met in a handler become one French line in the view, never a traceback."""
from __future__ import annotations

import functools
import html
import logging

import ipywidgets as widgets

from echeances.errors import EcheancesError

log = logging.getLogger(__name__)

# The mail and document layers name the command line's options in their advice; here the same
# advice points at the control of the dashboard that does it.
IN_THE_UI = (
    ("utilisez --force pour l'envoyer", "cochez « Envoyer quand même » pour l'envoyer"),
    ("utilisez --force", "cochez « Envoyer quand même »"),
    ("(--force)", "(case « Envoyer quand même »)"),
    ("(--to)", "(champ « À »)"),
    ("--invoice (une facture)", "une seule facture"),
    ("--site (un chantier)", "les échéances d'un chantier"),
    ("--client (un client)", "les échéances d'un client"),
)


def in_ui_words(message: str) -> str:
    """``message`` with its command-line advice put in the dashboard's words."""
    for cli, ui in IN_THE_UI:
        message = message.replace(cli, ui)
    return message


class Notice(widgets.HTML):
    """A line for errors; hidden (it takes no room) when all is well."""

    def __init__(self):
        super().__init__(layout=widgets.Layout(display="none"))

    def error(self, text: str) -> None:
        self.value = f'<div class="ech-error">{html.escape(text, quote=False)}</div>'
        self.layout.display = ""

    def clear(self) -> None:
        self.value = ""
        self.layout.display = "none"


def guarded(notice: Notice, failure: str):
    """Decorate a handler: a domain error shows its own message, anything else ``failure`` (details in the log)."""
    def decorate(handler):
        @functools.wraps(handler)
        def run(*args, **kwargs):
            try:
                result = handler(*args, **kwargs)
            except EcheancesError as exc:
                notice.error(in_ui_words(str(exc)))
            except Exception:  # noqa: BLE001 - the user sees a sentence, the server log keeps the traceback
                log.exception(failure)
                notice.error(f"{failure} Le détail est dans le journal du serveur.")
            else:
                notice.clear()
                return result
        return run
    return decorate
