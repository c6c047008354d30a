"""The roadmap service's declaration to the kernel."""

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

# The source of the findings this service writes (``carbet.findings.ingest.ingest``).
ROADMAP_SOURCE = "roadmap"


class RoadmapPerm:
    VIEW = Permission(
        "roadmap.view",
        _("Voir la feuille de route et les évaluations"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT},
    )
    EDIT = Permission(
        "roadmap.edit",
        _("Modifier la feuille de route et les évaluations"),
        {C_ADMIN, C_ANALYST, REFERENT},
    )
    ANSWER = Permission(
        "roadmap.answer",
        _("Répondre au diagnostic et déposer des justificatifs"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT},
    )
    BACKUP = Permission(
        "backup.edit", _("Tenir le registre des sauvegardes"), {C_ADMIN, C_ANALYST, REFERENT, IT}
    )
    FRAMEWORK = Permission(
        "framework.manage", _("Charger les référentiels et les indicateurs"), {C_ADMIN}
    )


def _install_frameworks() -> None:
    from django.apps import apps
    from django.db.models.signals import post_migrate

    from carbet.roadmap import frameworks

    # A fresh or upgraded installation gets the bundled framework files.
    post_migrate.connect(
        frameworks.load_bundled_after_migrate,
        sender=apps.get_app_config("roadmap"),
        dispatch_uid="roadmap-frameworks",
    )


SERVICE = ServiceSpec(
    name="roadmap",
    order=40,
    label=_("Feuille de route et indicateurs"),
    url_prefix="feuille-de-route/",
    urls="carbet.roadmap.urls",
    nav=(
        NavEntry(_("Feuille de route"), "roadmap:home", RoadmapPerm.VIEW, order=330),
    ),
    structure_links=(
        StructureLink(_("Feuille de route"), "roadmap:structure", RoadmapPerm.VIEW, 330),
        StructureLink(_("Sauvegardes"), "roadmap:backups", RoadmapPerm.VIEW, 335),
    ),
    permissions=(
        RoadmapPerm.VIEW,
        RoadmapPerm.EDIT,
        RoadmapPerm.ANSWER,
        RoadmapPerm.BACKUP,
        RoadmapPerm.FRAMEWORK,
    ),
    findings_sources=(Choice(ROADMAP_SOURCE, _("Feuille de route")),),
    scores=(("roadmap", "carbet.roadmap.indicators.roadmap_score"),),
    evidence_kinds=(Choice("restore_test", _("Test de restauration")),),
    periodic_jobs=(
        PeriodicJob(
            "roadmap nightly", "20 1 * * *", "indicateurs, preuves, rappels, sauvegardes"
        ),
    ),
    evidence_sink="carbet.roadmap.auto_evidence.record",
    walk_seed="tests/roadmap/walk_seed.py",
    docs="docs/roadmap.md",
    on_ready=(_install_frameworks,),
)
