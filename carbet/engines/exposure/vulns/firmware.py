"""A remote-access appliance known only by its firmware's build date: what can be said.

:mod:`.builds` holds the advisories' facts and the rule; this module reads a scanned service
(its ``build_date`` fact, set when the portal showed no version) and turns the verdicts into
what :mod:`.match` reports: exploited flaws the firmware cannot have been fixed for (findings),
flaws to check by hand (each with why), and a very old firmware (its own observation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from carbet.engines.exposure.checks import define
from carbet.engines.exposure.core import Observation, ServiceInfo
from carbet.engines.exposure.vulns import builds
from carbet.engines.exposure.vulns.appliances import family_of

VULN_FIRMWARE_OLD = define(
    id="vuln.firmware_old",
    category="exposure",
    severity=3,
    title_fr="Équipement d'accès à distance au micrologiciel très ancien",
    title_en="Remote-access appliance running very old firmware",
    remediation_fr=(
        "Le logiciel interne (micrologiciel) de cet équipement VPN a été construit il y a plus "
        "de trois ans : il lui manque tous les correctifs publiés depuis, dont ceux de failles "
        "exploitées par des rançongiciels, et sa version n'est peut-être plus maintenue par "
        "l'éditeur. Demandez à votre prestataire d'installer la dernière version maintenue, ou "
        "de remplacer l'équipement s'il n'en reçoit plus."
    ),
    remediation_en=(
        "This VPN appliance's firmware was built more than three years ago: every fix since is "
        "missing, including fixes for flaws used by ransomware, and its release may no longer "
        "be supported. Install the latest supported release, or replace the appliance."
    ),
    references=("https://www.cert.ssi.gouv.fr/", "CISA Known Exploited Vulnerabilities"),
)
CERTAINTY_HIGH = (
    "forte : toutes les branches encore maintenues lorsque le correctif est sorti étaient "
    "touchées, et le micrologiciel a été construit après la sortie de la plus ancienne branche "
    "que l'avis évalue"
)


@dataclass
class FirmwareJudgement:
    """What a build date says of one service (see :func:`judge_service`)."""

    built: date
    source: str
    cannot_be_fixed: list[builds.BuildFix] = field(default_factory=list)
    to_check: list[dict[str, Any]] = field(default_factory=list)  # KEV-listing items
    old: Observation | None = None

    @property
    def judged(self) -> set[str]:
        return {fix.cve for fix in self.cannot_be_fixed} | {i["cve"] for i in self.to_check}

    def why_unknown(self) -> str:
        return f"version inconnue, micrologiciel construit le {self.built.isoformat()}"


def _check_note(verdict: builds.Verdict, built: date) -> str:
    fix = verdict.fix
    day = built.isoformat()
    first = fix.first_fixed.isoformat() if fix.first_fixed else ""
    if verdict.state == builds.BEFORE_FIX_SOME_BRANCHES:
        return (
            f"construit le {day}, avant le premier correctif ({first}) : touché seulement si "
            f"la branche installée est concernée ({fix.affected})"
        )
    if verdict.state == builds.AFTER_FIX:
        return f"construit le {day}, après le premier correctif ({first}) : à vérifier"
    if verdict.state == builds.OLDER_BRANCH:
        return (
            f"construit le {day}, avant les branches que l'avis évalue ({fix.affected}) : "
            "branche plus ancienne, hors support, non évaluée par l'éditeur : à vérifier"
        )
    return f"construit le {day} ; date du premier correctif non vérifiée : à vérifier"


def judge_service(service: ServiceInfo, today: date | None = None) -> FirmwareJudgement | None:
    """The verdicts of a service whose version is unknown but whose build date was read."""
    if service.version:
        return None  # a version shown always wins over a date
    family = family_of(service.product) or str(service.extra.get("appliance_family", ""))
    built = builds.parse_day(service.extra.get("build_date", ""))
    if built is None or not any(fix.family == family for fix in builds.BUILD_FIXES):
        return None
    judgement = FirmwareJudgement(built, str(service.extra.get("build_source", "")))
    for verdict in builds.judge(family, built):
        if verdict.state == builds.BEFORE_FIX:
            judgement.cannot_be_fixed.append(verdict.fix)
            continue
        judgement.to_check.append(
            {
                "cve": verdict.fix.cve,
                "name": verdict.fix.name,
                "added": "",
                "ransomware": "",
                "certfr": [verdict.fix.certfr] if verdict.fix.certfr else [],
                "advisory": verdict.fix.advisory,
                "fixed_versions": list(verdict.fix.fixed),
                "build_verdict": verdict.state,
                "note": _check_note(verdict, built),
            }
        )
    today = today or date.today()
    if builds.is_old(built, today):
        years = (today - built).days // 365
        judgement.old = VULN_FIRMWARE_OLD.observe(
            port=service.port,
            detail=(
                f"{service.product} : micrologiciel construit le {built.isoformat()}, "
                f"il y a plus de {years} ans"
            ),
            evidence={
                "product": service.product,
                "build_date": built.isoformat(),
                "build_source": judgement.source,
                "note": "date lue dans les en-têtes de cache des fichiers statiques du portail",
            },
            product=service.product,
        )
    return judgement


def before_fix_evidence(fix: builds.BuildFix, judgement: FirmwareJudgement) -> dict[str, Any]:
    """The facts of a "built before any fixed version existed" finding."""
    return {
        "build_date": judgement.built.isoformat(),
        "build_source": judgement.source,
        "first_fixed_published": fix.first_fixed.isoformat() if fix.first_fixed else "",
        "margin_days": builds.MARGIN.days,
        "fixed_versions": list(fix.fixed),
        "affected": fix.affected,
        "advisory": fix.advisory,
        "certainty": CERTAINTY_HIGH,
        "checked": fix.checked,
        "source": "firmware build date vs. publication of the first fixed release",
    }
