"""Errors as values: a problem has a place (file and line) and a French reason."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, found at ``file:line`` (line 1 is the header)."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


class EcheancesError(Exception):
    """Base of every error the user is meant to read (message in French)."""


class ImportRefused(EcheancesError):
    """An import found problems; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.message))
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"Import refusé ({len(self.problems)} problème(s)), rien n'a été écrit :\n{lines}")


class NotFound(EcheancesError):
    """An object the user named does not exist (unknown client, invoice…)."""
