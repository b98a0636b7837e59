"""Hostile data and hostile user templates: no file read, no network, no code run; clear template errors."""
from __future__ import annotations

import datetime as dt
import http.server
import io
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from echeances import Workspace
from echeances.documents.environment import TemplateError
from echeances.documents.fetcher import FolderFetcher
from tests.conftest import write_files
from tests.test_documents import pdf_text, squash

AS_OF = dt.date(2026, 4, 20)
HOSTILE = '<img src="file:///etc/passwd">'

FILES = dict(
    clients=f"""\
        client_id;name;kind;address
        C1;"{HOSTILE.replace('"', '""')}";professionnel;"<link rel=""attachment"" href=""file:///etc/passwd"">"
        """,
    invoices="""\
        number;client_id;kind;issue_date;due_date;total
        F1;C1;invoice;2026-01-05;2026-01-10;100,00
        """,
)


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", _Recorder.hits
    httpd.shutdown()


def open_ws(tmp_path: Path, **templates: str) -> Workspace:
    folder = tmp_path / "ws" / "templates"
    folder.mkdir(parents=True)
    for name, text in templates.items():
        (folder / name).write_text(text, encoding="utf-8")
    ws = Workspace.open(tmp_path / "ws")
    ws.import_folder(write_files(tmp_path / "src", **FILES))
    return ws


def attachments(pdf: bytes) -> dict:
    reader = PdfReader(io.BytesIO(pdf))
    found = dict(reader.attachments)
    for page in reader.pages:  # <a rel="attachment"> becomes a file annotation
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") == "/FileAttachment":
                found[str(annot.get("/Contents"))] = annot
    return found


def test_hostile_client_name_prints_as_text(tmp_path):
    ws = open_ws(tmp_path)
    doc = ws.reminder("relance_1", client="C1", as_of=AS_OF)
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in doc.html
    assert HOSTILE in squash(pdf_text(doc.pdf))
    assert attachments(doc.pdf) == {}


HOSTILE_TEMPLATE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="{url}/style.css">
<link rel="attachment" href="file:///etc/passwd" title="passwd">
<link rel="attachment" href="secret.txt" title="secret">
<link rel="attachment" href="../../secret.txt" title="up">
<link rel="attachment" href="allowed.txt" title="allowed">
<style>@import url("file:///etc/passwd"); @import url("{url}/import.css");
@font-face {{ font-family: x; src: url({url}/font.ttf); }}</style></head>
<body><p>{{{{ client.name }}}}</p>
<img src="{url}/pixel.png"><img src="file:///etc/hostname"><img src="../../../../../etc/passwd">
<a rel="attachment" href="file:///etc/passwd">fichier</a>
<object data="{url}/object.svg"></object><iframe src="{url}/frame.html"></iframe>
</body></html>"""


def test_hostile_template_reads_no_outside_file_and_reaches_no_network(tmp_path, server):
    url, hits = server
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    ws = open_ws(tmp_path, **{"relance_1.html": HOSTILE_TEMPLATE.format(url=url), "allowed.txt": "ok"})
    (ws.path / "templates" / "secret.txt").symlink_to(secret)  # a symlink leading out is refused too
    doc = ws.reminder("relance_1", client="C1", as_of=AS_OF)
    assert hits == []
    # only the file inside the template folder was attached: the check can see attachments
    assert list(attachments(doc.pdf)) == ["allowed.txt"]
    assert b"TOP-SECRET-TOKEN" not in doc.pdf and b"root:x:0:0" not in doc.pdf


def test_hostile_template_network_check_can_fail(tmp_path, server):
    """Control: WeasyPrint's own fetcher does reach the server, so ``hits == []`` above means something."""
    from weasyprint import HTML

    url, hits = server
    HTML(string=f'<link rel="stylesheet" href="{url}/style.css"><p>x</p>').write_pdf()
    assert hits == ["/style.css"]


