"""Read-side queries of the registry: the region table, a structure's page, what to do next.

The region table must stay fast at regional scale (hundreds of structures, tens of thousands of
assets): every per-structure figure is a correlated subquery annotated on the one structure
query, so a page costs a fixed number of queries whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from carbet.accounts.roles import Perm
from carbet.core import contract, ownership
from carbet.core.choices import (
    MEDICO_SOCIAL_CATEGORIES,
    AssetKind,
    ContactRole,
    Ownership,
    Sector,
)
from carbet.core.models import Asset, Contact, Mandate, MandateStatus, Structure
from carbet.core.tenancy import Actor, can, grants

# A mandate ending within this many days is shown as "expiring" (same rule as mandate_state).
EXPIRING_DAYS = 30


class MandateFilter:
    """Values of the region table's mandate-state filter and column."""

    VALID = "valid"
    EXPIRING = "expiring"
    NONE = "none"

    CHOICES = [
        (VALID, _("En vigueur")),
        (EXPIRING, _("Expire dans moins de 30 jours")),
        (NONE, _("Aucun mandat en vigueur")),
    ]


def _count_subquery(model: Any, extra: Q | None = None) -> Coalesce:
    rows = model.objects.filter(structure=OuterRef("pk"))
    if extra is not None:
        rows = rows.filter(extra)
    counted = rows.order_by().values("structure").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def valid_mandates(day: date) -> QuerySet[Mandate]:
    """Mandates in force on ``day`` (unscoped: callers combine it with a visible queryset)."""
    return Mandate.objects.filter(
        status=MandateStatus.ACTIVE, valid_from__lte=day, valid_until__gte=day
    )


def annotate_registry(structures: QuerySet[Structure], today: date | None = None) -> QuerySet:
    """Add the region table's figures: asset counts, contacts, latest valid mandate end."""
    today = today or timezone.localdate()
    latest_end = (
        valid_mandates(today)
        .filter(structure=OuterRef("pk"))
        .order_by("-valid_until")
        .values("valid_until")[:1]
    )
    return (
        structures.select_related("organisation", "organisation__ght")
        .annotate(
            assets_total=_count_subquery(Asset),
            assets_proven=_count_subquery(
                Asset, Q(proven_at__isnull=False, in_conflict=False, rejected=False)
            ),
            contacts_count=_count_subquery(Contact),
            mandate_until=Subquery(latest_end),
        )
        .annotate(
            mandate_flag=Case(
                When(mandate_until__isnull=True, then=Value(MandateFilter.NONE)),
                When(
                    mandate_until__lte=today + timedelta(days=EXPIRING_DAYS),
                    then=Value(MandateFilter.EXPIRING),
                ),
                default=Value(MandateFilter.VALID),
                output_field=CharField(),
            )
        )
    )


@dataclass(frozen=True)
class RegionFilters:
    """The parsed filters of the region table (all optional)."""

    q: str = ""
    category: str = ""
    sector: str = ""
    departement: str = ""
    ght_id: int | None = None
    organisation_id: int | None = None
    mandate: str = ""


def filter_structures(structures: QuerySet, filters: RegionFilters) -> QuerySet:
    """Apply the region filters to an annotated structure queryset."""
    if filters.q:
        term = filters.q.strip()
        structures = structures.filter(
            Q(name__icontains=term)
            | Q(finess_et__icontains=term.replace(" ", ""))
            | Q(city__icontains=term)
            | Q(organisation__name__icontains=term)
        )
    if filters.category:
        structures = structures.filter(category=filters.category)
    if filters.sector == Sector.MEDICO_SOCIAL:
        structures = structures.filter(category__in=MEDICO_SOCIAL_CATEGORIES)
    elif filters.sector == Sector.SANITAIRE:
        structures = structures.exclude(category__in=MEDICO_SOCIAL_CATEGORIES)
    if filters.departement:
        structures = structures.filter(departement=filters.departement)
    if filters.ght_id:
        structures = structures.filter(organisation__ght_id=filters.ght_id)
    if filters.organisation_id:
        structures = structures.filter(organisation_id=filters.organisation_id)
    if filters.mandate:
        structures = structures.filter(mandate_flag=filters.mandate)
    return structures


def region_structures(actor: Actor, filters: RegionFilters, perm: Perm = Perm.REGION_VIEW):
    """The structures ``actor`` may list under ``perm``, annotated and filtered, by name."""
    visible = Structure.objects.visible_to(actor, perm)
    return filter_structures(annotate_registry(visible), filters).order_by("name", "pk")


