"""Reading untrusted tables (CSV or XLSX) into rows keyed by canonical column names.

Pure Python (openpyxl for XLSX, no Django). Whatever the bytes, ``read_table`` returns a
``Table``: rows it could read and the problems it met, each with a row number as a spreadsheet
shows it (the header is row 1) and a message for a person, in French. It never raises on bad
input: a file someone uploads may be empty, binary, truncated, in another encoding or huge.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, or an encrypted .xlsx
FILE_ROW = 0  # row number of problems that concern the whole file
MAX_COLUMNS = 200
MAX_UNZIPPED_BYTES = 256 * 1024 * 1024


def normalize_header(text: Any) -> str:
    """``"Code Postal "``, ``"code-postal"`` and ``"CODE_POSTAL"`` all give ``code_postal``."""
    decomposed = unicodedata.normalize("NFKD", str(text if text is not None else ""))
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "_", ascii_only.lower()).strip("_")


@dataclass(frozen=True)
class Column:
    """A column the importer understands, under its canonical name and its accepted aliases."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Schema:
    columns: tuple[Column, ...]

    def lookup(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for column in self.columns:
            for alias in (column.name, *column.aliases):
                names[normalize_header(alias)] = column.name
        return names


@dataclass(frozen=True)
class CellError:
    """One problem: ``row`` as a spreadsheet numbers it (0: the whole file), ``column``."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Table:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


class _Stop(Exception):
    """Reading must stop: the reason is already recorded in the table's errors."""


def _file_error(table: Table, message: str) -> Table:
    table.errors.append(CellError(FILE_ROW, "", message))
    return table


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


def _detect_delimiter(text: str) -> str:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {sep: first_line.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _csv_records(data: bytes, table: Table) -> Iterator[list[Any]]:
    if b"\x00" in data:
        _file_error(table, "Ce fichier n'est ni un CSV ni un classeur Excel (XLSX) lisible.")
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _file_error(
            table,
            "Le fichier n'est pas encodé en UTF-8. Dans Excel, enregistrez-le au format "
            "« CSV UTF-8 (délimité par des virgules) ».",
        )
        return
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_detect_delimiter(text))
    record = 0
    while True:
        record += 1
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            table.errors.append(
                CellError(record, "", "Cette ligne est illisible (guillemet non fermé ?).")
            )
            raise _Stop from None


def _unzipped_size(data: bytes) -> int | None:
    """The declared uncompressed size of a ZIP archive (reads never exceed it), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def _xlsx_records(data: bytes, table: Table) -> Iterator[Iterable[Any]]:
    from openpyxl import load_workbook

    unreadable = "Ce classeur Excel est illisible ou abîmé ; enregistrez-le à nouveau en XLSX."
    size = _unzipped_size(data)
    if size is None:
        _file_error(table, unreadable)
        return
    if size > MAX_UNZIPPED_BYTES:
        # A few megabytes can unzip to gigabytes: refuse before openpyxl inflates anything.
        _file_error(table, "Ce classeur est trop volumineux une fois décompressé.")
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = workbook.worksheets[0]
    except Exception:  # openpyxl raises many types on damaged archives
        _file_error(table, unreadable)
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield from sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
    except Exception:
        _file_error(table, unreadable)
        raise _Stop from None
    finally:
        workbook.close()


def _map_header(cells: list[str], schema: Schema, table: Table) -> dict[int, str] | None:
    lookup = schema.lookup()
    positions: dict[int, str] = {}
    seen: dict[str, str] = {}
    for index, cell in enumerate(cells):
        if not cell:
            continue
        name = lookup.get(normalize_header(cell))
        if name is None:
            table.ignored_columns.append(cell)
            continue
        if name in seen:
            table.errors.append(
                CellError(
                    1, name, f"La colonne « {name} » apparaît deux fois ({seen[name]}, {cell})."
                )
            )
            continue
        seen[name] = cell
        positions[index] = name
    for column in schema.columns:
        if column.required and column.name not in seen:
            table.errors.append(
                CellError(1, column.name, f"Colonne obligatoire absente : « {column.name} ».")
            )
    table.columns = list(seen)
    if not positions and not table.errors:
        table.errors.append(
            CellError(1, "", "La première ligne doit contenir les noms des colonnes.")
        )
    return None if table.errors else positions


def read_table(data: bytes, schema: Schema, *, max_rows: int, max_bytes: int) -> Table:
    """Read ``data`` (CSV in UTF-8 with ``;``, ``,`` or tab, or XLSX) against ``schema``."""
    table = Table()
    refused = _refused_file(data, max_bytes)
    if refused:
        return _file_error(table, refused)
    records = (
        _xlsx_records(data, table) if data.startswith(ZIP_MAGIC) else _csv_records(data, table)
    )
    positions: dict[int, str] | None = None
    try:
        for number, raw in enumerate(records, start=1):
            cells = [_cell_text(value) for value in list(raw)[:MAX_COLUMNS]]
            if positions is None:
                positions = _map_header(cells, schema, table)
                if positions is None:
                    return table
                continue
            if not any(cells):
                continue
            if len(table.rows) >= max_rows:
                table.rows.clear()
                return _file_error(
                    table,
                    f"Le fichier compte plus de {max_rows} lignes : découpez-le en plusieurs "
                    "fichiers.",
                )
            table.rows.append((number, _row_values(cells, positions)))
    except _Stop:
        table.rows.clear()
        return table
    if table.errors:
        table.rows.clear()
        return table
    if positions is None:
        return _file_error(table, "Le fichier est vide.")
    if not table.rows:
        return _file_error(table, "Le fichier ne contient que la ligne des titres, aucune donnée.")
    return table


def _refused_file(data: bytes, max_bytes: int) -> str:
    """Why the file cannot be read at all (before looking inside it), or ""."""
    if not isinstance(data, bytes | bytearray):
        return "Aucun fichier reçu."
    if len(data) > max_bytes:
        return f"Le fichier est trop gros ({max_bytes // (1024 * 1024)} Mo au plus)."
    if not data.strip():
        return "Le fichier est vide."
    if data.startswith(OLE2_MAGIC):
        return (
            "Ce classeur est à l'ancien format Excel (.xls) ou protégé par un mot de passe : "
            "enregistrez-le en .xlsx sans mot de passe, ou en CSV UTF-8."
        )
    return ""


def _row_values(cells: list[str], positions: dict[int, str]) -> dict[str, str]:
    """The row's value for each schema column (empty when the row is shorter)."""
    values = {name: "" for name in positions.values()}
    for index, name in positions.items():
        if index < len(cells):
            values[name] = cells[index]
    return values
