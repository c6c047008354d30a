"""Regional campaigns: one weakness shared by many structures, handled once for the region.

The centre defines a campaign by what to match (a CVE, a rule id, a product name), previews the
structures that have open findings matching it, then launches it: every such structure gets one
action item (linked to its matching findings) and one notice e-mail, sent by the job
``findings.campaign_notify`` (see ``notify``), exactly once per structure. Launching again later
picks up structures and findings that appeared since, without duplicating anything.
Only centre staff (CAMPAIGN_MANAGE) manage campaigns; a structure sees a campaign only through
its own action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core.models import Structure
from carbet.core.tenancy import Actor, can
from carbet.findings.choices import OPEN_STATUSES, Severity
from carbet.findings.models import ActionItem, ActionStatus, Campaign, CampaignNotice, Finding
from carbet.findings.plans import services
from carbet.findings.plans.services import LIVE_STATUSES

NOTIFY_JOB = "findings.campaign_notify"
CAMPAIGN_FIELDS = ["title", "description", "notice", "match_cve", "match_rule", "match_product"]


def require_manage(actor: Actor) -> None:
    services.require(actor, Perm.CAMPAIGN_MANAGE)


def campaigns_for(actor: Actor) -> QuerySet[Campaign]:
    """Every campaign for centre staff; nothing for anyone else."""
    if not can(actor, Perm.CAMPAIGN_MANAGE):
        return Campaign.objects.none()
    return Campaign.objects.all()


def _normalise(campaign: Campaign) -> None:
    campaign.title = campaign.title.strip()
    campaign.match_cve = campaign.match_cve.strip().upper()
    campaign.match_rule = campaign.match_rule.strip()
    campaign.match_product = campaign.match_product.strip()
    if not (campaign.match_cve or campaign.match_rule or campaign.match_product):
        raise ValidationError(
            _("Indiquez au moins un critère : une CVE, un identifiant de règle ou un produit.")
        )
    if campaign.match_product and len(campaign.match_product) < 3:
        raise ValidationError(
            {"match_product": _("Le nom de produit doit compter au moins 3 caractères.")}
        )


@transaction.atomic
def save_campaign(actor: Actor, campaign: Campaign, *, ip: str | None = None) -> Campaign:
    """Create a campaign or change it before its launch (its criteria are then fixed)."""
    require_manage(actor)
    creating = campaign.pk is None
    if not creating and campaign.launched_at is not None:
        before = Campaign.objects.get(pk=campaign.pk)
        if any(
            getattr(before, name) != getattr(campaign, name)
            for name in ("match_cve", "match_rule", "match_product")
        ):
            raise ValidationError(_("Une campagne lancée garde ses critères."))
    _normalise(campaign)
    if creating:
        campaign.created_by = actor if getattr(actor, "pk", None) else None
    campaign.full_clean(exclude=["created_by", "launched_by"])
    campaign.save()
    audit.record(
        actor,
        "campaign.create" if creating else "campaign.update",
        campaign,
        changes={name: getattr(campaign, name) for name in CAMPAIGN_FIELDS},
        ip=ip,
    )
    return campaign


def matching_findings(actor: Actor, campaign: Campaign) -> QuerySet[Finding]:
    """Open findings the campaign's criteria match (all criteria given must match)."""
    findings = Finding.objects.visible_to(actor, Perm.FINDINGS_DETAIL).filter(
        status__in=OPEN_STATUSES
    )
    if campaign.match_cve:
        findings = findings.filter(cve__iexact=campaign.match_cve)
    if campaign.match_rule:
        findings = findings.filter(rule=campaign.match_rule)
    if campaign.match_product:
        findings = findings.filter(product__icontains=campaign.match_product)
    return findings


@dataclass(frozen=True)
class StructureMatch:
    structure: Structure
    findings: int
    worst_severity: int

    @property
    def severity_label(self) -> str:
        return str(Severity(self.worst_severity).label)


def preview(actor: Actor, campaign: Campaign) -> list[StructureMatch]:
    """The structures with open matching findings, with their counts (most affected first)."""
    require_manage(actor)
    rows = (
        matching_findings(actor, campaign)
        .values("structure_id")
        .annotate(findings=Count("id"), worst=Max("severity"))
        .order_by()
    )
    counts = {row["structure_id"]: (row["findings"], row["worst"]) for row in rows}
    structures = Structure.objects.filter(pk__in=counts).select_related("organisation")
    matches = [StructureMatch(s, *counts[s.pk]) for s in structures]
    return sorted(matches, key=lambda m: (-m.worst_severity, -m.findings, m.structure.name))


