"""Matched alerts: the region's inventories against the vulnerability feeds, each day.

:func:`run` is the whole pass (``carbet community match``, the ``community.match`` job):

1. the inventories are refreshed from the services' latest results
   (:func:`carbet.community.services_inventory.sync`);
2. the active software lines are streamed into the engine
   (:mod:`carbet.engines.community.matcher`): every feed entry with ``full``; otherwise the
   entries published, modified, added or alerted on since the day of the last successful run
   (the last run's day included, so nothing falls between two runs), plus every entry for the
   lines that appeared since that run (a product declared today is checked against the whole
   history, not only today's news). The first pass of each day is full;
3. the regional :class:`Vulnerability` rows and the per-structure :class:`StructureAlert` rows
   are written in bulk (one alert per structure and vulnerability, whatever the number of lines);
4. each structure's alerts become findings through the ingest service. A full run is
   *complete* for the community stream: a finding whose product left the inventory is closed
   by it. A daily run is partial: it never closes anything;
5. the new alerts are mailed (:mod:`carbet.community.mail_alerts`), each once.

The figures of each pass are kept in a :class:`MatchRun` for the centre's follow-up page.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.community.choices import Certainty
from carbet.community.models import MatchRun, SoftwareLine, StructureAlert, Vulnerability
from carbet.community.service import COMMUNITY_SOURCE
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import SYSTEM
from carbet.engines.community.inventory import ProductLine
from carbet.engines.community.matcher import Match, match_all, match_since
from carbet.engines.exposure.vulns.feeds import open_store
from carbet.findings.choices import Severity
from carbet.findings.correlation import normalise_host, split_host_port
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import Stream

log = logging.getLogger("carbet.community.matching")
CHUNK = 900
FULL, DAILY = "full", "daily"
CERTFR_PAGE = "https://www.cert.ssi.gouv.fr/{kind}/{id}/"
NVD_PAGE = "https://nvd.nist.gov/vuln/detail/{id}"


def nvd_min_cvss() -> float:
    """NVD entries at or above this CVSS score are matched (KEV and CERT-FR always are): a
    deployment's setting, else the environment, else 9.0. A value that is not a score between 0
    and 10 is ignored (9.0): a typo must not silence the alerts or flood the region."""
    name = "CARBET_COMMUNITY_NVD_MIN_CVSS"
    raw = getattr(settings, name, None) or os.environ.get(name, "")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return 9.0
    return value if 0.0 <= value <= 10.0 else 9.0


def _chunks(values: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------------------- lines


class _Counted:
    """The active lines as the engine reads them, streamed from the database and counted."""

    def __init__(self, since: datetime | None = None) -> None:
        self.since = since
        self.count = 0

    def __iter__(self) -> Iterator[ProductLine]:
        rows = SoftwareLine.objects.visible_to(SYSTEM).filter(active=True)
        if self.since is not None:
            rows = rows.filter(first_seen__gte=self.since)
        values = rows.order_by().values_list(
            "pk", "structure_id", "vendor", "product", "version", "cpe"
        )
        for pk, structure, vendor, product, version, cpe in values.iterator(chunk_size=5000):
            self.count += 1
            yield ProductLine(pk, structure, vendor, product, version, cpe)


@dataclass
class _LineInfo:
    structure: int
    label: str
    location: str
    asset: int | None


def _line_info(keys: set[int]) -> dict[int, _LineInfo]:
    found: dict[int, _LineInfo] = {}
    rows = SoftwareLine.objects.visible_to(SYSTEM).values_list(
        "pk", "structure_id", "vendor", "product", "version", "location", "asset_id"
    )
    for chunk in _chunks(sorted(keys)):
        for pk, structure, vendor, product, version, location, asset in rows.filter(pk__in=chunk):
            label = " ".join(part for part in (vendor, product, version) if part)
            if vendor and product.lower().startswith(vendor.lower()):
                label = " ".join(part for part in (product, version) if part)
            found[pk] = _LineInfo(structure, label, location, asset)
    return found


def product_text(info: _LineInfo) -> str:
    """What a structure runs, where: "FortiOS 7.0.12 — vpn.example:443"."""
    return f"{info.label} — {info.location}" if info.location else info.label


# ---------------------------------------------------------------------------- recording


@dataclass
class Outcome:
    """What a run wrote: the alerts it matched (by structure) and the new ones among them."""

    touched: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    new: list[int] = field(default_factory=list)


def _vulnerability_values(matches: list[Match]) -> dict[str, Any]:
    first = matches[0]
    fixes = sorted({m.fixed_in for m in matches if m.fixed_in})
    return {
        "title": (first.title or first.vuln_id)[:300],
        "description": first.description,
        "cvss": first.cvss,
        "epss": first.epss,
        "kev": first.kev,
        "ransomware": first.ransomware,
        "sources": list(first.sources),
        "advisories": list(first.advisories),
        "required_action": first.required_action,
        "fixed_in": ", ".join(fixes)[:100],
        "published": (first.published or "")[:20],
    }


def _upsert_vulnerabilities(by_vuln: dict[str, list[Match]], now: datetime) -> dict[str, int]:
    """``vuln_id`` → pk, creating or refreshing the regional rows."""
    ids = sorted(by_vuln)
    existing: dict[str, Vulnerability] = {}
    for chunk in _chunks(ids):
        existing.update((v.vuln_id, v) for v in Vulnerability.objects.filter(vuln_id__in=chunk))
    to_create, to_update = [], []
    fields = list(_vulnerability_values(next(iter(by_vuln.values()))))
    for vuln_id in ids:
        values = _vulnerability_values(by_vuln[vuln_id])
        row = existing.get(vuln_id)
        if row is None:
            to_create.append(Vulnerability(vuln_id=vuln_id, first_matched_at=now, **values))
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = now
            to_update.append(row)
    Vulnerability.objects.bulk_create(to_create, batch_size=1000, ignore_conflicts=True)
    Vulnerability.objects.bulk_update(to_update, [*fields, "updated_at"], batch_size=1000)
    pks: dict[str, int] = {}
    for chunk in _chunks(ids):
        pks.update(Vulnerability.objects.filter(vuln_id__in=chunk).values_list("vuln_id", "pk"))
    return pks


def _upsert_alerts(
    pairs: dict[tuple[int, int], list[Match]],
    info: dict[int, _LineInfo],
    full: bool,
    now: datetime,
    outcome: Outcome,
) -> None:
    vuln_pks = sorted({vuln for _structure, vuln in pairs})
    existing: dict[tuple[int, int], StructureAlert] = {}
    for chunk in _chunks(vuln_pks):
        for alert in StructureAlert.objects.visible_to(SYSTEM).filter(vulnerability_id__in=chunk):
            existing[(alert.structure_id, alert.vulnerability_id)] = alert
    to_create, to_update = [], []
    for (structure, vuln), matches in sorted(pairs.items()):
        products = sorted({product_text(info[m.key]) for m in matches if m.key in info})
        certainty = (
            Certainty.VERSION
            if any(m.certainty == "version" for m in matches)
            else Certainty.PRODUCT
        )
        alert = existing.get((structure, vuln))
        if alert is None:
            to_create.append(
                StructureAlert(
                    structure_id=structure,
                    vulnerability_id=vuln,
                    products=products,
                    certainty=certainty,
                    matched_at=now,
                )
            )
            continue
        if not full:  # a daily run adds lines, it never forgets the others
            products = sorted(set(alert.products) | set(products))
        if alert.products != products or alert.certainty != certainty:
            alert.products, alert.certainty = products, certainty
            to_update.append(alert)
    StructureAlert.objects.bulk_create(to_create, batch_size=1000, ignore_conflicts=True)
    StructureAlert.objects.bulk_update(to_update, ["products", "certainty"], batch_size=1000)
    created = {(a.structure_id, a.vulnerability_id) for a in to_create}
    through = StructureAlert.lines.through
    if full:
        through.objects.all().delete()
    links = []
    for chunk in _chunks(vuln_pks):
        rows = StructureAlert.objects.visible_to(SYSTEM).filter(vulnerability_id__in=chunk)
        for pk, structure, vuln in rows.values_list("pk", "structure_id", "vulnerability_id"):
            matches = pairs.get((structure, vuln))
            if matches is None:
                continue
            outcome.touched[structure].add(pk)
            if (structure, vuln) in created:
                outcome.new.append(pk)
            links.extend(through(structurealert_id=pk, softwareline_id=m.key) for m in matches)
    through.objects.bulk_create(links, batch_size=2000, ignore_conflicts=True)


def record(matches: Iterable[Match], full: bool, now: datetime) -> tuple[Outcome, int]:
    """Write the matches as vulnerabilities and alerts; the outcome and the number of matches."""
    by_vuln: dict[str, list[Match]] = defaultdict(list)
    count = 0
    for match in matches:
        by_vuln[match.vuln_id].append(match)
        count += 1
    outcome = Outcome()
    if not by_vuln:
        if full:
            with transaction.atomic():
                StructureAlert.lines.through.objects.all().delete()
        return outcome, count
    info = _line_info({m.key for group in by_vuln.values() for m in group})
    with transaction.atomic():
        pks = _upsert_vulnerabilities(by_vuln, now)
        pairs: dict[tuple[int, int], list[Match]] = defaultdict(list)
        for vuln_id, group in by_vuln.items():
            for match in group:
                if match.key in info and info[match.key].structure == match.structure:
                    pairs[(match.structure, pks[vuln_id])].append(match)
        _upsert_alerts(pairs, info, full, now, outcome)
    return outcome, count


# ---------------------------------------------------------------------------- findings


def fingerprint(vuln_id: str) -> str:
    """The community finding of a vulnerability in a structure (one per structure)."""
    return hashlib.sha256(f"{COMMUNITY_SOURCE}\x1f{vuln_id}".encode()).hexdigest()[:40]


def _references(vuln: Vulnerability) -> list[str]:
    refs = []
    if vuln.vuln_id.startswith("CVE-"):
        refs.append(NVD_PAGE.format(id=vuln.vuln_id))
    for advisory in vuln.advisories:
        kind = "alerte" if "-ALE-" in advisory else "avis"
        refs.append(CERTFR_PAGE.format(kind=kind, id=advisory))
    return refs


def severity_of(vuln: Vulnerability) -> int:
    """Actively exploited or CVSS ≥ 9: critical; the rest (CERT-FR alerts, lower NVD): high."""
    if vuln.kev or (vuln.cvss is not None and vuln.cvss >= 9):
        return Severity.CRITICAL
    return Severity.HIGH


def remediation_of(vuln: Vulnerability) -> str:
    parts = []
    if vuln.fixed_in:
        parts.append(
            _("Mettre à jour vers une version corrigée (%(versions)s).")
            % {"versions": vuln.fixed_in}
        )
    if vuln.required_action:
        parts.append(vuln.required_action)
    if not parts:
        parts.append(
            _("Appliquer le correctif de l'éditeur (voir l'avis du CERT-FR ou de l'éditeur).")
        )
    return " ".join(parts)


def _target(lines: list[tuple[str, int | None]], assets: set[int]) -> dict[str, Any]:
    """Where the finding is (the first line with a host name): the exposure scanner's evidence
    keys, so ``carbet.findings.correlation`` links it to the scanner's finding of the same CVE
    on the same host and port."""
    for location, asset in lines:
        host = normalise_host(location)
        if host:
            _host, port = split_host_port(location)
            found: dict[str, Any] = {"cible": host, "asset": asset if asset in assets else None}
            if port:
                found["port"] = port
            return found
    return {"asset": next((a for _loc, a in lines if a in assets), None)}


def finding_input(
    alert: StructureAlert, lines: list[tuple[str, int | None]], assets: set[int]
) -> FindingInput:
    vuln = alert.vulnerability
    target = _target(lines, assets)
    asset = target.pop("asset")
    products = ", ".join(alert.products)
    return FindingInput(
        title=f"{vuln.vuln_id} — {vuln.title}"[:300],
        severity=severity_of(vuln),
        fingerprint=fingerprint(vuln.vuln_id),
        rule=f"community.{'kev' if vuln.kev else 'feed'}",
        tool_id=vuln.vuln_id,
        description=_("%(description)s\n\nLogiciels concernés dans l'inventaire : %(products)s.")
        % {"description": vuln.description or vuln.title, "products": products},
        remediation=remediation_of(vuln),
        asset_id=asset,
        cvss=vuln.cvss,
        epss=vuln.epss,
        kev=vuln.kev,
        cve=vuln.vuln_id if vuln.vuln_id.startswith("CVE-") else "",
        references=_references(vuln),
        product=products[:200],
        evidence={
            **target,
            "produits": list(alert.products),
            "certitude": alert.certainty,
            "sources": list(vuln.sources),
            "alerte": alert.pk,
        },
    )


def write_findings(outcome: Outcome, full: bool, now: datetime) -> int:
    """Ingest each structure's alerts; the number of findings written."""
    structures = set(outcome.touched)
    if full:  # structures whose products all left the inventory: their findings close
        structures |= set(
            Stream.objects.filter(source=COMMUNITY_SOURCE).values_list("structure_id", flat=True)
        )
    label = _("Veille ciblée (%(kind)s) du %(day)s") % {
        "kind": _("complète") if full else _("du jour"),
        "day": timezone.localtime(now).strftime("%d/%m/%Y %H:%M"),
    }
    written = 0
    for structure in Structure.objects.visible_to(SYSTEM).filter(pk__in=structures).order_by("pk"):
        alert_pks = sorted(outcome.touched.get(structure.pk, ()))
        alerts = list(
            StructureAlert.objects.visible_to(SYSTEM)
            .filter(pk__in=alert_pks)
            .select_related("vulnerability")
            .prefetch_related("lines")
        )
        assets = set(Asset.objects.filter(structure=structure).values_list("pk", flat=True))
        items = [
            finding_input(
                alert,
                [(line.location, line.asset_id) for line in alert.lines.all() if line.active],
                assets,
            )
            for alert in alerts
        ]
        ingest(structure, COMMUNITY_SOURCE, items, complete=full, label=label, now=now)
        for alert, item in zip(alerts, items, strict=True):
            if alert.fingerprint != item.fingerprint:
                StructureAlert.objects.filter(pk=alert.pk).update(fingerprint=item.fingerprint)
        written += len(items)
    return written


