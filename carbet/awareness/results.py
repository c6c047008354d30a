"""Results: the funnel, reporting, by service, trends weighted by difficulty, the human-risk
score, findings, and the purge that keeps only aggregates after the retention period.

The funnel is nested by construction (sent ⊇ opened ⊇ clicked ⊇ submitted): a click implies the
message was seen even when images were blocked, and a submission counts only after a counted
click. Reporting stands apart: it is the measure that matters most. Robots' clicks are left out
unless the campaign says otherwise.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.awareness.choices import CampaignStatus, PrivacyMode, SendState
from carbet.awareness.models import Campaign, ClickEvent, Recipient, Target
from carbet.awareness.service import AWARENESS_SOURCE, AwarenessPerm
from carbet.core import contract
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM, Actor
from carbet.engines.awareness.phishscale import DIFFICULTY_WEIGHT, Difficulty

# Below this many people, a service's figures are merged into "other services" for those
# who may not see individual results: a figure about two people is about someone.
MIN_GROUP = 3
LOW_REPORTING = 0.2
HIGH_CLICKING = 0.2
SCORE_WINDOW_DAYS = 365


@dataclass
class Funnel:
    recipients: int = 0
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    submitted: int = 0
    reported: int = 0
    bot_clicks: int = 0
    median_minutes_to_report: float | None = None

    def rate(self, part: int) -> float | None:
        return round(part / self.sent, 4) if self.sent else None

    @property
    def click_rate(self) -> float | None:
        return self.rate(self.clicked)

    @property
    def report_rate(self) -> float | None:
        return self.rate(self.reported)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(click_rate=self.click_rate, report_rate=self.report_rate)
        for key in ("opened", "submitted"):
            data[f"{key}_rate"] = self.rate(getattr(self, key))
        return data


def _click_q(include_bots: bool) -> Q:
    return Q(clicked_at__isnull=False) if include_bots else Q(human_clicked_at__isnull=False)


def _counts(include_bots: bool) -> dict[str, Count]:
    sent = Q(state=SendState.SENT)
    clicked = sent & _click_q(include_bots)
    return dict(
        recipients=Count("pk"),
        sent=Count("pk", filter=sent),
        opened=Count("pk", filter=sent & (Q(opened_at__isnull=False) | _click_q(include_bots))),
        clicked=Count("pk", filter=clicked),
        submitted=Count("pk", filter=clicked & Q(submitted_at__isnull=False)),
        reported=Count("pk", filter=sent & Q(reported_at__isnull=False)),
        bot_clicks=Count(
            "pk", filter=sent & Q(clicked_at__isnull=False, human_clicked_at__isnull=True)
        ),
    )


def _aggregate(rows, include_bots: bool) -> dict[str, int]:
    return rows.aggregate(**_counts(include_bots))


def _median_minutes(rows) -> float | None:
    pairs = rows.filter(reported_at__isnull=False, sent_at__isnull=False).values_list(
        "sent_at", "reported_at"
    )
    minutes = [max(0.0, (r - s).total_seconds() / 60) for s, r in pairs]
    return round(statistics.median(minutes), 1) if minutes else None


def funnel(campaign: Campaign) -> Funnel:
    if campaign.purged_at:
        stored = campaign.summary.get("funnel", {})
        return Funnel(**{k: stored.get(k) for k in Funnel.__dataclass_fields__ if k in stored})
    rows = Recipient.objects.visible_to(SYSTEM).filter(campaign=campaign)
    result = Funnel(**_aggregate(rows, campaign.include_bots))
    result.median_minutes_to_report = _median_minutes(rows)
    return result


def by_service(campaign: Campaign, *, small_groups: bool = False) -> list[dict[str, Any]]:
    """One row per service; small services merged unless ``small_groups`` (nominative view)."""
    if campaign.purged_at:
        return list(campaign.summary.get("by_service", []))
    rows = Recipient.objects.visible_to(SYSTEM).filter(campaign=campaign).order_by()
    # One grouped query for the counts, one for the report delays: a campaign may have
    # hundreds of departments.
    grouped = rows.values("service").annotate(**_counts(campaign.include_bots))
    delays: dict[str, list[float]] = {}
    reported = rows.filter(reported_at__isnull=False, sent_at__isnull=False)
    for service, sent_at, reported_at in reported.values_list("service", "sent_at", "reported_at"):
        delays.setdefault(service, []).append(
            max(0.0, (reported_at - sent_at).total_seconds() / 60)
        )
    table, other = [], Funnel()
    for row in sorted(grouped, key=lambda r: r["service"]):
        service = row.pop("service")
        numbers = Funnel(**row)
        if service in delays:
            numbers.median_minutes_to_report = round(statistics.median(delays[service]), 1)
        if numbers.recipients < MIN_GROUP and not small_groups:
            for key in ("recipients", "sent", "opened", "clicked", "submitted", "reported"):
                setattr(other, key, getattr(other, key) + getattr(numbers, key))
            continue
        table.append({"service": service or _("(sans service)"), **numbers.as_dict()})
    if other.recipients:
        table.append({"service": _("Autres services (petits effectifs)"), **other.as_dict()})
    return table


def refresh_summary(campaign: Campaign) -> dict[str, Any]:
    """Store the aggregates on the campaign: they are all that survives the purge."""
    if campaign.purged_at:
        return campaign.summary
    summary = {
        "funnel": funnel(campaign).as_dict(),
        "by_service": by_service(campaign),
        "computed_at": timezone.now().isoformat(),
    }
    Campaign.objects.filter(pk=campaign.pk).update(summary=summary)
    campaign.summary = summary
    if campaign.status == CampaignStatus.DONE:
        _tell_roadmap(campaign, summary["funnel"])
    if campaign.privacy == PrivacyMode.AGGREGATE and campaign.status in (
        CampaignStatus.DONE,
        CampaignStatus.CANCELLED,
    ):
        _forget_people(campaign)
    return summary


def _tell_roadmap(campaign: Campaign, funnel_data: dict[str, Any]) -> None:
    """A finished campaign is the roadmap's automatic evidence ("a phishing campaign run this
    year"); refreshed with the rates each time the summary is (reports arrive late)."""
    contract.record_evidence(
        campaign.structure,
        "phishing_campaign",
        at=campaign.finished_at or timezone.now(),
        value={
            "reporting_rate": funnel_data.get("report_rate"),
            "click_rate": funnel_data.get("click_rate"),
        },
        reference=f"awareness-campaign:{campaign.pk}",
    )


