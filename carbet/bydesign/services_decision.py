"""The security decision (homologation): the dossier, the director's signature, its validity,
and the reminders before it ends.

The dossier (PDF) is generated from the service as it is at the moment of signing, stored
once, and its SHA-256 is written to the audit trail with the decision: what was signed can be
shown later, unchanged. A decision lasts 6 months to 3 years. Reminders go to the structure's
director and referent 60 days before the end, then once it has ended; a change of hosting,
data or exposure (``services.update_service``) supersedes it at once.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.bydesign import pdf, services
from carbet.bydesign.choices import DecisionOutcome
from carbet.bydesign.models import Decision, DigitalService
from carbet.bydesign.service import DECISION_EVIDENCE, BydesignPerm
from carbet.core import contract, uploads
from carbet.core.access import require
from carbet.core.links import absolute_url
from carbet.core.recipients import addresses
from carbet.core.tenancy import Actor

ALLOWED_MONTHS = (6, 12, 24, 36)
REMIND_BEFORE_DAYS = 60


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _check(values: dict[str, Any]) -> tuple[str, int, str, str]:
    outcome = values.get("outcome")
    if outcome not in DecisionOutcome.values:
        raise ValidationError(
            {"outcome": _("Choisissez : accepter, accepter sous conditions ou refuser.")}
        )
    try:
        months = int(values.get("months") or 0)
    except (TypeError, ValueError):
        months = 0
    if months not in ALLOWED_MONTHS:
        raise ValidationError({"months": _("La validité va de 6 mois à 3 ans.")})
    conditions = str(values.get("conditions") or "").strip()[:4000]
    risks = str(values.get("residual_risks") or "").strip()[:4000]
    if outcome == DecisionOutcome.CONDITIONS and not conditions:
        raise ValidationError(
            {"conditions": _("Écrivez les conditions : ce qui doit être fait, et pour quand.")}
        )
    return outcome, months, conditions, risks


def sign(
    actor: Actor,
    service: DigitalService,
    values: dict[str, Any],
    *,
    today: date | None = None,
    ip: str | None = None,
) -> Decision:
    """The director signs: the dossier is frozen, the decision audited, the roadmap told."""
    require(
        actor,
        BydesignPerm.DECIDE,
        service.structure,
        message=_("Seule la direction de la structure signe la décision de sécurité."),
    )
    outcome, months, conditions, risks = _check(values)
    today = today or timezone.localdate()
    services.recompute([service], today=today, findings="always")
    service.refresh_from_db()
    valid_until = add_months(today, months) - timedelta(days=1)
    signer = getattr(actor, "get_full_name", lambda: "")() or str(actor)
    decision = Decision(
        service=service,
        outcome=outcome,
        conditions=conditions,
        residual_risks=risks,
        valid_from=today,
        valid_until=valid_until,
        signed_by=actor if getattr(actor, "pk", None) else None,
        signer_name=signer[:200],
        snapshot=services.snapshot_of(service),
        index_value=service.index_value,
    )
    content = pdf.dossier_pdf(service, decision, today)
    stored = uploads.store(
        ContentFile(content, name="decision.pdf"), [uploads.Kind.PDF], area="bydesign/decisions"
    )
    decision.dossier, decision.dossier_sha256 = stored.name, stored.sha256
    with transaction.atomic():
        Decision.objects.filter(service=service, superseded_at__isnull=True).update(
            superseded_at=timezone.now()
        )
        decision.save()
        service.review_reason = ""
        service.save(update_fields=["review_reason"])
        audit.record(
            actor,
            "bydesign.decision.sign",
            decision,
            structure=service.structure,
            ip=ip,
            changes={
                "service": service.name,
                "outcome": outcome,
                "valid_until": valid_until.isoformat(),
                "index": str(service.index_value),
                "dossier_sha256": stored.sha256,
            },
        )
        contract.record_evidence(
            service.structure,
            DECISION_EVIDENCE,
            value={
                "service_kind": service.kind,
                "outcome": outcome,
                "valid_until": valid_until.isoformat(),
                "index": float(service.index_value or 0),
            },
            reference=f"bydesign-decision:{decision.pk}",
        )
    return decision


# --- Reminders ---------------------------------------------------------------------------------


def _message(decision: Decision, expired: bool) -> tuple[str, str]:
    service = decision.service
    day = decision.valid_until.strftime("%d/%m/%Y")
    if expired:
        subject = _("Décision de sécurité expirée : %(name)s") % {"name": service.name}
        first = _(
            "La décision de sécurité du service « %(name)s » n'est plus valable depuis le %(day)s."
        )
    else:
        subject = _("Décision de sécurité à renouveler : %(name)s") % {"name": service.name}
        first = _("La décision de sécurité du service « %(name)s » prend fin le %(day)s.")
    link = absolute_url(reverse("bydesign:decision", args=[service.pk]))
    body = "\n\n".join(
        [
            first % {"name": service.name, "day": day},
            _(
                "Pourquoi c'est important : la décision dit que la direction connaît les risques "
                "du service et les accepte. Sans décision valable, personne n'a vérifié que le "
                "service est toujours sûr."
            ),
            _(
                "Que faire : revoyez les mesures du service puis signez une nouvelle "
                "décision : %(link)s"
            )
            % {"link": link},
        ]
    )
    return subject, body


def send_reminders(today: date | None = None) -> dict[str, int]:
    """Mail the director and referent 60 days before a decision ends, and once it has ended.

    Each reminder is claimed (its day written) before sending and released if the mail server
    refuses, so a rerun neither repeats nor loses one."""
    today = today or timezone.localdate()
    sent = {"before": 0, "after": 0, "failed": 0}
    current = Decision.objects.filter(superseded_at__isnull=True).exclude(
        outcome=DecisionOutcome.REFUSE
    )
    batches = (
        (
            "before",
            current.filter(
                valid_until__gte=today,
                valid_until__lte=today + timedelta(days=REMIND_BEFORE_DAYS),
                reminded_before_on__isnull=True,
            ),
            "reminded_before_on",
        ),
        (
            "after",
            current.filter(valid_until__lt=today, reminded_after_on__isnull=True),
            "reminded_after_on",
        ),
    )
    for key, queryset, column in batches:
        for decision in queryset.select_related("service__structure__organisation"):
            claimed = Decision.objects.filter(pk=decision.pk, **{f"{column}__isnull": True}).update(
                **{column: today}
            )
            if not claimed:
                continue
            to = addresses(decision.service.structure)
            if not to:
                continue
            subject, body = _message(decision, expired=key == "after")
            try:
                EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to).send()
            except OSError:
                Decision.objects.filter(pk=decision.pk).update(**{column: None})
                sent["failed"] += 1
            else:
                sent[key] += 1
    return sent
