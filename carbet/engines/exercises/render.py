"""Safe substitution of ``{{name}}`` placeholders: no template engine, no attribute access.

A placeholder is a bare name (letters, digits, underscore) between double braces, spaces
allowed inside: ``{{structure}}``, ``{{ directeur }}``. Only declared names are replaced; an
undeclared or malformed placeholder (``{{ a.b }}``, ``{{x|upper}}``) stays as written — the
scenario check reports it beforehand. Values are inserted as plain text: the caller escapes
them for HTML or e-mail like any other text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}")
_ANY_BRACES = re.compile(r"\{\{(.{0,80}?)\}\}", re.DOTALL)


def placeholders(text: str) -> list[str]:
    """The names used in ``text``, each once, in order of first use."""
    seen: dict[str, None] = {}
    for match in _PLACEHOLDER.finditer(text):
        seen.setdefault(match.group(1), None)
    return list(seen)


def malformed(text: str) -> list[str]:
    """Double-brace fragments that are not a plain ``{{name}}`` (as written)."""
    return [
        match.group(0)
        for match in _ANY_BRACES.finditer(text)
        if not _PLACEHOLDER.fullmatch(match.group(0))
    ]


def render(text: str, variables: Mapping[str, str], declared: Iterable[str] | None = None) -> str:
    """``text`` with each declared ``{{name}}`` replaced by ``variables[name]``."""
    allowed = set(variables if declared is None else declared)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in allowed and name in variables:
            return str(variables[name])
        return match.group(0)

    return _PLACEHOLDER.sub(replace, text)
