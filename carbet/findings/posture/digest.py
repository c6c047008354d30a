"""The weekly e-mail digest to each structure's cyber referents, in plain French.

For each structure with something to say — critical findings that appeared this week, findings
or actions past their deadline, risk acceptances ending within 30 days — one message (text and
HTML) goes to each referent: the users holding the referent role on the structure (directly,
through its organisation or its GHT) and the structure's "cyber referent" contacts with an
e-mail address. A message only ever speaks of its own structure. Nothing is sent when there is
nothing to say. Each sending is recorded (``DigestSent``) so that a rerun of the same week sends
nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core.links import absolute_url
from carbet.core.models import Structure
from carbet.core.recipients import Recipient, referents
from carbet.core.tenancy import SYSTEM, Actor
from carbet.findings.choices import Severity
from carbet.findings.models import (
    ActionItem,
    ActionStatus,
    DigestSent,
    Finding,
    RiskAcceptance,
    RiskAcceptanceStatus,
)
from carbet.findings.posture.selectors import OPEN, start_of

log = logging.getLogger("carbet.findings.digest")
EXPIRY_HORIZON_DAYS = 30
LIST_LIMIT = 10
LATE_ACTION_STATUSES = (ActionStatus.TODO, ActionStatus.IN_PROGRESS)


def week_of(day: date) -> date:
    """The Monday of ``day``'s week: the digest's idempotency key."""
    return day - timedelta(days=day.weekday())


@dataclass
class Digest:
    """What one structure's digest says."""

    structure: Structure
    today: date
    new_critical: list[Finding] = field(default_factory=list)
    overdue_findings: list[Finding] = field(default_factory=list)
    overdue_findings_total: int = 0
    overdue_actions: list[ActionItem] = field(default_factory=list)
    expiring: list[RiskAcceptance] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.new_critical
            or self.overdue_findings_total
            or self.overdue_actions
            or self.expiring
        )

    def counts(self) -> dict[str, int]:
        return {
            "new_critical": len(self.new_critical),
            "overdue_findings": self.overdue_findings_total,
            "overdue_actions": len(self.overdue_actions),
            "expiring_acceptances": len(self.expiring),
        }

    def subject(self) -> str:
        parts = []
        if self.new_critical:
            parts.append(
                ngettext(
                    "%(n)d nouvelle faille critique",
                    "%(n)d nouvelles failles critiques",
                    len(self.new_critical),
                )
                % {"n": len(self.new_critical)}
            )
        late = self.overdue_findings_total + len(self.overdue_actions)
        if late:
            parts.append(ngettext("%(n)d retard", "%(n)d retards", late) % {"n": late})
        if self.expiring:
            parts.append(
                ngettext(
                    "%(n)d acceptation de risque bientôt finie",
                    "%(n)d acceptations de risque bientôt finies",
                    len(self.expiring),
                )
                % {"n": len(self.expiring)}
            )
        return _("[Carbet] %(structure)s — point de la semaine : %(what)s") % {
            "structure": self.structure.name,
            "what": ", ".join(parts),
        }


def _window(today: date) -> tuple[Any, Any]:
    """The last seven days, today included, as datetimes."""
    return start_of(today - timedelta(days=6)), start_of(today + timedelta(days=1))


def structures_with_news(today: date) -> list[int]:
    """Ids of the structures whose digest would not be empty (four aggregate queries)."""
    since, until = _window(today)
    findings = Finding.objects.visible_to(SYSTEM).filter(status__in=OPEN)
    ids: set[int] = set()
    ids.update(
        findings.filter(severity=Severity.CRITICAL, first_seen__gte=since, first_seen__lt=until)
        .values_list("structure_id", flat=True)
        .distinct()
    )
    ids.update(findings.filter(sla_due__lt=today).values_list("structure_id", flat=True).distinct())
    ids.update(
        ActionItem.objects.visible_to(SYSTEM)
        .filter(status__in=LATE_ACTION_STATUSES, due_date__lt=today)
        .values_list("structure_id", flat=True)
        .distinct()
    )
    ids.update(_expiring(today).values_list("structure_id", flat=True).distinct())
    return sorted(ids)


