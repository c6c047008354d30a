"""The connections the scope policy refused, told to a person (plain French, through gettext).

The engine records each refusal as data (``carbet.engines.netpolicy.Refusal.as_dict``); the
pages turn it into a sentence a director understands: which address was not contacted, how the
scan came to it, and why that address is out of bounds.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def _reasons() -> dict[str, str]:
    return {
        "invalid": _("adresse illisible"),
        "loopback": _("adresse de bouclage (la machine qui analyse elle-même)"),
        "private": _("adresse privée (réseau interne, pas internet)"),
        "link_local": _("adresse locale au lien (réseau interne)"),
        "shared": _("adresse partagée d'opérateur (CGNAT, pas internet)"),
        "multicast": _("adresse de diffusion (multicast)"),
        "reserved": _("adresse réservée, non routée sur internet"),
        "centre": _("réseau du centre lui-même"),
        "other_structure": _("adresse déclarée par une autre structure"),
        "outside_scope": _("adresse hors du périmètre prouvé de la structure"),
        "name_other_structure": _("nom déclaré par une autre structure"),
    }


def _via() -> dict[str, str]:
    return {
        "name": _("nom"),
        "mx": _("serveur de messagerie"),
        "cname": _("alias DNS"),
        "redirect": _("redirection"),
        "ns": _("serveur DNS"),
    }


def message(record: dict[str, Any]) -> str:
    """« Carbet n'a pas contacté 10.0.0.5 (serveur de messagerie mail.example) : adresse
    privée (réseau interne, pas internet) »."""
    address = str(record.get("address") or "")
    port = record.get("port")
    where = f"{address}:{port}" if port else address
    via, name = str(record.get("via") or ""), str(record.get("name") or "")
    reason = str(record.get("reason") or "")
    text = _reasons().get(reason, reason)
    if via and name:
        return _("Carbet n'a pas contacté %(where)s (%(via)s %(name)s) : %(reason)s") % {
            "where": where,
            "via": _via().get(via, via),
            "name": name,
            "reason": text,
        }
    return _("Carbet n'a pas contacté %(where)s : %(reason)s") % {"where": where, "reason": text}


def messages(records: Any) -> list[str]:
    return [message(record) for record in records or [] if isinstance(record, dict)]
