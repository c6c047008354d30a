"""Readers for the four feed formats, and :func:`import_file` that loads one into the store.

- **NVD CVE 2.0 JSON** (the API's pages and the yearly feed files, optionally gzipped):
  ``{"format": "NVD_CVE", "vulnerabilities": [{"cve": {...}}, ...]}``. Read as a stream: the
  ``vulnerabilities`` array is decoded one element at a time, so a 2 GB file costs kilobytes.
- **CISA KEV JSON**: ``{"catalogVersion", "dateReleased", "vulnerabilities": [{"cveID", ...}]}``.
- **EPSS CSV**: an optional ``#model_version:...,score_date:...`` line, then
  ``cve,epss,percentile``.
- **CERT-FR JSON**, two shapes accepted: Carbet's simple export
  ``{"alerts": [{"id", "title", "date", "url", "cves": ["CVE-..."], "products": ["..."]}]}``
  (also a bare list of such alerts), and the JSON the CERT-FR site publishes for one alert or
  advisory (``reference``, ``title``, ``cves: [{"name"}]``, ``affected_systems: [{"product":
  {"name", "vendor": {"name"}}}]``, ``revisions: [{"revision_date"}]``), alone or in a list.

A malformed file raises :class:`FeedError` with the reason and the position; the store is
left exactly as it was (one transaction per file).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from carbet.engines.exposure.vulns.cpe import parse_cpe
from carbet.engines.exposure.vulns.feeds import KINDS, FeedError, FeedStore

CVE_ID = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
CHUNK = 1 << 20
MAX_ELEMENT = 64 << 20  # one CVE entry larger than this is not an NVD file


@dataclass
class ImportResult:
    kind: str
    records: int
    source_date: str


def _open_text(path: Path) -> TextIO:
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", errors="strict")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict")


def detect_kind(path: Path) -> str:
    """Guess the feed kind from the first kilobytes."""
    try:
        with _open_text(path) as stream:
            head = stream.read(65536)
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        raise FeedError(f"{path.name}: cannot read the file ({exc})") from exc
    stripped = head.lstrip()
    lowered = stripped[:200].lower()
    if lowered.startswith("#model_version") or lowered.startswith("cve,epss"):
        return "epss"
    if stripped[:1] in ("{", "["):
        if '"catalogVersion"' in head or '"cveID"' in head:
            return "kev"
        if '"NVD_CVE"' in head or re.search(r'"vulnerabilities"\s*:\s*\[\s*\{\s*"cve"', head):
            return "nvd"
        if '"alerts"' in head or "CERTFR-" in head or '"affected_systems"' in head:
            return "certfr"
    raise FeedError(
        f"{path.name}: unrecognised feed (expected NVD CVE 2.0 JSON, CISA KEV JSON, EPSS CSV "
        "or CERT-FR JSON); give --kind to force one"
    )


def import_file(store: FeedStore, path: str | Path, kind: str | None = None) -> ImportResult:
    path = Path(path)
    if not path.is_file():
        raise FeedError(f"{path}: no such file")
    kind = kind or detect_kind(path)
    if kind not in KINDS:
        raise FeedError(f"unknown feed kind {kind!r} (one of {', '.join(KINDS)})")
    reader = {
        "nvd": _import_nvd,
        "kev": _import_kev,
        "epss": _import_epss,
        "certfr": _import_certfr,
    }[kind]
    store.begin()
    try:
        records, source_date = reader(store, path)
        store.record_import(kind, path.name, records, source_date)
        store.commit()
    except FeedError:
        store.rollback()
        raise
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile, csv.Error) as exc:
        store.rollback()
        raise FeedError(f"{path.name}: cannot read the file ({exc})") from exc
    except BaseException:
        store.rollback()
        raise
    return ImportResult(kind, records, source_date)


# ---------------------------------------------------------------------- streaming JSON


class _JsonStream:
    """Decode a top-level JSON object key by key, streaming one array's elements."""

    _WS = re.compile(r"[ \t\n\r]*")

    def __init__(self, stream: TextIO, name: str) -> None:
        self.stream = stream
        self.name = name
        self.buffer = ""
        self.pos = 0  # next unread character in the buffer
        self.offset = 0  # characters dropped before the buffer, for error positions
        self.decoder = json.JSONDecoder()
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.offset += self.pos
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def _skip_ws(self) -> None:
        while True:
            match = self._WS.match(self.buffer, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buffer) or not self._fill():
                return

    def _char(self) -> str:
        self._skip_ws()
        return self.buffer[self.pos : self.pos + 1]

    def _take(self, expected: str) -> None:
        if self._char() != expected:
            got = self.buffer[self.pos : self.pos + 20] or "end of file"
            raise FeedError(
                f"{self.name}: invalid JSON at character {self.offset + self.pos}: "
                f"expected {expected!r}, found {got!r}"
            )
        self.pos += 1

    def value(self) -> Any:
        self._skip_ws()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                # Incomplete: read more, unless the file is over or the element absurd.
                if len(self.buffer) - self.pos > MAX_ELEMENT or not self._fill():
                    raise FeedError(
                        f"{self.name}: invalid JSON near character {self.offset + exc.pos}: "
                        f"{exc.msg}"
                    ) from exc
                continue
            if end == len(self.buffer) and not self.eof and isinstance(value, int | float):
                if self._fill():  # a number cut by the chunk boundary
                    continue
            self.pos = end
            return value

    def items(self, array_key: str) -> Iterator[tuple[str, Any]]:
        """Yield (key, value) for the top-level object; ``array_key``'s elements come one by
        one as (array_key, element)."""
        self._take("{")
        if self._char() == "}":
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise FeedError(f"{self.name}: invalid JSON at character {self.offset}")
            self._take(":")
            if key == array_key and self._char() == "[":
                self._take("[")
                if self._char() == "]":
                    self._take("]")
                else:
                    while True:
                        yield key, self.value()
                        if self._char() == ",":
                            self._take(",")
                            continue
                        self._take("]")
                        break
            else:
                yield key, self.value()
            if self._char() == ",":
                self._take(",")
                continue
            self._take("}")
            return


