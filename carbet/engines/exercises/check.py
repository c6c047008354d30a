"""``carbet exercises check FILE...``: every problem of scenario and chronogram files.

By extension: ``.json`` is a scenario (``jsonformat``), ``.csv`` and ``.xlsx`` a chronogram
(``chronogram``). The result is a list of ``Problem`` (empty: all files are correct), rendered
one per line as ``file:line: message``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from .chronogram import MAX_BYTES as CHRONOGRAM_MAX_BYTES
from .chronogram import import_chronogram
from .jsonformat import MAX_BYTES as SCENARIO_MAX_BYTES
from .jsonformat import parse
from .model import Problem


def _read(path: Path, limit: int) -> bytes | str:
    """The file's bytes, or a French reason why it cannot be read."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        return "fichier introuvable"
    except IsADirectoryError:
        return "c'est un dossier, pas un fichier"
    except OSError as exc:
        return f"lecture impossible ({exc.strerror or 'erreur système'})"
    if len(data) > limit:
        return f"fichier trop volumineux ({limit // 1_000_000} Mo au plus)"
    return data


def check_path(path: str | Path, *, start: dt.time = dt.time(9, 0)) -> list[Problem]:
    path = Path(path)
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv", ".xlsx"):
        return [
            Problem(name, 0, "extension inconnue : .json (scénario), .csv ou .xlsx (chronogramme)")
        ]
    limit = SCENARIO_MAX_BYTES if suffix == ".json" else CHRONOGRAM_MAX_BYTES
    data = _read(path, limit)
    if isinstance(data, str):
        return [Problem(name, 0, data)]
    if suffix == ".json":
        return parse(data, name)[1]
    return list(import_chronogram(data, name, start=start).problems)


def check_paths(paths: Sequence[str | Path], *, start: dt.time = dt.time(9, 0)) -> list[Problem]:
    """The problems of every file, file after file (none: all correct)."""
    problems: list[Problem] = []
    for path in paths:
        problems += check_path(path, start=start)
    return problems