def _forget_people(campaign: Campaign) -> None:
    """Aggregate-only campaigns keep no link from a result to a person once sending ended."""
    Recipient.objects.filter(campaign=campaign).exclude(state=SendState.PENDING).update(
        target=None, email="", pseudonym=""
    )


def trend(structure: Structure, actor: Actor = SYSTEM) -> list[dict[str, Any]]:
    """Finished campaigns of ``structure``, oldest first, with difficulty-weighted rates.

    A click on a hard lure says less than a click on an easy one: the weighted click rate
    divides the raw rate by the lure's weight (easy 1, moderate 2, very difficult 3) and the
    weighted reporting rate multiplies it, both relative to a moderate lure.
    """

    campaigns = (
        Campaign.objects.visible_to(actor, AwarenessPerm.VIEW)
        .filter(structure=structure, status=CampaignStatus.DONE)
        .order_by("launch_at")
    )
    points = []
    for campaign in campaigns:
        numbers = funnel(campaign)
        weight = DIFFICULTY_WEIGHT.get(Difficulty(campaign.difficulty or "moderate"), 2.0) / 2.0
        points.append(
            {
                "campaign": campaign,
                "day": campaign.launch_at.date(),
                "difficulty": campaign.difficulty,
                "click_rate": numbers.click_rate,
                "report_rate": numbers.report_rate,
                "weighted_click_rate": _scaled(numbers.click_rate, 1 / weight),
                "weighted_report_rate": _scaled(numbers.report_rate, weight),
                "median_minutes_to_report": numbers.median_minutes_to_report,
            }
        )
    return points


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else round(min(1.0, value * factor), 4)


def repeat_clickers(structure: Structure, actor: Actor) -> list[dict[str, Any]]:
    """People who clicked in two campaigns or more — nominative campaigns, allowed viewers."""
    from carbet.core.tenancy import can

    if not can(actor, AwarenessPerm.NOMINATIVE, structure):
        return []
    rows = (
        Recipient.objects.visible_to(actor, AwarenessPerm.NOMINATIVE)
        .filter(
            campaign__structure=structure,
            campaign__privacy=PrivacyMode.NOMINATIVE,
            human_clicked_at__isnull=False,
            target__isnull=False,
        )
        .values("target")
        .annotate(times=Count("campaign", distinct=True))
        .filter(times__gte=2)
    )
    counts = {row["target"]: row["times"] for row in rows}
    targets = Target.objects.visible_to(actor, AwarenessPerm.NOMINATIVE).filter(pk__in=counts)
    return sorted(
        ({"target": t, "times": counts[t.pk]} for t in targets),
        key=lambda item: (-item["times"], item["target"].full_name),
    )


