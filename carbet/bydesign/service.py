"""The security-by-design and medico-social track service's declaration to the kernel."""

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

# The source of the findings this service writes (unmet essential measures).
BYDESIGN_SOURCE = "bydesign"
# The fact handed to the roadmap when a director signs a security decision.
DECISION_EVIDENCE = "security_decision"


class BydesignPerm:
    VIEW = Permission(
        "bydesign.view",
        _("Voir les services numériques, leurs mesures et le parcours"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT},
    )
    EDIT = Permission(
        "bydesign.edit",
        _("Décrire un service numérique et mettre à jour ses mesures"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT},
    )
    DECIDE = Permission(
        "bydesign.decide", _("Signer la décision de sécurité d'un service"), {DIRECTOR}
    )
    VENDOR = Permission(
        "bydesign.vendor",
        _("Envoyer ou révoquer un questionnaire fournisseur"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT},
    )
    REGION = Permission(
        "bydesign.region",
        _("Suivre le parcours médico-social de la région et pousser une étape"),
        {C_ADMIN, C_ANALYST},
    )


SERVICE = ServiceSpec(
    name="bydesign",
    order=40,
    label=_("Sécurité dès la conception"),
    url_prefix="services-numeriques/",
    urls="carbet.bydesign.urls",
    extra_urls=(("q/", "carbet.bydesign.public_urls"),),
    public_prefixes=("/q/",),
    nav=(NavEntry(_("Services numériques"), "bydesign:home", BydesignPerm.VIEW, order=340),),
    structure_links=(
        StructureLink(_("Services numériques"), "bydesign:structure", BydesignPerm.VIEW, 350),
        StructureLink(_("Parcours médico-social"), "bydesign:track", BydesignPerm.VIEW, 351),
    ),
    permissions=(
        BydesignPerm.VIEW,
        BydesignPerm.EDIT,
        BydesignPerm.DECIDE,
        BydesignPerm.VENDOR,
        BydesignPerm.REGION,
    ),
    findings_sources=(Choice(BYDESIGN_SOURCE, _("Sécurité dès la conception")),),
    evidence_kinds=(Choice(DECISION_EVIDENCE, _("Décision de sécurité d'un service numérique")),),
    periodic_jobs=(
        PeriodicJob(
            "bydesign nightly",
            "40 1 * * *",
            "statuts automatiques, indice cyber, rappels des décisions et des questionnaires",
        ),
    ),
    walk_seed="tests/bydesign/walk_seed.py",
    docs="docs/bydesign.md",
    demo="carbet.bydesign.demo.load",
)