# ---------------------------------------------------------------------- NVD


def _cvss(metrics: dict[str, Any]) -> tuple[float | None, str, str]:
    for key, version in (
        ("cvssMetricV40", "4.0"),
        ("cvssMetricV31", "3.1"),
        ("cvssMetricV30", "3.0"),
        ("cvssMetricV2", "2.0"),
    ):
        entries = metrics.get(key) or []
        if not isinstance(entries, list) or not entries:
            continue
        entries = sorted(entries, key=lambda e: (e or {}).get("type") != "Primary")
        data = (entries[0] or {}).get("cvssData") or {}
        score = data.get("baseScore")
        if isinstance(score, int | float) and 0 <= score <= 10:
            return float(score), version, str(data.get("vectorString", ""))[:200]
    return None, "", ""


def nvd_rows(entry: Any, index: int, name: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    cve = entry.get("cve") if isinstance(entry, dict) else None
    if not isinstance(cve, dict) or not CVE_ID.match(str(cve.get("id", ""))):
        raise FeedError(f"{name}: vulnerability #{index + 1} has no valid cve.id")
    cve_id = cve["id"]
    descriptions = cve.get("descriptions") or []
    text = next(
        (d.get("value", "") for d in descriptions if isinstance(d, dict) and d.get("lang") == "en"),
        "",
    )
    metrics = cve.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise FeedError(f"{name}: {cve_id}: metrics is not an object")
    score, version, vector = _cvss(metrics)
    matches: list[tuple[Any, ...]] = []
    for configuration in cve.get("configurations") or []:
        for node in (configuration or {}).get("nodes") or []:
            for match in (node or {}).get("cpeMatch") or []:
                if not isinstance(match, dict) or not match.get("vulnerable", False):
                    continue
                parsed = parse_cpe(str(match.get("criteria", "")))
                if parsed is None:
                    raise FeedError(f"{name}: {cve_id}: invalid CPE {match.get('criteria')!r}")
                matches.append(
                    (
                        cve_id,
                        parsed.vendor,
                        parsed.product,
                        parsed.full_version(),
                        str(match.get("versionStartIncluding", "")),
                        str(match.get("versionStartExcluding", "")),
                        str(match.get("versionEndIncluding", "")),
                        str(match.get("versionEndExcluding", "")),
                        str(match["criteria"])[:300],
                    )
                )
    row = (
        cve_id,
        str(cve.get("published", "")),
        str(cve.get("lastModified", "")),
        score,
        version,
        vector,
        str(text)[:2000],
    )
    return row, matches


def _import_nvd(store: FeedStore, path: Path) -> tuple[int, str]:
    timestamp = ""
    seen = 0

    def entries() -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
        nonlocal timestamp, seen
        with _open_text(path) as stream:
            parser = _JsonStream(stream, path.name)
            for key, value in parser.items("vulnerabilities"):
                if key == "timestamp" and isinstance(value, str):
                    timestamp = value
                elif key == "format" and value != "NVD_CVE":
                    raise FeedError(f"{path.name}: format is {value!r}, not NVD_CVE")
                elif key == "vulnerabilities":
                    yield nvd_rows(value, seen, path.name)
                    seen += 1

    count = store.put_cves(entries())
    if count == 0 and seen == 0:
        raise FeedError(f"{path.name}: no vulnerabilities array with CVE entries")
    return count, timestamp


# ---------------------------------------------------------------------- KEV


def _load_json(path: Path) -> Any:
    try:
        with _open_text(path) as stream:
            return json.load(stream)
    except json.JSONDecodeError as exc:
        raise FeedError(f"{path.name}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc


def _import_kev(store: FeedStore, path: Path) -> tuple[int, str]:
    data = _load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), list):
        raise FeedError(f"{path.name}: not a CISA KEV catalogue (no vulnerabilities list)")
    rows = []
    for index, item in enumerate(data["vulnerabilities"]):
        if not isinstance(item, dict) or not CVE_ID.match(str(item.get("cveID", ""))):
            raise FeedError(f"{path.name}: entry #{index + 1} has no valid cveID")
        rows.append(
            (
                item["cveID"],
                str(item.get("vendorProject", "")),
                str(item.get("product", "")),
                str(item.get("vulnerabilityName", "")),
                str(item.get("dateAdded", "")),
                str(item.get("dueDate", "")),
                str(item.get("knownRansomwareCampaignUse", "")),
                str(item.get("requiredAction", ""))[:500],
            )
        )
    return store.put_kev(rows), str(data.get("dateReleased", "") or data.get("catalogVersion", ""))