@dataclass
class LaunchReport:
    actions_created: list[int] = field(default_factory=list)
    actions_extended: list[int] = field(default_factory=list)
    notices_queued: list[int] = field(default_factory=list)
    job_id: str | None = None


def _campaign_action(
    actor: Actor, campaign: Campaign, structure: Structure, findings: list[Finding], ip, now
) -> tuple[ActionItem, bool]:
    """The structure's live action of the campaign, extended with ``findings``, or a new one."""
    existing = (
        campaign.actions.filter(structure=structure, status__in=LIVE_STATUSES)
        .order_by("created_at")
        .first()
    )
    if existing is not None:
        linked = set(existing.findings.values_list("pk", flat=True))
        new = [f for f in findings if f.pk not in linked]
        if new:
            services.update_action(
                actor, existing, [*existing.findings.all(), *new], ip=ip, now=now
            )
        return existing, False
    action = services.draft_from_findings(structure, findings)
    action.title = campaign.title[:200]
    action.why = campaign.description or action.why
    action.how = action.how or campaign.notice
    action.campaign = campaign
    return services.create_action(actor, action, findings, ip=ip, now=now), True


@transaction.atomic
def launch(
    actor: Actor, campaign: Campaign, *, ip: str | None = None, now: datetime | None = None
) -> LaunchReport:
    """Create the per-structure actions and queue each structure's notice (sent once)."""
    from carbet.jobs import services as jobs

    require_manage(actor)
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    by_structure: dict[int, list[Finding]] = {}
    for finding in matching_findings(actor, campaign).order_by("-severity", "sla_due", "id"):
        by_structure.setdefault(finding.structure_id, []).append(finding)
    structures = Structure.objects.filter(pk__in=by_structure).select_related("organisation__ght")
    report = LaunchReport()
    for structure in structures:
        action, created = _campaign_action(
            actor, campaign, structure, by_structure[structure.pk], ip, now
        )
        (report.actions_created if created else report.actions_extended).append(action.pk)
        notice, new_notice = CampaignNotice.objects.get_or_create(
            campaign=campaign, structure=structure, defaults={"action": action, "created_at": now}
        )
        if new_notice:
            report.notices_queued.append(notice.pk)
        elif notice.action_id is None:
            notice.action = action
            notice.save(update_fields=["action"])
    if campaign.launched_at is None:
        campaign.launched_at = now
        campaign.launched_by = actor if getattr(actor, "pk", None) else None
        campaign.save(update_fields=["launched_at", "launched_by"])
    if campaign.notices.filter(sent_at__isnull=True).exists():
        job = jobs.submit(
            NOTIFY_JOB,
            actor=actor,
            params={"campaign": campaign.pk},
            title=_("Avis de la campagne « %(title)s »") % {"title": campaign.title},
        )
        report.job_id = str(job.pk)
    audit.record(
        actor,
        "campaign.launch",
        campaign,
        changes={
            "structures": sorted(by_structure),
            "actions_created": report.actions_created,
            "actions_extended": report.actions_extended,
            "notices_queued": len(report.notices_queued),
        },
        ip=ip,
    )
    return report


@dataclass(frozen=True)
class StructureProgress:
    structure: Structure
    action: ActionItem | None
    notice: CampaignNotice | None


@dataclass(frozen=True)
class CampaignProgress:
    rows: list[StructureProgress]
    total: int
    finished: int

    @property
    def share(self) -> int:
        """Share (%) of the campaign's live actions that are done or verified."""
        return round(100 * self.finished / self.total) if self.total else 0


def progress(actor: Actor, campaign: Campaign) -> CampaignProgress:
    """Per-structure state of a campaign: its action, its progress, its notice."""
    require_manage(actor)
    actions = {
        a.structure_id: a
        for a in ActionItem.objects.visible_to(actor, Perm.ACTION_VIEW)
        .filter(campaign=campaign)
        .select_related("structure")
        .order_by("created_at")
    }
    notices = {
        n.structure_id: n
        for n in CampaignNotice.objects.visible_to(actor, Perm.ACTION_VIEW)
        .filter(campaign=campaign)
        .select_related("structure")
    }
    rows = []
    for structure_id in sorted(set(actions) | set(notices)):
        action = actions.get(structure_id)
        notice = notices.get(structure_id)
        structure = action.structure if action else notice.structure  # type: ignore[union-attr]
        rows.append(StructureProgress(structure, action, notice))
    rows.sort(key=lambda r: r.structure.name)
    live = [a for a in actions.values() if a.status != ActionStatus.CANCELLED]
    finished = sum(a.status in (ActionStatus.DONE, ActionStatus.VERIFIED) for a in live)
    return CampaignProgress(rows, len(live), finished)
