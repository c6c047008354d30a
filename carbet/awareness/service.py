"""The awareness (phishing simulations and training) service's declaration to the kernel."""

from django.utils.translation import gettext_lazy as _

from carbet.accounts.roles import C_ADMIN, C_ANALYST, DIRECTOR, REFERENT
from carbet.core.contract import (
    Choice,
    FastPath,
    NavEntry,
    PeriodicJob,
    Permission,
    ServiceSpec,
    StructureLink,
)

# The kind of mandate this service acts under (``carbet.core.mandates.check``).
PHISHING_MANDATE = "phishing"


# The source of the findings this service writes (``carbet.findings.ingest.ingest``).
AWARENESS_SOURCE = "awareness"


class AwarenessPerm:
    VIEW = Permission(
        "awareness.view",
        _("Voir les résultats agrégés de sensibilisation"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT},
    )
    MANAGE = Permission(
        "awareness.manage",
        _("Préparer et lancer une simulation d'hameçonnage"),
        {C_ADMIN, C_ANALYST},
    )
    NOMINATIVE = Permission(
        "awareness.nominative", _("Voir les résultats nominatifs"), {C_ADMIN, C_ANALYST}
    )
    TRAINING = Permission(
        "training.manage", _("Gérer les modules de formation"), {C_ADMIN, C_ANALYST}
    )


def _install_library(**_kwargs) -> None:
    """The regional library (lures, landing pages, training) after every migrate, and after a
    database flush, which empties what the data migration installed. Idempotent."""
    from carbet.awareness import library
    from carbet.awareness.models import EmailTemplate, LandingPage, TrainingModule

    library.install(
        {
            "LandingPage": LandingPage,
            "EmailTemplate": EmailTemplate,
            "TrainingModule": TrainingModule,
        }
    )


def _connect_library() -> None:
    from django.apps import apps
    from django.db.models.signals import post_migrate

    post_migrate.connect(
        _install_library,
        sender=apps.get_app_config("awareness"),
        dispatch_uid="awareness-library",
    )


SERVICE = ServiceSpec(
    name="awareness",
    order=30,
    label=_("Sensibilisation et hameçonnage simulé"),
    url_prefix="sensibilisation/",
    urls="carbet.awareness.urls",
    # Phishing simulations' public space: recipients' links, no staff session involved.
    extra_urls=(("s/", "carbet.awareness.public_urls"),),
    public_prefixes=("/s/",),
    # The open pixel is answered before the staff middleware stack (one UPDATE, 43 bytes).
    fast_paths=(
        FastPath(
            r"^/s/(?P<token>[A-Za-z0-9_-]{16,128})/o\.gif$",
            "carbet.awareness.middleware.answer_open_pixel",
        ),
    ),
    nav=(NavEntry(_("Sensibilisation"), "awareness:index", AwarenessPerm.VIEW, order=320),),
    structure_links=(
        StructureLink(_("Sensibilisation"), "awareness:structure", AwarenessPerm.VIEW, 340),
    ),
    permissions=(
        AwarenessPerm.VIEW,
        AwarenessPerm.MANAGE,
        AwarenessPerm.NOMINATIVE,
        AwarenessPerm.TRAINING,
    ),
    mandate_kinds=(Choice(PHISHING_MANDATE, _("Simulation d'hameçonnage")),),
    findings_sources=(Choice(AWARENESS_SOURCE, _("Sensibilisation")),),
    scores=(("awareness", "carbet.awareness.results.structure_scores"),),
    evidence_kinds=(Choice("phishing_campaign", _("Campagne d'hameçonnage simulé")),),
    periodic_jobs=(
        PeriodicJob("awareness poll", "*/10 * * * *", "boîte de signalement (IMAP)"),
        PeriodicJob(
            "awareness maintenance",
            "5 1 * * *",
            "clics de robots, résultats, purge à l'échéance",
        ),
    ),
    walk_seed="tests/awareness/walk_seed.py",
    docs="docs/awareness.md",
    on_ready=(_connect_library,),
)
