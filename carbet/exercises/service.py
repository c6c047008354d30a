"""The exercises service's declaration to the kernel (``carbet.core.contract``)."""

from django.utils.translation import gettext_lazy as _

from carbet.accounts.roles import C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, Perm
from carbet.core.contract import (
    Choice,
    NavEntry,
    PeriodicJob,
    Permission,
    ServiceSpec,
    StructureLink,
)

# The kind of mandate injects are sent under (``carbet.core.mandates.check``), the source of
# the findings the RETEX writes, and the roadmap fact of an exercise held.
EXERCISE_MANDATE = "exercise"
EXERCISE_SOURCE = "exercise"
EXERCISE_EVIDENCE = "exercise"


class ExercisePerm:
    VIEW = Permission(
        "exercises.view",
        _("Voir les exercices de crise et leurs rapports"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT},
    )
    MANAGE = Permission(
        "exercises.manage",
        _("Préparer un exercice : scénario, date, participants, liens"),
        {C_ADMIN, C_ANALYST},
    )
    RUN = Permission(
        "exercises.run",
        _("Animer un exercice : console, attendus, observations, retour d'expérience"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT},
    )
    REGIONAL = Permission(
        "exercises.regional",
        _("Piloter un exercice régional et voir la couverture de la région"),
        {C_ADMIN, C_ANALYST},
    )


def _install_library(**_kwargs) -> None:
    """The scenario library after every migrate (and flush). Idempotent."""
    from carbet.exercises import services_scenarios

    services_scenarios.install_library()


def _connect_library() -> None:
    from django.apps import apps
    from django.db.models.signals import post_migrate

    post_migrate.connect(
        _install_library,
        sender=apps.get_app_config("exercises"),
        dispatch_uid="exercises-library",
    )


NAV = (
    NavEntry(_("Exercices"), "exercises:index", ExercisePerm.VIEW, order=330),
    # The ARS reads the regional summary (aggregates only); who sees the details has the list.
    NavEntry(
        _("Exercices (région)"),
        "exercises:ars",
        Perm.REGION_AGGREGATES,
        order=331,
        hidden_for=ExercisePerm.VIEW,
    ),
)
STRUCTURE_LINKS = (
    StructureLink(_("Exercices de crise"), "exercises:structure", ExercisePerm.VIEW, 345),
)

SERVICE = ServiceSpec(
    name="exercises",
    order=40,
    label=_("Exercices de crise cyber"),
    url_prefix="exercices/",
    urls="carbet.exercises.urls",
    # Players' and observers' space: signed links, no account.
    extra_urls=(("x/", "carbet.exercises.public_urls"),),
    public_prefixes=("/x/",),
    nav=NAV,
    structure_links=STRUCTURE_LINKS,
    permissions=(ExercisePerm.VIEW, ExercisePerm.MANAGE, ExercisePerm.RUN, ExercisePerm.REGIONAL),
    mandate_kinds=(Choice(EXERCISE_MANDATE, _("Exercice de crise")),),
    findings_sources=(Choice(EXERCISE_SOURCE, _("Exercice de crise")),),
    evidence_kinds=(Choice(EXERCISE_EVIDENCE, _("Exercice de crise tenu")),),
    periodic_jobs=(PeriodicJob("exercises poll", "*/2 * * * *", "réponses des joueurs (IMAP)"),),
    walk_seed="tests/exercises/walk_seed.py",
    docs="docs/exercises.md",
    demo="carbet.exercises.demo.load",
    on_ready=(_connect_library,),
)