def _expiring(today: date):
    return RiskAcceptance.objects.visible_to(SYSTEM).filter(
        status=RiskAcceptanceStatus.APPROVED,
        expires_on__gte=today,
        expires_on__lte=today + timedelta(days=EXPIRY_HORIZON_DAYS),
    )


def build_digest(structure: Structure, today: date) -> Digest:
    """The digest of one structure: its own findings, actions and acceptances only."""
    since, until = _window(today)
    findings = Finding.objects.visible_to(SYSTEM, Perm.FINDINGS_DETAIL).filter(
        structure=structure, status__in=OPEN
    )
    overdue = findings.filter(sla_due__lt=today).order_by("-severity", "sla_due", "id")
    return Digest(
        structure=structure,
        today=today,
        new_critical=list(
            findings.filter(
                severity=Severity.CRITICAL, first_seen__gte=since, first_seen__lt=until
            ).order_by("first_seen", "id")[:50]
        ),
        overdue_findings=list(overdue[:LIST_LIMIT]),
        overdue_findings_total=overdue.count(),
        overdue_actions=list(
            ActionItem.objects.visible_to(SYSTEM, Perm.ACTION_VIEW)
            .filter(structure=structure, status__in=LATE_ACTION_STATUSES, due_date__lt=today)
            .order_by("due_date", "id")[:LIST_LIMIT]
        ),
        expiring=list(_expiring(today).filter(structure=structure).order_by("expires_on", "id")),
    )


def render_message(digest: Digest, recipient: Recipient) -> EmailMultiAlternatives:
    """The e-mail (plain text and HTML) in the recipient's language."""
    with translation.override(recipient.language):
        context = {
            "digest": digest,
            "recipient": recipient,
            "dashboard_url": absolute_url(
                reverse("findings:structure_dashboard", args=[digest.structure.pk])
            ),
            "region_name": settings.CARBET_REGION_NAME,
        }
        text = render_to_string("findings/posture/digest_email.txt", context)
        html = render_to_string("findings/posture/digest_email.html", context)
        message = EmailMultiAlternatives(
            subject=digest.subject(),
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[recipient.email],
        )
    message.attach_alternative(html, "text/html")
    return message


def send_weekly_digests(today: date | None = None, *, actor: Actor = SYSTEM) -> dict[str, Any]:
    """Send this week's digests not sent yet. Safe to run again: sent ones are skipped."""
    today = today or timezone.localdate()
    week = week_of(today)
    sent = skipped = failed = 0
    digests = [
        digest
        for digest in (
            build_digest(structure, today)
            for structure in Structure.objects.visible_to(SYSTEM)
            .filter(pk__in=structures_with_news(today))
            .select_related("organisation")
            .order_by("pk")
        )
        if not digest.empty
    ]
    with mailers.default as connection:
        for digest in digests:
            structure = digest.structure
            done = set(
                DigestSent.objects.filter(structure=structure, week=week).values_list(
                    "recipient", flat=True
                )
            )
            for recipient in referents(structure):
                if recipient.email.lower() in done:
                    skipped += 1
                    continue
                message = render_message(digest, recipient)
                try:
                    connection.send_messages([message])
                except OSError:
                    log.exception("digest not sent", extra={"structure": structure.pk})
                    failed += 1
                    continue
                DigestSent.objects.create(
                    structure=structure,
                    week=week,
                    recipient=recipient.email.lower(),
                    counts=digest.counts(),
                )
                sent += 1
    result = {"week": week.isoformat(), "sent": sent, "skipped": skipped, "failed": failed}
    audit.record(actor, "findings.digest", label=week.isoformat(), changes=result)
    if failed:
        raise RuntimeError(
            f"{failed} résumé(s) non envoyé(s) ; relancez la tâche : les envois faits "
            "ne seront pas répétés."
        )
    return result