def attach_risk(actor: Actor, structures: list[Structure], today: date | None = None) -> bool:
    """Set ``risk_score`` and ``risk_critical`` on each structure of a table page, from the
    findings posture selectors (the figures of the dashboards, computed there once). Returns
    whether ``actor`` may see them (no column otherwise)."""
    from carbet.engines.posture import PostureCounts
    from carbet.findings.posture import selectors as posture

    if not can(actor, Perm.FINDINGS_DETAIL):
        return False
    today = today or timezone.localdate()
    if grants(actor, Perm.FINDINGS_DETAIL).everything:
        counts, _cells = posture.region_counts(today=today)  # kept between requests
    else:
        counts, _cells = posture.live_counts(
            actor, today=today, structure_ids=[s.pk for s in structures]
        )
    visible = set(
        Structure.objects.visible_to(actor, Perm.FINDINGS_DETAIL)
        .filter(pk__in=[s.pk for s in structures])
        .values_list("pk", flat=True)
    )
    for item in structures:
        if item.pk not in visible:
            item.risk_score = item.risk_critical = None
            continue
        own = counts.get(item.pk, PostureCounts())
        item.risk_score, item.risk_critical = own.score, own.open_critical
    return True


def departements_of(structures: QuerySet[Structure]) -> list[str]:
    return list(structures.order_by("departement").values_list("departement", flat=True).distinct())


# --- A structure's page ---------------------------------------------------------------------


@dataclass
class NextStep:
    """One plain-French piece of advice for the structure page's "what to do next" box."""

    title: str
    why: str
    how: str
    level: str = "warn"  # badge class: warn or danger


@dataclass
class StructurePage:
    """Everything the structure page shows, already cut to what the viewer may see."""

    structure: Structure
    contacts: list[Contact]
    assets: list[Asset] | None
    mandates: list[tuple[Mandate, str]] | None
    current_mandate: Mandate | None
    next_steps: list[NextStep] = field(default_factory=list)
    rights: dict[str, bool] = field(default_factory=dict)
    services: list[tuple[str, str]] = field(default_factory=list)  # (label, url) per service
    # The findings posture (score, open counts, first priorities), for those who see findings.
    counts: Any = None  # carbet.engines.posture.PostureCounts
    priorities: list[Any] = field(default_factory=list)  # findings.posture.structure.PriorityItem

    @property
    def score(self) -> int | None:
        return None if self.counts is None else self.counts.score


# The services' pages of one structure, shown on its page to those who may use them. A link
# whose URL name does not resolve (service not installed) is left out.
def service_links(actor: Actor, structure: Structure) -> list[tuple[str, str]]:
    from django.urls import NoReverseMatch, reverse

    links = []
    for link in contract.structure_links():  # each service declares its own
        if not can(actor, link.perm, structure):
            continue
        try:
            links.append((str(link.label), reverse(link.url_name, args=[structure.pk])))
        except NoReverseMatch:
            continue
    return links


def _rights(actor: Actor, structure: Structure) -> dict[str, bool]:
    checks = {
        "edit_structure": Perm.STRUCTURE_EDIT,
        "edit_contacts": Perm.CONTACT_EDIT,
        "view_assets": Perm.ASSET_VIEW,
        "edit_assets": Perm.ASSET_EDIT,
        "validate_assets": Perm.ASSET_VALIDATE,
        "view_mandates": Perm.MANDATE_VIEW,
        "record_mandates": Perm.MANDATE_EDIT,
        "revoke_mandates": Perm.MANDATE_REVOKE,
        "export": Perm.EXPORT_RUN,
        "view_findings": Perm.FINDINGS_DETAIL,
        "view_actions": Perm.ACTION_VIEW,
        "view_reports": Perm.REPORT_VIEW,
        "view_history": Perm.AUDIT_VIEW_STRUCTURE,
    }
    return {name: can(actor, perm, structure) for name, perm in checks.items()}


