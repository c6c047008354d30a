"""Template filters turning stored codes into the words people read."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language, gettext_lazy

from carbet.audit.presentation import action_label

register = template.Library()


@register.filter
def audit_action(code: str) -> str:
    """``{{ entry.action|audit_action }}``: "report.download" → "Rapport téléchargé"."""
    return action_label(str(code or ""))


BOT_REASONS = {
    "too_fast": gettext_lazy("clic trop rapide après la remise du message"),
    "scanner_network": gettext_lazy("adresse d'un filtre de messagerie"),
    "scanner_agent": gettext_lazy("logiciel d'analyse automatique"),
    "no_follow_up": gettext_lazy("aucune suite après le clic"),
    "no_beacon": gettext_lazy("page jamais affichée par un navigateur"),
}


@register.filter
def bot_reasons(codes: Any) -> str:
    """Why a click was put down to a robot, in words (``too_fast`` → "clic trop rapide…")."""
    if not isinstance(codes, list | tuple):
        return ""
    return ", ".join(str(BOT_REASONS.get(str(c), str(c).replace("_", " "))) for c in codes)


@register.filter
def ad_rule(rule_id: str) -> str:
    """The title of a directory rule, in the interface's language (the id if unknown)."""
    from carbet.engines.directory.rules import registry

    try:
        found = registry.get(str(rule_id))
    except KeyError:
        return str(rule_id).replace("_", " ")
    english = (get_language() or "").startswith("en")
    return found.title_en if english and found.title_en else found.title_fr


@register.filter
def in_language(item: Any, name: str) -> Any:
    """``{{ check|in_language:"title" }}``: ``title_en`` when the interface is English and it
    exists, ``title`` otherwise (mappings and objects alike)."""
    english = (get_language() or "").startswith("en")

    def pick(key: str) -> Any:
        if isinstance(item, dict):
            return item.get(key)
        return getattr(item, key, None)

    if english:
        value = pick(f"{name}_en")
        if value:
            return value
    value = pick(name)
    return value if value is not None else pick(f"{name}_fr") or ""


@register.filter
def amount(value: Any, decimals: int = 0) -> str:
    """A number in the interface's language, grouped by thousands: "12 345" and "1,5" in
    French, "12,345" and "1.5" in English (``USE_THOUSAND_SEPARATOR`` stays off, so that ids
    written into links are never split)."""
    from django.utils.formats import number_format

    if value is None or value == "":
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    places = 0 if number.is_integer() and not decimals else int(decimals or 1)
    return number_format(number, places, force_grouping=True)


@register.filter
def ad_title(item: Any) -> str:
    """A directory finding's title: the stored French one, or the rule's English title when
    the interface is English (the rule registry carries both)."""
    stored = item.get("title", "") if isinstance(item, dict) else getattr(item, "title", "")
    if not (get_language() or "").startswith("en"):
        return stored
    rule_id = item.get("rule") if isinstance(item, dict) else getattr(item, "rule", None)
    english = ad_rule(rule_id) if rule_id else ""
    return english if english and english != str(rule_id).replace("_", " ") else stored
