"""Where each person lands after logging in, and what a structure's people must sign.

Each role lands on its security view, not on the registry: a structure's people on their
structure's dashboard (score, what to fix first, what to sign) or, when they cover several,
on the short list of their structures with each one's score; centre staff on the regional
dashboard; the ARS on the regional indicators. The figures come from the findings posture
selectors (one computation for every page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from carbet.accounts.roles import Perm
from carbet.core.models import Structure
from carbet.core.tenancy import can, grants


def _url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # that service's pages are not installed here
        return None


def landing_url(user: Any) -> str | None:
    """The page ``user`` should see first, or ``None`` when they may see nothing."""
    centre_staff = can(user, Perm.REGION_VIEW) and grants(user, Perm.FINDINGS_DETAIL).everything
    if centre_staff:
        return _url("findings:dashboard") or _url("core:region")
    if can(user, Perm.FINDINGS_DETAIL):
        # findings:dashboard shows one structure's dashboard or the chooser of several.
        return _url("findings:dashboard")
    if can(user, Perm.REGION_VIEW):
        return _url("core:region")
    if can(user, Perm.STRUCTURE_VIEW):
        mine = list(Structure.objects.visible_to(user).only("pk")[:2])
        if len(mine) == 1:
            return reverse("core:structure", args=[mine[0].pk])
        return reverse("core:my_structures")
    if can(user, Perm.REGION_AGGREGATES):
        return _url("findings:ars_dashboard") or reverse("web:aggregates")
    return None


@dataclass(frozen=True)
class ToSign:
    """One thing waiting for the director's signature."""

    title: str
    why: str
    url: str | None
    level: str = "warn"


def to_sign(user: Any, structure: Structure, today: date | None = None) -> list[ToSign]:
    """Risk acceptances awaiting signature and the mandate to sign or renew, for someone who
    may sign them (a director); empty for everyone else."""
    from carbet.core.selectors import EXPIRING_DAYS, valid_mandates

    today = today or timezone.localdate()
    items: list[ToSign] = []
    if can(user, Perm.ACCEPTANCE_SIGN, structure):
        from carbet.findings.models import RiskAcceptance
        from carbet.findings.models.acceptance import RiskAcceptanceStatus

        waiting = (
            RiskAcceptance.objects.visible_to(user, Perm.FINDINGS_DETAIL)
            .filter(structure=structure, status=RiskAcceptanceStatus.REQUESTED)
            .count()
        )
        if waiting:
            url = _url("findings:acceptance_list")
            items.append(
                ToSign(
                    ngettext(
                        "%(n)d acceptation de risque attend votre signature",
                        "%(n)d acceptations de risque attendent votre signature",
                        waiting,
                    )
                    % {"n": waiting},
                    _(
                        "Votre référent propose de vivre avec un risque qu'il ne peut pas "
                        "corriger tout de suite : c'est à la direction de l'accepter ou non."
                    ),
                    f"{url}?structure={structure.pk}" if url else None,
                    "danger",
                )
            )
    if can(user, Perm.MANDATE_EDIT, structure) and not grants(user, Perm.MANDATE_EDIT).everything:
        until = (
            valid_mandates(today)
            .filter(structure=structure)
            .order_by("-valid_until")
            .values_list("valid_until", flat=True)
            .first()
        )
        if until is None or (until - today).days <= EXPIRING_DAYS:
            items.append(
                ToSign(
                    _("Signer le mandat du centre")
                    if until is None
                    else _("Renouveler le mandat du centre"),
                    _(
                        "Sans mandat en vigueur, le centre n'a pas le droit d'analyser vos "
                        "actifs ni de mener d'exercice."
                    ),
                    _url("core:mandate_add", structure.pk),
                    "danger" if until is None else "warn",
                )
            )
    return items
