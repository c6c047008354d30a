"""The mandate gate: no service touches a structure's asset or staff without a signed mandate.

Every service that acts on a structure (exposure scans, directory audits, phishing simulations,
exercises) calls ``require_mandate`` — or ``check`` when it only needs to know — before doing
anything.
The rule: an ACTIVE mandate of that structure, valid on that day, covers the service; and for
an asset, the asset belongs to the structure, its ownership is **proven** and claimed by no
other structure (``carbet.core.ownership``: the structure's own word is not proof), and it lies
in the mandate's scope (all proven assets, or the assets listed on the mandate).

This decides *which assets* a service may start from. What the engines then connect to (the
addresses a name resolves to, MX hosts, redirects) is checked again at connect time against
``carbet.core.ownership.connect_policy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core import ownership
from carbet.core.choices import MandateStatus, mandate_kind_label, mandate_kinds
from carbet.core.models import Asset, Mandate, Structure
from carbet.core.tenancy import SYSTEM, Actor


@dataclass(frozen=True)
class MandateDecision:
    """Whether a service may act, under which mandate, and why (in French, for a person)."""

    allowed: bool
    mandate: Mandate | None
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


class MandateRefused(PermissionError):
    """Raised by ``require_mandate`` when no mandate allows the action; carries the decision."""

    def __init__(self, decision: MandateDecision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


def _refuse(reason: str, mandate: Mandate | None = None) -> MandateDecision:
    return MandateDecision(False, mandate, reason)


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _no_mandate_in_force(covering: list[Mandate], label: str, day: date) -> MandateDecision:
    """Explain why none of the mandates covering the service is in force on ``day``."""
    if not covering:
        return _refuse(
            _("Aucun mandat signé de cette structure ne couvre le service « %(service)s ».")
            % {"service": label}
        )
    active = [m for m in covering if m.status == MandateStatus.ACTIVE]
    upcoming = sorted((m for m in active if m.valid_from > day), key=lambda m: m.valid_from)
    if upcoming:
        return _refuse(
            _("Le mandat n'est pas encore en vigueur : il prend effet le %(day)s.")
            % {"day": _day(upcoming[0].valid_from)},
            upcoming[0],
        )
    expired = sorted((m for m in active if m.valid_until < day), key=lambda m: m.valid_until)
    if expired:
        return _refuse(
            _("Le mandat a expiré le %(day)s : faites signer un nouveau mandat.")
            % {"day": _day(expired[-1].valid_until)},
            expired[-1],
        )
    return _refuse(
        _("Le mandat couvrant « %(service)s » a été révoqué.") % {"service": label},
        covering[0],
    )


def check(
    structure: Structure,
    service: str,
    asset: Asset | None = None,
    at: date | None = None,
) -> MandateDecision:
    """Decide whether ``service`` (a mandate kind) may act on ``structure`` (and ``asset``)."""
    if service not in {code for code, _label in mandate_kinds()}:
        raise ValueError(f"unknown mandate kind {service!r}")
    label = mandate_kind_label(service)
    day = at or timezone.localdate()
    if asset is not None:
        if asset.structure_id != structure.pk:
            return _refuse(_("Cet actif n'appartient pas à cette structure."))
        ownership_refusal = ownership.refusal(asset)
        if ownership_refusal is not None:
            return _refuse(ownership_refusal)
    mandates = list(
        Mandate.objects.visible_to(SYSTEM)
        .filter(structure_id=structure.pk)
        .order_by("-valid_until", "-pk")
    )
    if not mandates:
        return _refuse(_("Aucun mandat signé n'est enregistré pour cette structure."))
    covering = [m for m in mandates if m.covers(service)]
    in_force = [m for m in covering if m.is_valid_on(day)]
    if not in_force:
        if covering or not any(m.is_valid_on(day) for m in mandates):
            return _no_mandate_in_force(covering, label, day)
        return _refuse(
            _("Le mandat en vigueur ne couvre pas le service « %(service)s ».") % {"service": label}
        )
    if asset is None:
        return MandateDecision(True, in_force[0], _("Autorisé par le mandat en vigueur."))
    for mandate in in_force:
        if mandate.all_assets or mandate.assets.filter(pk=asset.pk).exists():
            return MandateDecision(True, mandate, _("Autorisé par le mandat en vigueur."))
    return _refuse(
        _("L'actif « %(value)s » n'est pas dans le périmètre du mandat en vigueur.")
        % {"value": asset.value},
        in_force[0],
    )


def require_mandate(
    actor: Actor,
    structure: Structure,
    service: str,
    asset: Asset | None = None,
    at: date | None = None,
    ip: str | None = None,
) -> Mandate:
    """The mandate allowing the action, or ``MandateRefused`` after auditing the refusal.

    The refusal is written to the audit trail (``mandate.refused``) in its own transaction
    step; call this before opening a transaction that the exception would roll back.
    """
    decision = check(structure, service, asset, at)
    if decision.allowed and decision.mandate is not None:
        return decision.mandate
    audit.record(
        actor,
        "mandate.refused",
        asset if asset is not None else structure,
        structure=structure,
        changes={
            "service": str(service),
            "asset": asset.value if asset is not None else None,
            "day": (at or timezone.localdate()).isoformat(),
            "mandate": decision.mandate.pk if decision.mandate else None,
            "reason": decision.reason,
        },
        ip=ip,
    )
    raise MandateRefused(decision)
