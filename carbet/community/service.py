"""The community service's declaration to the kernel: the software inventory and the alerts
matched to it, bulletins, the knowledge base, mutual aid, shared solutions, events and the
exchange with peers (STIX, MISP)."""

from django.utils.translation import gettext_lazy as _

from carbet.accounts.roles import C_ADMIN, C_ANALYST, DIRECTOR, IT, REFERENT
from carbet.core.contract import (
    Choice,
    NavEntry,
    PeriodicJob,
    Permission,
    ServiceSpec,
    StructureLink,
)

# The source of the findings this service writes (a vulnerability matched in an inventory).
COMMUNITY_SOURCE = "community"
STRUCTURE_PEOPLE = {DIRECTOR, REFERENT, IT}
CENTRE = {C_ADMIN, C_ANALYST}


class CommunityPerm:
    VIEW = Permission(
        "community.view",
        _("Lire les bulletins, la base de connaissances, l'agenda et l'entraide"),
        CENTRE | STRUCTURE_PEOPLE,
    )
    INVENTORY = Permission(
        "community.inventory",
        _("Voir et tenir à jour l'inventaire logiciel d'une structure"),
        CENTRE | STRUCTURE_PEOPLE,
    )
    ACKNOWLEDGE = Permission(
        "community.acknowledge",
        _("Prendre en compte une alerte ou un bulletin pour sa structure"),
        CENTRE | STRUCTURE_PEOPLE,
    )
    AID = Permission(
        "community.aid",
        _("Publier et répondre dans l'entraide, paraître dans l'annuaire des compétences"),
        CENTRE | STRUCTURE_PEOPLE,
    )
    INTEREST = Permission(
        "community.interest",
        _("Déclarer l'intérêt ou le besoin de sa structure pour une offre mutualisée"),
        CENTRE | {DIRECTOR, REFERENT},
    )
    PUBLISH = Permission(
        "community.publish",
        _("Écrire les bulletins, les articles, les offres et les événements de la communauté"),
        CENTRE,
    )
    REGION = Permission(
        "community.region",
        _("Voir qui utilise quoi dans la région, l'exposition aux alertes et les réponses"),
        CENTRE,
    )
    EXCHANGE = Permission(
        "community.exchange",
        _("Importer un flux MISP, exporter en STIX 2.1 ou MISP"),
        CENTRE,
    )


SERVICE = ServiceSpec(
    name="community",
    order=50,
    label=_("Communauté"),
    url_prefix="communaute/",
    urls="carbet.community.urls",
    extra_urls=(("agenda-ical/", "carbet.community.public_urls"),),
    public_prefixes=("/agenda-ical/",),
    nav=(NavEntry(_("Communauté"), "community:home", CommunityPerm.VIEW, order=360),),
    structure_links=(
        StructureLink(
            _("Logiciels et alertes ciblées"), "community:inventory", CommunityPerm.INVENTORY, 360
        ),
    ),
    permissions=(
        CommunityPerm.VIEW,
        CommunityPerm.INVENTORY,
        CommunityPerm.ACKNOWLEDGE,
        CommunityPerm.AID,
        CommunityPerm.INTEREST,
        CommunityPerm.PUBLISH,
        CommunityPerm.REGION,
        CommunityPerm.EXCHANGE,
    ),
    findings_sources=(Choice(COMMUNITY_SOURCE, _("Veille ciblée de la communauté")),),
    periodic_jobs=(
        PeriodicJob(
            "community match",
            "20 * * * *",
            "inventaires à jour, nouvelles entrées KEV, CERT-FR et NVD rapprochées, "
            "alertes ciblées du jour",
        ),
        PeriodicJob(
            "community reminders",
            "0 8 * * *",
            "rappels des bulletins critiques non pris en compte et des événements à venir",
        ),
    ),
    walk_seed="tests/community/walk_seed.py",
    docs="docs/community.md",
    demo="carbet.community.demo.load",
)
