"""Scan results as the CLI prints them: the JSON contract and a readable table (in French).

The JSON shape is a published contract (users automate on it)::

    {"targets": [{"target", "addresses", "score", "grade",
                  "caps": [{"check", "grade", "reason"}],
                  "services": [{"port", "service", "product", "version"}],
                  "findings": [{"check", "severity", "title", "port", "evidence"}],
                  "refused": [{"address", "port", "reason", "via", "name", "message"}]}]}

``severity`` is one of info, low, medium, high, critical; ``title`` is the check's title in
the chosen language (``--lang``: French by default, or English), or the observation's own
(e.g. a CVE's); ``evidence`` is the observation's evidence plus its
short ``detail`` and, for known vulnerabilities, ``cve``, ``cvss``, ``epss``, ``kev`` and
``product``. Findings come most severe first. ``refused`` lists the connections the
platform's scope policy refused (always empty for ``carbet scan TARGET…``, which connects to
what it is told to). ``caps`` lists the grade caps that applied (``scoring.CAPS``: e.g. an
expired certificate caps at F, TLS 1.0 at B), each with its French reason; the platform path,
which re-reads stored rows, derives them from the same findings.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from typing import Any

from carbet.engines import severity as severities
from carbet.engines.exposure import checks, scoring
from carbet.engines.exposure.core import Observation, ServiceInfo, TargetResult, refusal_text

SEVERITY_NAMES = severities.NAMES
SEVERITY_FR = severities.NAMES_FR
CATEGORY_FR = {"exposure": "services", "tls": "TLS", "web": "web", "mail": "messagerie/DNS"}
LANGUAGES = checks.LANGUAGES
# What an observation carries beyond its evidence, copied into the contract's ``evidence``.
VULN_FIELDS = ("cve", "cvss", "epss", "product")


def severity_of(observation: Observation) -> int:
    if observation.severity is not None:
        return severities.clamp(observation.severity)
    return checks.get(observation.check).severity


def localised_title(check_id: str, title: str | None, lang: str = "fr") -> str:
    """The check's title in ``lang``, unless the observation overrode it (a CVE's own name).

    ``title`` is the observation's own title (None or "" when it has none) or, for a stored
    row, the French title saved at scan time."""
    try:
        definition = checks.get(check_id)
    except checks.UnknownCheck:  # a stored id this version no longer declares
        return title or check_id
    if not title or title == definition.title_fr:
        return definition.title(lang)
    return title


def title_of(observation: Observation, lang: str = "fr") -> str:
    return localised_title(observation.check, observation.title, lang)


def _sorted_findings(result: TargetResult) -> list[Observation]:
    return sorted(
        result.observations,
        key=lambda obs: (-severity_of(obs), obs.check, obs.port or 0, obs.cve),
    )


def finding_entry(
    *,
    check: str,
    severity: int,
    title: str,
    port: int | None,
    evidence: dict[str, Any] | None = None,
    detail: str = "",
    cve: str = "",
    cvss: float | None = None,
    epss: float | None = None,
    kev: bool = False,
    product: str = "",
) -> dict[str, Any]:
    """One finding of the JSON contract: the only place its shape is written.

    Both ``carbet scan`` paths call it (the engine's observations here, the platform's stored
    rows in the ``scan`` command), so the two never drift apart."""
    merged = dict(evidence or {})
    if detail:
        merged.setdefault("detail", detail)
    for name, value in zip(VULN_FIELDS, (cve, cvss, epss, product), strict=True):
        if value:
            merged.setdefault(name, value)
    if kev:
        merged.setdefault("kev", True)
    return {
        "check": check,
        "severity": SEVERITY_NAMES[severities.clamp(severity)],
        "title": title,
        "port": port,
        "evidence": merged,
    }


def service_entry(service: ServiceInfo | dict[str, Any]) -> dict[str, Any]:
    if isinstance(service, ServiceInfo):
        return {
            "port": service.port,
            "service": service.service,
            "product": service.product,
            "version": service.version,
        }
    return {
        "port": service.get("port"),
        "service": service.get("service", ""),
        "product": service.get("product", ""),
        "version": service.get("version", ""),
    }


def target_entry(
    *,
    target: str,
    addresses: list[str],
    score: int | None,
    grade: str,
    services: list[dict[str, Any]],
    findings: list[dict[str, Any]],
    refused: list[dict[str, Any]],
    caps: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """One target of the JSON contract: services by port, findings most severe first."""
    rank = {name: value for value, name in SEVERITY_NAMES.items()}
    entry: dict[str, Any] = {
        "target": target,
        "addresses": list(addresses),
        "score": score,
        "grade": grade or "",
        "services": sorted(services, key=lambda service: service.get("port") or 0),
        "findings": sorted(
            findings,
            key=lambda f: (
                -rank[f["severity"]],
                f["check"],
                f["port"] or 0,
                str(f["evidence"].get("cve", "")),
            ),
        ),
        # Connections the scope policy refused (platform scans only): never silently skipped.
        "refused": list(refused),
    }
    if caps is None:  # a stored target (platform path): the same caps, from its findings
        caps = scoring.caps_for(
            [{"check": f["check"], "severity": rank[f["severity"]]} for f in findings]
        )
    entry["caps"] = [
        {"check": cap["check"], "grade": cap["grade"], "reason": cap["reason"]} for cap in caps
    ]
    return entry


def finding_dict(observation: Observation, lang: str = "fr") -> dict[str, Any]:
    return finding_entry(
        check=observation.check,
        severity=severity_of(observation),
        title=title_of(observation, lang),
        port=observation.port,
        evidence=observation.evidence,
        detail=observation.detail,
        cve=observation.cve,
        cvss=observation.cvss,
        epss=observation.epss,
        kev=observation.kev,
        product=observation.product,
    )


def target_dict(result: TargetResult, lang: str = "fr") -> dict[str, Any]:
    scores = result.scores or {}
    return target_entry(
        target=result.target,
        addresses=result.addresses,
        score=scores.get("score"),
        grade=scores.get("grade", ""),
        services=[service_entry(service) for service in result.services],
        findings=[finding_dict(obs, lang) for obs in result.observations],
        refused=result.refused,
        caps=list(scores.get("caps") or []),
    )


def document(targets: list[dict[str, Any]]) -> str:
    """The whole JSON document from ``target_entry`` dicts."""
    return json.dumps({"targets": targets}, ensure_ascii=False, indent=2, default=str)


def to_json(results: list[TargetResult], lang: str = "fr") -> str:
    return document([target_dict(result, lang) for result in results])


def _clip(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def _rows(
    headers: tuple[str, ...], rows: Sequence[tuple[Any, ...]], widths: list[int]
) -> list[str]:
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        cells = [_clip(cell, width).ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def _score_line(result: TargetResult) -> str:
    categories = (result.scores or {}).get("categories", {})
    parts = []
    for category in checks.CATEGORIES:
        value = categories.get(category) or {}
        label = CATEGORY_FR.get(category, category)
        if value.get("score") is None:
            parts.append(f"{label} —")
        else:
            parts.append(f"{label} {value['score']} ({value['grade']})")
    lines = ["  notes : " + " · ".join(parts)]
    caps = (result.scores or {}).get("caps") or []
    if caps:  # the caps that set the grade (the worst letter), then how many others apply
        binding = [cap for cap in caps if cap["grade"] == caps[0]["grade"]]
        lines += ["  " + scoring_cap_text(cap) for cap in binding]
        if len(caps) > len(binding):
            lines.append(f"  (+{len(caps) - len(binding)} autre(s) plafond(s), voir --json)")
    return "\n".join(lines)


def scoring_cap_text(cap: dict[str, str]) -> str:
    """« note plafonnée à F : certificat expiré (tls.cert.expired) » (French, like the table)."""
    return f"note plafonnée à {cap['grade']} : {cap['reason']} ({cap['check']})"


def to_table(results: list[TargetResult], width: int | None = None, lang: str = "fr") -> str:
    """A readable report: per target, its services, its findings (most severe first), errors."""
    width = width or max(80, min(160, shutil.get_terminal_size((100, 24)).columns))
    out: list[str] = []
    for result in results:
        scores = result.scores or {}
        score = scores.get("score")
        headline = f"{result.target}"
        headline += f" — note {scores.get('grade')} ({score}/100)" if score is not None else ""
        if not result.complete:
            headline += " [partiel]"
        out.append(headline)
        out.append("  adresses : " + (", ".join(result.addresses) or "aucune"))
        for record in result.refused:
            out.append("  " + refusal_text(record))
        if result.services:
            rows = [
                (str(s.port), s.service, s.product, s.version, s.extra.get("address", ""))
                for s in sorted(result.services, key=lambda service: service.port)
            ]
            out += _rows(
                ("PORT", "SERVICE", "PRODUIT", "VERSION", "ADRESSE"), rows, [6, 14, 30, 14, 18]
            )
        else:
            out.append("  aucun port ouvert parmi ceux analysés")
        findings = _sorted_findings(result)
        if findings:
            title_width = max(30, width - 2 - 9 - 32 - 6 - 6)
            finding_rows = [
                (
                    SEVERITY_FR[severity_of(obs)],
                    obs.check,
                    str(obs.port or ""),
                    title_of(obs, lang) + (f" — {obs.detail}" if obs.detail else ""),
                )
                for obs in findings
            ]
            out += _rows(
                ("GRAVITÉ", "CONTRÔLE", "PORT", "CONSTAT"), finding_rows, [9, 32, 6, title_width]
            )
        else:
            out.append("  aucun constat")
        out.append(_score_line(result))
        for error in result.errors:
            out.append("  ! " + _clip(error, width - 4))
        out.append("")
    return "\n".join(out)


CATEGORY_TITLES_FR = {
    "exposure": "Services exposés (ports, accès à distance, bases de données, médical)",
    "tls": "Chiffrement TLS et certificats",
    "web": "Sites web",
    "mail": "Messagerie et DNS",
}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def checks_reference() -> str:
    """The check id reference (docs/exposure-checks.md), from the registry of every module."""
    registry = checks.all_checks()
    lines = [
        "# Référence des contrôles d'exposition",
        "",
        "Chaque contrôle a un identifiant stable (un contrat : il ne change jamais de sens), "
        "une gravité, un titre, la conduite à tenir et des références. Les identifiants "
        "apparaissent dans `carbet scan --json` (champ `check`), dans l'API et dans les "
        "vulnérabilités de la plateforme.",
        "",
        "Gravités : 0 info, 1 faible, 2 moyenne, 3 élevée, 4 critique. Points : ce que le "
        "contrôle coûte dans la note de sa catégorie (voir `carbet/engines/exposure/scoring.py`).",
        "",
        "Ce fichier est produit depuis le registre : `carbet scan --list-checks > "
        "docs/exposure-checks.md`.",
        "",
        f"{len(registry)} contrôles.",
    ]
    for category in checks.CATEGORIES:
        entries = sorted(
            (definition for definition in registry.values() if definition.category == category),
            key=lambda definition: definition.id,
        )
        if not entries:
            continue
        lines += ["", f"## {CATEGORY_TITLES_FR.get(category, category)}", ""]
        lines.append("| identifiant | gravité | points | titre | que faire | références |")
        lines.append("| --- | --- | --- | --- | --- | --- |")
        for definition in entries:
            tags = f" ({', '.join(definition.tags)})" if definition.tags else ""
            references = " ".join(f"<{reference}>" for reference in definition.references)
            lines.append(
                f"| `{definition.id}` | {SEVERITY_FR[definition.severity]} | "
                f"{definition.cost()} | {_cell(definition.title_fr)}{tags} | "
                f"{_cell(definition.remediation_fr)} | {references} |"
            )
    return "\n".join(lines) + "\n"
