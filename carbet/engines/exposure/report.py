"""Scan results as the CLI prints them: the JSON contract and a readable table (in French).

The JSON shape is a published contract (users automate on it)::

    {"targets": [{"target", "addresses", "score", "grade",
                  "services": [{"port", "service", "product", "version"}],
                  "findings": [{"check", "severity", "title", "port", "evidence"}],
                  "refused": [{"address", "port", "reason", "via", "name", "message"}]}]}

``severity`` is one of info, low, medium, high, critical; ``title`` is the check's French title
(or the observation's own, e.g. a CVE's); ``evidence`` is the observation's evidence plus its
short ``detail``. Findings come most severe first. ``refused`` lists the connections the
platform's scope policy refused (always empty for ``carbet scan TARGET…``, which connects to
what it is told to).
"""

from __future__ import annotations

import json
import shutil
from typing import Any

from . import checks
from .core import Observation, TargetResult, refusal_text

SEVERITY_NAMES = {0: "info", 1: "low", 2: "medium", 3: "high", 4: "critical"}
SEVERITY_FR = {0: "info", 1: "faible", 2: "moyenne", 3: "élevée", 4: "critique"}
CATEGORY_FR = {"exposure": "services", "tls": "TLS", "web": "web", "mail": "messagerie/DNS"}


def severity_of(observation: Observation) -> int:
    if observation.severity is not None:
        return max(0, min(4, int(observation.severity)))
    try:
        return checks.get(observation.check).severity
    except KeyError:
        return 2


def title_of(observation: Observation) -> str:
    if observation.title:
        return observation.title
    try:
        return checks.get(observation.check).title_fr
    except KeyError:
        return observation.check


def _sorted_findings(result: TargetResult) -> list[Observation]:
    return sorted(
        result.observations,
        key=lambda obs: (-severity_of(obs), obs.check, obs.port or 0, obs.cve),
    )


def finding_dict(observation: Observation) -> dict[str, Any]:
    evidence = dict(observation.evidence)
    if observation.detail:
        evidence.setdefault("detail", observation.detail)
    for name in ("cve", "cvss", "epss", "product"):
        value = getattr(observation, name)
        if value:
            evidence.setdefault(name, value)
    if observation.kev:
        evidence.setdefault("kev", True)
    return {
        "check": observation.check,
        "severity": SEVERITY_NAMES[severity_of(observation)],
        "title": title_of(observation),
        "port": observation.port,
        "evidence": evidence,
    }


def target_dict(result: TargetResult) -> dict[str, Any]:
    scores = result.scores or {}
    services = sorted(result.services, key=lambda service: service.port)
    return {
        "target": result.target,
        "addresses": list(result.addresses),
        "score": scores.get("score"),
        "grade": scores.get("grade", ""),
        "services": [
            {
                "port": service.port,
                "service": service.service,
                "product": service.product,
                "version": service.version,
            }
            for service in services
        ],
        "findings": [finding_dict(obs) for obs in _sorted_findings(result)],
        # Connections the scope policy refused (platform scans only): never silently skipped.
        "refused": list(result.refused),
    }


def to_json(results: list[TargetResult]) -> str:
    document = {"targets": [target_dict(result) for result in results]}
    return json.dumps(document, ensure_ascii=False, indent=2, default=str)


def _clip(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def _rows(headers: tuple[str, ...], rows: list[tuple[str, ...]], widths: list[int]) -> list[str]:
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
    return "  notes : " + " · ".join(parts)


def to_table(results: list[TargetResult], width: int | None = None) -> str:
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
            rows = [
                (
                    SEVERITY_FR[severity_of(obs)],
                    obs.check,
                    str(obs.port or ""),
                    title_of(obs) + (f" — {obs.detail}" if obs.detail else ""),
                )
                for obs in findings
            ]
            out += _rows(("GRAVITÉ", "CONTRÔLE", "PORT", "CONSTAT"), rows, [9, 32, 6, title_width])
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
