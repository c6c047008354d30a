"""The exposure service's declaration to the kernel (``carbet.core.contract``)."""

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

# The kind of mandate this service acts under (``carbet.core.mandates.check``).
EXPOSURE_MANDATE = "exposure_scan"


# The source of the findings this service writes (``carbet.findings.ingest.ingest``).
EXPOSURE_SOURCE = "exposure"


class ExposurePerm:
    VIEW = Permission(
        "exposure.view",
        _("Voir les résultats des analyses d'exposition"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT},
    )
    RUN = Permission("exposure.run", _("Lancer une analyse d'exposition"), {C_ADMIN, C_ANALYST})
    MANAGE = Permission(
        "exposure.manage", _("Régler les profils et calendriers d'analyse"), {C_ADMIN, C_ANALYST}
    )
    FEEDS = Permission(
        "feeds.manage",
        _("Importer les flux de vulnérabilités (NVD, KEV, EPSS)"),
        {C_ADMIN, C_ANALYST},
    )


SERVICE = ServiceSpec(
    name="exposure",
    order=10,
    label=_("Exposition sur internet"),
    url_prefix="exposition/",
    urls="carbet.exposure.urls",
    nav=(NavEntry(_("Exposition"), "exposure:overview", ExposurePerm.VIEW, order=300),),
    structure_links=(
        StructureLink(_("Exposition sur internet"), "exposure:structure", ExposurePerm.VIEW, 300),
    ),
    permissions=(ExposurePerm.VIEW, ExposurePerm.RUN, ExposurePerm.MANAGE, ExposurePerm.FEEDS),
    mandate_kinds=(Choice(EXPOSURE_MANDATE, _("Analyse de l'exposition sur internet")),),
    findings_sources=(Choice(EXPOSURE_SOURCE, _("Exposition internet")),),
    scores=(("exposure", "carbet.exposure.services.exposure_scores"),),
    evidence_kinds=(Choice(EXPOSURE_MANDATE, _("Analyse complète de l'exposition")),),
    periodic_jobs=(
        PeriodicJob(
            "exposure run-due", "15 * * * *", "analyses d'exposition dont le créneau est venu"
        ),
    ),
    walk_seed="tests/exposure/walk_seed.py",
    docs="docs/exposure.md",
    inventory=("carbet.exposure.inventory.provide",),
)
