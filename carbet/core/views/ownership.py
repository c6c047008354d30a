"""Proving that an asset is the structure's own, and the centre's review and conflict queue.

A structure sees how to prove its names (the DNS record or web file to publish) and the state
of each asset; when another structure declared the same thing it learns *that* there is a
conflict, never *who*. The centre reviews addresses, decides conflicts, and sees the queue.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core import ownership
from carbet.core.access import owned_for
from carbet.core.models import Asset
from carbet.core.tenancy import can


def _to_asset(asset: Asset):
    return redirect(reverse("core:asset_ownership", args=[asset.pk]))


@login_required
def asset_ownership(request, pk: int):
    asset = owned_for(request.user, Asset, pk, Perm.ASSET_VIEW)
    is_centre = can(request.user, Perm.ASSET_PROVE, asset.structure)
    context = {
        "asset": asset,
        "structure": asset.structure,
        "instructions": ownership.instructions(asset)
        if can(request.user, Perm.ASSET_EDIT, asset.structure)
        else None,
        "can_verify": can(request.user, Perm.ASSET_EDIT, asset.structure),
        "can_review": is_centre,
        # Who else claims it is the centre's to know: a structure only learns that someone does.
        "rivals": ownership.rivals(asset) if is_centre else None,
        "refusal": ownership.refusal(asset),
    }
    return render(request, "core/asset_ownership.html", context)


@login_required
@require_POST
def asset_verify(request, pk: int):
    asset = owned_for(request.user, Asset, pk, Perm.ASSET_EDIT)
    outcome = ownership.verify(request.user, asset, ip=client_ip(request))
    (messages.success if outcome.proven else messages.error)(request, outcome.message)
    return _to_asset(asset)


@login_required
@require_POST
def asset_review(request, pk: int):
    asset = owned_for(request.user, Asset, pk, Perm.ASSET_PROVE)
    try:
        ownership.record_review(
            request.user, asset, request.POST.get("note", ""), ip=client_ip(request)
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(
            request, _("La propriété de « %(value)s » est reconnue.") % {"value": asset.value}
        )
    return _to_asset(asset)


@login_required
@require_POST
def asset_resolve(request, pk: int):
    asset = owned_for(request.user, Asset, pk, Perm.ASSET_PROVE)
    try:
        ownership.resolve_conflict(
            request.user,
            asset,
            request.POST.get("decision", ""),
            request.POST.get("note", ""),
            ip=client_ip(request),
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        done = _("Le conflit sur « %(value)s » est tranché.") % {"value": asset.value}
        messages.success(request, done)
    return _to_asset(asset)


@login_required
def conflicts(request):
    """The centre's queue: every asset two structures declare, and addresses awaiting review."""
    if not can(request.user, Perm.ASSET_PROVE):
        raise PermissionDenied
    visible = Asset.objects.visible_to(request.user, Perm.ASSET_PROVE)
    in_conflict = list(
        visible.filter(in_conflict=True).select_related("structure").order_by("value")
    )
    to_review = list(
        visible.filter(
            kind__in=ownership.ADDRESS_KINDS,
            proven_at__isnull=True,
            in_conflict=False,
            rejected=False,
            internet_exposed=True,
        )
        .select_related("structure")
        .order_by("structure__name", "value")[:500]
    )
    return render(
        request,
        "core/ownership_queue.html",
        {"in_conflict": in_conflict, "to_review": to_review},
    )
