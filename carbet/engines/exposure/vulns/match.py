"""Known vulnerabilities of the detected products, from the locally imported feeds.

Each :class:`~.core.ServiceInfo` with a product and a version is turned into CPE
(vendor, product) candidates (:mod:`.cpe`), matched against NVD's vulnerable ``cpeMatch``
ranges with the vendor-aware comparator (:mod:`.versions`), and enriched with CISA KEV, EPSS
and CERT-FR. A KEV CVE that NVD has not described for the product (NVD's backlog, or a fresh
appliance flaw) is matched through KEV's own vendor and product and the vendor's advisory
ranges (:mod:`.appliances`); one that nothing can place is listed for a check by hand.
Priority, as the centre works: **KEV first** (exploited now: always critical),
then **EPSS** (likely to be exploited soon: ≥ 0.5 makes it at least high), then **CVSS**; one
level higher for medical and remote-access services, which are the ones attacked first.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from carbet.engines.exposure.checks import define
from carbet.engines.exposure.core import Observation, ScanConfig, ServiceInfo
from carbet.engines.exposure.vulns.appliances import (
    AFFECTED,
    KEV_PRODUCTS,
    KNOWN_FIXES,
    UNSURE,
    family_of,
    kev_concerns,
)
from carbet.engines.exposure.vulns.cpe import candidates, parse_cpe
from carbet.engines.exposure.vulns.feeds import FeedStore, KevEntry, MatchRow, feeds_path
from carbet.engines.exposure.vulns.firmware import (
    FirmwareJudgement,
    before_fix_evidence,
    judge_service,
)
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


VULN_KEV_TO_VERIFY = define(
    id="vuln.kev_unverified",
    category="exposure",
    severity=2,
    title_fr="Équipement visé par des failles activement exploitées : version à vérifier",
    title_en="Appliance targeted by actively exploited flaws: version to check",
    remediation_fr=(
        "Cet équipement d'accès à distance (VPN, passerelle, messagerie) fait partie des produits "
        "dont des failles sont exploitées en ce moment (catalogue KEV), mais Carbet n'a pas pu "
        "établir si votre version est concernée. Demandez à votre prestataire la version exacte "
        "installée et comparez-la aux avis de l'éditeur et du CERT-FR listés ici ; à défaut, "
        "appliquez la dernière version corrigée."
    ),
    remediation_en=(
        "This remote-access appliance is a product with actively exploited flaws (KEV), but "
        "Carbet could not tell whether your version is affected. Get the exact version installed "
        "and compare it with the vendor's and CERT-FR's advisories listed; otherwise update to "
        "the latest fixed release."
    ),
    references=("CISA Known Exploited Vulnerabilities", "CERT-FR"),
)
MAX_KEV_TO_VERIFY = 10


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


def service_version(service: ServiceInfo) -> str:
    """The detected version (or the CPE's), "" when there is none worth comparing."""
    version = service.version
    if not version and service.cpe:
        parsed = parse_cpe(service.cpe)
        version = parsed.full_version() if parsed and parsed.version not in ("*", "-") else ""
    return version if version and tokens(version) else ""


def match_service(
    service: ServiceInfo, store: FeedStore, today: date | None = None
) -> list[Observation]:
    version = service_version(service)
    pairs = candidates(service.product, service.vendor, service.cpe)
    rows = store.matches(pairs) if pairs else []
    observations = []
    if version:
        by_cve: dict[str, MatchRow] = {}
        for row in rows:
            if row.cve_id not in by_cve and _row_matches(row, version):
                by_cve[row.cve_id] = row
        ranked = sorted(by_cve.values(), key=_priority)
        raised = exposed_first(service)
        for row in ranked[:MAX_CVE_PER_SERVICE]:
            observations.append(_observation(service, version, row, raised, store))
        if len(ranked) > MAX_CVE_PER_SERVICE and observations:
            observations[-1].evidence["not_listed"] = len(ranked) - MAX_CVE_PER_SERVICE
    family = family_of(service.product) or str(service.extra.get("appliance_family", ""))
    if family:
        comparable = KEV_PRODUCTS[family].nvd_versions if family in KEV_PRODUCTS else True
        described = {row.cve_id for row in rows} if version and comparable else set()
        build = judge_service(service, today)
        observations += kev_by_product(service, version, family, described, store, build)
    return observations


def kev_by_product(
    service: ServiceInfo,
    version: str,
    family: str,
    described: set[str],
    store: FeedStore,
    build: FirmwareJudgement | None = None,
) -> list[Observation]:
    """KEV entries of the appliance ``family`` that NVD did not describe for this product
    (``described``): matched on the vendor advisory's ranges, judged by the firmware's build
    date (``build``, when no version is shown), or listed to be checked."""
    observations: list[Observation] = []
    unplaced: list[KevEntry] = []
    judged = build.judged if build else set()
    entries = {entry.cve_id: entry for entry in store.kev_entries()}
    for entry in entries.values():
        if entry.cve_id in described or entry.cve_id in judged:
            continue
        if not kev_concerns(family, entry.vendor, entry.product):
            continue
        fix = KNOWN_FIXES.get(entry.cve_id)
        if version and fix is not None and fix.family == family:
            state, fixed = fix.assess(version, partial=bool(service.extra.get("version_partial")))
            if state == AFFECTED:
                observations.append(_kev_observation(service, version, entry, fixed, store))
            if state != UNSURE:
                continue
        unplaced.append(entry)
    if build is not None:
        observations += firmware_observations(service, build, store, entries)
        extra = build.to_check
    else:
        extra = []
    if unplaced or extra:
        observations.append(_kev_to_verify(service, version, unplaced, store, build))
    return observations


def firmware_observations(
    service: ServiceInfo,
    build: FirmwareJudgement,
    store: FeedStore | None = None,
    entries: dict[str, KevEntry] | None = None,
) -> list[Observation]:
    """Exploited flaws a firmware built before any fixed version existed cannot be fixed
    for (one critical finding each), and the very old firmware observation."""
    observations = [] if build.old is None else [build.old]
    day = build.built.isoformat()
    for fix in build.cannot_be_fixed:
        entry = (entries or {}).get(fix.cve)
        known = store.certfr_alerts(fix.cve) if store is not None else []
        certfr = sorted({*known, fix.certfr} - {""})
        evidence: dict[str, Any] = {"product": service.product, "version": "", "certfr": certfr}
        evidence.update(before_fix_evidence(fix, build))
        if entry is not None:
            evidence["kev"] = {"vendor": entry.vendor, "product": entry.product}
            evidence["kev"]["added"] = entry.date_added
            evidence["ransomware"] = entry.ransomware
        where = f", {', '.join(certfr)}" if certfr else ""
        observations.append(
            VULN_KEV.observe(
                port=service.port,
                detail=(
                    f"{service.product} : micrologiciel construit le {day}, avant qu'existe "
                    f"toute version corrigée de {fix.cve} (corrigée en "
                    f"{', '.join(fix.fixed)} ; {fix.advisory}{where})"
                ),
                evidence=evidence,
                severity=4,
                title=f"{fix.cve} — {entry.name if entry and entry.name else fix.name}",
                cve=fix.cve,
                cvss=entry.cvss if entry else None,
                epss=entry.epss if entry else None,
                kev=True,
                product=service.product,
            )
        )
    return observations


def _kev_observation(
    service: ServiceInfo, version: str, entry: KevEntry, fixed: str, store: FeedStore
) -> Observation:
    fix = KNOWN_FIXES[entry.cve_id]
    certfr = store.certfr_alerts(entry.cve_id)
    product = service.product or entry.product
    evidence = {
        "product": product,
        "version": version,
        "fixed_version": fixed,
        "advisory": fix.advisory,
        "certfr": certfr,
        "kev": {"vendor": entry.vendor, "product": entry.product, "added": entry.date_added},
        "ransomware": entry.ransomware,
        "source": "KEV + vendor advisory (NVD has no product data for this CVE)",
        "note": service.extra.get("version_note", ""),
    }
    where = f", avis {', '.join(certfr)}" if certfr else ""
    return VULN_KEV.observe(
        port=service.port,
        detail=f"{product} {version} : {entry.cve_id}, corrigée en {fixed} ({fix.advisory}{where})",
        evidence=evidence,
        severity=4,
        title=f"{entry.cve_id} — {entry.name}" if entry.name else None,
        cve=entry.cve_id,
        cvss=entry.cvss,
        epss=entry.epss,
        kev=True,
        product=f"{product} {version}".strip(),
    )


def _kev_to_verify(
    service: ServiceInfo,
    version: str,
    entries: list[KevEntry],
    store: FeedStore | None,
    build: FirmwareJudgement | None = None,
) -> Observation:
    """One listing of the KEV entries to check by hand (a build date's own notes first)."""
    judged = list(build.to_check) if build else []
    for item in judged:
        if store is not None:
            item["certfr"] = sorted({*item["certfr"], *store.certfr_alerts(item["cve"])})
    items = judged + [
        {
            "cve": entry.cve_id,
            "name": entry.name,
            "added": entry.date_added,
            "ransomware": entry.ransomware,
            "certfr": store.certfr_alerts(entry.cve_id) if store is not None else [],
        }
        for entry in entries
    ]
    listed = items[:MAX_KEV_TO_VERIFY]
    why = "version inconnue" if not version else f"version {version} non comparable"
    evidence = {
        "product": service.product,
        "version": version,
        "kev": listed,
        "not_listed": len(items) - len(listed),
    }
    if build is not None:
        why = build.why_unknown()
        evidence.update(build_date=build.built.isoformat(), build_source=build.source)
    return VULN_KEV_TO_VERIFY.observe(
        port=service.port,
        detail=f"{service.product} ({why}) : {', '.join(i['cve'] for i in listed)}",
        evidence=evidence,
        product=f"{service.product} {version}".strip(),
    )


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
    fixed = row.end_excl if row.end_excl not in ("", "*", "-") else ""
    evidence = {
        "product": product,
        "version": version,
        "fixed_version": fixed,
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
        + (f" (CVSS {row.cvss:.1f})" if row.cvss is not None else "")
        + (f", corrigée en {fixed}" if fixed else ""),
        evidence=evidence,
        severity=severity,
        title=title,
        cve=row.cve_id,
        cvss=row.cvss,
        epss=row.epss,
        kev=row.kev,
        product=f"{product} {version}".strip(),
    )


def match_services(
    services: list[ServiceInfo], store: FeedStore | None, today: date | None = None
) -> list[Observation]:
    """Observations for every known vulnerability of ``services``, most urgent first.

    Without feeds, only what needs none is said: an appliance's firmware build date against
    the advisories written into :mod:`.builds`."""
    observations: list[Observation] = []
    for service in services:
        if store is None:
            observations.extend(_firmware_without_feeds(service, today))
        elif service.product or service.cpe:
            observations.extend(match_service(service, store, today))
    observations.sort(key=lambda o: (not o.kev, -(o.epss or 0.0), -(o.cvss or 0.0), o.cve))
    return observations


def _firmware_without_feeds(service: ServiceInfo, today: date | None) -> list[Observation]:
    build = judge_service(service, today)
    if build is None:
        return []
    observations = firmware_observations(service, build)
    if build.to_check:
        observations.append(_kev_to_verify(service, "", [], None, build))
    return observations