# ---------------------------------------------------------------------------- the pass


def _sync_inventories() -> None:
    from carbet.community import services_inventory

    services_inventory.sync()


def last_success(kind: str | None = None) -> MatchRun | None:
    runs = MatchRun.objects.filter(error="", finished_at__isnull=False)
    if kind:
        runs = runs.filter(kind=kind)
    return runs.order_by("-started_at").first()


def _kind(full: bool, previous: MatchRun | None, now: datetime) -> str:
    """Full when asked, when nothing ran yet, and for the first pass of each day (so a product
    removed from an inventory has its finding closed within a day); daily otherwise."""
    if full or previous is None:
        return FULL
    last_full = last_success(FULL)
    if last_full is None or timezone.localdate(last_full.started_at) < timezone.localdate(now):
        return FULL
    return DAILY


def _matches(full: bool, previous: MatchRun | None, threshold: float, lines: _Counted):
    """The run's matches (a list: the store is read once) and the ``since`` date used."""
    store = open_store()
    try:
        if full or previous is None:
            return list(match_all(store, lines, nvd_min_cvss=threshold)), ""
        since = timezone.localtime(previous.started_at).date().isoformat()
        found = list(match_since(store, lines, since, nvd_min_cvss=threshold))
        seen = {(m.key, m.vuln_id) for m in found}
        newcomers = _Counted(since=previous.started_at)
        found.extend(
            m
            for m in match_all(store, newcomers, nvd_min_cvss=threshold)
            if (m.key, m.vuln_id) not in seen
        )
        return found, since
    finally:
        store.close()


