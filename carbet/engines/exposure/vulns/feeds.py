"""The local vulnerability feed store: NVD CVE 2.0, CISA KEV, EPSS and CERT-FR, in one SQLite file.

These machines have no internet: an analyst downloads the feeds elsewhere and imports them
with ``carbet feeds import FILE`` (see :mod:`.feeds_import`). The store is a plain SQLite file
(``CARBET_FEEDS_DB``, or ``feeds.sqlite`` in ``CARBET_DATA_DIR``), independent of the
platform's database, so the CLI scanner uses it without Django. Every import runs in one
transaction: a bad file changes nothing. Re-importing the same file changes nothing either
(rows are keyed by CVE id / alert id and replaced).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

SCHEMA = """
CREATE TABLE IF NOT EXISTS cve (
    id TEXT PRIMARY KEY, published TEXT, modified TEXT, cvss REAL, cvss_version TEXT,
    vector TEXT, description TEXT
);
CREATE TABLE IF NOT EXISTS cpe_match (
    cve_id TEXT NOT NULL, vendor TEXT NOT NULL, product TEXT NOT NULL, version TEXT,
    start_incl TEXT, start_excl TEXT, end_incl TEXT, end_excl TEXT, criteria TEXT
);
CREATE INDEX IF NOT EXISTS cpe_match_product ON cpe_match(product, vendor);
CREATE INDEX IF NOT EXISTS cpe_match_cve ON cpe_match(cve_id);
CREATE TABLE IF NOT EXISTS kev (
    cve_id TEXT PRIMARY KEY, vendor TEXT, product TEXT, name TEXT, date_added TEXT,
    due_date TEXT, ransomware TEXT, required_action TEXT
);
CREATE TABLE IF NOT EXISTS epss (
    cve_id TEXT PRIMARY KEY, epss REAL NOT NULL, percentile REAL, score_date TEXT
);
CREATE TABLE IF NOT EXISTS certfr (
    id TEXT PRIMARY KEY, title TEXT, date TEXT, url TEXT, products TEXT
);
CREATE TABLE IF NOT EXISTS certfr_cve (
    alert_id TEXT NOT NULL, cve_id TEXT NOT NULL, PRIMARY KEY (alert_id, cve_id)
);
CREATE INDEX IF NOT EXISTS certfr_cve_cve ON certfr_cve(cve_id);
CREATE TABLE IF NOT EXISTS imports (
    kind TEXT NOT NULL, source TEXT, records INTEGER, source_date TEXT, imported_at TEXT
);
"""

KINDS = ("nvd", "kev", "epss", "certfr")

MATCH_QUERY = """
SELECT m.cve_id, m.vendor, m.product, m.version, m.start_incl, m.start_excl, m.end_incl,
       m.end_excl, c.cvss, c.description, k.cve_id IS NOT NULL, coalesce(k.name, ''),
       coalesce(k.ransomware, ''), e.epss, e.percentile
FROM cpe_match m JOIN cve c ON c.id = m.cve_id
LEFT JOIN kev k ON k.cve_id = m.cve_id LEFT JOIN epss e ON e.cve_id = m.cve_id
WHERE m.product = ? AND (? = '' OR m.vendor = ?)
"""


KEV_QUERY = """
SELECT k.cve_id, coalesce(k.vendor, ''), coalesce(k.product, ''), coalesce(k.name, ''),
       coalesce(k.ransomware, ''), coalesce(k.date_added, ''), c.cvss, e.epss,
       (SELECT count(*) FROM cpe_match m WHERE m.cve_id = k.cve_id)
FROM kev k LEFT JOIN cve c ON c.id = k.cve_id LEFT JOIN epss e ON e.cve_id = k.cve_id
ORDER BY k.date_added DESC, k.cve_id
"""


@dataclass
class KevEntry:
    """One KEV catalogue entry, for matching by KEV's own vendor and product."""

    cve_id: str
    vendor: str
    product: str
    name: str
    ransomware: str
    date_added: str
    cvss: float | None
    epss: float | None
    nvd_products: int


class FeedRow(NamedTuple):
    """One vulnerable cpeMatch row with its CVE's dates, scores and text (streamed, cheap)."""

    cve_id: str
    vendor: str
    product: str
    version: str
    start_incl: str
    start_excl: str
    end_incl: str
    end_excl: str
    cvss: float | None
    published: str
    modified: str
    description: str
    epss: float | None


@dataclass(frozen=True)
class KevRecord:
    """A KEV entry as the catalogue states it, with what NVD and EPSS add."""

    cve_id: str
    vendor: str
    product: str
    name: str
    date_added: str
    due_date: str
    ransomware: str
    required_action: str
    cvss: float | None
    epss: float | None
    published: str
    description: str
    nvd_products: int


@dataclass(frozen=True)
class CertfrRecord:
    """A CERT-FR alert or advisory, its products (as published) and CVEs."""

    id: str
    title: str
    date: str
    url: str
    products: tuple[str, ...]
    cves: tuple[str, ...]


