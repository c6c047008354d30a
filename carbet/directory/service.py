"""The directory (Active Directory audit) service's declaration to the kernel."""

from django.utils.translation import gettext_lazy as _

from carbet.accounts.roles import C_ADMIN, C_ANALYST, DIRECTOR, IT, REFERENT
from carbet.core.contract import Choice, NavEntry, Permission, ServiceSpec, StructureLink

# The kind of mandate this service acts under (``carbet.core.mandates.check``).
DIRECTORY_MANDATE = "directory_audit"


# The source of the findings this service writes (``carbet.findings.ingest.ingest``).
DIRECTORY_SOURCE = "directory"


class DirectoryPerm:
    VIEW = Permission(
        "directory.view",
        _("Voir les audits de l'annuaire"),
        {C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT},
    )
    RUN = Permission(
        "directory.run", _("Lancer un audit de l'annuaire en ligne"), {C_ADMIN, C_ANALYST}
    )
    UPLOAD = Permission(
        "directory.upload",
        _("Déposer un instantané ou un rapport PingCastle"),
        {C_ADMIN, C_ANALYST, REFERENT, IT},
    )
    CONNECTION = Permission(
        "directory.connection", _("Gérer les connexions à l'annuaire"), {C_ADMIN, C_ANALYST}
    )
    EXCEPTION = Permission(
        "directory.exception",
        _("Accorder une exception à une règle d'audit"),
        {C_ADMIN, C_ANALYST, REFERENT},
    )


SERVICE = ServiceSpec(
    name="directory",
    order=20,
    label=_("Audit de l'annuaire"),
    url_prefix="annuaire/",
    urls="carbet.directory.urls",
    nav=(NavEntry(_("Annuaire"), "directory:index", DirectoryPerm.VIEW, order=310),),
    structure_links=(
        StructureLink(
            _("Annuaire (Active Directory)"), "directory:structure", DirectoryPerm.VIEW, 310
        ),
    ),
    permissions=(
        DirectoryPerm.VIEW,
        DirectoryPerm.RUN,
        DirectoryPerm.UPLOAD,
        DirectoryPerm.CONNECTION,
        DirectoryPerm.EXCEPTION,
    ),
    mandate_kinds=(Choice(DIRECTORY_MANDATE, _("Audit de l'annuaire (Active Directory)")),),
    findings_sources=(Choice(DIRECTORY_SOURCE, _("Annuaire (Active Directory)")),),
    scores=(("directory", "carbet.directory.findings.latest_scores"),),
    evidence_kinds=(Choice(DIRECTORY_MANDATE, _("Audit de l'annuaire")),),
    walk_seed="tests/directory/walk_seed.py",
    docs="docs/directory.md",
    inventory=("carbet.directory.inventory.provide",),
)
