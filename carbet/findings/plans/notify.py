"""The job that sends a campaign's notices: one e-mail per structure, never twice.

Each structure's notice is a ``CampaignNotice`` row written when the campaign is launched. The
handler sends the notices not yet sent, one structure at a time, and marks each as sent in the
same transaction, so running the job again (a relaunch, a worker that died) sends only what is
left. Recipients are the structure's director and referent contacts and the users holding a
director or referent membership that covers it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.recipients import addresses as recipient_addresses
from carbet.core.tenancy import SYSTEM, Actor
from carbet.findings.models import Campaign, CampaignNotice
from carbet.findings.plans.campaigns import NOTIFY_JOB
from carbet.findings.plans.services import owner_display
from carbet.jobs.registry import Reporter, job_kind


def compose(notice: CampaignNotice) -> tuple[str, str]:
    """Subject and plain-text body of a structure's notice, in French."""
    campaign, structure, action = notice.campaign, notice.structure, notice.action
    with translation.override("fr"):
        subject = _("[Carbet] Campagne régionale : %(title)s") % {"title": campaign.title}
        lines = [
            _("Bonjour,"),
            "",
            _(
                "Le centre régional de ressources cyber lance une campagne sur une faiblesse "
                "qui touche plusieurs établissements de la région, dont « %(structure)s »."
            )
            % {"structure": structure.name},
            "",
            campaign.notice.strip(),
            "",
        ]
        if action is not None:
            lines += [
                _("Une action a été ajoutée à votre plan d'action :"),
                f"  « {action.title} »",
                _("  Priorité : %(priority)s") % {"priority": action.get_priority_display()},
                _("  Responsable : %(owner)s") % {"owner": owner_display(action)},
            ]
            if action.due_date:
                lines.append(
                    _("  À faire avant le : %(date)s") % {"date": f"{action.due_date:%d/%m/%Y}"}
                )
            lines.append("")
        lines += [
            _(
                "Retrouvez-la dans Carbet, rubrique « Plans d'action » : vous y trouverez le "
                "pourquoi et le comment, et vous pourrez y déposer la preuve de la correction."
            ),
            "",
            _("L'équipe du centre régional de ressources cyber"),
        ]
    return subject, "\n".join(lines)


def send_notice(notice_id: int, actor: Actor = SYSTEM) -> str:
    """Send one structure's notice unless already sent; returns sent, already or no_recipient."""
    with transaction.atomic():
        notice = (
            CampaignNotice.objects.select_for_update()
            .select_related("campaign", "structure__organisation", "action")
            .get(pk=notice_id)
        )
        if notice.sent_at is not None:
            return "already"
        recipients = recipient_addresses(notice.structure)
        if not recipients:
            notice.error = _("Aucun contact de direction ou référent avec une adresse e-mail.")
            notice.save(update_fields=["error"])
            return "no_recipient"
        subject, body = compose(notice)
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients).send()
        notice.sent_at = timezone.now()
        notice.recipients = recipients
        notice.error = ""
        notice.save(update_fields=["sent_at", "recipients", "error"])
        audit.record(
            actor,
            "campaign.notice_sent",
            notice,
            structure=notice.structure,
            changes={"campaign": notice.campaign_id, "recipients": len(recipients)},
        )
    return "sent"


@job_kind(NOTIFY_JOB)
def campaign_notify(job: Any, report: Reporter) -> dict:
    """Send every notice of the campaign ``job.params["campaign"]`` not sent yet."""
    campaign = Campaign.objects.get(pk=job.params["campaign"])
    actor = job.actor or SYSTEM
    pending = list(
        campaign.notices.filter(sent_at__isnull=True).order_by("id").values_list("pk", flat=True)
    )
    outcome = {"sent": 0, "already": 0, "no_recipient": 0}
    for index, notice_id in enumerate(pending, start=1):
        outcome[send_notice(notice_id, actor)] += 1
        report(
            int(100 * index / len(pending)),
            _("%(done)s avis sur %(total)s")
            % {
                "done": index,
                "total": len(pending),
            },
        )
    if not campaign.notices.filter(sent_at__isnull=True).exists():
        Campaign.objects.filter(pk=campaign.pk, notice_sent_at__isnull=True).update(
            notice_sent_at=timezone.now()
        )
    return outcome
