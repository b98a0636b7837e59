"""Letters and statements: context → sandboxed Jinja HTML → WeasyPrint PDF → file and log entry.

The workspace gathers the data (open items, penalties, credit) and calls a
``Maker``; the maker renders, stores the PDF under ``documents/YYYY/`` and
records it. ``render_many`` spreads the PDF step over processes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from echeances.documents.context import (
    TEMPLATE_SCOPES, Scope, lookups, reminder_context, resolve_scope, split_by_client,
)
from echeances.documents.environment import (
    TemplateError, TemplateInfo, list_templates, make_environment, render_html, template_dirs,
)
from echeances.documents.pdf import render_pdf
from echeances.documents.statement import statement_context
from echeances.store import documents as log

__all__ = [
    "Document", "Draft", "Maker", "ReminderRequest", "StatementRequest", "Scope", "TemplateError",
    "TemplateInfo", "TEMPLATE_SCOPES", "reminder_context", "resolve_scope", "split_by_client", "statement_context",
]

DOCUMENTS_DIR = "documents"


@dataclass(frozen=True)
class ReminderRequest:
    """A reminder letter to make: one template, for one invoice, site or client, on a date."""

    template: str
    invoice: str | None = None
    client: str | None = None
    site: str | None = None
    as_of: dt.date | None = None


@dataclass(frozen=True)
class StatementRequest:
    """An account statement of a client or a site over ``start``..``end``."""

    client: str | None = None
    site: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    template: str | None = None


@dataclass(frozen=True)
class Draft:
    """A document rendered to HTML, not yet a PDF: what a worker process needs, and what the log needs."""

    kind: str
    template: str
    scope: Scope
    client_id: str
    site_id: str | None
    invoices: tuple[int, ...]
    invoice_numbers: tuple[str, ...]
    as_of: dt.date
    period_start: dt.date | None
    total: int
    html: str = field(repr=False)


@dataclass(frozen=True)
class Document:
    """A stored letter or statement: its log entry, PDF bytes and HTML source."""

    id: int
    kind: str
    template: str
    client_id: str
    site_id: str | None
    invoices: tuple[str, ...]
    as_of: dt.date
    period_start: dt.date | None
    created_at: dt.datetime
    sha256: str
    file: Path
    total: int
    pdf: bytes = field(repr=False)
    html: str = field(repr=False)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "x"


def _invoice_numbers(context: dict) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item["number"] for item in context["items"]))


class Maker:
    """Renders and stores documents for one workspace (folders, sandbox and store fixed at creation)."""

    def __init__(self, workspace: Path, store, settings: dict):
        self.workspace = Path(workspace)
        self.store = store
        self.settings = settings
        self.folders = template_dirs(self.workspace)
        self.env = make_environment(self.folders)

    def templates(self) -> list[TemplateInfo]:
        return list_templates(self.folders)

    # --- HTML ------------------------------------------------------------
    def draft(self, kind: str, template: str, scope: Scope, context: dict, frames,
              as_of: dt.date, period_start: dt.date | None = None) -> Draft:
        html = render_html(self.env, template, context)
        numbers = _invoice_numbers(context)
        codes = lookups(frames).invoice_codes
        # The log keeps the principal in arrears (a letter may add penalties) or the closing balance.
        total = context["totals"]["outstanding"] if kind == "reminder" else context["closing_balance"]
        site = context["site"]["site_id"] if context["site"] else None
        return Draft(kind, template, scope, context["client"]["client_id"], site,
                     tuple(int(codes[n]) for n in numbers), numbers, as_of, period_start, int(total), html)

    # --- PDF and log -----------------------------------------------------
    def pdf(self, draft: Draft) -> bytes:
        return render_pdf(draft.html, self.folders)

    def save(self, drafts_and_pdfs: list[tuple[Draft, bytes]]) -> list[Document]:
        """Write each PDF under ``documents/YYYY/`` and record them all in one transaction."""
        created = log.now()
        written, documents = [], []
        try:
            with self.store.write() as conn:
                for draft, pdf in drafts_and_pdfs:
                    path = self._write_file(draft, pdf)
                    written.append(path)
                    digest = hashlib.sha256(pdf).hexdigest()
                    row = {"kind": draft.kind, "template": draft.template, "client": draft.scope.client,
                           "site": draft.scope.site, "as_of": draft.as_of, "period_start": draft.period_start,
                           "created_at": created, "sha256": digest,
                           "file": path.relative_to(self.workspace).as_posix(), "size": len(pdf),
                           "total": draft.total}
                    doc_id = log.insert_document(conn, row, list(draft.invoices))
                    documents.append(Document(doc_id, draft.kind, draft.template, draft.client_id, draft.site_id,
                                              draft.invoice_numbers, draft.as_of, draft.period_start, created,
                                              digest, path, draft.total, pdf, draft.html))
        except BaseException:
            for path in written:  # the log was rolled back: leave no unrecorded file behind
                path.unlink(missing_ok=True)
            raise
        return documents

    def _write_file(self, draft: Draft, pdf: bytes) -> Path:
        folder = self.workspace / DOCUMENTS_DIR / f"{draft.as_of:%Y}"
        folder.mkdir(parents=True, exist_ok=True)
        target = draft.site_id or (draft.invoice_numbers[0] if draft.scope.invoice is not None else "")
        stem = "_".join(p for p in (f"{draft.as_of:%Y-%m-%d}", draft.template, _slug(draft.client_id),
                                    _slug(target) if target else "") if p)
        digest = hashlib.sha256(pdf).hexdigest()[:10]
        path = folder / f"{stem}_{digest}.pdf"
        temporary = path.with_suffix(".part")
        temporary.write_bytes(pdf)
        os.replace(temporary, path)
        return path

    def pdfs(self, drafts: Iterable[Draft], total: int, progress: Callable[[int, int], None] | None = None,
             processes: int | None = None) -> list[tuple[Draft, bytes]]:
        """PDFs of ``drafts`` (over ``processes``, default all cores), in order; nothing stored yet.

        ``drafts`` may be a generator: each draft goes to a worker as soon as it
        is made, so drafting the next letters overlaps the PDFs of the first.
        """
        processes = min(processes or os.cpu_count() or 1, max(total, 1))
        if processes <= 1:
            made = []
            for draft in drafts:
                made.append((draft, self.pdf(draft)))
                if progress:
                    progress(len(made), total)
            return made
        with ProcessPoolExecutor(max_workers=processes) as pool:
            futures = [(draft, pool.submit(render_pdf, draft.html, self.folders)) for draft in drafts]
            for done, _ in enumerate(as_completed(f for _, f in futures), start=1):
                if progress:
                    progress(done, len(futures))
            return [(draft, future.result()) for draft, future in futures]
