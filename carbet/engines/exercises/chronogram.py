"""A chronogram (the MSEL: one line per stimulus) read from CSV or XLSX into injects.

Columns are found by their French titles, whatever the case, accents or punctuation
("Heure", "Temps" or "Moment"; "Cellule" or "Destinataires"; "Canal"; "Émetteur";
"Objet" or "Titre"; "Message" or "Contenu"; "Réaction attendue" or "Attendu"; "Portée"),
on the first line that holds a time column (a title line above the table is allowed).
Times are read by ``timeexpr.parse_offset``. Spreadsheet formulas are kept as the text
written, never computed. Problems point at the CSV line, or at the sheet cell for XLSX
(``Chronogramme!A12``). Nothing here raises on a hostile file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..tabular import MAX_UNZIPPED_BYTES, OLE2_MAGIC, ZIP_MAGIC, normalize_header
from .model import ALL_RECIPIENTS, Cell, Expectation, Inject, Problem, Sender
from .timeexpr import TimeExpressionError, offset_of_clock, parse_offset

MAX_BYTES = 5_000_000
MAX_COLUMNS = 40
MAX_CELL = 20_000
HEADER_SEARCH_ROWS = 20
MAX_SHEET_ROWS = 200_000  # rows read at most, empty ones included

COLUMNS: dict[str, tuple[str, ...]] = {
    "time": ("heure", "temps", "moment", "horaire", "date_heure", "h", "t"),
    "code": ("n", "no", "num", "numero", "code", "ref", "reference", "id"),
    "recipients": ("cellule", "cellules", "destinataire", "destinataires", "pour", "joueurs"),
    "channel": ("canal", "vecteur", "media", "moyen"),
    "sender": ("emetteur", "expediteur", "de", "source", "auteur"),
    "title": ("objet", "titre", "sujet", "stimulus", "intitule"),
    "body": ("message", "contenu", "texte", "description", "detail"),
    "expected": (
        "reaction_attendue",
        "reactions_attendues",
        "attendu",
        "attendus",
        "reponse_attendue",
        "comportement_attendu",
    ),
    "scope": ("portee",),
}
_LOOKUP = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}

CHANNEL_WORDS: dict[str, str] = {
    "email": "email",
    "e_mail": "email",
    "mail": "email",
    "courriel": "email",
    "messagerie": "email",
    "presse": "press",
    "press": "press",
    "article": "press",
    "article_de_presse": "press",
    "media": "press",
    "social": "social",
    "reseaux_sociaux": "social",
    "reseau_social": "social",
    "tweet": "social",
    "post": "social",
    "document": "document",
    "doc": "document",
    "fichier": "document",
    "telephone": "phone",
    "tel": "phone",
    "appel": "phone",
    "appel_telephonique": "phone",
    "phone": "phone",
    "message": "message",
    "espace_joueur": "message",
    "sms": "message",
    "oral": "phone",
}
_ALL_WORDS = {"all", "tous", "toutes", "toutes_les_cellules", "tout_le_monde", "tous_les_joueurs"}
_ROLE_WORDS = {
    "directeur": "directeur",
    "direction": "directeur",
    "directrice": "directeur",
    "animateur": "animateur",
    "animateurs": "animateur",
    "animation": "animateur",
    "observateur": "observateur",
    "observateurs": "observateur",
}
_SCOPE_WORDS = {
    "": "local",
    "local": "local",
    "locale": "local",
    "etablissement": "local",
    "regional": "regional",
    "regionale": "regional",
    "region": "regional",
}
_SPLIT = re.compile(r"\s*[,;/+\n]\s*")
_AND = re.compile(r"\s+et\s+")
_SENDER = re.compile(r"^(?P<name>[^<>()]*?)\s*[<(]\s*(?P<address>[^<>()\s]+@[^<>()\s]+)\s*[>)]$")


@dataclass(frozen=True)
class ChronogramResult:
    injects: tuple[Inject, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class _Row:
    number: int  # CSV: file line where the record starts; XLSX: sheet row
    values: tuple[Any, ...]


class _Sink:
    def __init__(self, path: str, sheet: str | None):
        self.path = path
        self.sheet = sheet
        self.problems: list[Problem] = []

    def add(self, row: int, column: int | None, message: str) -> None:
        location = ""
        if self.sheet is not None and row:
            letter = _column_letter(column) if column is not None else "A"
            location = f"{self.sheet}!{letter}{row}"
        self.problems.append(Problem(self.path, row, message, location))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()[:MAX_CELL]


def import_chronogram(
    data: bytes,
    path: str,
    *,
    start: dt.time = dt.time(9, 0),
    cells: Sequence[Cell] = (),
    max_rows: int = 2000,
) -> ChronogramResult:
    """The injects of a chronogram file, or the problems that prevent reading it."""
    if not isinstance(data, bytes | bytearray):
        return ChronogramResult((), (Problem(path, 0, "aucun fichier reçu"),))
    data = bytes(data)
    refused = _refused(data)
    if refused:
        return ChronogramResult((), (Problem(path, 0, refused),))
    if data.startswith(ZIP_MAGIC):
        sink, rows = _xlsx_rows(data, path, max_rows)
    else:
        sink = _Sink(path, None)
        rows = _csv_rows(data, sink, max_rows)
    injects = _Converter(sink, start, cells, max_rows).convert(rows) if rows is not None else []
    if sink.problems:
        return ChronogramResult((), tuple(sink.problems))
    return ChronogramResult(tuple(injects), ())


def _refused(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        return f"fichier trop volumineux ({MAX_BYTES // 1_000_000} Mo au plus)"
    if not data.strip():
        return "le fichier est vide"
    if data.startswith(OLE2_MAGIC):
        return (
            "classeur à l'ancien format Excel (.xls) ou protégé par un mot de passe : "
            "enregistrez-le en .xlsx sans mot de passe, ou en CSV UTF-8"
        )
    return ""


def _delimiter(text: str) -> str:
    """The separator most used on the busiest of the first lines (a title line may have none)."""
    best, count = ",", 0
    for line in text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS]:
        for separator in (";", ",", "\t"):
            if line.count(separator) > count:
                best, count = separator, line.count(separator)
    return best


def _csv_rows(data: bytes, sink: _Sink, max_rows: int) -> list[_Row] | None:
    if b"\x00" in data:
        sink.add(0, None, "ce fichier n'est ni un CSV ni un classeur XLSX")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        sink.add(line, None, "le fichier n'est pas en UTF-8 (dans Excel : « CSV UTF-8 »)")
        return None
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[_Row] = []
    line = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return rows
        except csv.Error:
            sink.add(line, None, "ligne illisible (guillemet non fermé ?)")
            return None
        if any(cell.strip() for cell in record[:MAX_COLUMNS]):
            if len(rows) > max_rows + HEADER_SEARCH_ROWS:
                sink.add(line, None, f"plus de {max_rows} lignes : découpez le chronogramme")
                return None
            rows.append(_Row(line, tuple(record[:MAX_COLUMNS])))
        line = reader.line_num + 1


def _unzipped_size(data: bytes) -> int | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None


def _xlsx_rows(data: bytes, path: str, max_rows: int) -> tuple[_Sink, list[_Row] | None]:
    from openpyxl import load_workbook

    unreadable = "classeur XLSX illisible ou abîmé : enregistrez-le à nouveau"
    size = _unzipped_size(data)
    if size is None or size > MAX_UNZIPPED_BYTES:
        sink = _Sink(path, None)
        too_big = "classeur trop volumineux une fois décompressé"
        sink.add(0, None, unreadable if size is None else too_big)
        return sink, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # data_only=False: a formula is read as the text written ("=A1+1"), never computed.
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many types on damaged archives
        sink = _Sink(path, None)
        sink.add(0, None, unreadable)
        return sink, None
    try:
        names = list(workbook.sheetnames)
        chosen = next((n for n in names if normalize_header(n).startswith("chrono")), names[0])
        sink = _Sink(path, chosen)
        rows: list[_Row] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number, values in enumerate(
                workbook[chosen].iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1
            ):
                if number > MAX_SHEET_ROWS or len(rows) > max_rows + HEADER_SEARCH_ROWS:
                    sink.add(number, None, f"plus de {max_rows} lignes : découpez le chronogramme")
                    return sink, None
                if any(_text(value) for value in values):  # formatted but empty rows are skipped
                    rows.append(_Row(number, tuple(values)))
        return sink, rows
    except Exception:
        sink = _Sink(path, None)
        sink.add(0, None, unreadable)
        return sink, None
    finally:
        workbook.close()


class _Converter:
    def __init__(self, sink: _Sink, start: dt.time, cells: Sequence[Cell], max_rows: int):
        self.sink = sink
        self.max_rows = max_rows
        self.start = start
        self.cells = cells
        self.cell_names: dict[str, str] = {}
        for cell in cells:
            self.cell_names[normalize_header(cell.code)] = cell.code
            self.cell_names[normalize_header(cell.name)] = cell.code

    def convert(self, rows: list[_Row]) -> list[Inject]:
        header_at, columns = self._header(rows)
        if columns is None:
            return []
        injects: list[Inject] = []
        codes: dict[str, int] = {}
        if len(rows) - header_at - 1 > self.max_rows:
            extra = rows[header_at + 1 + self.max_rows].number
            self.sink.add(extra, None, f"plus de {self.max_rows} lignes : découpez le chronogramme")
            return []
        for row in rows[header_at + 1 :]:
            values = {name: row.values[i] for name, i in columns.items() if i < len(row.values)}
            if not any(_text(value) for value in values.values()):
                continue
            inject = self._inject(row.number, values, columns, len(injects) + 1)
            if inject is None:
                continue
            if inject.code in codes:
                self.sink.add(
                    row.number,
                    columns.get("code"),
                    f"numéro « {inject.code} » en double (déjà ligne {codes[inject.code]})",
                )
                continue
            codes[inject.code] = row.number
            injects.append(inject)
        if not injects and not self.sink.problems:
            self.sink.add(rows[header_at].number, None, "aucune ligne de stimulus sous les titres")
        return injects

    def _header(self, rows: list[_Row]) -> tuple[int, dict[str, int] | None]:
        for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            found: dict[str, int] = {}
            for position, value in enumerate(row.values):
                name = _LOOKUP.get(normalize_header(_text(value)))
                if name is not None and name not in found:
                    found[name] = position
            if "time" in found:
                if "title" not in found and "body" not in found:
                    self.sink.add(
                        row.number,
                        None,
                        "colonne « Objet » (ou « Titre ») ou « Message » (ou « Contenu ») absente",
                    )
                    return index, None
                return index, found
        line = rows[0].number if rows else 0
        self.sink.add(
            line,
            None,
            "colonne « Heure » (ou « Temps », « Moment ») introuvable dans les premières lignes",
        )
        return 0, None

    def _offset(self, value: Any) -> int:
        if isinstance(value, dt.datetime):
            return offset_of_clock(value.time(), start=self.start)
        if isinstance(value, dt.time):
            return offset_of_clock(value, start=self.start)
        if isinstance(value, dt.timedelta):
            return int(value.total_seconds() // 60)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not float(value).is_integer() or value < 0:
                raise TimeExpressionError(f"« {value} » : un nombre entier de minutes est attendu")
            return parse_offset(f"T+{int(value)}", start=self.start)
        return parse_offset(_text(value), start=self.start)

    def _inject(
        self, number: int, values: dict[str, Any], columns: dict[str, int], index: int
    ) -> Inject | None:
        before = len(self.sink.problems)
        text = {name: _text(value) for name, value in values.items()}
        try:
            offset = self._offset(values.get("time"))
        except TimeExpressionError as exc:
            self.sink.add(number, columns["time"], exc.message)
            offset = 0
        code = text.get("code") or f"C{index:03d}"
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}", code):
            self.sink.add(number, columns.get("code"), f"numéro « {code[:40]} » invalide")
        channel = CHANNEL_WORDS.get(normalize_header(text.get("channel", "")) or "message")
        if channel is None:
            self.sink.add(
                number,
                columns.get("channel"),
                f"canal « {text['channel'][:40]} » inconnu (courriel, presse, réseaux sociaux, "
                "document, téléphone, message)",
            )
            channel = "message"
        scope = _SCOPE_WORDS.get(normalize_header(text.get("scope", "")))
        if scope is None:
            self.sink.add(number, columns.get("scope"), "portée : « locale » ou « régionale »")
            scope = "local"
        recipients = self._recipients(number, text.get("recipients", ""), columns)
        body = text.get("body", "")
        title = text.get("title", "") or " ".join(body.split())[:80]
        if not title:
            self.sink.add(
                number, columns.get("title", columns.get("body")), "objet et message vides"
            )
        expected = [part.strip() for part in text.get("expected", "").split("\n") if part.strip()]
        if len(self.sink.problems) > before:
            return None
        return Inject(
            code=code,
            offset_minutes=offset,
            title=title,
            channel=channel,
            scope=scope,
            sender=_sender(text.get("sender", "")),
            recipients=recipients,
            subject=title if channel == "email" else "",
            body="" if channel == "phone" else body,
            phone_script=body if channel == "phone" else "",
            expectations=tuple(
                Expectation(code=f"{code}-E{n}", text=part) for n, part in enumerate(expected, 1)
            ),
        )

    def _recipient(self, part: str) -> str | None:
        key = normalize_header(part)
        if key in _ALL_WORDS:
            return ALL_RECIPIENTS
        if key in _ROLE_WORDS:
            return _ROLE_WORDS[key]
        if key in self.cell_names:
            return self.cell_names[key]
        if key.startswith("cellule_") and key[8:] in self.cell_names:
            return self.cell_names[key[8:]]
        if not self.cells:
            return key[:40]
        return None

    def _split_and(self, part: str) -> list[str | None]:
        """``Soins et hébergement et Communication``: the longest known names first."""
        words = _AND.split(part)[:20]
        found: list[str | None] = []
        start = 0
        while start < len(words):
            for end in range(len(words), start, -1):
                code = self._recipient(" et ".join(words[start:end]))
                if code is not None:
                    found.append(code)
                    start = end
                    break
            else:
                return [None]
        return found

    def _recipients(self, number: int, raw: str, columns: dict[str, int]) -> tuple[str, ...]:
        found: list[str] = []
        for part in _SPLIT.split(raw):
            if not normalize_header(part):
                continue
            pieces = self._split_and(part)
            if None in pieces:
                known = ", ".join(cell.name for cell in self.cells)
                self.sink.add(
                    number,
                    columns.get("recipients"),
                    f"destinataire « {part[:40]} » inconnu (cellules : {known})",
                )
                continue
            found += [piece for piece in pieces if piece is not None and piece not in found]
        return tuple(found) or (ALL_RECIPIENTS,)


def _sender(raw: str) -> Sender:
    raw = " ".join(raw.split())[:200]
    match = _SENDER.match(raw)
    if match:
        return Sender(match["name"].strip(" ,") or match["address"], match["address"])
    if "@" in raw and " " not in raw:
        return Sender(raw, raw)
    return Sender(raw)
