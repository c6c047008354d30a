"""Mutual aid in the demo region: a backup drive lent by a hospital, a shared DPO sought by
EHPAD, help after an incident at a clinic, a charter template to share; two conversations
already started and two people in the skills directory — written through the part's own
services, without sending any notice (the demo's contacts are invented)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction

from carbet.community import services_aid
from carbet.community.models import AidPost
from carbet.core.tenancy import SYSTEM

ANSE_BLEUE, HIBISCUS, ALIZES = "ch-anse-bleue", "ehpad-hibiscus", "clinique-alizes"
FLAMBOYANTS, EPSM = "ehpad-flamboyants", "epsm-pointe"

POSTS = (
    (
        ANSE_BLEUE,
        {
            "kind": "offer",
            "topic": "equipment",
            "audience": "community",
            "title": "Disque de sauvegarde de 8 To à prêter",
            "body": (
                "Nous avons un disque USB de 8 To, chiffré, que nous n'utilisons plus depuis le "
                "passage à la sauvegarde externalisée. Nous pouvons le prêter quelques semaines "
                "à une structure qui veut une copie hors ligne le temps de s'équiper. Remise en "
                "main propre à l'Anse-Bleue."
            ),
        },
        60,
    ),
    (
        HIBISCUS,
        {
            "kind": "request",
            "topic": "staff",
            "audience": "sector",
            "title": "DPO mutualisé recherché entre EHPAD",
            "body": (
                "Nous cherchons deux ou trois EHPAD pour partager un délégué à la protection des "
                "données (une journée par mois chacun). Nous avons une proposition d'un cabinet "
                "à Pointe-aux-Lamantins ; à plusieurs, le coût est divisé."
            ),
        },
        90,
    ),
    (
        ALIZES,
        {
            "kind": "request",
            "topic": "incident",
            "audience": "departement",
            "title": "Aide après la compromission de notre messagerie",
            "body": (
                "Une boîte de l'accueil a envoyé des messages d'hameçonnage à nos patients hier. "
                "Le mot de passe est changé. Quelqu'un a-t-il déjà cherché des règles de "
                "transfert cachées dans une messagerie hébergée ? Un coup de main d'une heure "
                "nous aiderait."
            ),
        },
        14,
    ),
    (
        EPSM,
        {
            "kind": "offer",
            "topic": "documents",
            "audience": "community",
            "title": "Charte informatique et fiche d'arrivée à partager",
            "body": (
                "Notre charte d'usage du système d'information a été validée par le CSE et la "
                "direction cette année, avec la fiche d'arrivée et de départ des agents. Nous "
                "les partageons volontiers, à adapter à votre structure."
            ),
        },
        None,
    ),
)


def _user(users: list[Any], email: str) -> Any:
    return next((u for u in users if u.email == email), None)


def _posts(structures: dict[str, Any], today: date) -> dict[str, AidPost]:
    made: dict[str, AidPost] = {}
    for key, values, days in POSTS:
        structure = structures.get(key)
        if structure is None:
            continue
        expires = today + timedelta(days=days) if days else None
        made[key] = services_aid.create_post(
            SYSTEM, structure, {**values, "expires_on": expires}, today=today
        )
    return made


def _threads(structures: dict[str, Any], posts: dict[str, AidPost], users: list[Any]) -> int:
    made = 0
    flamboyants, anse_bleue = structures.get(FLAMBOYANTS), structures.get(ANSE_BLEUE)
    if HIBISCUS in posts and flamboyants is not None:
        thread = services_aid.answer_post(
            SYSTEM,
            posts[HIBISCUS],
            flamboyants,
            "Nos deux EHPAD sont intéressés. Pouvez-vous nous transmettre la proposition du "
            "cabinet ? Nous pourrions en parler au prochain webinaire du centre.",
            notice=False,
        )
        director = _user(users, "directrice@ehpad-hibiscus.test")
        if director is not None:
            services_aid.write(
                director,
                thread,
                "Avec plaisir : je vous la dépose ici dès demain, avec le devis.",
                notice=False,
            )
        made += 1
    if ALIZES in posts and anse_bleue is not None:
        services_aid.answer_post(
            SYSTEM,
            posts[ALIZES],
            anse_bleue,
            "Notre technicien l'a fait l'an dernier. Il peut vous appeler demain matin : "
            "dites-nous un créneau.",
            notice=False,
        )
        made += 1
    return made


PROFILES = (
    (
        "rssi@ght-caraibe-sud.test",
        ANSE_BLEUE,
        {
            "skills": ["Gestion de crise", "Sauvegardes", "Active Directory", "Pare-feu"],
            "software": ["Veeam", "FortiGate"],
            "description": "Référent cyber du GHT : je peux aider une structure après un incident.",
            "remote": True,
            "on_site": True,
            "visible": True,
        },
    ),
    (
        "technicien@caraibe-infogerance.test",
        "ehpad-ti-kaz",
        {
            "skills": ["Messagerie", "Double authentification", "Postes de travail"],
            "software": ["Microsoft 365", "Titan (dossier de soins)"],
            "description": "Technicien d'un prestataire informatique, habitué des EHPAD.",
            "remote": True,
            "on_site": False,
            "visible": True,
        },
    ),
)


def _profiles(structures: dict[str, Any], users: list[Any]) -> int:
    made = 0
    for email, key, values in PROFILES:
        user, structure = _user(users, email), structures.get(key)
        if user is None or structure is None:
            continue
        services_aid.save_profile(user, structure, values)
        made += 1
    return made


def load(structures: dict[str, Any], users: list[Any], today: date | None = None) -> int:
    """Idempotent: nothing is added when a demo structure already has a post."""
    today = today or date.today()
    present = [s for s in structures.values() if s is not None]
    if AidPost.objects.filter(structure__in=present).exists():
        return 0
    with transaction.atomic():
        posts = _posts(structures, today)
        made = len(posts) + _threads(structures, posts, users) + _profiles(structures, users)
    return made
