"""Typed access to one decoded JSON object, recording French problems instead of raising.

``jsonformat`` walks a scenario file with it: each ``Fields`` wraps one object (a ``PosDict``
from the position-keeping decoder, or a plain ``dict`` when the data comes from a database),
knows which keys it allows, and answers each typed read with a value (a harmless default when
the file is wrong) while the problem goes to the shared ``Report`` with the key's line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .model import Problem

MAX_TEXT = 20_000  # characters in one text field (a body, a section)
MAX_ITEMS = 1_000  # items in one list (injects, sections...)


@dataclass
class Report:
    path: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        # A lone surrogate quoted from the file ("\ud800") could not be printed or stored.
        message = message.encode("utf-8", "replace").decode("utf-8")
        self.problems.append(Problem(self.path, line, message))


def line_of(container: Any, key: Any, default: int = 0) -> int:
    finder = getattr(container, "line_of", None)
    if finder is None:
        return default
    try:
        return int(finder(key))
    except (TypeError, ValueError):
        return default


def opening_line(value: Any, default: int = 0) -> int:
    return int(getattr(value, "line", 0) or default)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "un booléen"
    if isinstance(value, int | float):
        return "un nombre"
    if isinstance(value, str):
        return "un texte"
    if isinstance(value, list):
        return "une liste"
    if isinstance(value, dict):
        return "un objet"
    return type(value).__name__


class Fields:
    """The keys of one JSON object ``data`` (``what`` names it in messages, in French)."""

    def __init__(
        self,
        report: Report,
        data: Any,
        what: str,
        allowed: tuple[str, ...],
        *,
        line: int = 0,
    ):
        self.report = report
        self.what = what
        self.line = opening_line(data, line)
        self.ok = isinstance(data, dict)
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        self._source = data
        if not self.ok:
            report.add(self.line, f"{what} : un objet {{…}} est attendu, pas {_kind(data)}")
            return
        for key in self.data:
            if key not in allowed:
                report.add(
                    self.key_line(key),
                    f"{what} : clé inconnue « {key} » (clés possibles : {', '.join(allowed)})",
                )

    def key_line(self, key: str) -> int:
        return line_of(self._source, key, self.line)

    def has(self, key: str) -> bool:
        return key in self.data

    def _missing(self, key: str) -> None:
        self.report.add(self.line, f"{self.what} : champ obligatoire « {key} » absent")

    def _wrong(self, key: str, expected: str) -> None:
        value = self.data[key]
        self.report.add(
            self.key_line(key),
            f"{self.what} : « {key} » doit être {expected}, pas {_kind(value)}",
        )

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        if key not in self.data:
            if required and self.ok:
                self._missing(key)
            return default
        value = self.data[key]
        if not isinstance(value, str):
            self._wrong(key, "un texte")
            return default
        if not _encodable(value):
            self.report.add(
                self.key_line(key), f"{self.what} : « {key} » contient un caractère invalide"
            )
            return default
        if required and not value.strip():
            self.report.add(self.key_line(key), f"{self.what} : « {key} » est vide")
        if len(value) > MAX_TEXT:
            self.report.add(
                self.key_line(key),
                f"{self.what} : « {key} » est trop long ({MAX_TEXT} caractères au plus)",
            )
            return value[:MAX_TEXT]
        return value

    def integer(self, key: str, *, required: bool = False, default: int = 0) -> int:
        value = self.optional_integer(key, required=required)
        return default if value is None else value

    def optional_integer(self, key: str, *, required: bool = False) -> int | None:
        if key not in self.data:
            if required and self.ok:
                self._missing(key)
            return None
        value = self.data[key]
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(key, "un nombre entier")
            return None
        if abs(value) > 10**9:
            self.report.add(self.key_line(key), f"{self.what} : « {key} » est hors limites")
            return None
        return value

    def boolean(self, key: str, *, default: bool = False) -> bool:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            self._wrong(key, "true ou false")
            return default
        return value

    def choice(self, key: str, choices: tuple[str, ...], *, default: str = "") -> str:
        required = not default
        value = self.text(key, required=required, default=default)
        if key in self.data and isinstance(self.data[key], str) and value not in choices:
            self.report.add(
                self.key_line(key),
                f"{self.what} : « {key} » vaut « {value[:60]} », valeurs possibles : "
                f"{', '.join(choices)}",
            )
            return default or choices[0]
        return value

    def items(self, key: str, *, required: bool = False) -> Iterator[tuple[Any, int]]:
        """Each item of the list under ``key`` with its line."""
        if key not in self.data:
            if required and self.ok:
                self._missing(key)
            return
        value = self.data[key]
        if not isinstance(value, list):
            self._wrong(key, "une liste […]")
            return
        if len(value) > MAX_ITEMS:
            self.report.add(
                self.key_line(key),
                f"{self.what} : « {key} » compte trop d'éléments ({MAX_ITEMS} au plus)",
            )
            return
        base = self.key_line(key)
        for index, item in enumerate(value):
            yield item, line_of(value, index, base)

    def texts(self, key: str) -> tuple[str, ...]:
        found: list[str] = []
        for item, line in self.items(key):
            if isinstance(item, str) and _encodable(item):
                found.append(item[:MAX_TEXT])
            else:
                self.report.add(line, f"{self.what} : « {key} » ne doit contenir que des textes")
        return tuple(found)