# ---------------------------------------------------------------------- EPSS


def _import_epss(store: FeedStore, path: Path) -> tuple[int, str]:
    score_date = ""
    with _open_text(path) as stream:
        first = stream.readline()
        if first.startswith("#"):
            found = re.search(r"score_date:([0-9T:\-+Z.]+)", first)
            score_date = found.group(1)[:10] if found else ""
            header_line = stream.readline()
        else:
            header_line = first
        header = [h.strip().lower() for h in header_line.split(",")]
        if header[:2] != ["cve", "epss"]:
            raise FeedError(f"{path.name}: not an EPSS file (header must be cve,epss,percentile)")
        return store.put_epss(_epss_rows(csv.reader(stream), path.name, score_date)), score_date


def _epss_rows(reader: Any, name: str, score_date: str) -> Iterator[tuple[Any, ...]]:
    for line_number, fields in enumerate(reader, start=3):
        if not fields:
            continue
        if len(fields) < 2 or not CVE_ID.match(fields[0].strip()):
            raise FeedError(f"{name}: line {line_number}: expected CVE-id,epss[,percentile]")
        try:
            epss = float(fields[1])
            percentile = float(fields[2]) if len(fields) > 2 and fields[2].strip() else None
        except ValueError as exc:
            raise FeedError(f"{name}: line {line_number}: not a number ({exc})") from exc
        if not 0 <= epss <= 1 or (percentile is not None and not 0 <= percentile <= 1):
            raise FeedError(f"{name}: line {line_number}: probabilities must be within 0 and 1")
        yield fields[0].strip(), epss, percentile, score_date


# ---------------------------------------------------------------------- CERT-FR


def _certfr_alert(item: Any, index: int, name: str) -> tuple[tuple[Any, ...], list[str]]:
    if not isinstance(item, dict):
        raise FeedError(f"{name}: alert #{index + 1} is not an object")
    alert_id = str(item.get("id") or item.get("reference") or "")
    if not alert_id:
        raise FeedError(f"{name}: alert #{index + 1} has no id/reference")
    for field in ("cves", "products", "affected_systems"):
        if not isinstance(item.get(field) or [], list):
            raise FeedError(f"{name}: {alert_id}: {field} is not a list")
    cves: list[str] = []
    for cve in item.get("cves") or []:
        value = cve.get("name", "") if isinstance(cve, dict) else str(cve)
        if not isinstance(value, str) or not CVE_ID.match(value):
            raise FeedError(f"{name}: {alert_id}: invalid CVE {str(value)[:40]!r}")
        cves.append(value)
    products = [str(p) for p in item.get("products") or [] if isinstance(p, str)]
    for system in item.get("affected_systems") or []:
        product = system.get("product") if isinstance(system, dict) else None
        product = product if isinstance(product, dict) else {}
        vendor = product.get("vendor")
        vendor_name = vendor.get("name", "") if isinstance(vendor, dict) else ""
        parts = (vendor_name, product.get("name", ""))
        label = " ".join(x for x in parts if isinstance(x, str) and x).strip()
        if label:
            products.append(label)
    date = str(item.get("date") or "")
    revisions = item.get("revisions")
    if not date and isinstance(revisions, list) and revisions and isinstance(revisions[0], dict):
        date = str(revisions[0].get("revision_date", ""))
    row = (
        alert_id,
        str(item.get("title", ""))[:500],
        date[:32],
        str(item.get("url", "")),
        json.dumps(sorted(set(products)))[:4000],
    )
    return row, cves


def _import_certfr(store: FeedStore, path: Path) -> tuple[int, str]:
    data = _load_json(path)
    if isinstance(data, dict) and isinstance(data.get("alerts"), list):
        items = data["alerts"]
    elif isinstance(data, dict) and ("reference" in data or "id" in data):
        items = [data]
    elif isinstance(data, list):
        items = data
    else:
        raise FeedError(f"{path.name}: not a CERT-FR export (expected alerts, or reference)")
    alerts = [_certfr_alert(item, index, path.name) for index, item in enumerate(items)]
    latest = max((row[2] for row, _ in alerts), default="")
    return store.put_certfr(alerts), latest
