"""The inventory's demo rows (``carbet demo load``): business applications declared by a few
demo structures — a care record, billing, a FortiGate VPN on FortiOS 7.0.12, an old Windows
Server — through the service's own functions, then the detected lines refreshed from the demo
scans and audits (``sync``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from carbet.community import services_inventory as services
from carbet.community.choices import Hosting, LineOrigin
from carbet.community.models import SoftwareLine
from carbet.core.tenancy import SYSTEM

DECLARED: dict[str, tuple[dict[str, str], ...]] = {
    "ch-anse-bleue": (
        {
            "name": "Accès à distance (VPN)",
            "vendor": "Fortinet",
            "product": "FortiOS",
            "version": "7.0.12",
            "hosting": Hosting.ON_SITE,
            "maintainer": "Service informatique du CH",
        },
        {
            "name": "Dossier patient informatisé",
            "vendor": "Éditeur Caraïbe Santé (démo)",
            "product": "DPI Kaz'Santé",
            "version": "5.2",
            "hosting": Hosting.PROVIDER,
            "maintainer": "Éditeur, contrat de tierce maintenance",
        },
        {
            "name": "Serveur de fichiers",
            "vendor": "Microsoft",
            "product": "Windows Server 2012 R2",
            "version": "",
            "hosting": Hosting.ON_SITE,
            "maintainer": "Service informatique du CH",
        },
    ),
    "ehpad-hibiscus": (
        {
            "name": "Dossier de soins",
            "vendor": "Éditeur Titan Santé (démo)",
            "product": "Titan Soins",
            "version": "2024.3",
            "hosting": Hosting.SAAS,
            "maintainer": "Éditeur",
        },
        {
            "name": "Facturation et paie",
            "vendor": "Éditeur Gestion Plus (démo)",
            "product": "Gestion Plus EHPAD",
            "version": "11",
            "hosting": Hosting.PROVIDER,
            "maintainer": "Prestataire informatique",
        },
        {
            "name": "Pare-feu et accès à distance",
            "vendor": "Fortinet",
            "product": "FortiGate",
            "version": "7.0.15",
            "hosting": Hosting.ON_SITE,
            "maintainer": "Prestataire informatique",
        },
    ),
    "clinique-alizes": (
        {
            "name": "Serveur de l'imagerie",
            "vendor": "Microsoft",
            "product": "Windows Server 2012 R2",
            "version": "",
            "hosting": Hosting.ON_SITE,
            "maintainer": "Prestataire informatique",
        },
        {
            "name": "Messagerie",
            "vendor": "Microsoft",
            "product": "Exchange Server",
            "version": "2016 CU23",
            "hosting": Hosting.ON_SITE,
            "maintainer": "Prestataire informatique",
        },
    ),
}


def load(structures: dict[str, Any], users: list[Any], today: date | None = None) -> int:
    """Idempotent: a structure that already declared applications is left as it is; the
    detected lines are refreshed in any case (``sync`` only updates what changed)."""
    made = 0
    for key, lines in DECLARED.items():
        structure = structures.get(key)
        if structure is None:
            continue
        if SoftwareLine.objects.filter(structure=structure, origin=LineOrigin.DECLARED).exists():
            continue
        with transaction.atomic():
            for values in lines:
                services.create_line(SYSTEM, structure, values)
                made += 1
    report = services.sync([structure.pk for structure in structures.values()])
    return made + report["inventory_created"]