@pytest.mark.parametrize("source, message", [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}",
     "Modèle relance_1.html, ligne 1 : opération interdite — access to attribute '__class__' of 'str' object is unsafe."),
    ("{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}",
     "Modèle relance_1.html, ligne 1 : opération interdite — access to attribute '__init__' of 'type' object is unsafe."),
    ("{% include '../../../../etc/passwd' %}",
     "Modèle relance_1.html : le fichier inclus ../../../../etc/passwd est introuvable"),
    ("{% include '/etc/passwd' %}", "Modèle relance_1.html : le fichier inclus /etc/passwd est introuvable"),
])
def test_hostile_template_cannot_run_code_nor_include_outside_files(tmp_path, source, message):
    marker = tmp_path / "pwned"
    ws = open_ws(tmp_path, **{"relance_1.html": source.replace("{marker}", str(marker))})
    with pytest.raises(TemplateError) as err:
        ws.reminder("relance_1", client="C1", as_of=AS_OF)
    assert str(err.value) == message
    assert not marker.exists()


def test_template_typo_names_the_template_and_the_line(tmp_path):
    ws = open_ws(tmp_path, **{"relance_1.html": '{% extends "_base.html" %}\n{% block content %}\n'
                                                '<p>{{ totals.outstanding|amount }}</p>\n<p>{{ clent.name }}</p>\n'
                                                '{% endblock %}\n'})
    with pytest.raises(TemplateError) as err:
        ws.reminder("relance_1", client="C1", as_of=AS_OF)
    assert str(err.value) == ("Modèle relance_1.html, ligne 4 : la variable « clent » n'existe pas "
                              "(voir templates/README.md)")


def test_template_syntax_error_names_the_template_and_the_line(tmp_path):
    ws = open_ws(tmp_path, **{"relance_2.html": "<p>\n{{ client.name }}\n{% endfor %}\n</p>\n"})
    with pytest.raises(TemplateError) as err:
        ws.reminder("relance_2", client="C1", as_of=AS_OF)
    assert str(err.value).startswith("Modèle relance_2.html, ligne 3 : erreur de syntaxe — Encountered unknown tag 'endfor'")


def test_override_is_used_and_listed_as_personalised(tmp_path):
    ws = open_ws(tmp_path, **{"relance_1.html": '{% extends "_base.html" %}{% block content %}'
                                                '<p>Texte maison {{ totals.outstanding|amount }}</p>{% endblock %}'})
    doc = ws.reminder("relance_1", client="C1", as_of=AS_OF)
    assert "Texte maison 100,00 €" in squash(pdf_text(doc.pdf))
    origins = {t.name: t.origin for t in ws.templates()}
    assert origins["relance_1"] == "personnalisé" and origins["relance_2"] == "défaut"
    assert set(origins) == {"facture_en_retard", "factures_chantier_en_retard", "factures_client_en_retard",
                            "mise_en_demeure", "relance_1", "relance_2", "releve_compte_chantier",
                            "releve_compte_client"}


def test_fetcher__serves_user_asset_over_default_and_refuses_everything_else(tmp_path):
    user, default, outside = tmp_path / "user", tmp_path / "default", tmp_path / "outside.png"
    user.mkdir(), default.mkdir()
    (default / "logo.png").write_bytes(b"default")
    (user / "logo.png").write_bytes(b"user")
    outside.write_bytes(b"secret")
    (user / "link.png").symlink_to(outside)
    fetcher = FolderFetcher([user, default])
    assert fetcher.fetch((default / "logo.png").as_uri()).read() == b"user"
    for url in (outside.as_uri(), (user / "link.png").as_uri(), "file:///etc/passwd", "http://example.com/a.png",
                "https://example.com/a.css", "ftp://example.com/x", f"file://evil.example{default}/logo.png"):
        with pytest.raises(ValueError, match="Ressource refusée"):
            fetcher.fetch(url)


def test_svg_inside_a_data_url_cannot_fetch_either(tmp_path, server):
    import base64

    url, hits = server
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="{url}/svg.png" '
           'width="10" height="10"/><image href="file:///etc/passwd" width="10" height="10"/></svg>')
    data = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    fetcher = FolderFetcher([tmp_path])
    from weasyprint import HTML

    HTML(string=f'<img src="{data}"><p>x</p>', base_url=tmp_path.as_uri() + "/", url_fetcher=fetcher).write_pdf()
    assert hits == [] and fetcher.refused == [f"{url}/svg.png", "file:///etc/passwd"]
