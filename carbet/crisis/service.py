"""The crisis service's declaration to the kernel.

Roles: the kernel has no "crisis cell" role, so a case's visibility is the kernel's structure
scope (director and referent of the structure, the centre) **narrowed to the members of the
case's cell** (``carbet.crisis.models.CellMember``, see ``CaseQuerySet.visible_to``). The ARS
role holds only ``crisis.aggregates``: counts per category and département, durations and
phases, under the disclosure rules; never a case's content.
"""

from django.utils.translation import gettext_lazy as _

from carbet.accounts.roles import ARS, C_ADMIN, C_ANALYST, DIRECTOR, REFERENT
from carbet.core.contract import (
    Choice,
    NavEntry,
    PeriodicJob,
    Permission,
    ServiceSpec,
    StructureLink,
)

# The source of the findings the lessons learned become (``carbet.findings.ingest.ingest``).
CRISIS_SOURCE = "crisis"
# The roadmap fact recorded when a case's lessons are turned into actions.
LESSONS_EVIDENCE = "crisis_lessons"


class CrisisPerm:
    REPORT = Permission(
        "crisis.report",
        _("Signaler un incident de sécurité de sa structure"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT},
    )
    VIEW = Permission(
        "crisis.view",
        _("Suivre un dossier de crise (membres de la cellule de crise et centre)"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT},
    )
    CONTRIBUTE = Permission(
        "crisis.contribute",
        _(
            "Tenir la main courante, les tâches et le tableau de continuité "
            "(membres de la cellule de crise et centre)"
        ),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT},
    )
    MANAGE = Permission(
        "crisis.manage",
        _("Qualifier un incident, ouvrir un dossier de crise, changer sa phase"),
        {C_ADMIN, C_ANALYST},
    )
    AGGREGATES = Permission(
        "crisis.aggregates",
        _("Voir les indicateurs régionaux des crises (agrégés)"),
        {C_ADMIN, C_ANALYST, ARS},
    )


SERVICE = ServiceSpec(
    name="crisis",
    order=40,
    label=_("Gestion de crise"),
    url_prefix="crise/",
    urls="carbet.crisis.urls",
    # The PRIS provider's space: a signed, expiring link, no account (``carbet.crisis.tokens``).
    extra_urls=(("crise-p/", "carbet.crisis.public_urls"),),
    public_prefixes=("/crise-p/",),
    nav=(
        NavEntry(_("Crises"), "crisis:index", CrisisPerm.REPORT, order=350),
        NavEntry(
            _("Crises (région)"),
            "crisis:ars",
            CrisisPerm.AGGREGATES,
            order=352,
            hidden_for=CrisisPerm.MANAGE,
        ),
    ),
    structure_links=(
        StructureLink(
            _("Crise cyber : signaler, kit de crise"), "crisis:structure", CrisisPerm.REPORT, 360
        ),
    ),
    permissions=(
        CrisisPerm.REPORT,
        CrisisPerm.VIEW,
        CrisisPerm.CONTRIBUTE,
        CrisisPerm.MANAGE,
        CrisisPerm.AGGREGATES,
    ),
    findings_sources=(Choice(CRISIS_SOURCE, _("Gestion de crise")),),
    evidence_kinds=(Choice(LESSONS_EVIDENCE, _("Retour d'expérience d'une crise cyber")),),
    periodic_jobs=(
        PeriodicJob(
            "crisis reminders",
            "*/15 * * * *",
            "rappels des déclarations obligatoires (ARS, CNIL, plainte, assureur)",
        ),
    ),
    walk_seed="tests/crisis/walk_seed.py",
    docs="docs/crisis.md",
    demo="carbet.crisis.demo.load",
    demo_wipe="carbet.crisis.demo.wipe",
)
