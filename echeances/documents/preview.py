"""A picture of a document's first page, exactly as the client receives it (poppler's pdftoppm)."""
from __future__ import annotations

import shutil
import subprocess


def first_page_png(pdf: bytes, dpi: int = 80) -> bytes | None:
    """PNG of page 1 of ``pdf``; ``None`` when poppler-utils is not installed or the PDF cannot be read."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        return None
    result = subprocess.run([tool, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", "-"],
                            input=pdf, capture_output=True, timeout=60)
    png = result.stdout
    return png if result.returncode == 0 and png.startswith(b"\x89PNG") else None
