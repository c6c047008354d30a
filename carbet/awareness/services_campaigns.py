"""Campaigns: preparing, launching and stopping a phishing simulation, under a mandate.

Who may be mailed is decided by ``carbet.awareness.coverage`` (documented in docs/awareness.md):
a phishing mandate in force, and every address in one of the structure's mail domains whose
ownership is **proven**, that no other structure claims, and that the mandate covers. A launch
with any uncovered address is refused as a whole, with the addresses and the reasons; the
sending job asks the same question again before every batch and holds whoever fails.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.awareness.choices import ACTIVE_STATUSES, CampaignStatus, PrivacyMode, SendState
from carbet.awareness.coverage import coverage
from carbet.awareness.models import Campaign, Recipient, Target
from carbet.awareness.service import PHISHING_MANDATE, AwarenessPerm
from carbet.awareness.services_templates import check_lure
from carbet.core import mandates
from carbet.core.tenancy import SYSTEM, Actor
from carbet.engines.awareness.schedule import ALWAYS, ScheduleError, SendingWindow, plan


class CampaignError(ValueError):
    """The campaign cannot move on; the message says why, in French."""


def window_of(campaign: Campaign) -> SendingWindow:
    if not campaign.business_hours_only:
        return ALWAYS
    return SendingWindow(start=_as_time(campaign.day_start), end=_as_time(campaign.day_end))


def _as_time(value: Any):
    if isinstance(value, str):
        return datetime.strptime(value, "%H:%M").time()
    return value


def selected_targets(campaign: Campaign) -> list[Target]:
    targets = Target.objects.visible_to(SYSTEM).filter(structure_id=campaign.structure_id)
    group_ids = list(campaign.groups.values_list("pk", flat=True))
    if group_ids:
        targets = targets.filter(groups__in=group_ids).distinct()
    return list(targets.order_by("pk"))


def throttle_of(campaign: Campaign) -> int:
    if campaign.per_minute is not None:
        return campaign.per_minute
    return campaign.smtp_profile.per_minute


def launch(
    actor: Actor,
    campaign: Campaign,
    *,
    ip: str | None = None,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> Campaign:
    """Check everything, plan each message's time, and hand the sending to a job."""
    from carbet.jobs import services as jobs

    now = now or timezone.now()
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError(_("Seule une campagne en brouillon peut être lancée."))
    structure = campaign.structure
    mandate = mandates.require_mandate(actor, structure, PHISHING_MANDATE, ip=ip)
    if not campaign.dpo_reference.strip():
        raise CampaignError(_("Indiquez la référence du traitement au registre du DPO."))
    if campaign.representatives_informed_on > timezone.localdate(now):
        raise CampaignError(
            _("Les représentants du personnel doivent être informés avant le lancement.")
        )
    template = campaign.template
    check_lure(template.subject, template.text_body, template.html_body)
    targets = selected_targets(campaign)
    if not targets:
        raise CampaignError(_("Aucun destinataire : importez la liste du personnel d'abord."))
    cover = coverage(structure, [t.email for t in targets])
    if cover.uncovered:
        reasons = sorted(set(cover.reasons.values()))
        audit.record(
            actor,
            "awareness.campaign.refused",
            campaign,
            structure=structure,
            changes={
                "uncovered": len(cover.uncovered),
                "domains": cover.domains,
                "reasons": reasons[:10],
            },
            ip=ip,
        )
        shown = ", ".join(cover.uncovered[:5])
        raise CampaignError(
            _(
                "%(count)s adresse(s) ne peuvent pas recevoir la simulation (%(shown)s). "
                "%(reasons)s Seuls les domaines de messagerie dont la propriété est prouvée, "
                "qu'aucune autre structure ne déclare et que le mandat couvre peuvent être "
                "visés (aujourd'hui : %(domains)s)."
            )
            % {
                "count": len(cover.uncovered),
                "shown": shown,
                "reasons": " ".join(reasons[:3]),
                "domains": ", ".join(cover.domains) or _("aucun"),
            }
        )
    start = max(campaign.launch_at, now)
    if campaign.send_by is not None and campaign.send_by <= start:
        raise CampaignError(_("La date limite d'envoi est déjà passée."))
    try:
        times = plan(
            len(targets), start, campaign.send_by, window_of(campaign), throttle_of(campaign), rng
        )
    except ScheduleError as exc:
        raise CampaignError(
            _("Aucun créneau d'envoi (jours et heures ouvrés) avant la date limite.")
        ) from exc
    order = list(targets)
    (rng or random.SystemRandom()).shuffle(order)  # nobody is always first
    with transaction.atomic():
        Recipient.objects.bulk_create(
            [
                Recipient(
                    campaign=campaign,
                    target=target,
                    email=target.email,
                    pseudonym=target.pseudonym,
                    service=target.service,
                    scheduled_at=when,
                )
                for target, when in zip(order, times, strict=True)
            ],
            batch_size=1000,
        )
        campaign.status = CampaignStatus.SCHEDULED
        campaign.mandate = mandate
        campaign.difficulty = template.difficulty
        campaign.launched_at = now
        campaign.save(update_fields=["status", "mandate", "difficulty", "launched_at"])
        audit.record(
            actor,
            "awareness.campaign.launch",
            campaign,
            structure=structure,
            changes={
                "recipients": len(targets),
                "mandate": mandate.pk,
                "privacy": campaign.privacy,
                "first": times[0].isoformat(),
                "last": times[-1].isoformat(),
            },
            ip=ip,
        )
        jobs.submit(
            "awareness.send",
            actor=actor,
            structure=structure,
            params={"campaign": campaign.pk},
            title=_("Envoi de la campagne « %(name)s »") % {"name": campaign.name},
        )
    return campaign


def cancel(actor: Actor, campaign: Campaign, *, ip: str | None = None) -> Campaign:
    if campaign.status not in (CampaignStatus.DRAFT, *ACTIVE_STATUSES):
        raise CampaignError(_("Cette campagne est déjà terminée."))
    with transaction.atomic():
        Recipient.objects.filter(campaign=campaign, state=SendState.PENDING).update(
            state=SendState.SKIPPED
        )
        campaign.status = CampaignStatus.CANCELLED
        campaign.finished_at = timezone.now()
        campaign.save(update_fields=["status", "finished_at"])
        audit.record(
            actor, "awareness.campaign.cancel", campaign, structure=campaign.structure, ip=ip
        )
    return campaign


def shows_names(actor: Actor, campaign: Campaign) -> bool:
    """Whether ``actor`` may see who did what in ``campaign`` (names or pseudonyms)."""
    from carbet.core.tenancy import can

    if campaign.privacy == PrivacyMode.AGGREGATE or campaign.purged_at:
        return False
    return can(actor, AwarenessPerm.NOMINATIVE, campaign.structure)
