"""Reads of the community events: which events a person sees (those targeted at one of the
structures they hold ``CommunityPerm.VIEW`` on; the centre sees them all), their registrations,
and the centre's view of who registered."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from carbet.community import markdown
from carbet.community.choices import EventStatus, RegistrationStatus
from carbet.community.models import CalendarFeed, Event, Registration
from carbet.community.service import CommunityPerm
from carbet.community.targeting import structures_targeted
from carbet.core.access import require
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM, Actor, grants


def sees_all(actor: Actor) -> bool:
    """The centre (and the platform) see every event, whoever it is for."""
    return grants(actor, CommunityPerm.VIEW).everything


def my_structures(actor: Actor) -> QuerySet[Structure]:
    return Structure.objects.visible_to(actor, CommunityPerm.VIEW)


def _named(event: Event) -> set[int] | None:
    """The structures named one by one (None: the event uses the other criteria)."""
    named = set()
    for value in event.structures or []:
        try:
            named.add(int(value))
        except (TypeError, ValueError):
            continue
    return named or None


def targeted_among(event: Event, structure_ids: set[int]) -> set[int]:
    """Which of ``structure_ids`` ``event`` is for."""
    if not structure_ids:
        return set()
    named = _named(event)
    if named is not None:
        return named & structure_ids
    return set(structures_targeted(event).filter(pk__in=structure_ids).values_list("pk", flat=True))


def _visible_ids(actor: Actor, events: QuerySet[Event]) -> list[int]:
    if sees_all(actor):
        return list(events.values_list("pk", flat=True))
    mine = set(my_structures(actor).values_list("pk", flat=True))
    return [event.pk for event in events if targeted_among(event, mine)]


def visible_events(
    actor: Actor, *, upcoming: bool = True, now: datetime | None = None
) -> QuerySet[Event]:
    """The events ``actor`` sees (403 without the right), ordered by start; with ``upcoming``
    those not ended yet."""
    require(actor, CommunityPerm.VIEW)
    events = Event.objects.all()
    if upcoming:
        events = events.filter(ends_at__gte=now or timezone.now())
    return Event.objects.filter(pk__in=_visible_ids(actor, events)).order_by("starts_at", "pk")


def event_for(actor: Actor, pk: Any) -> Event:
    """One event ``actor`` sees: 403 without the right at all, 404 if it is not for them."""
    require(actor, CommunityPerm.VIEW)
    try:
        event = Event.objects.get(pk=int(pk))
    except (Event.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404 from None
    if not _visible_ids(actor, Event.objects.filter(pk=event.pk)):
        raise Http404
    return event


def event_any(actor: Actor, pk: Any) -> Event:
    """An event for the centre's pages (403 without ``PUBLISH``, 404 if it does not exist)."""
    require(actor, CommunityPerm.PUBLISH)
    try:
        return Event.objects.get(pk=int(pk))
    except (Event.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404 from None


def registration_structures(actor: Actor, event: Event) -> list[Structure]:
    """The structures ``actor`` may register for ``event`` on behalf of."""
    if sees_all(actor):  # the centre organises; people register for their structures
        return []
    mine = my_structures(actor)
    ids = targeted_among(event, set(mine.values_list("pk", flat=True)))
    return list(mine.filter(pk__in=ids).order_by("name")) if ids else []


def my_registration(actor: Actor, event: Event) -> Registration | None:
    if getattr(actor, "pk", None) is None:
        return None
    return (
        Registration.objects.visible_to(actor, CommunityPerm.VIEW)
        .filter(event=event, user_id=actor.pk)
        .select_related("structure")
        .first()
    )


def my_registrations(actor: Actor, event_ids: list[int]) -> dict[int, Registration]:
    """``actor``'s own registrations to the given events, by event id."""
    if getattr(actor, "pk", None) is None or not event_ids:
        return {}
    rows = Registration.objects.visible_to(actor, CommunityPerm.VIEW).filter(
        event_id__in=event_ids, user_id=actor.pk
    )
    return {row.event_id: row for row in rows}


def colleagues(actor: Actor, event: Event) -> list[Registration]:
    """The registrations of the structures ``actor`` sees (never another structure's)."""
    return list(
        Registration.objects.visible_to(actor, CommunityPerm.VIEW)
        .filter(
            event=event, status__in=(RegistrationStatus.REGISTERED, RegistrationStatus.WAITLIST)
        )
        .select_related("user", "structure")
        .order_by("structure__name", "created_at")
    )


@dataclass
class Places:
    capacity: int
    registered: int
    waiting: int

    @property
    def left(self) -> int | None:
        return None if not self.capacity else max(0, self.capacity - self.registered)


def places(event: Event) -> Places:
    """How full ``event`` is (counts only: no one is named)."""
    counts = Counter(
        Registration.objects.visible_to(SYSTEM).filter(event=event).values_list("status", flat=True)
    )
    return Places(
        event.capacity,
        counts.get(RegistrationStatus.REGISTERED, 0),
        counts.get(RegistrationStatus.WAITLIST, 0),
    )


@dataclass
class StructureRows:
    structure: Structure
    registrations: list[Registration] = field(default_factory=list)


def registrations_by_structure(actor: Actor, event: Event) -> list[StructureRows]:
    """The centre's view of an event's registrations, grouped by structure (``PUBLISH``)."""
    require(actor, CommunityPerm.PUBLISH)
    groups: dict[int, StructureRows] = {}
    rows = (
        Registration.objects.visible_to(actor, CommunityPerm.VIEW)
        .filter(event=event)
        .select_related("user", "structure")
        .order_by("structure__name", "created_at", "pk")
    )
    for row in rows:
        groups.setdefault(row.structure_id, StructureRows(row.structure)).registrations.append(row)
    return list(groups.values())


def feed_registrations(user: Any, since: datetime) -> list[Registration]:
    """The registrations a person's calendar feed lists: their own, for structures they still
    hold the right on, of events ending after ``since`` (one query)."""
    return list(
        Registration.objects.visible_to(user, CommunityPerm.VIEW)
        .filter(
            user_id=user.pk,
            status__in=(RegistrationStatus.REGISTERED, RegistrationStatus.CANCELLED),
            event__ends_at__gte=since,
        )
        .select_related("event")
        .order_by("event__starts_at", "pk")
    )


def is_cancelled(event: Event) -> bool:
    return event.status == EventStatus.CANCELLED


def my_feed(actor: Actor) -> CalendarFeed | None:
    """``actor``'s calendar address (its digest and dates only: the token is never kept)."""
    return CalendarFeed.objects.filter(user_id=getattr(actor, "pk", None)).first()


def description_html(event: Event) -> str:
    """The programme's Markdown as safe HTML (no raw HTML, only web and mail links)."""
    return markdown.render(event.description, heading_offset=1) if event.description else ""


REGISTRATION_COLUMNS = [
    "finess_et",
    "structure",
    "nom",
    "email",
    "statut",
    "inscrit_le",
]


def registration_table(actor: Actor, event: Event) -> tuple[list[str], list[list[Any]]]:
    """The centre's export of an event's registrations (``PUBLISH``), one row per person."""
    rows = []
    for group in registrations_by_structure(actor, event):
        for row in group.registrations:
            rows.append(
                [
                    group.structure.finess_et,
                    group.structure.name,
                    str(row.user),
                    row.user.email,
                    row.get_status_display(),
                    timezone.localtime(row.created_at).strftime("%d/%m/%Y %H:%M"),
                ]
            )
    return REGISTRATION_COLUMNS, rows
