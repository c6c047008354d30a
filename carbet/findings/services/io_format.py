"""The generic findings file format, and its parser (CSV, JSON or XLSX; untrusted bytes).

One finding per row (CSV/XLSX, header on the first row) or per object (JSON: a list of
objects, or ``{"tool": "<name>", "findings": [...]}``). Columns, in French or English:

======================  =====================================================================
``title`` (required)    short title, 300 characters at most
``severity`` (required) critique/élevée/moyenne/faible/info, critical/high/..., or 0 to 4
``fingerprint``         the tool's stable identifier of the finding (else derived)
``description``         what was found, in plain words
``remediation``         how to fix it
``asset``               the value of one of the structure's assets (domain, address...)
``cvss`` / ``epss``     0–10 / 0–1 (``12 %`` is read as 0.12)
``kev``                 oui/non: known to be exploited (CISA KEV)
``cve``                 main CVE, ``CVE-2024-12345``
``references``          other references (ANSSI, CaRE objective, URLs) separated by ``;``
``rule`` / ``tool_id``  the check or plugin that produced it / the tool's own id
``product``             affected product
``evidence``            a JSON object (``{"port": 443}``)
``port`` / ``service``  the port (``104``, ``104/tcp``) and service name (``dicom``) the finding
                        is about: with ``asset`` they let Carbet recognise the same weakness
                        reported by another source (``carbet.findings.correlation``)
``tool``                the tool's name (same on every row); JSON: the top-level ``tool``
======================  =====================================================================

The parser never raises on bad input: whatever the bytes, it returns the rows it understood
and a list of problems, each with a row (1 is the header of a CSV; the n-th object of a JSON
list is row n; 0 is the whole file), a column and a French message.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from carbet.engines.tabular import FILE_ROW, CellError, normalize_header
from carbet.findings.choices import Severity
from carbet.findings.correlation import normalise_port
from carbet.findings.ingest import FindingInput

MAX_ERRORS = 1000
ZIP_MAGIC = b"PK\x03\x04"
CVE_PATTERN = re.compile(r"^CVE-\d{4}-\d{4,}$")
TRUE_WORDS = {"oui", "o", "yes", "y", "true", "vrai", "1", "x"}
FALSE_WORDS = {"non", "n", "no", "false", "faux", "0", ""}
# Canonical column → accepted spellings (compared after ``normalize_header``).
COLUMNS: dict[str, tuple[str, ...]] = {
    "fingerprint": ("empreinte", "id unique", "unique id"),
    "title": ("titre", "name", "nom", "intitule"),
    "severity": ("gravite", "severite", "criticite", "risk", "risque"),
    "description": ("detail", "details"),
    "remediation": ("correction", "comment corriger", "solution", "recommandation", "fix"),
    "asset": ("actif", "host", "hote", "target", "cible"),
    "cvss": ("cvss score", "score cvss"),
    "epss": ("epss score",),
    "kev": ("exploitee", "known exploited"),
    "cve": ("cve id",),
    "references": ("reference", "refs"),
    "rule": ("regle", "check", "controle"),
    "tool_id": ("plugin id", "id outil", "identifiant outil", "vuln id"),
    "product": ("produit",),
    "evidence": ("preuve", "preuves"),
    "port": ("svc port", "port number", "numero de port"),
    "service": ("svc name", "service name", "nom du service"),
    "tool": ("outil", "scanner"),
}
REQUIRED = ("title", "severity")
TEXT_LIMITS = {
    "fingerprint": 64,
    "title": 300,
    "description": 20_000,
    "remediation": 20_000,
    "asset": 255,
    "rule": 120,
    "tool_id": 200,
    "product": 200,
    "tool": 100,
    "port": 20,
    "service": 60,
}
MAX_EVIDENCE_CHARS = 100_000
MAX_REFERENCE_CHARS = 500


def _lookup() -> dict[str, str]:
    names = {}
    for name, aliases in COLUMNS.items():
        for alias in (name, *aliases):
            names[normalize_header(alias)] = name
    return names


LOOKUP = _lookup()


@dataclass
class ParsedRow:
    """One understood row: the finding and the asset value still to be resolved."""

    row: int
    item: FindingInput
    asset_value: str = ""


@dataclass
class ParsedFile:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    error_count: int = 0
    tool: str = ""
    kind: str = ""
    ignored_columns: list[str] = field(default_factory=list)

    def add(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(CellError(row, column, message))

    @property
    def ok(self) -> bool:
        return self.error_count == 0


class _Stop(Exception):
    """Reading stops; the reason is already among the file's errors."""


