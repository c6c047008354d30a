"""The community events through the API: the events a person may see (those targeted at one of
their structures; the centre sees them all), registering for one of their structures,
cancelling, and the centre's list of registrations per event.

An event that is not for the caller is a 404, like one that does not exist; another
structure's registration too. Writes call the services, which check the rights (403), the
rules (422: closed, full is not an error but the waiting list, already registered) and audit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from carbet.api.auth import actor
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema, ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.community import selectors_events as selectors
from carbet.community import services_events as services
from carbet.community.choices import EventKind, EventStatus, RegistrationStatus
from carbet.community.models import Event, Registration
from carbet.community.service import CommunityPerm
from carbet.core import access
from carbet.core.tenancy import can

router = Router(tags=["communauté : agenda"])
API_PREFIX = "/community/events"


class CommunityEventRegistrationOut(Schema):
    id: int
    event_id: int
    structure: StructureRef
    status: RegistrationStatus = Field(description="registered, waitlist ou cancelled.")
    created_at: dt.datetime
    updated_at: dt.datetime


class CommunityEventOut(Schema):
    id: int
    title: str
    kind: EventKind = Field(description="training, webinar, exercise ou meeting.")
    status: EventStatus = Field(description="scheduled ou cancelled.")
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    capacity: int = Field(description="0 : sans limite.")
    places_left: int | None = Field(description="Vide : sans limite.")
    registration_closes_at: dt.datetime | None
    sequence: int = Field(description="Augmente à chaque modification (SEQUENCE iCalendar).")
    my_registration: CommunityEventRegistrationOut | None = Field(
        description="Votre inscription (vide : aucune, ou annulée)."
    )


class CommunityEventDetailOut(CommunityEventOut):
    description: str = Field(description="Programme, en Markdown.")
    online_url: str = Field(description="Lien de connexion : donné aux inscrits et au centre.")
    registrable_structures: list[StructureRef] = Field(
        description="Vos structures pour lesquelles vous pouvez vous inscrire."
    )


class CommunityEventRegisterIn(InputSchema):
    structure: ObjectId


class CommunityEventPersonOut(Schema):
    id: int
    name: str
    email: str
    status: RegistrationStatus
    created_at: dt.datetime


class CommunityEventStructureOut(Schema):
    structure: StructureRef
    registrations: list[CommunityEventPersonOut]


class CommunityEventFilter(Schema):
    past: bool = Field(False, description="Vrai : aussi les événements terminés.")


def _registration_out(row: Registration | None) -> dict[str, Any] | None:
    if row is None or row.status == RegistrationStatus.CANCELLED:
        return None
    return {
        "id": row.pk,
        "event_id": row.event_id,
        "structure": row.structure,
        "status": row.status,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _event_out(event: Event, mine: Registration | None) -> dict[str, Any]:
    return {
        **{
            name: getattr(event, name)
            for name in CommunityEventOut.model_fields
            if hasattr(event, name)
        },
        "places_left": selectors.places(event).left,
        "my_registration": _registration_out(mine),
    }


def _detail_out(request: HttpRequest, event: Event) -> dict[str, Any]:
    user = actor(request)
    mine = selectors.my_registration(user, event)
    registered = mine is not None and mine.status == RegistrationStatus.REGISTERED
    show_link = registered or can(user, CommunityPerm.PUBLISH)
    return {
        **_event_out(event, mine),
        "description": event.description,
        "online_url": event.online_url if show_link else "",
        "registrable_structures": selectors.registration_structures(user, event),
    }


@router.get("", response=Page[CommunityEventOut], summary="Événements de la communauté")
def list_events(request: HttpRequest, filters: Query[CommunityEventFilter], page: Query[PageQuery]):
    user = actor(request)
    rows = selectors.visible_events(user, upcoming=not filters.past)
    result = paginate(request, rows, page, ("starts_at",))
    mine = selectors.my_registrations(user, [e.pk for e in result["results"]])
    result["results"] = [_event_out(e, mine.get(e.pk)) for e in result["results"]]
    return result


@router.get("/{id}", response=CommunityEventDetailOut, summary="Un événement")
def get_event(request: HttpRequest, id: int):
    return _detail_out(request, selectors.event_for(actor(request), id))


@router.post(
    "/{id}/registrations",
    response={201: CommunityEventRegistrationOut},
    summary="M'inscrire pour une de mes structures (liste d'attente si complet)",
)
def register(request: HttpRequest, id: int, payload: CommunityEventRegisterIn):
    user = actor(request)
    event = selectors.event_for(user, id)
    structure = access.structure_for(user, payload.structure, see=CommunityPerm.VIEW)
    row = services.register(user, event, structure, ip=client_ip(request))
    return HttpStatus(201, _registration_out(row))


@router.get(
    "/{id}/registrations",
    response=list[CommunityEventStructureOut],
    summary="Inscriptions par structure (centre)",
)
def registrations(request: HttpRequest, id: int):
    user = actor(request)
    event = selectors.event_any(user, id)
    return [
        {
            "structure": group.structure,
            "registrations": [
                {
                    "id": row.pk,
                    "name": str(row.user),
                    "email": row.user.email,
                    "status": row.status,
                    "created_at": row.created_at,
                }
                for row in group.registrations
            ],
        }
        for group in selectors.registrations_by_structure(user, event)
    ]


@router.post(
    "/event-registrations/{id}/cancel",
    response=CommunityEventDetailOut,
    summary="Annuler une inscription (la sienne ; le centre : toutes)",
)
def cancel(request: HttpRequest, id: int):
    user = actor(request)
    row = access.owned_for(
        user,
        Registration,  # owned_for applies visible_to and joins the structure
        id,
        CommunityPerm.VIEW,
        see=CommunityPerm.VIEW,
    )
    services.cancel_registration(user, row, ip=client_ip(request))
    return _detail_out(request, row.event)
