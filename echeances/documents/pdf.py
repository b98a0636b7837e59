"""HTML → PDF with WeasyPrint, through a URL fetcher that reads only the template and asset folders.

WeasyPrint is imported on first use: it takes about half a second, which a dashboard or a
command that makes no PDF should not pay.
"""
from __future__ import annotations

import os
from pathlib import Path


def base_url(folders: list[Path]) -> str:
    """Relative URLs in templates resolve against the default (last) folder, then get remapped."""
    return Path(folders[-1]).resolve().as_uri() + "/"


_font_config: list = []  # [(pid, FontConfiguration)]: one per process, never shared across a fork


def font_config():
    """This process's font configuration, kept between documents: building it is ~20 % of a letter."""
    from weasyprint.text.fonts import FontConfiguration

    if not _font_config or _font_config[0][0] != os.getpid():
        _font_config[:] = [(os.getpid(), FontConfiguration())]
    return _font_config[0][1]


def render_pdf(html: str, folders: list[Path]) -> bytes:
    """The PDF of ``html``; only files of ``folders`` can be read while rendering."""
    from weasyprint import HTML

    from echeances.documents.fetcher import FolderFetcher

    fetcher = FolderFetcher(folders)
    return HTML(string=html, base_url=base_url(folders), url_fetcher=fetcher).write_pdf(font_config=font_config())
