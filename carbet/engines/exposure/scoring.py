"""Scores per target and per structure: four categories, 0–100, a letter grade and the reasons.

The scale (pure functions, no I/O):

* Each category (exposure, TLS, web, mail) starts at **100**. Every check that fires on the
  target costs the points of its registry entry (``Check.cost()``, from
  ``carbet.engines.severity``: info 0, low 5, medium 10, high 25, critical 40, or the check's
  own ``points``, e.g. 60 for an exposed PACS), **once per check id** whatever the number of
  ports it fires on, at the highest severity seen (an observation may raise its own
  severity). The score never goes below 0.
* Web: when the web probe left an Observatory-style score (``evidence["web"][port]
  ["observatory_score"]``), the web category is the lowest of those scores (clamped to
  0–100) instead of 100 minus the check points; the check points are still listed as reasons.
* A category is **evaluated** only when its probes ran (an open TLS port, a web server, a mail
  domain); others have no score and do not count in the overall score.
* **Overall** = the lower of the average of the evaluated categories and the worst category
  + 20: one very bad category cannot hide behind three good ones.
* **Grades**: A+ = 100 with nothing lost, A ≥ 90, B ≥ 80, C ≥ 65, D ≥ 50, E ≥ 35, F below.
* A **structure**'s category score is its worst target's (one exposed server is enough for an
  attacker), with that target's reasons; its overall score follows the same rule as a target.
* Web: the Observatory score covers the HTTP headers only; the web checks it does not weigh
  (``/.env`` served, directory listing, no HTTPS...) still cost their points on top of it.
* **A+** needs a perfect score with no point lost and no cap: informational notes (0 points,
  e.g. "TLS 1.3 not offered", "no OCSP stapling") do not deny it.

**Caps** (issue 19: grades that cannot lie), in the spirit of Qualys SSL Labs' grade caps and
internet.nl's "must" tests: whatever the points, some findings set the best grade a category,
and the target, can get. Points add up slowly; a single fatal weakness must not hide behind
good points elsewhere. ``CAPS`` is the table (one row per check); on top of it any **critical**
finding caps at **D** and any **high** finding at **B** (never an A). An untrusted, expired,
not-yet-valid, self-signed or mismatched certificate, SSLv2 or SSLv3 caps at **F** rather than a
separate SSL Labs-style "T": the pages, the PDF and the API carry one letter scale, and the cap's
reason (shown beside the grade) already says it is about trust. The score is lowered to the top
of the capped grade's band (an F is at most 34/100), so a score and its letter never disagree.
Every cap applied is listed with its French reason in ``scores["caps"]`` (and per category), and
``carbet scan`` shows it beside the grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carbet.engines import severity as severities
from carbet.engines.exposure import checks
from carbet.engines.exposure.core import Observation, TargetResult

CATEGORIES = checks.CATEGORIES
GRADES = ((90, "A"), (80, "B"), (65, "C"), (50, "D"), (35, "E"))
WORST_MARGIN = 20
# Which evidence key shows a category's probes ran (exposure: the port scan itself).
EVIDENCE_KEYS = {"tls": "tls", "web": "web", "mail": "dns"}
SEVERITY_POINTS = severities.POINTS
# Web checks the Observatory score already weighs (headers, cookies, redirection).
OBSERVATORY_CHECKS = frozenset(
    {"web.hsts.missing", "web.hsts.short", "web.csp.missing", "web.csp.unsafe", "web.xfo.missing",
     "web.xcto.missing", "web.referrer.missing", "web.cookie.insecure", "web.https.no_redirect"}
)  # fmt: skip

# Best to worst; the highest score each letter allows (a capped score never exceeds it).
LETTERS = ("A+", "A", "B", "C", "D", "E", "F")
CEILING = {"A+": 100, "A": 100, "B": 89, "C": 79, "D": 64, "E": 49, "F": 34}


@dataclass(frozen=True)
class Cap:
    check: str
    grade: str  # the best grade allowed while this check fires
    reason_fr: str
    min_severity: int = 0  # only when the occurrence is at least this severe


CAPS: tuple[Cap, ...] = (
    Cap("tls.protocol.ssl2", "F", "SSLv2 accepté (protocole cassé)"),
    Cap("tls.protocol.ssl3", "F", "SSLv3 accepté (protocole cassé, POODLE)"),
    Cap("tls.cert.expired", "F", "certificat expiré : aucune confiance possible"),
    Cap("tls.cert.not_yet_valid", "F", "certificat pas encore valide : aucune confiance possible"),
    Cap("tls.cert.self_signed", "F", "certificat auto-signé : aucune confiance possible"),
    Cap("tls.cert.untrusted", "F", "certificat d'une autorité non reconnue"),
    Cap("tls.cert.hostname_mismatch", "F", "certificat émis pour un autre nom"),
    Cap("tls.cipher.weak", "C", "suites de chiffrement cassées acceptées (RC4, 3DES, export…)"),
    Cap("tls.compression", "C", "compression TLS acceptée (attaque CRIME)"),
    Cap("tls.renegotiation.insecure", "C", "renégociation non sécurisée"),
    Cap(
        "tls.unidentified",
        "C",
        "port chiffré au protocole non identifié : rien n'a pu être vérifié",
    ),
    Cap("tls.protocol.tls10", "B", "TLS 1.0 accepté (protocole obsolète)"),
    Cap("tls.protocol.tls11", "B", "TLS 1.1 accepté (protocole obsolète)"),
    Cap("tls.no_forward_secrecy", "B", "aucune confidentialité persistante", min_severity=3),
    Cap("tls.dh.weak", "B", "échange Diffie-Hellman trop faible (moins de 2048 bits)"),
    Cap("tls.cert.chain_incomplete", "B", "chaîne de certificats incomplète"),
    Cap("tls.cert.sha1_signature", "B", "certificat signé en SHA-1/MD5"),
)
CAPS_BY_CHECK = {cap.check: cap for cap in CAPS}
# Whatever the check: a critical finding never leaves better than D, a high one than B.
SEVERITY_CAPS = {
    4: ("D", "constat critique : la note ne peut dépasser D tant qu'il demeure"),
    3: ("B", "constat de gravité élevée : pas de A tant qu'il demeure"),
}


def worse(first: str, second: str) -> str:
    """The worse of two letters ("" counts as no grade)."""
    if not first or not second:
        return first or second
    return first if LETTERS.index(first) >= LETTERS.index(second) else second


def _entry_severity(entry: dict[str, Any]) -> int:
    """An entry's severity: stored with it, else its check's (raised if its points say so)."""
    if isinstance(entry.get("severity"), int):
        return int(entry["severity"])
    try:
        severity = checks.get(str(entry.get("check"))).severity
    except checks.UnknownCheck:
        return 0
    points = entry.get("points") or 0
    raised = [level for level, cost in SEVERITY_POINTS.items() if cost and points >= cost]
    return max([severity, *raised])


def caps_for(entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The caps ``entries`` (lost entries: check, points, severity) impose, worst first."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for entry in entries:
        check = str(entry.get("check", ""))
        severity = _entry_severity(entry)
        cap = CAPS_BY_CHECK.get(check)
        if cap is not None and severity >= cap.min_severity:
            found.setdefault((check, cap.grade), {"check": check, "grade": cap.grade,
                                                  "reason": cap.reason_fr})  # fmt: skip
        if severity in SEVERITY_CAPS:
            letter, reason = SEVERITY_CAPS[severity]
            found.setdefault((check, letter), {"check": check, "grade": letter, "reason": reason})
    return sorted(found.values(), key=lambda c: (-LETTERS.index(c["grade"]), c["check"]))


def capped(score: int, letter: str, caps: list[dict[str, str]]) -> tuple[int, str]:
    """(score, grade) once ``caps`` apply: the worst letter, the score within its band."""
    for cap in caps:
        if worse(letter, cap["grade"]) != letter:
            letter = cap["grade"]
    return min(score, CEILING[letter]), letter


def grade(score: int | None, lost_anything: bool = True) -> str:
    """The letter for a 0–100 score ("" when not evaluated)."""
    if score is None:
        return ""
    if score >= 100 and not lost_anything:
        return "A+"
    for floor, letter in GRADES:
        if score >= floor:
            return letter
    return "F"


def observation_cost(observation: Observation, lang: str = "fr") -> tuple[str, int, str]:
    """(category, points, title) of one observation. Every observation's check is registered
    (``Observation`` refuses unknown ids), so nothing here guesses a default cost."""
    definition = checks.get(observation.check)
    points = definition.cost()
    if observation.severity is not None and observation.severity > definition.severity:
        points = max(points, SEVERITY_POINTS.get(observation.severity, points))
    return definition.category, points, observation.title or definition.title(lang)


def _observation_severity(observation: Observation) -> int:
    definition = checks.get(observation.check)
    if observation.severity is None:
        return definition.severity
    return severities.clamp(observation.severity)


def category_losses(observations: list[Observation]) -> dict[str, list[dict[str, Any]]]:
    """Per category, the checks that cost points: check, points, title, ports; costliest first."""
    losses: dict[str, dict[str, dict[str, Any]]] = {category: {} for category in CATEGORIES}
    for observation in observations:
        category, points, title = observation_cost(observation)
        entry = losses.setdefault(category, {}).setdefault(
            observation.check,
            {"check": observation.check, "points": 0, "severity": 0, "title": title, "ports": []},
        )
        entry["points"] = max(entry["points"], points)
        entry["severity"] = max(entry["severity"], _observation_severity(observation))
        if observation.port is not None and observation.port not in entry["ports"]:
            entry["ports"].append(observation.port)
    return {
        category: sorted(entries.values(), key=lambda entry: (-entry["points"], entry["check"]))
        for category, entries in losses.items()
    }


def _evaluated(result: TargetResult, category: str, lost: list[dict[str, Any]]) -> bool:
    if lost:
        return True
    if category == "exposure":
        return bool(result.addresses) and "open_ports" in result.evidence
    return bool(result.evidence.get(EVIDENCE_KEYS[category]))


def _observatory(result: TargetResult) -> int | None:
    scores: list[float] = [
        float(value["observatory_score"])
        for value in (result.evidence.get("web") or {}).values()
        if isinstance(value, dict) and isinstance(value.get("observatory_score"), int | float)
    ]
    return max(0, min(100, int(min(scores)))) if scores else None


def reason_text(entry: dict[str, Any]) -> str:
    return f"{entry['title']} (−{entry['points']})"


def _costly(lost: list[dict[str, Any]]) -> bool:
    return any(entry.get("points") for entry in lost)


def _category(score: int | None, lost: list[dict[str, Any]]) -> dict[str, Any]:
    caps = caps_for(lost) if score is not None else []
    letter = grade(score, _costly(lost) or bool(caps))
    if score is not None and caps:
        score, letter = capped(score, letter, caps)
    return {
        "score": score,
        "grade": letter,
        "reasons": [reason_text(entry) for entry in lost if entry["points"]],
        "lost": lost,
        "caps": caps,
    }


def overall(categories: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Overall score and grade of evaluated categories, with every category's caps applied
    (from their ``lost`` entries: a stored structure re-aggregated later is capped the same)."""
    evaluated = [value for value in categories.values() if value.get("score") is not None]
    numbers = [int(value["score"]) for value in evaluated]
    if not numbers:
        return {"score": None, "grade": "", "caps": []}
    score = min(round(sum(numbers) / len(numbers)), min(numbers) + WORST_MARGIN)
    lost = [entry for value in evaluated for entry in value.get("lost") or []]
    caps = caps_for(lost)
    letter = grade(score, _costly(lost) or bool(caps))
    if caps:
        score, letter = capped(score, letter, caps)
    return {"score": score, "grade": letter, "caps": caps}


