"""Which server a directory connection may name, and the policy its collection is held to.

The bind password of a connection must never go to a server the structure has not proven is
its own (issue: "the AD audit connects to any server typed"). Two checks:

* **when a connection is saved** (``save_refusal``): the server is an address among the
  structure's proven address assets, or a name that is one of its proven names or lies under
  its proven Active Directory domain and resolves, now, to such an address;
* **when the collector connects** (``collect_policy``, applied by the engine): the name is
  resolved once more and the socket goes only to an address the policy allows — a row forged
  without the form, or a DNS answer that changed since, reaches nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from carbet.core import ownership
from carbet.core.choices import AssetKind
from carbet.core.models import Structure
from carbet.engines import netpolicy
from carbet.engines.directory import collector_connect


def nameserver() -> str | None:
    """The platform's resolver (the one every platform scan uses), or the system's."""
    return settings.CARBET_EXPOSURE_NAMESERVER or None


def collect_policy(structure: Structure) -> netpolicy.ConnectPolicy:
    """Built right before a collection: only the structure's proven, unclaimed addresses."""
    return ownership.connect_policy(structure, allowed=ownership.proven_addresses(structure))


def split(server: str, port: int | None) -> tuple[str, int]:
    """(host, port) of a typed server ("dc1", "dc1:636", "[::1]:636"); ValidationError if bad."""
    try:
        host, found = collector_connect.split_server(server, port)
    except collector_connect.CollectError:
        raise ValidationError(
            {"server": _("Indiquez un nom ou une adresse de serveur lisible (ex. dc1.exemple.fr).")}
        ) from None
    return host.rstrip(".").lower(), found or 636


def _address_message(address: str, reason: str) -> str:
    if reason == "outside_scope":
        return _(
            "L'adresse %(address)s n'est pas une adresse prouvée de cette structure : le mot de "
            "passe du compte de lecture n'irait pas à un serveur dont elle a prouvé la "
            "propriété. Déclarez d'abord cette adresse comme actif de la structure et faites-la "
            "vérifier par le centre (fiche de l'actif), puis enregistrez de nouveau."
        ) % {"address": address}
    if reason == "private" or reason == "link_local" or reason == "shared":
        return _(
            "L'adresse %(address)s est sur un réseau interne et n'est pas une adresse prouvée "
            "de cette structure : la plateforme ne se connecte à un réseau interne que vers "
            "une adresse que le centre a vérifiée (déclarez-la comme actif non exposé sur "
            "internet et faites-la vérifier). Sinon, faites la collecte sur place avec "
            "« carbet ad collect » et déposez l'instantané."
        ) % {"address": address}
    return _("La plateforme refuse de se connecter à %(address)s : %(reason)s.") % {
        "address": address,
        "reason": netpolicy.REASONS.get(reason, reason),
    }


def is_address(host: str) -> bool:
    return collector_connect.ip_literal(host) is not None


def name_covered(structure: Structure, host: str) -> bool:
    """A proven name of the structure, or a name under its proven Active Directory domain."""
    names = {name.lower() for name in ownership.proven_names(structure)}
    domains = [name.lower() for name in ownership.proven_names(structure, (AssetKind.AD_DOMAIN,))]
    return host in names or ownership.name_is_covered(host, domains)


def name_refusal(structure: Structure, host: str) -> str | None:
    """Why a server name is outside the structure's proven names (French), or None."""
    if collector_connect.ip_literal(host) is not None or name_covered(structure, host):
        return None
    return _(
        "Le serveur « %(host)s » n'est ni un nom prouvé de cette structure ni un nom sous son "
        "domaine Active Directory prouvé. Prouvez d'abord le domaine Active Directory (fiche de "
        "l'actif : enregistrement DNS ou revue du centre) ou indiquez l'adresse prouvée du "
        "contrôleur de domaine, puis enregistrez de nouveau."
    ) % {"host": host}


def save_refusal(structure: Structure, server: str, port: int | None) -> str | None:
    """Why this server may not be saved on a connection of ``structure`` (French), or None.

    A name is resolved now (through the platform's resolver): at least one of its addresses
    must be a proven address of the structure. The collection checks again at connect time.
    """
    host, port = split(server, port)
    literal = collector_connect.ip_literal(host)
    policy = collect_policy(structure)
    if literal is not None:
        reason = policy.address_refusal(literal)
        return _address_message(literal, reason) if reason else None
    refused = name_refusal(structure, host)
    if refused:
        return refused
    choice = collector_connect.choose(host, port, policy, nameserver=nameserver())
    if choice.address is not None:
        return None
    if choice.problem:
        return _(
            "Le nom « %(host)s » ne correspond à aucune adresse pour le centre (%(problem)s) : "
            "vérifiez le nom, ou indiquez l'adresse prouvée du contrôleur de domaine."
        ) % {"host": host, "problem": choice.problem}
    first = choice.refusals[0]
    return _(
        "Le nom « %(host)s » désigne %(addresses)s, qui n'est pas une adresse prouvée de cette "
        "structure. %(why)s"
    ) % {
        "host": host,
        "addresses": ", ".join(choice.resolved[:4]),
        "why": _address_message(first.address, first.reason),
    }