def run(full: bool) -> dict[str, int]:
    """One pass (see the module docstring); its figures. Idempotent: a second pass over the
    same feeds creates nothing and sends nothing."""
    from carbet.community import mail_alerts

    now = timezone.now()
    previous = None if full else last_success()
    kind = _kind(full, previous, now)
    started = time.monotonic()
    match_run = MatchRun.objects.create(kind=kind, started_at=now)
    lines = _Counted()
    try:
        _sync_inventories()
        matches, since = _matches(kind == FULL, previous, nvd_min_cvss(), lines)
        outcome, count = record(matches, kind == FULL, now)
        findings = write_findings(outcome, kind == FULL, now)
        emails = mail_alerts.send_pending(now=now)
    except Exception as exc:
        log.exception("community match failed", extra={"run": match_run.pk})
        MatchRun.objects.filter(pk=match_run.pk).update(
            finished_at=timezone.now(),
            lines=lines.count,
            duration=round(time.monotonic() - started, 3),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    MatchRun.objects.filter(pk=match_run.pk).update(
        since=since,
        finished_at=timezone.now(),
        lines=lines.count,
        matches=count,
        new_alerts=len(outcome.new),
        emails=emails,
        duration=round(time.monotonic() - started, 3),
    )
    return {
        "run": match_run.pk,
        "full": int(kind == FULL),
        "lines": lines.count,
        "matches": count,
        "alerts": sum(len(v) for v in outcome.touched.values()),
        "new_alerts": len(outcome.new),
        "findings": findings,
        "emails": emails,
    }
