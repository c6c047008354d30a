"""The service's demo data (``carbet demo load``): two EHPAD at different steps of the track,
and one care-record service with a decision signed by its director — through the service's own
functions, so the demo shows what a real structure would see."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from carbet.bydesign import services, services_decision, services_track
from carbet.bydesign.models import DigitalService
from carbet.core.tenancy import SYSTEM

HIBISCUS, TI_KAZ = "ehpad-hibiscus", "ehpad-ti-kaz"
CARE_RECORD = {
    "name": "Dossier de soins Titan",
    "kind": "care_record",
    "description": "Dossier de soins informatisé des résidents (plan de soins, transmissions).",
    "users": "Infirmiers, aides-soignants, médecin coordonnateur (45 comptes)",
    "data_kind": "health",
    "hosting": "saas",
    "hds_certified": True,
    "internet_exposed": True,
    "availability": "hours",
    "vendor_name": "Éditeur Titan Santé (démo)",
    "vendor_email": "securite@titan-sante.test",
}
MAIL = {
    "name": "Messagerie",
    "kind": "email",
    "data_kind": "personal",
    "hosting": "it_provider",
    "internet_exposed": True,
    "availability": "day",
    "vendor_name": "Prestataire Ti Kaz Informatique (démo)",
}


def _director(users: list[Any], structure_key: str) -> Any:
    for user in users:
        if user.email.startswith("directrice@") and structure_key == HIBISCUS:
            return user
    return None


def load(structures: dict[str, Any], users: list[Any], today: date | None = None) -> int:
    """Idempotent: a structure that already has services is left as it is."""
    created = 0
    hibiscus, ti_kaz = structures.get(HIBISCUS), structures.get(TI_KAZ)
    if hibiscus is not None and not DigitalService.objects.filter(structure=hibiscus).exists():
        with transaction.atomic():
            care = services.create_service(SYSTEM, hibiscus, CARE_RECORD)
            for code in ("gov.owner", "gov.hds", "gov.contract", "gov.register", "gov.accounts"):
                services.set_status(
                    SYSTEM, care, code, "done", evidence="Contrat et registre RGPD."
                )
            services.set_status(SYSTEM, care, "pro.updates", "in_progress")
            director = _director(users, HIBISCUS)
            services_decision.sign(
                director or SYSTEM,
                care,
                {
                    "outcome": "conditions",
                    "months": 12,
                    "conditions": "Activer la double authentification avant trois mois.",
                    "residual_risks": "Accès distant sans second facteur pendant trois mois.",
                },
                today=today,
            )
            for code in ("updates", "incident_reflex", "crisis_contacts"):
                services_track.mark(SYSTEM, hibiscus, code, "done")
            created += 1
    if ti_kaz is not None and not DigitalService.objects.filter(structure=ti_kaz).exists():
        with transaction.atomic():
            services.create_service(SYSTEM, ti_kaz, MAIL)
            services_track.mark(SYSTEM, ti_kaz, "incident_reflex", "in_progress")
            created += 1
    ids = [s.pk for s in structures.values() if s is not None]
    services_track.compute(
        [
            pk
            for pk in ids
            if pk in set(services_track.medico_social().values_list("pk", flat=True))
        ],
        today,
    )
    return created
