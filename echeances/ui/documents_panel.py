"""A letter or statement just made: preview, "Télécharger le PDF" and "Envoyer par email"."""
from __future__ import annotations

import base64
import html
from typing import Callable

import ipywidgets as widgets

from echeances.ui.feedback import Notice, guarded, in_ui_words
from echeances.ui.forms import read_addresses


def download_link(name: str, pdf: bytes, label: str = "Télécharger le PDF") -> str:
    """An anchor that saves ``pdf`` as ``name``: a data URL works in Voilà and JupyterLab, no server route needed."""
    data = base64.b64encode(pdf).decode("ascii")
    return (f'<a class="ech-download" download="{html.escape(name)}" href="data:application/pdf;base64,{data}">'
            f"⬇ {html.escape(label)}</a>")


def letter_preview(pdf: bytes) -> str:
    """The first page as the client will see it, or a French line saying why there is no picture."""
    from echeances.documents.preview import first_page_png

    png = first_page_png(pdf)
    if png is None:
        return ("<div class='ech-muted'>Aperçu indisponible sur cette machine (poppler-utils absent) : "
                "téléchargez le PDF pour le voir.</div>")
    data = base64.b64encode(png).decode("ascii")
    return (f'<img class="ech-letter" alt="Aperçu de la première page" src="data:image/png;base64,{data}" '
            'style="max-width:640px;width:100%;border:1px solid #e5e7eb;box-shadow:0 1px 4px #0002">')


def readable_address(address: str) -> str:
    """``compta@xn--immobilire3f-4db.fr`` → ``compta@immobilière3f.fr``: addresses shown as the user typed them."""
    local, _, domain = address.rpartition("@")
    if "xn--" not in domain:
        return address
    try:
        return f"{local}@{domain.encode('ascii').decode('idna')}"
    except UnicodeError:
        return address


def sending_html(sending) -> str:
    text = f"Email {sending.status} : {', '.join(readable_address(a) for a in sending.recipients)}"
    if sending.status != "envoyé" and sending.reason:
        text += f" — {in_ui_words(sending.reason)}"
    return f'<div class="{"ech-ok" if sending.status == "envoyé" else "ech-error"}">{html.escape(text)}</div>'


class DocumentPanel(widgets.VBox):
    """Shows one ``Document``: download, preview, editable recipients, send through ``Workspace.send``."""

    def __init__(self, workspace, on_sent: Callable[[], None] = lambda: None):
        self.workspace, self.on_sent, self.document = workspace, on_sent, None
        self.title = widgets.HTML()
        self.download = widgets.HTML()
        self.preview = widgets.HTML()
        self.to = widgets.Text(description="À", placeholder="adresse@client.fr, autre@client.fr",
                               layout=widgets.Layout(width="520px"))
        self.cc = widgets.Text(description="Copie", layout=widgets.Layout(width="520px"))
        self.subject = widgets.Text(description="Objet", layout=widgets.Layout(width="720px"))
        self.body = widgets.Textarea(description="Message", layout=widgets.Layout(width="720px", height="180px"))
        self.files = widgets.FileUpload(description="Pièces jointes", multiple=True, icon="paperclip",
                                        layout=widgets.Layout(width="160px"))
        self.force = widgets.Checkbox(description="Envoyer quand même", indent=False,
                                      layout=widgets.Layout(display="none"))
        self.send = widgets.Button(description="Envoyer par email", icon="envelope", button_style="primary")
        self.status = widgets.HTML()
        self.notice = Notice()
        self.send.on_click(guarded(self.notice, "L'email n'a pas pu être envoyé.")(lambda _: self.send_document()))
        for control in (self.to, self.cc, self.subject, self.body):
            control.style.description_width = "60px"
        super().__init__([self.title, self.download, self.to, self.cc, self.subject, self.body, self.force,
                          widgets.HBox([self.files, self.send]), self.notice, self.status, self.preview],
                         layout=widgets.Layout(display="none"))
        self.add_class("ech-panel")

    def show(self, document, to: str = "", preview: bool = True) -> None:
        self.document = document
        self.title.value = f"<b>{html.escape(document.file.name)}</b> (document n° {document.id})"
        self.download.value = download_link(document.file.name, document.pdf)
        self.preview.value = letter_preview(document.pdf) if preview else ""
        self.to.value, self.cc.value, self.status.value = to, "", ""
        self.subject.value, self.body.value = self.workspace.email_draft(document.id)
        self.force.value, self.force.layout.display = False, "none"
        self.files.value = ()
        self.notice.clear()
        self.layout.display = ""

    def send_document(self) -> None:
        from echeances.mail.sending import AlreadySent  # the mail layer loads on first use

        try:
            attach = [self.workspace.keep_attachment(f["name"], f["content"]) for f in self.files.value]
            sending = self.workspace.send(self.document.id, to=read_addresses(self.to.value),
                                          cc=read_addresses(self.cc.value), attach=attach, force=self.force.value,
                                          subject=self.subject.value, body=self.body.value)
        except AlreadySent:
            self.force.layout.display = ""  # the switch the refusal speaks of (see feedback.in_ui_words)
            raise
        self.status.value = sending_html(sending)
        self.on_sent()