STREAM_COLUMNS = """
SELECT m.cve_id, m.vendor, m.product, coalesce(m.version, ''), coalesce(m.start_incl, ''),
       coalesce(m.start_excl, ''), coalesce(m.end_incl, ''), coalesce(m.end_excl, ''), c.cvss,
       coalesce(c.published, ''), coalesce(c.modified, ''), coalesce(c.description, ''), e.epss
FROM cpe_match m JOIN cve c ON c.id = m.cve_id LEFT JOIN epss e ON e.cve_id = m.cve_id
"""

KEV_RECORDS = """
SELECT k.cve_id, coalesce(k.vendor, ''), coalesce(k.product, ''), coalesce(k.name, ''),
       coalesce(k.date_added, ''), coalesce(k.due_date, ''), coalesce(k.ransomware, ''),
       coalesce(k.required_action, ''), c.cvss, e.epss, coalesce(c.published, ''),
       coalesce(c.description, ''), (SELECT count(*) FROM cpe_match m WHERE m.cve_id = k.cve_id)
FROM kev k LEFT JOIN cve c ON c.id = k.cve_id LEFT JOIN epss e ON e.cve_id = k.cve_id
ORDER BY k.cve_id
"""


class FeedError(Exception):
    """A feed file that cannot be imported; the message says why, for a human."""


def feeds_path() -> Path:
    explicit = os.environ.get("CARBET_FEEDS_DB")
    if explicit:
        return Path(explicit).expanduser()
    return Path(os.environ.get("CARBET_DATA_DIR", "data")).expanduser() / "feeds.sqlite"


@dataclass
class MatchRow:
    """One vulnerable cpeMatch of one CVE, with what the feeds say about that CVE."""

    cve_id: str
    vendor: str
    product: str
    version: str
    start_incl: str
    start_excl: str
    end_incl: str
    end_excl: str
    cvss: float | None
    description: str
    kev: bool
    kev_name: str
    ransomware: str
    epss: float | None
    percentile: float | None


def _match_row(row: tuple[Any, ...]) -> MatchRow:
    """One row of MATCH_QUERY (its columns in this order); the KEV test comes back as 0/1."""
    (
        cve_id, vendor, product, version, start_incl, start_excl, end_incl, end_excl,
        cvss, description, kev, kev_name, ransomware, epss, percentile,
    ) = row  # fmt: skip
    return MatchRow(
        cve_id, vendor, product, version, start_incl, start_excl, end_incl, end_excl,
        cvss, description, bool(kev), kev_name, ransomware, epss, percentile,
    )  # fmt: skip