# --- Values --------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """The text of a cell, or ``None`` when the cell holds a structure (list, object)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str | int | float):
        return str(value).strip()
    return None


def _number(value: Any, low: float, high: float, percent: bool) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        scale = 1.0
        if percent and text.endswith("%"):
            text, scale = text[:-1], 0.01
        try:
            number = float(text.replace(",", ".")) * scale
        except ValueError:
            return None
    if not math.isfinite(number) or not low <= number <= high:
        return None
    return number


def _references(value: Any) -> list[str] | None:
    if isinstance(value, list):
        parts = [_text(v) for v in value]
        if any(p is None for p in parts):
            return None
        return [p for p in parts if p]
    text = _text(value)
    if text is None:
        return None
    return [p.strip() for p in re.split(r"[;\n]", text) if p.strip()]


def _evidence(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    text = _text(value)
    if text is None:
        return None
    if not text:
        return {}
    if len(text) > MAX_EVIDENCE_CHARS:
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


# Each _row_* helper checks some of a row's values and reports errors to ``parsed``.


def _row_texts(row: int, values: dict[str, Any], parsed: ParsedFile) -> dict[str, str]:
    texts: dict[str, str] = {}
    for name, limit in TEXT_LIMITS.items():
        text = _text(values.get(name))
        if text is None:
            parsed.add(row, name, _("Texte attendu, pas une liste ni un objet."))
            continue
        if len(text) > limit:
            parsed.add(row, name, _("Texte trop long : %(n)s caractères au plus.") % {"n": limit})
        texts[name] = text
    if not texts.get("title") and "title" in texts:
        parsed.add(row, "title", _("Le titre est obligatoire."))
    return texts


def _row_severity(row: int, values: dict[str, Any], parsed: ParsedFile) -> int | None:
    raw_severity = values.get("severity")
    if raw_severity is None or (isinstance(raw_severity, str) and not raw_severity.strip()):
        parsed.add(row, "severity", _("La gravité est obligatoire."))
        return None
    try:
        return int(Severity.parse(raw_severity))
    except (ValueError, TypeError):
        parsed.add(
            row,
            "severity",
            _("Gravité inconnue : critique, élevée, moyenne, faible ou info (ou 0 à 4)."),
        )
        return None


def _row_numbers(row: int, values: dict[str, Any], parsed: ParsedFile) -> dict[str, float | None]:
    numbers: dict[str, float | None] = {}
    for name, high, percent in (("cvss", 10.0, False), ("epss", 1.0, True)):
        raw = values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            numbers[name] = None
            continue
        numbers[name] = _number(raw, 0.0, high, percent)
        if numbers[name] is None:
            parsed.add(row, name, _("Nombre de 0 à %(max)s attendu.") % {"max": int(high)})
    return numbers


def _row_kev(row: int, values: dict[str, Any], parsed: ParsedFile) -> bool:
    kev = values.get("kev")
    if isinstance(kev, bool):
        return kev
    word = normalize_header(_text(kev) or "")
    if word in TRUE_WORDS:
        return True
    if word not in FALSE_WORDS or _text(kev) is None:
        parsed.add(row, "kev", _("Répondez « oui » ou « non »."))
    return False


def parse_values(row: int, values: dict[str, Any], parsed: ParsedFile) -> ParsedRow | None:
    """Check one row's values (canonical names → raw values); errors go to ``parsed``."""
    before = parsed.error_count
    texts = _row_texts(row, values, parsed)
    severity = _row_severity(row, values, parsed)
    numbers = _row_numbers(row, values, parsed)
    kev_value = _row_kev(row, values, parsed)
    cve_text = _text(values.get("cve"))
    cve = (cve_text or "").upper()
    if cve_text is None or (cve and not CVE_PATTERN.match(cve)):
        parsed.add(row, "cve", _("Identifiant CVE attendu, par exemple CVE-2024-12345."))
    references = _references(values.get("references"))
    if references is None:
        parsed.add(row, "references", _("Liste de références séparées par « ; » attendue."))
    elif any(len(r) > MAX_REFERENCE_CHARS for r in references):
        parsed.add(
            row,
            "references",
            _("Une référence fait %(n)s caractères au plus.") % {"n": MAX_REFERENCE_CHARS},
        )
    evidence = _evidence(values.get("evidence"))
    if evidence is None:
        parsed.add(row, "evidence", _('Un objet JSON est attendu, par exemple {"port": 443}.'))
    port = None
    if texts.get("port") and texts["port"] != "0":  # Nessus writes 0 for "the host itself"
        port = normalise_port(texts["port"])
        if port is None:
            parsed.add(row, "port", _("Numéro de port attendu (1 à 65535), par exemple 443/tcp."))
    if parsed.error_count != before:
        return None
    evidence = dict(evidence or {})
    if port is not None:
        evidence.setdefault("port", port)
    if texts.get("service"):
        evidence.setdefault("service", texts["service"])
    item = FindingInput(
        title=texts["title"],
        severity=severity if severity is not None else Severity.MEDIUM,
        fingerprint=texts["fingerprint"],
        tool_id=texts["tool_id"],
        rule=texts["rule"],
        description=texts["description"],
        remediation=texts["remediation"],
        cvss=numbers["cvss"],
        epss=numbers["epss"],
        kev=kev_value,
        cve=cve,
        references=references or [],
        product=texts["product"],
        evidence=evidence or {},
    )
    return ParsedRow(row, item, texts["asset"])


# --- Files ---------------------------------------------------------------------------------


def _decode(data: bytes, parsed: ParsedFile) -> str | None:
    if b"\x00" in data:
        parsed.add(FILE_ROW, "", _("Ce fichier n'est ni un CSV, ni du JSON, ni un classeur XLSX."))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        parsed.add(
            FILE_ROW,
            "",
            _(
                "Le fichier n'est pas encodé en UTF-8 : dans Excel, enregistrez-le au format "
                "« CSV UTF-8 (délimité par des virgules) »."
            ),
        )
        return None


def _csv_records(text: str, parsed: ParsedFile) -> Iterator[list[Any]]:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {sep: first_line.count(sep) for sep in (";", ",", "\t")}
    delimiter = max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    while True:
        number += 1
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            parsed.add(number, "", _("Cette ligne est illisible (guillemet non fermé ?)."))
            raise _Stop from None


def _xlsx_records(data: bytes, parsed: ParsedFile) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    unreadable = _("Ce classeur Excel est illisible ou abîmé ; enregistrez-le à nouveau en XLSX.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = workbook.worksheets[0]
    except Exception:  # openpyxl raises many types on damaged archives
        parsed.add(FILE_ROW, "", unreadable)
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for raw in sheet.iter_rows(values_only=True, max_col=len(COLUMNS) * 4):
                yield [
                    v if isinstance(v, str | int | float | bool) or v is None else str(v)
                    for v in raw
                ]
    except Exception:
        parsed.add(FILE_ROW, "", unreadable)
        raise _Stop from None
    finally:
        workbook.close()


def _header(cells: list[Any], parsed: ParsedFile) -> dict[int, str] | None:
    positions: dict[int, str] = {}
    for index, cell in enumerate(cells):
        label = _text(cell) or ""
        if not label:
            continue
        name = LOOKUP.get(normalize_header(label))
        if name is None:
            parsed.ignored_columns.append(label[:100])
        elif name in positions.values():
            parsed.add(1, name, _("La colonne « %(c)s » apparaît deux fois.") % {"c": name})
        else:
            positions[index] = name
    for name in REQUIRED:
        if name not in positions.values():
            parsed.add(1, name, _("Colonne obligatoire absente : « %(c)s ».") % {"c": name})
    return positions if parsed.ok else None


def _tabular(records: Iterator[list[Any]], parsed: ParsedFile, max_rows: int) -> None:
    positions = None
    tools: dict[str, int] = {}
    data_rows = 0
    try:
        for number, cells in enumerate(records, start=1):
            if positions is None:
                positions = _header(list(cells), parsed)
                if positions is None:
                    return
                continue
            if not any(_text(c) for c in cells):
                continue
            data_rows += 1
            if data_rows > max_rows:
                parsed.add(
                    FILE_ROW, "", _("Plus de %(n)s lignes : découpez le fichier.") % {"n": max_rows}
                )
                return
            values = {name: cells[i] if i < len(cells) else "" for i, name in positions.items()}
            row = parse_values(number, values, parsed)
            tool = _text(values.get("tool")) or ""
            if tool:
                tools.setdefault(tool, number)
            if row is not None:
                parsed.rows.append(row)
    except _Stop:
        return
    if positions is None and parsed.ok:
        parsed.add(FILE_ROW, "", _("Le fichier est vide."))
    elif positions is not None and data_rows == 0:
        parsed.add(FILE_ROW, "", _("Le fichier ne contient que la ligne des titres."))
    if len(tools) > 1:
        names = ", ".join(sorted(tools)[:5])
        parsed.add(
            FILE_ROW,
            "tool",
            _("Un fichier vient d'un seul outil ; il en nomme plusieurs : %(names)s.")
            % {"names": names},
        )
    parsed.tool = next(iter(tools), "")


def _json(text: str, parsed: ParsedFile, max_rows: int) -> None:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        parsed.add(
            FILE_ROW,
            "",
            _("JSON invalide (ligne %(line)s, colonne %(col)s).")
            % {"line": exc.lineno, "col": exc.colno},
        )
        return
    except (ValueError, RecursionError):
        parsed.add(FILE_ROW, "", _("JSON invalide ou trop imbriqué."))
        return
    if isinstance(document, dict):
        items = document.get("findings")
        tool = document.get("tool", "")
        if not isinstance(tool, str) or len(tool.strip()) > TEXT_LIMITS["tool"]:
            parsed.add(
                FILE_ROW,
                "tool",
                _("« tool » doit être le nom de l'outil (100 caractères au plus)."),
            )
        else:
            parsed.tool = tool.strip()
    else:
        items = document
    if not isinstance(items, list):
        parsed.add(
            FILE_ROW,
            "",
            _(
                "Le JSON doit être une liste d'objets, ou un objet "
                '{"tool": ..., "findings": [...]}.'
            ),
        )
        return
    if len(items) > max_rows:
        parsed.add(FILE_ROW, "", _("Plus de %(n)s lignes : découpez le fichier.") % {"n": max_rows})
        return
    if not items:
        parsed.add(FILE_ROW, "", _("Le fichier ne contient aucune vulnérabilité."))
    ignored: set[str] = set()
    for number, entry in enumerate(items, start=1):
        if not isinstance(entry, dict):
            parsed.add(number, "", _("Chaque élément doit être un objet JSON."))
            continue
        values: dict[str, Any] = {}
        for key, value in entry.items():
            name = LOOKUP.get(normalize_header(key))
            if name is None or name == "tool" or name in values:
                if name is None:
                    ignored.add(str(key)[:100])
                continue
            values[name] = value
        for name in REQUIRED:
            values.setdefault(name, None)
        row = parse_values(number, values, parsed)
        if row is not None:
            parsed.rows.append(row)
    parsed.ignored_columns = sorted(ignored)


def parse_findings_file(
    data: bytes, filename: str = "", *, max_rows: int = 100_000, max_bytes: int = 20 * 2**20
) -> ParsedFile:
    """Read an uploaded findings file. Never raises; see the module docstring for the format."""
    parsed = ParsedFile()
    if not isinstance(data, bytes | bytearray):
        parsed.add(FILE_ROW, "", _("Aucun fichier reçu."))
        return parsed
    data = bytes(data)
    if len(data) > max_bytes:
        parsed.add(
            FILE_ROW,
            "",
            _("Le fichier est trop gros (%(n)s Mo au plus).") % {"n": max_bytes // 2**20},
        )
        return parsed
    if not data.strip():
        parsed.add(FILE_ROW, "", _("Le fichier est vide."))
        return parsed
    name = filename.lower()
    if data.startswith(ZIP_MAGIC):
        parsed.kind = "xlsx"
        _tabular(_xlsx_records(data, parsed), parsed, max_rows)
    else:
        text = _decode(data, parsed)
        if text is None:
            return parsed
        stripped = text.lstrip()
        if name.endswith(".json") or stripped.startswith(("[", "{")):
            parsed.kind = "json"
            _json(text, parsed, max_rows)
        else:
            parsed.kind = "csv"
            _tabular(_csv_records(text, parsed), parsed, max_rows)
    _check_fingerprints(parsed)
    if not parsed.ok:
        parsed.rows.clear()
    return parsed


def _check_fingerprints(parsed: ParsedFile) -> None:
    first: dict[str, int] = {}
    for row in parsed.rows:
        fingerprint = row.item.fingerprint
        if not fingerprint:
            continue
        if fingerprint in first:
            parsed.add(
                row.row,
                "fingerprint",
                _("Même empreinte que la ligne %(row)s : une vulnérabilité par ligne.")
                % {"row": first[fingerprint]},
            )
        else:
            first[fingerprint] = row.row
