"""Feed entries matched against every structure's inventory, in one pass over the feed store.

The exposure scanner asks the store once per detected service (:func:`match_service`); for a
region's 60,000 product lines that is 60,000 queries. Here the inventory is indexed first
(:mod:`.index`: lines grouped by CPE pair and version), then the store's vulnerable cpeMatch
rows of the inventory's products are **streamed once**, ordered by CVE, and each row is compared
once per distinct version of its product (the comparisons are cached: NVD repeats its ranges).

What counts (``nvd_min_cvss``): every KEV and CERT-FR entry, and NVD entries at or above the
threshold. Certainty:

- ``"version"``: the line's version falls in a range NVD (or the vendor's advisory, for the KEV
  CVEs NVD has not described: :mod:`carbet.engines.exposure.vulns.appliances`) gives;
- ``"product"``: the structure runs the product but the version cannot be compared (unknown
  version, an NVD entry for "every version", a KEV entry NVD has not described matched by its
  vendor and product names, a CERT-FR alert matched by its product text): to verify.

One :class:`Match` per (line, vulnerability). :func:`match_since` is the daily run: only the
entries published, modified, added or alerted on or after a date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from typing import Literal

from carbet.engines.community.index import Index, Pair, build_index
from carbet.engines.community.inventory import ProductLine
from carbet.engines.exposure.vulns.appliances import AFFECTED, CLEAR, KNOWN_FIXES
from carbet.engines.exposure.vulns.feeds import CertfrRecord, FeedRow, FeedStore, KevRecord
from carbet.engines.exposure.vulns.versions import in_range

Certainty = Literal["version", "product"]
_NO_VALUE = ("", "*", "-")


@dataclass(frozen=True)
class Match:
    """One vulnerability (a CVE, or a CERT-FR alert without usable CVE data) of one line."""

    key: int
    structure: int
    vuln_id: str
    sources: tuple[str, ...]  # among "nvd", "kev", "certfr"
    kev: bool
    ransomware: bool
    cvss: float | None
    epss: float | None
    title: str
    description: str
    certainty: Certainty
    fixed_in: str
    advisories: tuple[str, ...]  # CERT-FR ids
    required_action: str
    # When the entry became news: the latest of NVD's publication, KEV's addition and the
    # CERT-FR alerts' dates (a 2021 CVE added to KEV today is today's news). ISO date.
    published: str


@lru_cache(maxsize=1 << 18)
def _affected(
    version: str, vendor: str, exact: str, start_incl: str, start_excl: str, end_incl: str,
    end_excl: str,
) -> bool:  # fmt: skip
    return in_range(
        version,
        vendor=vendor,
        exact=exact,
        start_including=start_incl,
        start_excluding=start_excl,
        end_including=end_incl,
        end_excluding=end_excl,
    )


def row_certainty(row: FeedRow, version: str) -> Certainty | None:
    """How a line of ``version`` ("" unknown) is concerned by one cpeMatch row."""
    exact = row.version if row.version not in _NO_VALUE else ""
    bounded = row.start_incl or row.start_excl or row.end_incl or row.end_excl
    if not version or (not exact and not bounded):
        return "product"
    args = (row.start_incl, row.start_excl, row.end_incl, row.end_excl)
    return "version" if _affected(version, row.vendor, exact, *args) else None


class _Feeds:
    """What the store says beyond cpeMatch rows: KEV, CERT-FR, read once per run."""

    def __init__(self, store: FeedStore) -> None:
        self.kev: dict[str, KevRecord] = {r.cve_id: r for r in store.kev_records()}
        self.alerts: list[CertfrRecord] = store.certfr_records()
        self.alerts_of: dict[str, list[CertfrRecord]] = {}
        for alert in self.alerts:
            for cve in alert.cves:
                self.alerts_of.setdefault(cve, []).append(alert)


class _Run:
    def __init__(self, store: FeedStore, index: Index, nvd_min_cvss: float) -> None:
        self.store = store
        self.index = index
        self.threshold = nvd_min_cvss
        self.feeds = _Feeds(store)

    # ------------------------------------------------------------------ NVD rows

    def from_rows(self, rows: Iterable[FeedRow]) -> Iterator[Match]:
        for cve_id, group in groupby(rows, key=attrgetter("cve_id")):
            cve_rows = list(group)
            first = cve_rows[0]
            kev = self.feeds.kev.get(cve_id)
            alerts = self.feeds.alerts_of.get(cve_id, [])
            if kev is None and not alerts and (first.cvss is None or first.cvss < self.threshold):
                continue
            hits: dict[int, tuple[int, Certainty, str]] = {}
            for row in cve_rows:
                self._hit_row(row, hits)
            for key in sorted(hits):
                structure, certainty, fixed = hits[key]
                yield self._match(key, structure, first, kev, alerts, certainty, fixed)

    def _hit_row(self, row: FeedRow, hits: dict[int, tuple[int, Certainty, str]]) -> None:
        versions = self.index.by_pair.get((row.vendor, row.product))
        if not versions:
            return
        for version, holders in versions.items():
            certainty = row_certainty(row, version)
            if certainty is None:
                continue
            fixed = row.end_excl if certainty == "version" and row.end_excl not in _NO_VALUE else ""
            for key, structure in holders:
                known = hits.get(key)
                if known is None or (known[1] == "product" and certainty == "version"):
                    hits[key] = (structure, certainty, fixed)

    def _match(
        self, key: int, structure: int, row: FeedRow, kev: KevRecord | None,
        alerts: list[CertfrRecord], certainty: Certainty, fixed: str,
    ) -> Match:  # fmt: skip
        sources = ("nvd",) + (("kev",) if kev else ()) + (("certfr",) if alerts else ())
        title = kev.name if kev and kev.name else (alerts[0].title if alerts else row.cve_id)
        return Match(
            key=key,
            structure=structure,
            vuln_id=row.cve_id,
            sources=sources,
            kev=kev is not None,
            ransomware=bool(kev and kev.ransomware.lower() == "known"),
            cvss=row.cvss,
            epss=row.epss,
            title=title,
            description=row.description,
            certainty=certainty,
            fixed_in=fixed,
            advisories=tuple(a.id for a in alerts),
            required_action=kev.required_action if kev else "",
            published=_news_date(row.published, kev.date_added if kev else "", alerts),
        )

    # ------------------------------------------------------------------ KEV without NVD data

    def from_kev(self, wanted: set[str] | None) -> Iterator[Match]:
        for record in sorted(self.feeds.kev.values(), key=attrgetter("cve_id")):
            if record.nvd_products or (wanted is not None and record.cve_id not in wanted):
                continue
            pairs = self.index.named(record.vendor, record.product)
            hits: dict[int, tuple[int, Certainty, str]] = {}
            for pair in sorted(pairs):
                self._hit_kev(record, pair, hits)
            alerts = self.feeds.alerts_of.get(record.cve_id, [])
            for key in sorted(hits):
                structure, certainty, fixed = hits[key]
                yield Match(
                    key=key,
                    structure=structure,
                    vuln_id=record.cve_id,
                    sources=("kev",) + (("certfr",) if alerts else ()),
                    kev=True,
                    ransomware=record.ransomware.lower() == "known",
                    cvss=record.cvss,
                    epss=record.epss,
                    title=record.name or record.cve_id,
                    description=record.description,
                    certainty=certainty,
                    fixed_in=fixed,
                    advisories=tuple(a.id for a in alerts),
                    required_action=record.required_action,
                    published=record.date_added,
                )

    def _hit_kev(
        self, record: KevRecord, pair: Pair, hits: dict[int, tuple[int, Certainty, str]]
    ) -> None:
        fix = KNOWN_FIXES.get(record.cve_id)
        for version, holders in self.index.by_pair[pair].items():
            certainty: Certainty = "product"
            fixed = ""
            if fix is not None and version:
                state, fixed = fix.assess(version)
                if state == CLEAR:
                    continue
                certainty = "version" if state == AFFECTED else "product"
            for key, structure in holders:
                known = hits.get(key)
                if known is None or (known[1] == "product" and certainty == "version"):
                    hits[key] = (structure, certainty, fixed)

    # ------------------------------------------------------------------ CERT-FR by product text

    def from_alerts(self, since: str | None) -> Iterator[Match]:
        alerts = [a for a in self.feeds.alerts if since is None or a.date >= since]
        named = {cve for alert in alerts for cve in alert.cves}
        described = self.store.described(named) if named else set()
        for alert in alerts:
            open_cves = [
                cve for cve in alert.cves if cve not in described and cve not in self.feeds.kev
            ]
            if alert.cves and not open_cves:
                continue  # every CVE is matched through NVD or KEV
            holders: dict[int, int] = {}
            for text in alert.products:
                for pair in self.index.named_in_text(text):
                    for version_holders in self.index.by_pair[pair].values():
                        holders.update(version_holders)
            for key in sorted(holders):
                yield Match(
                    key=key,
                    structure=holders[key],
                    vuln_id=alert.id,
                    sources=("certfr",),
                    kev=False,
                    ransomware=False,
                    cvss=None,
                    epss=None,
                    title=alert.title or alert.id,
                    description=", ".join(open_cves),
                    certainty="product",
                    fixed_in="",
                    advisories=(alert.id,),
                    required_action="",
                    published=alert.date,
                )


def _news_date(published: str, kev_added: str, alerts: list[CertfrRecord]) -> str:
    dates = [d[:10] for d in (published, kev_added, *(a.date for a in alerts)) if d]
    return max(dates) if dates else ""


def _index(lines: Iterable[ProductLine] | Index) -> Index:
    return lines if isinstance(lines, Index) else build_index(lines)


def match_all(
    store: FeedStore, lines: Iterable[ProductLine] | Index, *, nvd_min_cvss: float = 9.0
) -> Iterator[Match]:
    """Every entry of the store that concerns a line (see the module docstring)."""
    index = _index(lines)
    if not index.by_pair:
        return
    run = _Run(store, index, nvd_min_cvss)
    rows = store.stream_rows(products=index.products, min_cvss=nvd_min_cvss)
    yield from run.from_rows(rows)
    yield from run.from_kev(None)
    yield from run.from_alerts(None)


def match_since(
    store: FeedStore,
    lines: Iterable[ProductLine] | Index,
    since: str,
    *,
    nvd_min_cvss: float = 9.0,
) -> Iterator[Match]:
    """The daily match: entries NVD published or modified, KEV added or CERT-FR dated on or
    after ``since`` (an ISO date, "2026-03-02")."""
    index = _index(lines)
    if not index.by_pair:
        return
    wanted = store.changed_since(since)
    run = _Run(store, index, nvd_min_cvss)
    if wanted:
        rows = store.stream_rows(products=index.products, cves=wanted, min_cvss=nvd_min_cvss)
        yield from run.from_rows(rows)
    yield from run.from_kev(wanted)
    yield from run.from_alerts(since)
