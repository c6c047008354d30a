"""The events of the demo region (``carbet demo load``): a regional exercise day, a webinar on
phishing, a training for EHPAD directors (full, with a waiting list) and a community meeting,
with registrations of the demo accounts — through the part's own services, without e-mails."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from carbet.community import services_events as services
from carbet.community.models import Event
from carbet.core.tenancy import SYSTEM

EVENTS: tuple[dict[str, Any], ...] = (
    {
        "title": "Journée d'exercice régional : la messagerie est chiffrée par un rançongiciel",
        "kind": "exercise",
        "days": 21,
        "hours": (8, 17),
        "description": (
            "## Le scénario\n\nUn lundi matin, la messagerie et le dossier patient sont "
            "indisponibles. Chaque cellule de crise joue ses décisions, le centre anime.\n\n"
            "## Qui vient\n\nLa direction, le référent cyber et le prestataire informatique de "
            "chaque structure inscrite."
        ),
        "location": "Fort-de-France, amphithéâtre du centre hospitalier",
        "online_url": "",
        "capacity": 60,
        "registrations": (("direction@ch-anse-bleue.test", "ch-anse-bleue"),),
    },
    {
        "title": "Webinaire : reconnaître un courriel d'hameçonnage",
        "kind": "webinar",
        "days": 7,
        "hours": (14, 15),
        "description": (
            "Une heure pour reconnaître les pièges les plus courants (faux fournisseurs, faux "
            "colis, fausses factures) et savoir quoi faire quand on a cliqué."
        ),
        "location": "",
        "online_url": "https://visio.centre-demo.test/webinaire-hameconnage",
        "capacity": 0,
        "registrations": (
            ("directrice@ehpad-hibiscus.test", "ehpad-hibiscus"),
            ("direction@flamboyants.test", "ehpad-flamboyants"),
        ),
    },
    {
        "title": "Formation des directeurs d'EHPAD : piloter la sécurité numérique",
        "kind": "training",
        "days": 35,
        "hours": (9, 12),
        "description": (
            "Les dix mesures essentielles, les obligations de déclaration, le budget et les "
            "financements du programme CaRE, en trois heures et sans jargon."
        ),
        "location": "Pointe-à-Pitre, salle de formation de l'ARS",
        "online_url": "https://visio.centre-demo.test/formation-ehpad",
        "capacity": 2,
        "categories": ["ehpad"],
        "registrations": (
            ("directrice@ehpad-hibiscus.test", "ehpad-hibiscus"),
            ("direction@flamboyants.test", "ehpad-flamboyants"),
            ("technicien@", "ehpad-ti-kaz"),  # full: on the waiting list
        ),
    },
    {
        "title": "Rencontre de la communauté : retours d'expérience du trimestre",
        "kind": "meeting",
        "days": 49,
        "hours": (17, 19),
        "description": "Deux structures racontent un incident et ce qu'elles ont changé depuis.",
        "location": "Cayenne, maison des associations",
        "online_url": "https://visio.centre-demo.test/rencontre",
        "capacity": 0,
        "registrations": (("rssi@ght-caraibe-sud.test", "ch-anse-bleue"),),
    },
)


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _user(users: list[Any], email: str) -> Any:
    return next((u for u in users if u.email.startswith(email)), None)


def load(structures: dict[str, Any], users: list[Any], today: date | None = None) -> int:
    """Idempotent: an event whose title exists already is left as it is."""
    today = today or timezone.localdate()
    made = 0
    for spec in EVENTS:
        if Event.objects.filter(title=spec["title"]).exists():
            continue
        day = today + timedelta(days=spec["days"])
        start, end = spec["hours"]
        event = services.create_event(
            SYSTEM,
            {
                "title": spec["title"],
                "kind": spec["kind"],
                "description": spec["description"],
                "starts_at": _at(day, start),
                "ends_at": _at(day, end),
                "location": spec["location"],
                "online_url": spec["online_url"],
                "capacity": spec["capacity"],
                "categories": spec.get("categories", []),
            },
        )
        made += 1
        for email, key in spec["registrations"]:
            user, structure = _user(users, email), structures.get(key)
            if user is None or structure is None:
                continue
            services.register(user, event, structure, notify=False)
            made += 1
    return made
