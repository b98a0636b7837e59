"""Reminders for several clients at once: one letter each, a progress bar, the PDFs, "Envoyer tout par email"."""
from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets

from echeances.errors import EcheancesError
from echeances.ui.documents_panel import download_link, sending_html
from echeances.ui.feedback import Notice, guarded, in_ui_words


class BatchPanel(widgets.VBox):
    """Makes ``ReminderRequest``s through ``Workspace.render_many`` and lists what came out."""

    def __init__(self, workspace, on_done: Callable[[], None] = lambda: None):
        self.workspace, self.on_done, self.documents = workspace, on_done, []
        self.progress = widgets.IntProgress(description="Lettres", min=0, max=1,
                                            layout=widgets.Layout(width="420px", display="none"))
        self.links = widgets.HTML()
        self.send = widgets.Button(description="Envoyer tout par email", icon="envelope", button_style="primary",
                                   layout=widgets.Layout(display="none"))
        self.report = widgets.HTML()
        self.notice = Notice()
        self.send.on_click(guarded(self.notice, "Les emails n'ont pas pu être envoyés.")(lambda _: self.send_all()))
        super().__init__([self.progress, self.links, self.send, self.notice, self.report],
                         layout=widgets.Layout(display="none"))
        self.add_class("ech-panel")

    def make(self, requests) -> None:
        """Render all letters (nothing is stored if one fails), the bar moving as each PDF completes."""
        self.layout.display = ""
        self.links.value = self.report.value = ""
        self.send.layout.display = "none"
        self.progress.max, self.progress.value, self.progress.layout.display = len(requests), 0, ""

        def advance(done: int, total: int) -> None:
            self.progress.value = done

        self.documents = self.workspace.render_many(requests, progress=advance)
        self.progress.value = len(requests)
        self.links.value = "<div class='ech-links'>" + "".join(
            f"<div>{html.escape(d.client_id)} : {download_link(d.file.name, d.pdf, d.file.name)}</div>"
            for d in self.documents) + "</div>"
        self.send.layout.display = ""
        self.on_done()

    def send_all(self) -> None:
        """Each letter to its client's address; one refused or failed does not stop the others."""
        lines = []
        for document in self.documents:
            try:
                lines.append(sending_html(self.workspace.send(document.id)))
            except EcheancesError as exc:
                lines.append(f"<div class='ech-error'>{html.escape(document.client_id)} : "
                             f"{html.escape(in_ui_words(str(exc)))}</div>")
        self.report.value = "".join(lines)
        self.on_done()
