"""The sandboxed Jinja environment: template folders (user first), filters, French error messages."""
from __future__ import annotations

import datetime as dt
import functools
import re
import traceback
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import jinja2
import pandas as pd
from babel.numbers import format_decimal
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from echeances.dates import format_long_date, format_short_date
from echeances.errors import EcheancesError
from echeances.money import format_amount

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
USER_TEMPLATES = "templates"
SUFFIX = ".html"


class TemplateError(EcheancesError):
    """A template cannot be found or rendered; the message names the template and the line."""


def _day(value) -> dt.date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def amount(cents) -> str:
    """``123456`` → ``1 234,56 €``; an empty value stays empty."""
    return "" if cents is None else _amount(int(cents))


@functools.lru_cache(maxsize=8192)
def _amount(cents: int) -> str:
    return format_amount(cents)  # Babel's formatting is the main cost of a letter's Jinja step


def long_date(value) -> str:
    """``date(2026, 4, 15)`` → ``15 avril 2026``."""
    if value is None:
        return ""
    text = format_long_date(_day(value))
    # French writes the first day of a month as an ordinal: « 1er août 2026 ».
    return "1er" + text[1:] if text.startswith("1 ") else text


def short_date(value) -> str:
    """``date(2026, 4, 15)`` → ``15/04/2026``."""
    return "" if value is None else format_short_date(_day(value))


def percent(value) -> str:
    """``Decimal("12.15")`` → ``12,15 %``."""
    return "" if value is None else format_decimal(Decimal(value), format="#,##0.00", locale="fr_FR") + "\u00a0%"


FILTERS = {"amount": amount, "long_date": long_date, "short_date": short_date, "percent": percent}


def template_dirs(workspace: Path | None) -> list[Path]:
    """Where templates and assets are looked up, first match wins: the workspace's folder, then the defaults."""
    if workspace is None:
        return [DEFAULT_TEMPLATES]
    # Listed even before it exists, so a folder created later is picked up without reopening.
    return [(Path(workspace) / USER_TEMPLATES).resolve(), DEFAULT_TEMPLATES]


def make_environment(dirs: list[Path]) -> jinja2.Environment:
    """A sandbox (no attribute tricks, no mutation) with autoescape and strict undefined."""
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        autoescape=True, undefined=jinja2.StrictUndefined,
        auto_reload=True,  # no trim_blocks: in running text a newline after a tag is a needed space
    )
    env.filters.update(FILTERS)
    return env


@dataclass(frozen=True)
class TemplateInfo:
    """A letter or statement template, and where it comes from."""

    name: str
    path: Path
    overridden: bool

    @property
    def origin(self) -> str:
        return "personnalisé" if self.overridden else "défaut"


def list_templates(dirs: list[Path]) -> list[TemplateInfo]:
    """Every top-level template (shared pieces start with ``_``), with the file that wins."""
    found: dict[str, TemplateInfo] = {}
    for rank, folder in enumerate(dirs):
        for path in sorted(folder.glob(f"*{SUFFIX}")):
            name = path.name[: -len(SUFFIX)]
            if not name.startswith("_") and name not in found:
                found[name] = TemplateInfo(name, path, overridden=rank < len(dirs) - 1)
    return sorted(found.values(), key=lambda t: t.name)


def _template_line(exc: BaseException, dirs: list[Path]) -> tuple[str | None, int | None]:
    """The innermost template frame of a rendering error: (file name, line)."""
    roots = [str(d) for d in dirs]
    where: tuple[str | None, int | None] = (None, None)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(SUFFIX) and any(frame.filename.startswith(r) for r in roots):
            where = (Path(frame.filename).name, frame.lineno)
    return where


_UNDEFINED = re.compile(r"'(?P<name>[^']+)' is undefined")
_NO_ATTRIBUTE = re.compile(r"'(?P<owner>[^']+)' has no attribute '(?P<name>[^']+)'")


def _undefined_message(message: str | None) -> str:
    """Jinja's English message about a missing name, in French."""
    text = message or ""
    if match := _UNDEFINED.fullmatch(text):
        return f"la variable « {match['name']} » n'existe pas (voir templates/README.md)"
    if match := _NO_ATTRIBUTE.fullmatch(text):
        return f"« {match['name']} » n'existe pas dans cette donnée (voir templates/README.md)"
    return f"donnée inconnue — {text}"


def render_html(env: jinja2.Environment, template: str, context: dict) -> str:
    """Render ``template`` (name without ``.html``) with ``context``; errors become ``TemplateError``."""
    dirs = [Path(p) for p in env.loader.searchpath]
    name = template + SUFFIX
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateNotFound as exc:
        if exc.name != name:
            raise TemplateError(f"Modèle {name} : le fichier inclus {exc.name} est introuvable") from None
        raise TemplateError(f"Modèle introuvable : {template} (cherché dans {', '.join(map(str, dirs))})") from None
    except jinja2.TemplateSyntaxError as exc:
        file = Path(exc.filename).name if exc.filename else name
        raise TemplateError(f"Modèle {file}, ligne {exc.lineno} : erreur de syntaxe — {exc.message}") from None
    except jinja2.UndefinedError as exc:
        file, line = _template_line(exc, dirs)
        raise TemplateError(f"Modèle {file or name}, ligne {line} : {_undefined_message(exc.message)}") from None
    except SecurityError as exc:
        file, line = _template_line(exc, dirs)
        raise TemplateError(f"Modèle {file or name}, ligne {line} : opération interdite — {exc}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        file, line = _template_line(exc, dirs)
        raise TemplateError(f"Modèle {file or name}, ligne {line} : {type(exc).__name__} — {exc}") from None
