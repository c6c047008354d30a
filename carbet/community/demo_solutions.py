"""Shared solutions in the demo region: three offers of the centre (a CaRE-funded backup
service for the médico-social structures, a group purchase of EDR, a regional phishing
training), the structures' answers and two needs no offer covers — written through the part's
own services."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction

from carbet.community import services_solutions
from carbet.community.models import Offer
from carbet.core.choices import MEDICO_SOCIAL_CATEGORIES
from carbet.core.tenancy import SYSTEM

BACKUP = "Sauvegarde externalisée financée par CaRE"
EDR = "Achat groupé d'antivirus nouvelle génération (EDR)"
PHISHING = "Formation régionale à l'hameçonnage"


def _offers(today: date) -> list[dict[str, Any]]:
    return [
        {
            "title": BACKUP,
            "kind": "care_funded",
            "category": "backup",
            "description": (
                "Une copie **hors ligne et chiffrée** de vos données, faite chaque nuit par un "
                "prestataire hébergeur de données de santé, avec un test de restauration par "
                "trimestre.\n\n"
                "- installation et premier test compris ;\n"
                "- restauration en moins de 48 heures après un incident ;\n"
                "- financé par le programme CaRE pour la première année."
            ),
            "provider": "Groupement régional d'e-santé",
            "eligibility": "Établissements médico-sociaux de la région (EHPAD, handicap, SSIAD).",
            "how_to_join": (
                "Déclarez votre intérêt ici ; le centre vous envoie la convention à signer."
            ),
            "price_note": "Gratuit la première année, puis environ 40 € par mois.",
            "status": "open",
            "opens_on": today - timedelta(days=20),
            "closes_on": today + timedelta(days=70),
            "categories": sorted(MEDICO_SOCIAL_CATEGORIES),
        },
        {
            "title": EDR,
            "kind": "group_purchase",
            "category": "edr",
            "description": (
                "Le centre négocie un tarif régional pour un antivirus qui **détecte et bloque** "
                "les comportements d'attaque (EDR), avec une surveillance par le prestataire. "
                "Plus il y a de postes, plus le prix baisse : indiquez le vôtre."
            ),
            "provider": "Marché en cours de négociation",
            "how_to_join": "Indiquez le nombre de postes avant la date de clôture.",
            "price_note": "Objectif : moins de 5 € par poste et par mois.",
            "status": "open",
            "closes_on": today + timedelta(days=45),
        },
        {
            "title": PHISHING,
            "kind": "shared_resource",
            "category": "training",
            "description": (
                "Une heure de sensibilisation en visioconférence, puis une campagne d'exercice "
                "d'hameçonnage menée par le centre dans votre structure, avec le bilan."
            ),
            "provider": "Centre régional de ressources cyber",
            "how_to_join": "Répondez ici : le centre vous propose des dates.",
            "price_note": "Gratuit.",
            "status": "open",
        },
    ]


ANSWERS = (
    (BACKUP, "ehpad-hibiscus", "need", 45, "45 postes, un serveur."),
    (BACKUP, "ehpad-ti-kaz", "interested", 20, ""),
    (BACKUP, "ehpad-flamboyants", "joined", 60, "Convention signée."),
    (EDR, "ch-anse-bleue", "interested", 900, "Après la fin de notre contrat actuel."),
    (EDR, "ehpad-flamboyants", "need", 120, "Les deux EHPAD de l'association."),
    (EDR, "clinique-alizes", "need", 250, ""),
    (PHISHING, "ch-anse-bleue", "joined", 340, ""),
    (PHISHING, "ehpad-hibiscus", "interested", 60, "Plutôt en fin d'année."),
)
NEEDS = (
    ("ehpad-hibiscus", "mfa", "La double authentification pour la messagerie et le logiciel RH."),
    ("ehpad-ti-kaz", "dpo", "Un délégué à la protection des données partagé."),
    ("clinique-alizes", "mail", "Une messagerie sécurisée de santé pour l'accueil."),
)


def load(structures: dict[str, Any], users: list[Any], today: date | None = None) -> int:
    """Idempotent: nothing is added once the demo offers exist."""
    today = today or date.today()
    if Offer.objects.filter(title__in=[BACKUP, EDR, PHISHING]).exists():
        return 0
    made = 0
    with transaction.atomic():
        offers = {}
        for values in _offers(today):
            offers[values["title"]] = services_solutions.save_offer(SYSTEM, values)
            made += 1
        for title, key, kind, quantity, comment in ANSWERS:
            structure = structures.get(key)
            if structure is None:
                continue
            services_solutions.set_interest(
                SYSTEM,
                offers[title],
                structure,
                {"kind": kind, "quantity": quantity, "comment": comment},
            )
            made += 1
        for key, category, description in NEEDS:
            structure = structures.get(key)
            if structure is not None:
                services_solutions.declare_need(
                    SYSTEM, structure, {"category": category, "description": description}
                )
                made += 1
    return made