def structure_page(actor: Actor, structure: Structure, today: date | None = None) -> StructurePage:
    """Gather the structure page, each section only if ``actor`` may see it."""
    from carbet.core.services import mandate_state

    today = today or timezone.localdate()
    rights = _rights(actor, structure)
    contacts = list(Contact.objects.visible_to(actor).filter(structure=structure))
    assets = None
    if rights["view_assets"]:
        assets = list(
            Asset.objects.visible_to(actor, Perm.ASSET_VIEW)
            .filter(structure=structure)
            .select_related("validated_by")
        )
    mandates = None
    current = None
    if rights["view_mandates"]:
        rows = list(
            Mandate.objects.visible_to(actor, Perm.MANDATE_VIEW)
            .filter(structure=structure)
            .select_related("recorded_by")
            .prefetch_related("assets")
        )
        mandates = [(mandate, mandate_state(mandate, today)) for mandate in rows]
        in_force = [m for m, state in mandates if state in ("active", "expiring")]
        current = max(in_force, key=lambda m: m.valid_until) if in_force else None
    page = StructurePage(structure, contacts, assets, mandates, current, rights=rights)
    page.services = service_links(actor, structure)
    if rights["view_findings"]:
        _add_posture(actor, page, today)
    page.next_steps = next_steps(page, today)
    return page


TOP_PRIORITIES = 3


def _add_posture(actor: Actor, page: StructurePage, today: date) -> None:
    """The score and the first priorities, read from the findings posture selectors (the same
    figures as the structure's dashboard, never recomputed here)."""
    from carbet.engines.posture import PostureCounts
    from carbet.findings.posture import selectors as posture
    from carbet.findings.posture import structure as posture_structure

    counts, _cells = posture.live_counts(actor, today=today, structure_ids=[page.structure.pk])
    page.counts = counts.get(page.structure.pk, PostureCounts())
    page.priorities = posture_structure.priorities(
        actor, page.structure, today=today, limit=TOP_PRIORITIES, counts=page.counts
    )


def _mandate_steps(page: StructurePage, today: date) -> list[NextStep]:
    if page.mandates is None:
        return []
    can_sign = page.rights["record_mandates"]
    how_sign = (
        _(
            "Préparez le mandat avec le centre (services couverts, actifs, durée), faites-le "
            "signer par la direction, puis déposez le document signé avec le bouton "
            "« Enregistrer un mandat signé »."
        )
        if can_sign
        else _("Demandez à la direction de la structure de signer et déposer le mandat.")
    )
    if page.current_mandate is None:
        return [
            NextStep(
                title=str(_("Faire signer un mandat")),
                why=str(
                    _(
                        "Sans mandat signé par la direction, le centre n'a pas le droit "
                        "d'analyser vos actifs ni de mener d'exercice : la loi interdit d'accéder "
                        "à un système sans l'accord de son responsable."
                    )
                ),
                how=str(how_sign),
                level="danger",
            )
        ]
    days_left = (page.current_mandate.valid_until - today).days
    if days_left <= EXPIRING_DAYS:
        return [
            NextStep(
                title=str(_("Renouveler le mandat")),
                why=str(
                    _(
                        "Le mandat en vigueur prend fin le %(day)s. Après cette date, les "
                        "analyses et exercices s'arrêtent."
                    )
                    % {"day": page.current_mandate.valid_until.strftime("%d/%m/%Y")}
                ),
                how=str(how_sign),
            )
        ]
    return []


def _asset_steps(page: StructurePage) -> list[NextStep]:
    if page.assets is None:
        return []
    if not page.assets:
        return [
            NextStep(
                title=str(_("Déclarer vos actifs")),
                why=str(
                    _(
                        "Le centre ne surveille que ce que vous déclarez : votre site web, vos "
                        "domaines de messagerie, les adresses de vos accès à distance."
                    )
                ),
                how=str(
                    _(
                        "Ajoutez-les avec le bouton « Ajouter un actif ». Votre prestataire "
                        "informatique peut vous aider à en dresser la liste."
                    )
                ),
            )
        ]
    steps: list[NextStep] = []
    contactable = [a for a in page.assets if a.kind != AssetKind.APPLICATION]
    in_conflict = [a for a in contactable if a.ownership == Ownership.CONFLICT]
    if in_conflict:
        steps.append(
            NextStep(
                title=str(
                    _("%(n)s actif(s) déclaré(s) aussi par une autre structure")
                    % {"n": len(in_conflict)}
                ),
                why=str(
                    _(
                        "Le même nom ou la même adresse figure chez une autre structure : rien "
                        "n'est analysé tant que le centre n'a pas vérifié à qui il appartient."
                    )
                ),
                how=str(
                    _(
                        "Le centre tranche et vous contacte si besoin (par exemple pour un "
                        "hébergement partagé). Supprimez l'actif s'il ne vous appartient pas."
                    )
                ),
                level="danger",
            )
        )
    to_prove = [a for a in contactable if a.ownership == Ownership.TO_PROVE]
    if to_prove:
        names = [a for a in to_prove if a.kind not in ownership.ADDRESS_KINDS]
        how = (
            _(
                "Ouvrez chaque actif marqué « propriété à prouver » : publiez l'enregistrement "
                "DNS ou le fichier indiqué (votre prestataire sait le faire), puis cliquez sur "
                "« Vérifier ». Les adresses sont vérifiées par le centre."
            )
            if names and page.rights["edit_assets"]
            else _("Le centre vérifie vos adresses et réseaux ; il vous contactera si besoin.")
        )
        steps.append(
            NextStep(
                title=str(_("Prouver la propriété de %(n)s actif(s)") % {"n": len(to_prove)}),
                why=str(
                    _(
                        "Le centre n'analyse que ce dont la propriété est prouvée : ainsi personne "
                        "ne peut faire analyser le système d'un autre établissement en le "
                        "déclarant comme le sien."
                    )
                ),
                how=str(how),
            )
        )
    return steps


