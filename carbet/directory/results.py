"""The stored form of an analysis: one JSON document per audit, the same for every origin
(online collection, uploaded snapshot, PingCastle import) so the score history is one."""

from __future__ import annotations

from typing import Any

CATEGORY_KEYS = ("stale_objects", "privileged_accounts", "trusts", "anomalies")
# Affected objects kept per rule in the stored result; the page pages through them.
MAX_OBJECTS = 5000


def _get(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, dict):
        return item.get(name, default)
    return getattr(item, name, default)


def finding_to_dict(item: Any) -> dict[str, Any]:
    objects = [str(o) for o in (_get(item, "objects") or [])]
    excepted = [str(o) for o in (_get(item, "excepted_objects") or [])]
    total = _get(item, "objects_total") or len(objects)
    points = int(_get(item, "points") or 0)
    return {
        "rule": str(_get(item, "rule", "")),
        "anssi": str(_get(item, "anssi") or ""),
        "level": _get(item, "level"),
        "category": str(_get(item, "category", "")),
        "points": points,
        "severity": int(_get(item, "severity") or 0),
        "title": str(_get(item, "title_fr") or _get(item, "title") or ""),
        "title_en": str(_get(item, "title_en") or ""),
        "description": str(_get(item, "description_fr") or _get(item, "description") or ""),
        "remediation": str(_get(item, "remediation_fr") or _get(item, "remediation") or ""),
        "command": str(_get(item, "command") or ""),
        "objects": objects[:MAX_OBJECTS],
        "objects_total": int(total),
        "excepted_objects": excepted[:MAX_OBJECTS],
        "exploitable_now": bool(_get(item, "exploitable_now")),
        # Every affected object is under an exception: shown, but costs nothing.
        "fully_excepted": bool(excepted) and not objects,
    }


def result_to_dict(result: Any) -> dict[str, Any]:
    scores = dict(_get(result, "scores") or _get(result, "score") or {})
    not_evaluated = []
    for entry in _get(result, "not_evaluated") or []:
        if isinstance(entry, tuple | list) and len(entry) == 2:
            not_evaluated.append({"rule": str(entry[0]), "reason": str(entry[1])})
        else:
            not_evaluated.append(
                {"rule": str(_get(entry, "rule", entry)), "reason": str(_get(entry, "reason", ""))}
            )
    return {
        "domain": str(_get(result, "domain") or ""),
        "anssi_level": _get(result, "anssi_level"),
        "score": {key: scores.get(key) for key in ("global", *CATEGORY_KEYS)},
        "findings": [finding_to_dict(f) for f in _get(result, "findings") or []],
        "not_evaluated": not_evaluated,
        # What the collection could not read: the result is then partial, and said so.
        "gaps": [str(g) for g in (_get(result, "gaps") or [])][:200],
        # False when unevaluated rules could have failed below the computed level.
        "anssi_level_complete": bool(_get(result, "anssi_level_complete", True)),
        "anssi_level_without_exceptions": _get(result, "anssi_level_without_exceptions"),
    }
