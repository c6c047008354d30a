"""The bulletins of the demo region (``carbet demo load``): a critical one on the Fortinet VPN
targeted by product, a phishing wave for the EHPAD, the end of support of Windows Server 2012 R2,
and a draft — written, published and answered through the part's own services (no e-mail is
sent for the demonstration)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from carbet.community import services_bulletins as services
from carbet.community.models import Bulletin, BulletinDelivery
from carbet.community.service import CommunityPerm
from carbet.core.tenancy import SYSTEM, can

FORTI = {
    "title": "VPN Fortinet : faille activement exploitée, mise à jour de FortiOS aujourd'hui",
    "summary": (
        "Une faille de FortiOS (CVE-2024-21762) permet de prendre la main sur la passerelle VPN "
        "sans mot de passe : faites la mise à jour aujourd'hui."
    ),
    "body": (
        "## Ce qui se passe\n\n"
        "Une faille du VPN SSL de FortiOS permet à un attaquant, **sans mot de passe**, "
        "d'exécuter des commandes sur la passerelle. Elle est exploitée depuis plusieurs jours "
        "et des établissements de santé ont été touchés en métropole.\n\n"
        "## Qui est concerné\n\n"
        "Les structures dont l'inventaire montre un boîtier Fortinet (FortiGate, FortiOS) : "
        "c'est pourquoi vous recevez ce bulletin.\n\n"
        "## Que faire aujourd'hui\n\n"
        "1. Demandez à votre prestataire de mettre FortiOS à jour (7.2.7, 7.4.3 ou plus récent).\n"
        "2. S'il ne peut pas le faire aujourd'hui, faites **désactiver le VPN SSL** en attendant.\n"
        "3. Faites changer les mots de passe des comptes VPN après la mise à jour.\n\n"
        "Répondez « appliqué » ici quand c'est fait : le centre suit les structures qui ont "
        "besoin d'aide et peut vous appeler."
    ),
    "severity": "critical",
    "tlp": "amber",
    "references": [
        "https://www.cert.ssi.gouv.fr/alerte/CERTFR-2024-ALE-004/",
        "https://www.fortiguard.com/psirt/FG-IR-24-015",
    ],
    "cves": ["CVE-2024-21762"],
    "remind_after_days": 2,
    "products": ["FortiOS", "FortiGate"],
}
PHISHING = {
    "title": "Faux courriels de l'Assurance maladie : vague d'hameçonnage vers les EHPAD",
    "summary": (
        "De faux messages de l'Assurance maladie demandent de « mettre à jour » les accès des "
        "soignants : n'y répondez pas et prévenez vos équipes."
    ),
    "body": (
        "Depuis lundi, plusieurs EHPAD de la région ont reçu des courriels imitant "
        "l'Assurance maladie. Ils invitent à se reconnecter à un faux portail pour « éviter la "
        "suspension » des accès.\n\n"
        "**Ce qu'il faut faire :**\n\n"
        "- affichez le message en salle de soins et prévenez l'accueil et le secrétariat ;\n"
        "- ne saisissez jamais un mot de passe après avoir cliqué sur un lien reçu par "
        "courriel ;\n"
        "- si quelqu'un a déjà saisi son mot de passe, faites-le changer aujourd'hui et "
        "prévenez le centre.\n\n"
        "Un modèle d'affiche est disponible sur Cybermalveillance.gouv.fr."
    ),
    "severity": "high",
    "tlp": "clear",
    "references": [
        "https://www.cybermalveillance.gouv.fr/tous-nos-contenus/fiches-reflexes/hameconnage-phishing"
    ],
    "cves": [],
    "remind_after_days": 5,
    "categories": ["ehpad"],
}
WINDOWS_2012 = {
    "title": "Windows Server 2012 R2 n'a plus de correctifs : planifier la migration",
    "summary": "Les serveurs Windows 2012 R2 ne reçoivent plus de mises à jour de sécurité.",
    "body": (
        "Microsoft a arrêté les correctifs de sécurité de Windows Server 2012 R2. Un serveur "
        "qui n'est plus corrigé est une cible facile pour les rançongiciels.\n\n"
        "Inscrivez la migration dans votre feuille de route et, en attendant, isolez ces "
        "serveurs d'internet. Le CaRE peut financer une partie du remplacement."
    ),
    "severity": "medium",
    "tlp": "green",
    "references": ["https://learn.microsoft.com/lifecycle/products/windows-server-2012-r2"],
    "cves": [],
    "remind_after_days": 0,
    "products": ["Windows Server 2012"],
}
DRAFT = {
    "title": "Exchange Server : correctifs de sécurité du mois (brouillon)",
    "summary": "Les serveurs Exchange installés sur place doivent recevoir les correctifs.",
    "body": "À compléter avec l'avis de l'éditeur avant publication.",
    "severity": "high",
    "tlp": "green",
    "products": ["Exchange Server"],
}
# (bulletin, days since publication, answers: demo key -> (status, reason))
PUBLISHED = (
    (FORTI, 3, {"ch-anse-bleue": ("applied", "")}),
    (PHISHING, 6, {"ehpad-hibiscus": ("applied", ""), "ehpad-ti-kaz": ("read", "")}),
    (WINDOWS_2012, 20, {}),
)


def _centre(users: list[Any]) -> Any:
    for user in users:
        if getattr(user, "centre_role", "") and can(user, CommunityPerm.PUBLISH):
            return user
    return SYSTEM


def _answerer(users: list[Any], structure: Any) -> Any:
    for user in users:
        if not getattr(user, "centre_role", "") and can(user, CommunityPerm.ACKNOWLEDGE, structure):
            return user
    return SYSTEM


def _backdate(bulletin: Bulletin, day: date) -> None:
    """Make the demo look lived-in: published ``day`` (the demo's own rows only)."""
    when = timezone.make_aware(datetime.combine(day, time(9, 30)))
    Bulletin.objects.filter(pk=bulletin.pk).update(published_at=when, created_at=when)
    BulletinDelivery.objects.visible_to(SYSTEM).filter(bulletin=bulletin).update(
        delivered_at=when, emailed_at=when
    )


def _answer(
    bulletin: Bulletin,
    answers: dict[str, tuple[str, str]],
    structures: dict[str, Any],
    users: list[Any],
) -> None:
    for key, (status, reason) in answers.items():
        structure = structures.get(key)
        if structure is None:
            continue
        delivery = (
            BulletinDelivery.objects.visible_to(SYSTEM)
            .filter(bulletin=bulletin, structure=structure)
            .select_related("bulletin", "structure__organisation")
            .first()
        )
        if delivery is not None:
            services.acknowledge(_answerer(users, structure), delivery, status, reason)


def load(structures: dict[str, Any], users: list[Any], today: date) -> int:
    """Add the demo bulletins (once); the number of bulletins made."""
    if Bulletin.objects.filter(title__in=[FORTI["title"], DRAFT["title"]]).exists():
        return 0
    author = _centre(users)
    made = 0
    with transaction.atomic():
        for values, days_ago, answers in PUBLISHED:
            bulletin = services.save_bulletin(author, values)
            made += 1
            try:
                services.publish(author, bulletin, notify=False)
            except ValidationError:
                continue  # nobody runs the product in this demo: it stays a draft
            _backdate(bulletin, today - timedelta(days=days_ago))
            _answer(bulletin, answers, structures, users)
        services.save_bulletin(author, DRAFT)
        made += 1
    return made
