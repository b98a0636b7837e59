"""Reading attachment files, only from inside the workspace and under a size limit."""
from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from echeances.mail.message import Attachment, MessageRefused, check_header


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",") + " Mo"


def load_attachment(workspace: Path, path: str | Path, max_bytes: int) -> Attachment:
    """The file at ``path`` (relative to the workspace, or absolute inside it) as an ``Attachment``.

    The real path (symbolic links resolved) must stay inside the workspace: a
    ``../`` or a link pointing out is refused, like a file above ``max_bytes``.
    """
    shown = str(path)
    check_header("Le chemin de la pièce jointe", shown)
    root = Path(workspace).resolve(strict=True)
    candidate = Path(path) if Path(path).is_absolute() else root / path
    try:
        real = candidate.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise MessageRefused(f"Pièce jointe introuvable : « {shown} ».") from None
    if not real.is_relative_to(root):
        raise MessageRefused(f"Pièce jointe refusée : « {shown} » est en dehors de l'espace de travail.")
    if not real.is_file():
        raise MessageRefused(f"Pièce jointe refusée : « {shown} » n'est pas un fichier.")
    limit = f"au-delà de la limite de {_megabytes(max_bytes)}"
    if real.stat().st_size > max_bytes:
        raise MessageRefused(f"Pièce jointe refusée : « {shown} » pèse {_megabytes(real.stat().st_size)}, {limit}.")
    # O_NOFOLLOW: the checked path cannot be swapped for a link between the check and the read.
    fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        content = handle.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise MessageRefused(f"Pièce jointe refusée : « {shown} » est plus grosse que prévu, {limit}.")
    kind, encoding = mimetypes.guess_type(candidate.name)
    maintype, subtype = (kind or "application/octet-stream").split("/", 1)
    if encoding is not None:
        maintype, subtype = "application", "octet-stream"
    return Attachment(filename=candidate.name, content=content, maintype=maintype, subtype=subtype)


def check_total(attachments, max_bytes: int) -> None:
    total = sum(len(a.content) for a in attachments)
    if total > max_bytes:
        raise MessageRefused(f"Pièces jointes refusées : {_megabytes(total)} au total, "
                             f"au-delà de la limite de {_megabytes(max_bytes)} par message.")
