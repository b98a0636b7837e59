"""The URL fetcher of WeasyPrint that reads only the template and asset folders."""
from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

LOGGER = logging.getLogger(__name__)


class FolderFetcher(URLFetcher):
    """Serves ``file:`` URLs inside the given folders (the first folder holding the file wins), and ``data:``.

    Everything else — other files, symlinks leading out, ``http(s):``, ``ftp:`` —
    is refused: WeasyPrint then skips the resource. A URL under any folder is
    looked up in every folder in order, so a user's ``templates/logo.png``
    overrides the default one although the page's base URL is the default folder.
    """

    def __init__(self, folders: list[Path]):
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self.folders = [Path(f).resolve() for f in folders]
        self.refused: list[str] = []

    def _refuse(self, url: str, why: str):
        self.refused.append(url)
        LOGGER.warning("Ressource refusée (%s) : %s", why, url[:200])
        raise ValueError(f"Ressource refusée ({why}) : {url[:200]}")

    def _locate(self, path: Path) -> Path | None:
        for folder in self.folders:
            if path.is_relative_to(folder):
                relative = path.relative_to(folder)
                for candidate_root in self.folders:
                    candidate = (candidate_root / relative).resolve()
                    if candidate.is_relative_to(candidate_root) and candidate.is_file():
                        return candidate
                return None
        return None

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            self._refuse(url, "adresse réseau")
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            self._refuse(url, "hôte distant")
        found = self._locate(Path(unquote(parts.path)).resolve())
        if found is None:
            self._refuse(url, "hors des dossiers de modèles")
        mime = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        return URLFetcherResponse(found.as_uri(), found.read_bytes(), {"Content-Type": mime})
