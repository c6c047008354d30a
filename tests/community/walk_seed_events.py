"""Cross-tenant walk hooks of the community service: events (joined by walk_seed.py).

The event is regional content targeted at structure A only (``structures=[A]``): B's people
must get a 404 for it, for the registration of A's person and for its ``.ics``. A's person also
has a private calendar address (only its digest is stored: the walk's tokens open nothing)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from carbet.accounts.models import Membership, User
from carbet.accounts.roles import StructureRole
from carbet.community import services_events as services
from carbet.community.models import CalendarFeed, Event, Registration
from carbet.core.tenancy import SYSTEM

SECRET = "CH Alpha-Secret"
TITLE = f"{SECRET} : formation des équipes de nuit"
PERSON = "participante@alpha-agenda.test"

A11Y_PAGES: list[tuple[str, str]] = [
    ("director", "/communaute/agenda/"),
    ("director", "/communaute/agenda/mon-agenda/"),
    ("analyst", "/communaute/agenda/"),
    ("analyst", "/communaute/agenda/nouveau/"),
]


def _person(structure_a: Any) -> User:
    user = User.objects.filter(username=PERSON).first()
    if user is None:
        user = User.objects.create_user(
            username=PERSON, email=PERSON, full_name=f"{SECRET} participante"
        )
    Membership.objects.get_or_create(user=user, role=StructureRole.DIRECTOR, structure=structure_a)
    return user


def _event(structure_a: Any) -> Event:
    for found in Event.objects.filter(title=TITLE):
        if found.structures == [structure_a.pk]:
            return found
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=21)
    return services.create_event(
        SYSTEM,
        {
            "title": TITLE,
            "kind": "training",
            "description": f"{SECRET} : programme de la formation.",
            "starts_at": start,
            "ends_at": start + dt.timedelta(hours=3),
            "location": f"{SECRET}, salle de réunion",
            "online_url": "https://visio.alpha-secret.test/formation",
            "capacity": 10,
            "structures": [structure_a.pk],
        },
    )


def _registration(structure_a: Any) -> Registration:
    event, person = _event(structure_a), _person(structure_a)
    found = Registration.objects.filter(event=event, user=person).first()
    return found or services.register(person, event, structure_a, notify=False)


def seed(structure_a: Any) -> None:
    """An event for A only, the registration of A's person, and that person's calendar feed."""
    registration = _registration(structure_a)
    if not CalendarFeed.objects.filter(user=registration.user).exists():
        services.create_feed(registration.user)


API_OBJECT_PARAMETERS: dict[tuple[str, str], Any] = {
    ("events", "id"): lambda region: _event(region.a),
    ("event-registrations", "id"): lambda region: _registration(region.a),
}
