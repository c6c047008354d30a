"""Mandates through the API: the signed authorisations that let the centre act for a structure.

A mandate is recorded with its signed document (multipart upload); the document's SHA-256 is
kept and shown, the file itself is downloaded only through an audited route and its storage
path is never exposed. IT providers do not see mandates (the roles matrix says so).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from carbet.accounts.roles import Perm
from carbet.api.auth import actor
from carbet.api.errors import ApiError, refuse_bodies_larger_than
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import MandateIn, MandateOut, ObjectId, RevokeIn
from carbet.audit import services as audit
from carbet.core import access, services, uploads
from carbet.core.choices import MandateStatus, mandate_kinds
from carbet.core.models import Asset, Mandate
from carbet.core.selectors import EXPIRING_DAYS

router = Router(tags=["mandats"])

MANDATE_STATES = ("active", "expiring", "expired", "future", "revoked")


def state_filter(state: str, today: dt.date) -> Q:
    """The rows whose ``services.mandate_state`` is ``state`` on ``today``, as a query."""
    in_force = Q(status=MandateStatus.ACTIVE)
    soon = today + dt.timedelta(days=EXPIRING_DAYS)
    started = Q(valid_from__lte=today)
    conditions = {
        "revoked": Q(status=MandateStatus.REVOKED),
        "future": in_force & Q(valid_from__gt=today),
        "expired": in_force & started & Q(valid_until__lt=today),
        "expiring": in_force & started & Q(valid_until__gte=today, valid_until__lte=soon),
        "active": in_force & started & Q(valid_until__gt=soon),
    }
    return conditions[state]


class MandateFilters(Schema):
    structure: ObjectId | None = None
    state: str | None = None


def _mandates(request: HttpRequest):
    return (
        Mandate.objects.visible_to(actor(request), Perm.MANDATE_VIEW)
        .select_related("structure__organisation")
        .prefetch_related("assets")
    )


def _visible_mandate(request: HttpRequest, pk: int) -> Mandate:
    return get_object_or_404(_mandates(request), pk=pk)


def mandate_out(mandate: Mandate) -> dict[str, Any]:
    """The response of one mandate: never the document's storage path."""
    return {
        "id": mandate.pk,
        "structure": mandate.structure,
        "reference": mandate.reference,
        "services": [str(s) for s in mandate.services],
        "scope": {
            "all_assets": mandate.all_assets,
            "assets": [] if mandate.all_assets else list(mandate.assets.all()),
        },
        "validity": {
            "signed_on": mandate.signed_on,
            "valid_from": mandate.valid_from,
            "valid_until": mandate.valid_until,
        },
        "signed_by_name": mandate.signed_by_name,
        "signed_by_title": mandate.signed_by_title,
        "status": mandate.status,
        "status_reason": mandate.status_reason,
        "state": services.mandate_state(mandate),
        "document_name": mandate.document_name,
        "document_sha256": mandate.document_sha256,
        "recorded_at": mandate.recorded_at,
    }


@router.get("/mandates", response=Page[MandateOut], summary="Mandats visibles")
def list_mandates(
    request: HttpRequest, filters: Query[MandateFilters], page: Query[PageQuery]
) -> dict:
    access.require(actor(request), Perm.MANDATE_VIEW)
    mandates = _mandates(request)
    if filters.structure:
        mandates = mandates.filter(structure_id=filters.structure)
    if filters.state:
        if filters.state not in MANDATE_STATES:
            raise ApiError(
                422,
                details={
                    "state": [
                        _("Valeur non autorisée ; valeurs possibles : %(expected)s.")
                        % {"expected": ", ".join(MANDATE_STATES)}
                    ]
                },
            )
        mandates = mandates.filter(state_filter(filters.state, timezone.localdate()))
    listing = paginate(request, mandates, page, ("-valid_until",))
    listing["results"] = [mandate_out(m) for m in listing["results"]]
    return listing


@router.get("/mandates/{int:id}", response=MandateOut, summary="Un mandat")
def mandate_detail(request: HttpRequest, id: int) -> dict:
    return mandate_out(_visible_mandate(request, id))


# The document may be up to CARBET_MAX_UPLOAD_BYTES; the form fields and multipart framing
# around it are small.
_FORM_OVERHEAD_BYTES = 64 * 1024


def _largest_mandate_request() -> int:
    return settings.CARBET_MAX_UPLOAD_BYTES + _FORM_OVERHEAD_BYTES


@router.post(
    "/structures/{int:id}/mandates",
    response={201: MandateOut},
    summary="Enregistrer un mandat signé (champs de formulaire + document PDF)",
)
@decorate_view(refuse_bodies_larger_than(_largest_mandate_request))
def create_mandate(
    request: HttpRequest,
    id: int,
    data: Form[MandateIn],
    document: File[UploadedFile],
) -> Status:
    user = actor(request)
    structure = access.structure_for(user, id, Perm.MANDATE_EDIT)
    if document.size is not None and document.size > settings.CARBET_MAX_UPLOAD_BYTES:
        raise ApiError(
            413,
            _("Le document dépasse la taille maximale de %(mb)s Mo.")
            % {"mb": settings.CARBET_MAX_UPLOAD_BYTES // (1024 * 1024)},
        )
    values = data.model_dump()
    services_chosen = set(values.pop("services"))
    asset_ids = set(values.pop("assets"))
    chosen = list(
        Asset.objects.visible_to(user, Perm.ASSET_VIEW).filter(
            structure=structure, pk__in=asset_ids
        )
    )
    if len(chosen) != len(asset_ids):
        raise ApiError(
            422, details={"assets": [_("Un actif choisi n'appartient pas à cette structure.")]}
        )
    kinds = [code for code, _label in mandate_kinds() if code in services_chosen]
    mandate = Mandate(structure=structure, services=kinds, **values)
    services.record_mandate(user, mandate, document, chosen, ip=audit.client_ip(request))
    return Status(201, mandate_out(mandate))


@router.post("/mandates/{int:id}/revoke", response=MandateOut, summary="Révoquer un mandat")
def revoke_mandate(request: HttpRequest, id: int, payload: RevokeIn) -> dict:
    user = actor(request)
    mandate = _visible_mandate(request, id)
    access.require(user, Perm.MANDATE_REVOKE, mandate.structure)
    if mandate.status == MandateStatus.REVOKED:
        raise ApiError(409, _("Ce mandat est déjà révoqué."))
    services.revoke_mandate(user, mandate, payload.reason, ip=audit.client_ip(request))
    return mandate_out(mandate)


@router.get(
    "/mandates/{int:id}/document",
    response={200: None},
    summary="Télécharger le document signé (consultation journalisée)",
)
def mandate_document(request: HttpRequest, id: int) -> FileResponse:
    user = actor(request)
    mandate = _visible_mandate(request, id)
    try:
        handle = uploads.open_upload(mandate.document.name)
    except (FileNotFoundError, ValueError) as exc:
        raise ApiError(404, _("Le document de ce mandat n'est plus disponible.")) from exc
    audit.record(
        user,
        "mandate.download",
        mandate,
        changes={"document_sha256": mandate.document_sha256},
        ip=audit.client_ip(request),
    )
    return FileResponse(handle, as_attachment=True, filename=mandate.document_name or "mandat.pdf")