def _contact_steps(page: StructurePage) -> list[NextStep]:
    roles = {contact.role for contact in page.contacts}
    missing = [
        str(role.label)
        for role in (ContactRole.DIRECTOR, ContactRole.CYBER_REFERENT)
        if role not in roles
    ]
    if not missing:
        return []
    return [
        NextStep(
            title=str(_("Compléter les contacts")),
            why=str(
                _(
                    "En cas d'alerte, le centre doit savoir qui prévenir sans délai. "
                    "Il manque : %(roles)s."
                )
                % {"roles": ", ".join(missing)}
            ),
            how=str(
                _("Ajoutez-les avec le bouton « Ajouter un contact ».")
                if page.rights["edit_contacts"]
                else _("Demandez à la direction de les ajouter.")
            ),
        )
    ]


def _risk_steps(page: StructurePage) -> list[NextStep]:
    """Open critical and high findings, and overdue ones: these come before any paperwork."""
    counts = page.counts
    if counts is None:
        return []
    steps: list[NextStep] = []
    exploited = any(item.finding.kev for item in page.priorities)
    if counts.open_critical:
        why = _(
            "Une faille critique permet à un attaquant d'entrer facilement : rançongiciel, "
            "vol de données de santé, arrêt des soins."
        )
        if exploited:
            why = f"{why} {_('Des attaquants exploitent déjà certaines de ces failles ailleurs.')}"
        steps.append(
            NextStep(
                title=str(
                    ngettext(
                        "Corriger %(n)d vulnérabilité critique",
                        "Corriger %(n)d vulnérabilités critiques",
                        counts.open_critical,
                    )
                    % {"n": counts.open_critical}
                ),
                why=str(why),
                how=str(
                    _(
                        "Ouvrez le tableau de bord de la structure : chaque faille y est "
                        "expliquée avec la correction à faire. Confiez-la aujourd'hui à votre "
                        "référent ou à votre prestataire informatique."
                    )
                ),
                level="danger",
            )
        )
    if counts.overdue:
        steps.append(
            NextStep(
                title=str(
                    ngettext(
                        "%(n)d vulnérabilité a dépassé sa date limite",
                        "%(n)d vulnérabilités ont dépassé leur date limite",
                        counts.overdue,
                    )
                    % {"n": counts.overdue}
                ),
                why=str(
                    _(
                        "Les délais de correction tiennent compte de la gravité : une faille "
                        "ouverte au-delà reste une porte d'entrée connue."
                    )
                ),
                how=str(
                    _(
                        "Corrigez-les ou, si c'est impossible pour l'instant, faites signer une "
                        "acceptation du risque par la direction avec une date de fin."
                    )
                ),
                level="danger",
            )
        )
    if counts.open_high:
        steps.append(
            NextStep(
                title=str(
                    ngettext(
                        "Corriger %(n)d vulnérabilité élevée",
                        "Corriger %(n)d vulnérabilités élevées",
                        counts.open_high,
                    )
                    % {"n": counts.open_high}
                ),
                why=str(_("Une faille élevée facilite une attaque : elle suit les critiques.")),
                how=str(_("Planifiez-les dans le plan d'action, avec une date et un responsable.")),
            )
        )
    return steps


def next_steps(page: StructurePage, today: date) -> list[NextStep]:
    """The few things the structure should do now, by risk: open critical findings and missed
    deadlines first, then the mandate and assets that let the centre work, then contacts."""
    return [
        *_risk_steps(page),
        *_mandate_steps(page, today),
        *_asset_steps(page),
        *_contact_steps(page),
    ]
