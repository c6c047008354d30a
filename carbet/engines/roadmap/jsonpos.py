"""A small JSON reader that remembers where every key and item was written.

Framework files are edited by hand and uploaded by administrators: when one is wrong, the error
must name the line of the offending key, not only say "invalid". ``json.loads`` forgets
positions, so this reader walks the text itself (strings and numbers are still decoded by the
standard library's own ``scanstring`` and number pattern) and returns ``PosDict``/``PosList``
objects that carry the line of each key or item. It also refuses what ``json`` silently accepts
and a hand-edited file should not: duplicate keys, NaN/Infinity, and nesting deeper than
``MAX_DEPTH`` (hostile input must not exhaust the stack).
"""

from __future__ import annotations

import bisect
import json.decoder
import json.scanner
import re
from typing import Any

MAX_DEPTH = 64
_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = json.scanner.NUMBER_RE


class JsonPositionError(ValueError):
    """The text is not valid JSON; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int):
        self.message = message
        self.line = line
        self.column = column
        super().__init__(f"ligne {line}, colonne {column} : {message}")


class PosDict(dict[str, Any]):
    """A JSON object; ``line`` is where it opens, ``key_lines[key]`` where each key is."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class PosList(list[Any]):
    """A JSON array; ``line`` is where it opens, ``item_lines[i]`` where item ``i`` starts."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class _Reader:
    def __init__(self, text: str):
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def where(self, index: int) -> tuple[int, int]:
        line = bisect.bisect_left(self.newlines, index)
        start = self.newlines[line - 1] + 1 if line else 0
        return line + 1, index - start + 1

    def line(self, index: int) -> int:
        return self.where(index)[0]

    def fail(self, message: str, index: int) -> JsonPositionError:
        line, column = self.where(index)
        return JsonPositionError(message, line, column)

    def skip(self, index: int) -> int:
        blank = _WS.match(self.text, index)  # "*": it matches, if only the empty string
        return blank.end() if blank else index

    def value(self, index: int, depth: int) -> tuple[Any, int]:
        if depth > MAX_DEPTH:
            raise self.fail(f"imbrication trop profonde (plus de {MAX_DEPTH} niveaux)", index)
        index = self.skip(index)
        if index >= len(self.text):
            raise self.fail("valeur attendue, fin du fichier atteinte", index)
        char = self.text[index]
        if char == "{":
            return self.obj(index, depth)
        if char == "[":
            return self.array(index, depth)
        if char == '"':
            return self.string(index)
        for literal, result in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(literal, index):
                return result, index + len(literal)
        match = _NUMBER.match(self.text, index)
        if match and match.end() > index:
            integer, fraction, exponent = match.groups()
            try:
                if fraction or exponent:
                    number = float(integer + (fraction or "") + (exponent or ""))
                else:
                    number = int(integer)
            except ValueError:  # more digits than Python converts
                raise self.fail("nombre trop long", index) from None
            return number, match.end()
        raise self.fail(f"valeur inattendue {self.text[index : index + 12]!r}", index)

    def string(self, index: int) -> tuple[str, int]:
        try:
            # The C scanner json itself uses; typeshed does not declare it.
            value, end = json.decoder.scanstring(self.text, index + 1, True)  # type: ignore[attr-defined]
            return str(value), int(end)
        except json.JSONDecodeError as exc:
            raise self.fail(f"texte entre guillemets invalide ({exc.msg})", exc.pos) from None

    def obj(self, index: int, depth: int) -> tuple[PosDict, int]:
        result = PosDict()
        result.line = self.line(index)
        result.key_lines = {}
        index = self.skip(index + 1)
        if self.text.startswith("}", index):
            return result, index + 1
        while True:
            index = self.skip(index)
            if not self.text.startswith('"', index):
                raise self.fail("nom de clé entre guillemets attendu", index)
            key_line = self.line(index)
            key, index = self.string(index)
            if key in result:
                raise self.fail(
                    f"clé « {key} » en double (déjà ligne {result.key_lines[key]})", index - 1
                )
            index = self.skip(index)
            if not self.text.startswith(":", index):
                raise self.fail(f"« : » attendu après la clé « {key} »", index)
            value, index = self.value(index + 1, depth + 1)
            result[key] = value
            result.key_lines[key] = key_line
            index = self.skip(index)
            if self.text.startswith(",", index):
                index += 1
                continue
            if self.text.startswith("}", index):
                return result, index + 1
            raise self.fail("« , » ou « } » attendu", index)

    def array(self, index: int, depth: int) -> tuple[PosList, int]:
        result = PosList()
        result.line = self.line(index)
        result.item_lines = []
        index = self.skip(index + 1)
        if self.text.startswith("]", index):
            return result, index + 1
        while True:
            index = self.skip(index)
            result.item_lines.append(self.line(index))
            value, index = self.value(index, depth + 1)
            result.append(value)
            index = self.skip(index)
            if self.text.startswith(",", index):
                index += 1
                continue
            if self.text.startswith("]", index):
                return result, index + 1
            raise self.fail("« , » ou « ] » attendu", index)


def loads(text: str) -> Any:
    """Parse ``text`` (one JSON value) keeping positions; raise ``JsonPositionError``."""
    if not isinstance(text, str):
        raise TypeError("text must be str")
    reader = _Reader(text)
    value, index = reader.value(0, 0)
    index = reader.skip(index)
    if index != len(text):
        raise reader.fail("texte en trop après la fin du document", index)
    return value