class FeedStore:
    """The SQLite file. Cheap to open; one instance may serve a whole scan (read-only use)."""

    def __init__(self, path: str | os.PathLike[str], readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly:  # a scan only reads: never create, never write (the file may be shared)
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self.connection = sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False
            )
            self.connection.execute("SELECT count(*) FROM cve").fetchone()  # a feed store?
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.executescript(SCHEMA)

    def close(self) -> None:
        self.connection.close()

    # ------------------------------------------------------------------ writing (imports)

    def begin(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.connection.execute("COMMIT")

    def rollback(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")

    def put_cves(self, rows: Iterable[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]) -> int:
        """Rows of (cve row, cpe_match rows); replaces what a previous import said."""
        count = 0
        execute = self.connection.execute
        for cve_row, matches in rows:
            execute("INSERT OR REPLACE INTO cve VALUES (?, ?, ?, ?, ?, ?, ?)", cve_row)
            execute("DELETE FROM cpe_match WHERE cve_id = ?", (cve_row[0],))
            if matches:
                self.connection.executemany(
                    "INSERT INTO cpe_match VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", matches
                )
            count += 1
        return count

    def put_kev(self, rows: Iterable[tuple[Any, ...]]) -> int:
        rows = list(rows)
        self.connection.executemany(
            "INSERT OR REPLACE INTO kev VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
        return len(rows)

    def put_epss(self, rows: Iterable[tuple[Any, ...]]) -> int:
        count = 0
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 5000:
                self.connection.executemany(
                    "INSERT OR REPLACE INTO epss VALUES (?, ?, ?, ?)", batch
                )
                count += len(batch)
                batch = []
        self.connection.executemany("INSERT OR REPLACE INTO epss VALUES (?, ?, ?, ?)", batch)
        return count + len(batch)

    def put_certfr(self, alerts: Iterable[tuple[tuple[Any, ...], list[str]]]) -> int:
        count = 0
        for alert_row, cves in alerts:
            self.connection.execute(
                "INSERT OR REPLACE INTO certfr VALUES (?, ?, ?, ?, ?)", alert_row
            )
            self.connection.execute("DELETE FROM certfr_cve WHERE alert_id = ?", (alert_row[0],))
            self.connection.executemany(
                "INSERT OR IGNORE INTO certfr_cve VALUES (?, ?)", [(alert_row[0], c) for c in cves]
            )
            count += 1
        return count

    def record_import(self, kind: str, source: str, records: int, source_date: str) -> None:
        self.connection.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?)",
            (
                kind,
                source,
                records,
                source_date,
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            ),
        )

    # ------------------------------------------------------------------ reading

    def matches(self, pairs: list[tuple[str, str]]) -> list[MatchRow]:
        """Vulnerable cpeMatch rows for these (vendor, product) pairs (vendor "" = any)."""
        rows: list[MatchRow] = []
        for vendor, product in pairs:
            cursor = self.connection.execute(MATCH_QUERY, (product, vendor, vendor))
            rows.extend(_match_row(row) for row in cursor)
        return rows

    def kev_entries(self) -> list[KevEntry]:
        """Every KEV entry with what EPSS and NVD say of it (``nvd_products``: how many NVD
        product ranges describe it; 0 when NVD has not, or not yet)."""
        cached: list[KevEntry] | None = getattr(self, "_kev_cache", None)
        if cached is None:  # read once per store: a scan asks for every appliance it meets
            cached = [KevEntry(*row) for row in self.connection.execute(KEV_QUERY)]
            self._kev_cache = cached
        return cached

    def certfr_alerts(self, cve_id: str) -> list[str]:
        cursor = self.connection.execute(
            "SELECT alert_id FROM certfr_cve WHERE cve_id = ? ORDER BY alert_id", (cve_id,)
        )
        return [row[0] for row in cursor]

    def stream_rows(
        self,
        *,
        products: Collection[str] | None = None,
        cves: Collection[str] | None = None,
        min_cvss: float | None = None,
    ) -> Iterator[FeedRow]:
        """Vulnerable cpeMatch rows ordered by CVE id, read as a stream (one SQLite cursor).

        ``products``: only rows of these CPE product names; ``cves``: only these CVEs;
        ``min_cvss``: only CVEs at or above this score, or in KEV, or named by CERT-FR."""
        where: list[str] = []
        params: list[str | float] = []
        if products is not None:
            where.append("m.product IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(sorted(set(products))))
        if cves is not None:
            where.append("m.cve_id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(sorted(set(cves))))
        if min_cvss is not None:
            where.append(
                "(c.cvss >= ? OR m.cve_id IN (SELECT cve_id FROM kev)"
                " OR m.cve_id IN (SELECT cve_id FROM certfr_cve))"
            )
            params.append(min_cvss)
        query = STREAM_COLUMNS + (" WHERE " + " AND ".join(where) if where else "")
        cursor = self.connection.execute(query + " ORDER BY m.cve_id", params)
        while batch := cursor.fetchmany(2000):
            yield from map(FeedRow._make, batch)

    def kev_records(self) -> list[KevRecord]:
        """The whole KEV catalogue, with NVD's score, date and text and EPSS when known."""
        return [KevRecord(*row) for row in self.connection.execute(KEV_RECORDS)]

    def certfr_records(self) -> list[CertfrRecord]:
        """Every CERT-FR alert with its CVEs (products as the importer stored them)."""
        cves: dict[str, list[str]] = {}
        for alert_id, cve_id in self.connection.execute(
            "SELECT alert_id, cve_id FROM certfr_cve ORDER BY alert_id, cve_id"
        ):
            cves.setdefault(alert_id, []).append(cve_id)
        records = []
        for alert_id, title, date, url, products in self.connection.execute(
            "SELECT id, coalesce(title, ''), coalesce(date, ''), coalesce(url, ''), "
            "coalesce(products, '[]') FROM certfr ORDER BY id"
        ):
            try:
                names = tuple(str(p) for p in json.loads(products) if isinstance(p, str))
            except (ValueError, TypeError):
                names = ()
            records.append(
                CertfrRecord(alert_id, title, date, url, names, tuple(cves.get(alert_id, ())))
            )
        return records

    def described(self, cves: Collection[str]) -> set[str]:
        """Those of ``cves`` that NVD describes with at least one vulnerable cpeMatch row."""
        cursor = self.connection.execute(
            "SELECT DISTINCT cve_id FROM cpe_match "
            "WHERE cve_id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(cves))),),
        )
        return {row[0] for row in cursor}

    def changed_since(self, since: str) -> set[str]:
        """CVE ids published or modified by NVD, added to KEV or named by a CERT-FR alert
        dated on or after ``since`` (an ISO date; the feeds' own timestamps compare as text)."""
        cursor = self.connection.execute(
            "SELECT id FROM cve WHERE published >= :since OR modified >= :since "
            "UNION SELECT cve_id FROM kev WHERE date_added >= :since "
            "UNION SELECT l.cve_id FROM certfr_cve l JOIN certfr a ON a.id = l.alert_id "
            "WHERE a.date >= :since",
            {"since": since},
        )
        return {row[0] for row in cursor}

    def counts(self) -> dict[str, int]:
        tables = {"nvd": "cve", "kev": "kev", "epss": "epss", "certfr": "certfr"}
        return {
            kind: self.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for kind, table in tables.items()
        }

    def last_imports(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        cursor = self.connection.execute(
            "SELECT kind, source, records, source_date, imported_at FROM imports ORDER BY rowid"
        )
        for kind, source, records, source_date, imported_at in cursor:
            out[kind] = {
                "source": source,
                "records": records,
                "source_date": source_date,
                "imported_at": imported_at,
            }
        return out


def open_store(path: str | os.PathLike[str] | None = None) -> FeedStore:
    return FeedStore(path or feeds_path())