def target_scores(result: TargetResult) -> dict[str, Any]:
    """``{"categories": {category: {score, grade, reasons, lost}}, "score", "grade"}``."""
    losses = category_losses(result.observations)
    categories: dict[str, dict[str, Any]] = {}
    for category in CATEGORIES:
        lost = losses.get(category, [])
        if not _evaluated(result, category, lost):
            categories[category] = _category(None, [])
            continue
        score = max(0, 100 - sum(entry["points"] for entry in lost))
        if category == "web":
            observatory = _observatory(result)
            if observatory is not None:  # headers by the Observatory, the rest by points
                others = sum(e["points"] for e in lost if e["check"] not in OBSERVATORY_CHECKS)
                score = max(0, observatory - others)
        categories[category] = _category(score, lost)
    return {"categories": categories, **overall(categories)}


def score_target(result: TargetResult) -> dict[str, Any]:
    """Compute and store ``result.scores``."""
    result.scores = target_scores(result)
    return result.scores


def structure_scores(results: list[TargetResult]) -> dict[str, Any]:
    """A structure's scores from its targets' results: worst target per category."""
    categories: dict[str, dict[str, Any]] = {}
    for category in CATEGORIES:
        worst: tuple[dict[str, Any], str] | None = None
        for result in results:
            value = (result.scores or score_target(result))["categories"][category]
            if value["score"] is None:
                continue
            if worst is None or value["score"] < worst[0]["score"]:
                worst = (value, result.target)
        if worst is None:
            categories[category] = _category(None, [])
            continue
        value, target = worst
        lost = [{**entry, "target": target} for entry in value["lost"]]
        categories[category] = {
            **_category(value["score"], lost),
            "reasons": [f"{target} : {reason}" for reason in value["reasons"]],
            "target": target,
        }
    return {"categories": categories, **overall(categories)}
