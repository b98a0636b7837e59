"""A workspace holding a letter and the invoice it reminds, as the mail tests attach them."""
from __future__ import annotations

from pathlib import Path

PDF = b"%PDF-1.4\n% lettre de relance\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
INVOICE_PDF = b"%PDF-1.4\n% facture F-2026-001\n" + bytes(reversed(range(256))) * 3 + b"\n%%EOF\n"


def letter_workspace(tmp_path: Path) -> Path:
    """``tmp_path/ws`` with ``documents/relance-7.pdf`` (``PDF``) and ``factures/F-2026-001.pdf`` (``INVOICE_PDF``)."""
    ws = tmp_path / "ws"
    (ws / "documents").mkdir(parents=True)
    (ws / "factures").mkdir()
    (ws / "documents" / "relance-7.pdf").write_bytes(PDF)
    (ws / "factures" / "F-2026-001.pdf").write_bytes(INVOICE_PDF)
    return ws