def vigilance_score(numbers: Funnel, difficulty: str) -> float | None:
    """0–100, higher is better: reporting counts most, clicks and submissions cost."""
    if not numbers.sent:
        return None
    weight = DIFFICULTY_WEIGHT.get(Difficulty(difficulty or "moderate"), 2.0) / 2.0
    report = min(1.0, (numbers.report_rate or 0) * weight)
    click = min(1.0, (numbers.click_rate or 0) / weight)
    submit = min(1.0, (numbers.rate(numbers.submitted) or 0) / weight)
    return round(100 * max(0.0, 0.5 * report + 0.5 * (1 - click) - 0.25 * submit), 1)


def structure_scores(day: date, structure_ids: list[int]) -> dict[int, float]:
    """The dashboard provider: the latest finished campaign of the last year per structure."""
    since = datetime.combine(day - timedelta(days=SCORE_WINDOW_DAYS), datetime.min.time())
    since = timezone.make_aware(since) if timezone.is_naive(since) else since
    latest: dict[int, Campaign] = {}
    campaigns = (
        Campaign.objects.visible_to(SYSTEM)
        .filter(structure_id__in=structure_ids, status=CampaignStatus.DONE, launch_at__gte=since)
        .order_by("launch_at")
    )
    for campaign in campaigns:
        latest[campaign.structure_id] = campaign
    scores = {}
    for sid, campaign in latest.items():
        value = vigilance_score(funnel(campaign), campaign.difficulty)
        if value is not None:
            scores[sid] = value
    return scores


def sync_findings(structure: Structure, actor: Actor = SYSTEM) -> dict[str, int]:
    """Turn the latest finished campaign's rates into findings (a complete run: a finding
    closes when a later campaign no longer shows the weakness)."""
    from carbet.findings.choices import Severity
    from carbet.findings.ingest import FindingInput, ingest

    campaign = (
        Campaign.objects.visible_to(SYSTEM)
        .filter(structure=structure, status=CampaignStatus.DONE)
        .order_by("-launch_at")
        .first()
    )
    if campaign is None:
        return {}
    numbers = funnel(campaign)
    if not numbers.sent:
        return {}
    items = []
    if (numbers.report_rate or 0) < LOW_REPORTING:
        items.append(
            FindingInput(
                title=_("Peu de personnels signalent les messages suspects"),
                fingerprint="awareness-low-reporting",
                rule="awareness.low_reporting",
                severity=Severity.HIGH,
                description=_(
                    "Lors de la campagne « %(name)s », %(rate)s %% des personnes ont signalé le "
                    "message. Un signalement rapide permet de bloquer une vraie attaque avant "
                    "qu'elle ne touche d'autres services."
                )
                % {"name": campaign.name, "rate": round(100 * (numbers.report_rate or 0))},
                remediation=_(
                    "Rappelez l'adresse de signalement (affiche, message de la direction) et "
                    "proposez le module « Reconnaître un message d'hameçonnage »."
                ),
            )
        )
    if (numbers.click_rate or 0) > HIGH_CLICKING:
        items.append(
            FindingInput(
                title=_("Une part importante des personnels clique sur les leurres"),
                fingerprint="awareness-high-clicking",
                rule="awareness.high_clicking",
                severity=Severity.MEDIUM,
                description=_(
                    "Lors de la campagne « %(name)s », %(rate)s %% des personnes ont cliqué."
                )
                % {"name": campaign.name, "rate": round(100 * (numbers.click_rate or 0))},
                remediation=_("Attribuez une formation courte aux services les plus touchés."),
            )
        )
    report = ingest(
        structure,
        AWARENESS_SOURCE,
        items,
        complete=True,
        scope="campaigns",
        label=campaign.name,
        actor=actor,
    )
    return report.as_dict()


def purge_due(now: datetime | None = None, actor: Actor = SYSTEM) -> list[int]:
    """Delete individual results of campaigns past their retention period; keep aggregates."""
    now = now or timezone.now()
    purged = []
    candidates = Campaign.objects.visible_to(SYSTEM).filter(
        status__in=(CampaignStatus.DONE, CampaignStatus.CANCELLED),
        purged_at__isnull=True,
        finished_at__isnull=False,
    )
    for campaign in candidates:
        if campaign.finished_at + timedelta(days=campaign.retention_days) > now:
            continue
        purge(actor, campaign, now=now)
        purged.append(campaign.pk)
    return purged


def purge(
    actor: Actor, campaign: Campaign, *, now: datetime | None = None, ip: str | None = None
) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        refresh_summary(campaign)
        clicks = ClickEvent.objects.filter(recipient__campaign=campaign).count()
        deleted, _detail = Recipient.objects.filter(campaign=campaign).delete()
        Campaign.objects.filter(pk=campaign.pk).update(purged_at=now)
        campaign.purged_at = now
        audit.record(
            actor,
            "awareness.campaign.purge",
            campaign,
            structure=campaign.structure,
            changes={"rows": deleted, "clicks": clicks},
            ip=ip,
        )
