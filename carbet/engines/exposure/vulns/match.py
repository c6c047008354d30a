"""Known vulnerabilities of the detected products, from the locally imported feeds.

Each :class:`~.core.ServiceInfo` with a product and a version is turned into CPE
(vendor, product) candidates (:mod:`.cpe`), matched against NVD's vulnerable ``cpeMatch``
ranges with the vendor-aware comparator (:mod:`.versions`), and enriched with CISA KEV, EPSS
and CERT-FR. Priority, as the centre works: **KEV first** (exploited now: always critical),
then **EPSS** (likely to be exploited soon: ≥ 0.5 makes it at least high), then **CVSS**; one
level higher for medical and remote-access services, which are the ones attacked first.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from carbet.engines.exposure.checks import define
from carbet.engines.exposure.core import Observation, ScanConfig, ServiceInfo
from carbet.engines.exposure.vulns.cpe import candidates, parse_cpe
from carbet.engines.exposure.vulns.feeds import FeedStore, MatchRow, feeds_path
from carbet.engines.exposure.vulns.versions import in_range, tokens

MAX_CVE_PER_SERVICE = 25  # the most urgent ones; the evidence says how many were left out
EPSS_HIGH = 0.5
EXPOSED_FIRST_SERVICES = frozenset(
    {
        "rdp",
        "vnc",
        "ssh",
        "telnet",
        "smb",
        "ftp",
        "vpn",
        "dicom",
        "hl7",
        "fhir",
    }
)
EXPOSED_FIRST_PORTS = frozenset({22, 23, 104, 445, 2575, 3389, 4242, 4433, 5900, 10443, 11112})

VULN_KEV = define(
    id="vuln.kev",
    category="exposure",
    severity=4,
    title_fr="Vulnérabilité activement exploitée (catalogue KEV)",
    title_en="Actively exploited vulnerability (KEV catalogue)",
    remediation_fr=(
        "La version détectée porte une faille que des attaquants exploitent déjà, souvent pour "
        "des rançongiciels. Faites appliquer le correctif de l'éditeur en urgence (sous 48 "
        "heures), ou coupez l'accès depuis internet en attendant."
    ),
    remediation_en=(
        "The detected version has a flaw attackers already exploit. Patch now (within 48 hours) "
        "or cut internet access meanwhile."
    ),
    references=("CISA Known Exploited Vulnerabilities", "NVD"),
)


VULN_CVE = define(
    id="vuln.cve",
    category="exposure",
    severity=2,
    title_fr="Version vulnérable (CVE connue)",
    title_en="Vulnerable version (known CVE)",
    remediation_fr=(
        "La version détectée a des failles connues et publiées. Demandez à votre prestataire "
        "de mettre à jour vers une version corrigée, en commençant par les plus graves."
    ),
    remediation_en=(
        "The detected version has published flaws. Update to a fixed release, worst first."
    ),
    references=("NVD", "FIRST EPSS"),
)


def default_store(config: ScanConfig | None = None) -> FeedStore | None:
    """The local feed store (``CARBET_FEEDS_DB`` or ``CARBET_DATA_DIR/feeds.sqlite``), or None
    when no feed was ever imported: the scan then skips vulnerability matching."""
    path = feeds_path()
    if not path.is_file():
        return None
    try:
        return FeedStore(path, readonly=True)
    except sqlite3.Error:  # not a feed store, or unreadable: scan without it
        return None


def severity_from_cvss(cvss: float | None) -> int:
    if cvss is None:
        return 2
    if cvss >= 9.0:
        return 4
    if cvss >= 7.0:
        return 3
    if cvss >= 4.0:
        return 2
    return 1 if cvss > 0 else 0


def exposed_first(service: ServiceInfo) -> bool:
    tags = {service.service.lower(), *(str(t).lower() for t in service.extra.get("tags", ()))}
    return bool(tags & EXPOSED_FIRST_SERVICES) or service.port in EXPOSED_FIRST_PORTS


def _priority(row: MatchRow) -> tuple[Any, ...]:
    return (not row.kev, -(row.epss or 0.0), -(row.cvss or 0.0), row.cve_id)


def _row_matches(row: MatchRow, version: str) -> bool:
    bounded = row.start_incl or row.start_excl or row.end_incl or row.end_excl
    exact = row.version if row.version not in ("*", "-", "") else ""
    if not exact and not bounded:
        return False  # "every version": too vague to claim this host is vulnerable
    return in_range(
        version,
        vendor=row.vendor,
        exact=exact,
        start_including=row.start_incl,
        start_excluding=row.start_excl,
        end_including=row.end_incl,
        end_excluding=row.end_excl,
    )


def match_service(service: ServiceInfo, store: FeedStore) -> list[Observation]:
    version = service.version
    if not version and service.cpe:
        parsed = parse_cpe(service.cpe)
        version = parsed.full_version() if parsed and parsed.version not in ("*", "-") else ""
    if not version or not tokens(version):
        return []
    pairs = candidates(service.product, service.vendor, service.cpe)
    if not pairs:
        return []
    by_cve: dict[str, MatchRow] = {}
    for row in store.matches(pairs):
        if row.cve_id not in by_cve and _row_matches(row, version):
            by_cve[row.cve_id] = row
    ranked = sorted(by_cve.values(), key=_priority)
    raised = exposed_first(service)
    observations = []
    for row in ranked[:MAX_CVE_PER_SERVICE]:
        observations.append(_observation(service, version, row, raised, store))
    if len(ranked) > MAX_CVE_PER_SERVICE and observations:
        observations[-1].evidence["not_listed"] = len(ranked) - MAX_CVE_PER_SERVICE
    return observations


def _observation(
    service: ServiceInfo, version: str, row: MatchRow, raised: bool, store: FeedStore
) -> Observation:
    product = service.product or row.product
    if row.kev:
        severity = 4
    else:
        severity = severity_from_cvss(row.cvss)
        if row.epss is not None and row.epss >= EPSS_HIGH:
            severity = max(severity, 3)
        if raised:
            severity = min(4, severity + 1)
    evidence = {
        "product": product,
        "version": version,
        "cpe": f"{row.vendor}:{row.product}",
        "range": {
            k: v
            for k, v in (
                ("exact", row.version),
                ("start_including", row.start_incl),
                ("start_excluding", row.start_excl),
                ("end_including", row.end_incl),
                ("end_excluding", row.end_excl),
            )
            if v and v not in ("*", "-")
        },
        "epss_percentile": row.percentile,
        "ransomware": row.ransomware,
        "certfr": store.certfr_alerts(row.cve_id),
        "raised_for_exposure": raised and not row.kev,
        "note": "version from the banner: a distribution back-port may already fix it",
    }
    title = f"{row.cve_id} — {row.kev_name}" if row.kev and row.kev_name else None
    check = VULN_KEV if row.kev else VULN_CVE
    return check.observe(
        port=service.port,
        detail=f"{product} {version}: {row.cve_id}"
        + (f" (CVSS {row.cvss:.1f})" if row.cvss is not None else ""),
        evidence=evidence,
        severity=severity,
        title=title,
        cve=row.cve_id,
        cvss=row.cvss,
        epss=row.epss,
        kev=row.kev,
        product=f"{product} {version}".strip(),
    )


def match_services(services: list[ServiceInfo], store: FeedStore | None) -> list[Observation]:
    """Observations for every known vulnerability of ``services``, most urgent first."""
    if store is None:
        return []
    observations: list[Observation] = []
    for service in services:
        if service.product or service.cpe:
            observations.extend(match_service(service, store))
    observations.sort(key=lambda o: (not o.kev, -(o.epss or 0.0), -(o.cvss or 0.0), o.cve))
    return observations
