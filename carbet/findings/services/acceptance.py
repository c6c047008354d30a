"""Risk acceptance: a structure decides, for a limited time, to live with a known weakness.

The referent (or the director) *requests* it for open findings of one structure, with a
justification, the compensating measures in place and an end date at most a year away. The
director *signs* it — the signature is the director's own authenticated action, recorded with
its time and address in the audit trail — or rejects it with a note. While it runs, its
findings are *risk accepted* and scans leave them alone. A daily sweep reminds the structure
30 days before the end, once, and at the end marks the acceptance expired and reopens its
findings (status *confirmed*, with a new deadline).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm, StructureRole
from carbet.audit import services as audit
from carbet.audit.models import AuditEntry
from carbet.core.models import Structure
from carbet.core.recipients import addresses as recipient_addresses
from carbet.core.services import require
from carbet.core.tenancy import SYSTEM, Actor, can
from carbet.findings.choices import OPEN_STATUSES, EventKind, Status
from carbet.findings.models import Finding, FindingEvent, RiskAcceptance, RiskAcceptanceStatus
from carbet.findings.models.acceptance import MAX_ACCEPTANCE_DAYS
from carbet.findings.services.lifecycle import apply_status

log = logging.getLogger("carbet.findings")
RS = RiskAcceptanceStatus
REMINDER_DAYS = 30
MAX_TEXT = 10_000
# A finding may be in one running (requested or signed) acceptance at a time.
RUNNING = (RS.REQUESTED, RS.APPROVED)


def _text(value: Any, field_name: str, message: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValidationError({field_name: message})
    if len(text) > MAX_TEXT:
        raise ValidationError({field_name: _("%(n)s caractères au plus.") % {"n": MAX_TEXT}})
    return text


def check_expiry(expires_on: date | None, today: date) -> None:
    """An acceptance ends in the future and at most ``MAX_ACCEPTANCE_DAYS`` from today."""
    if expires_on is None:
        raise ValidationError({"expires_on": _("Indiquez la date de fin de l'acceptation.")})
    if expires_on <= today:
        raise ValidationError(
            {"expires_on": _("La date de fin doit être dans le futur (après aujourd'hui).")}
        )
    latest = today + timedelta(days=MAX_ACCEPTANCE_DAYS)
    if expires_on > latest:
        raise ValidationError(
            {
                "expires_on": _(
                    "Une acceptation de risque dure un an au plus : choisissez une date de fin "
                    "au plus tard le %(d)s. Elle pourra être renouvelée, en la redemandant."
                )
                % {"d": latest.strftime("%d/%m/%Y")}
            }
        )


@transaction.atomic
def request_acceptance(
    actor: Actor,
    structure: Structure,
    findings: Iterable[Finding],
    *,
    justification: str,
    compensating_measures: str,
    expires_on: date | None,
    today: date | None = None,
    ip: str | None = None,
) -> RiskAcceptance:
    """Record a request for the director's signature; the findings do not change yet."""
    require(actor, Perm.ACCEPTANCE_REQUEST, structure)
    today = today or timezone.localdate()
    selected = list(findings)
    if not selected:
        raise ValidationError({"findings": _("Choisissez au moins une vulnérabilité.")})
    if any(f.structure_id != structure.pk for f in selected):
        raise ValidationError(
            {"findings": _("Une demande porte sur les vulnérabilités d'une seule structure.")}
        )
    closed = [f for f in selected if f.status not in OPEN_STATUSES]
    if closed:
        raise ValidationError(
            {
                "findings": _(
                    "Seule une vulnérabilité ouverte peut faire l'objet d'une acceptation ; "
                    "ce n'est pas le cas de : %(t)s."
                )
                % {"t": "; ".join(f.title for f in closed[:5])}
            }
        )
    busy = (
        RiskAcceptance.objects.filter(status__in=RUNNING, findings__in=selected)
        .values_list("pk", flat=True)
        .first()
    )
    if busy:
        raise ValidationError(
            {
                "findings": _(
                    "Une de ces vulnérabilités fait déjà l'objet de l'acceptation n° %(n)s."
                )
                % {"n": busy}
            }
        )
    justification = _text(
        justification,
        "justification",
        _("Expliquez pourquoi la structure accepte ce risque plutôt que de le corriger."),
    )
    measures = _text(
        compensating_measures,
        "compensating_measures",
        _("Décrivez les mesures qui limitent le risque en attendant (surveillance, filtrage…)."),
    )
    check_expiry(expires_on, today)
    acceptance = RiskAcceptance.objects.create(
        structure=structure,
        justification=justification,
        compensating_measures=measures,
        expires_on=expires_on,
        requested_by=actor if getattr(actor, "pk", None) else None,
    )
    acceptance.findings.set(selected)
    note = _("Acceptation du risque demandée (n° %(n)s, jusqu'au %(d)s).") % {
        "n": acceptance.pk,
        "d": expires_on.strftime("%d/%m/%Y"),
    }
    FindingEvent.objects.bulk_create(
        FindingEvent(
            finding=f,
            kind=EventKind.COMMENT,
            actor=acceptance.requested_by,
            note=note,
        )
        for f in selected
    )
    audit.record(
        actor,
        "acceptance.request",
        acceptance,
        changes={
            "findings": [f.pk for f in selected],
            "expires_on": expires_on,
            "justification": justification,
            "compensating_measures": measures,
        },
        ip=ip,
    )
    _notify_signers(acceptance)
    return acceptance


def _locked(acceptance: RiskAcceptance) -> RiskAcceptance:
    return (
        RiskAcceptance.objects.select_for_update(of=("self",))
        .select_related("structure__organisation")
        .get(pk=acceptance.pk)
    )


def _refresh(target: RiskAcceptance, source: RiskAcceptance) -> None:
    for name in ("status", "decided_by", "decided_at", "decision_note", "reminder_sent_at"):
        setattr(target, name, getattr(source, name))


@transaction.atomic
def approve(
    actor: Actor,
    acceptance: RiskAcceptance,
    *,
    note: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> RiskAcceptance:
    """The director signs: the request's open findings become *risk accepted*."""
    current = _locked(acceptance)
    require(actor, Perm.ACCEPTANCE_SIGN, current.structure)
    now = now or timezone.now()
    if current.status != RS.REQUESTED:
        raise ValidationError(_("Cette demande a déjà été traitée."))
    if current.expires_on <= timezone.localdate(now):
        raise ValidationError(
            {
                "expires_on": _(
                    "La date de fin demandée est passée : refusez cette demande et faites-en "
                    "une nouvelle."
                )
            }
        )
    current.status = RS.APPROVED
    current.decided_by = actor if getattr(actor, "pk", None) else None
    current.decided_at = now
    current.decision_note = str(note or "").strip()[:MAX_TEXT]
    current.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    reason = _("Risque accepté par %(who)s jusqu'au %(d)s (acceptation n° %(n)s).") % {
        "who": actor,
        "d": current.expires_on.strftime("%d/%m/%Y"),
        "n": current.pk,
    }
    accepted, skipped = [], []
    for finding in current.findings.select_for_update(of=("self",)).order_by("pk"):
        if finding.status in OPEN_STATUSES:
            apply_status(actor, finding, Status.RISK_ACCEPTED, reason, now=now, ip=ip)
            accepted.append(finding.pk)
        else:
            skipped.append(finding.pk)
    audit.record(
        actor,
        "acceptance.approve",
        current,
        changes={
            "signed_at": now,
            "expires_on": current.expires_on,
            "accepted": accepted,
            "not_open_anymore": skipped,
            "note": current.decision_note,
        },
        ip=ip,
    )
    _refresh(acceptance, current)
    return acceptance


@transaction.atomic
def reject(
    actor: Actor,
    acceptance: RiskAcceptance,
    *,
    note: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> RiskAcceptance:
    """The director refuses, saying why; the findings stay as they are (open)."""
    current = _locked(acceptance)
    require(actor, Perm.ACCEPTANCE_SIGN, current.structure)
    if current.status != RS.REQUESTED:
        raise ValidationError(_("Cette demande a déjà été traitée."))
    text = _text(note, "note", _("Indiquez pourquoi la demande est refusée."))
    current.status = RS.REJECTED
    current.decided_by = actor if getattr(actor, "pk", None) else None
    current.decided_at = now or timezone.now()
    current.decision_note = text
    current.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit.record(actor, "acceptance.reject", current, changes={"note": text}, ip=ip)
    _refresh(acceptance, current)
    return acceptance


def can_revoke(actor: Actor, acceptance: RiskAcceptance) -> bool:
    """The director who may sign, or centre staff, may lift a running acceptance early."""
    return acceptance.status == RS.APPROVED and (
        can(actor, Perm.ACCEPTANCE_SIGN, acceptance.structure)
        or can(actor, Perm.FINDINGS_WRITE, acceptance.structure)
    )


def _reopen_findings(
    actor: Actor, acceptance: RiskAcceptance, reason: str, kind: str, now: datetime, ip: Any
) -> int:
    reopened = 0
    for finding in acceptance.findings.select_for_update(of=("self",)).order_by("pk"):
        if finding.status != Status.RISK_ACCEPTED:
            continue
        apply_status(
            actor, finding, Status.CONFIRMED, reason, now=now, ip=ip, kind=kind, restart_sla=True
        )
        reopened += 1
    return reopened


@transaction.atomic
def revoke(
    actor: Actor,
    acceptance: RiskAcceptance,
    *,
    note: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> RiskAcceptance:
    """Lift a signed acceptance before its end: its findings are open again."""
    current = _locked(acceptance)
    if not can_revoke(actor, current):
        if current.status != RS.APPROVED:
            raise ValidationError(_("Seule une acceptation signée et en cours peut être levée."))
        raise PermissionDenied(_("Seuls la direction et l'équipe du centre peuvent la lever."))
    text = _text(note, "note", _("Indiquez pourquoi l'acceptation est levée."))
    now = now or timezone.now()
    current.status = RS.REVOKED
    current.decision_note = (current.decision_note + "\n" + text).strip()
    current.save(update_fields=["status", "decision_note"])
    reason = _("Acceptation n° %(n)s levée : %(why)s") % {"n": current.pk, "why": text}
    count = _reopen_findings(actor, current, reason, EventKind.STATUS, now, ip)
    audit.record(
        actor, "acceptance.revoke", current, changes={"note": text, "reopened": count}, ip=ip
    )
    _refresh(acceptance, current)
    return acceptance


def signature_of(acceptance: RiskAcceptance) -> AuditEntry | None:
    """The audit entry of the director's decision: who, when, from which address."""
    if acceptance.decided_at is None:
        return None
    return (
        AuditEntry.objects.filter(
            object_type=RiskAcceptance._meta.label,
            object_id=str(acceptance.pk),
            action__in=("acceptance.approve", "acceptance.reject"),
        )
        .order_by("-sequence")
        .first()
    )


# --- Who hears about it ----------------------------------------------------------------------


def _send(subject: str, body: str, to: list[str]) -> None:
    if to:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to).send()


def _notify_signers(acceptance: RiskAcceptance) -> None:
    """Tell the directors a request waits for their signature (after the request commits)."""
    structure = acceptance.structure
    to = recipient_addresses(structure, [StructureRole.DIRECTOR])
    subject = _("[Carbet] Acceptation de risque à signer — %(s)s") % {"s": structure.name}
    body = _(
        "Bonjour,\n\nUne demande d'acceptation de risque (n° %(n)s) attend votre décision pour "
        "%(s)s. Elle porte sur %(count)s vulnérabilité(s) et prendrait fin le %(d)s.\n\n"
        "Connectez-vous à Carbet, rubrique « Vulnérabilités » puis « Acceptations de risque », "
        "pour la lire, puis la signer ou la refuser.\n"
    ) % {
        "n": acceptance.pk,
        "s": structure.name,
        "count": acceptance.findings.count(),
        "d": acceptance.expires_on.strftime("%d/%m/%Y"),
    }
    transaction.on_commit(lambda: _send(subject, body, to))


# --- The daily sweep -------------------------------------------------------------------------


def _reminder(acceptance: RiskAcceptance) -> tuple[str, str]:
    structure = acceptance.structure
    subject = _("[Carbet] Une acceptation de risque prend fin le %(d)s — %(s)s") % {
        "d": acceptance.expires_on.strftime("%d/%m/%Y"),
        "s": structure.name,
    }
    titles = "\n".join(f"- {f.title}" for f in acceptance.findings.order_by("-severity")[:20])
    body = _(
        "Bonjour,\n\nL'acceptation de risque n° %(n)s de %(s)s prend fin le %(d)s. À cette "
        "date, les vulnérabilités concernées redeviendront ouvertes, avec un nouveau délai de "
        "correction :\n%(titles)s\n\nD'ici là, vous pouvez les corriger, ou, si le risque doit "
        "encore être accepté, faire une nouvelle demande que la direction signera.\n"
    ) % {
        "n": acceptance.pk,
        "s": structure.name,
        "d": acceptance.expires_on.strftime("%d/%m/%Y"),
        "titles": titles,
    }
    return subject, body


def _send_reminders(today: date, now: datetime) -> tuple[int, int]:
    due = RiskAcceptance.objects.filter(
        status=RS.APPROVED,
        reminder_sent_at__isnull=True,
        expires_on__gt=today,
        expires_on__lte=today + timedelta(days=REMINDER_DAYS),
    ).select_related("structure__organisation")
    sent = failed = 0
    for acceptance in due:
        # Claim first, so two sweeps running at once never both send.
        claimed = RiskAcceptance.objects.filter(
            pk=acceptance.pk, reminder_sent_at__isnull=True
        ).update(reminder_sent_at=now)
        if not claimed:
            continue
        to = recipient_addresses(acceptance.structure)
        subject, body = _reminder(acceptance)
        try:
            _send(subject, body, to)
        except Exception:
            # Not sent (mail server down): the next sweep tries again.
            log.exception("acceptance reminder not sent", extra={"acceptance": acceptance.pk})
            RiskAcceptance.objects.filter(pk=acceptance.pk).update(reminder_sent_at=None)
            failed += 1
            continue
        audit.record(
            SYSTEM,
            "acceptance.reminder",
            acceptance,
            changes={"to": to, "expires_on": acceptance.expires_on},
        )
        sent += 1
    return sent, failed


def _expire(today: date, now: datetime) -> tuple[int, int, int]:
    expired = reopened = stale = 0
    ending = RiskAcceptance.objects.filter(
        status__in=RUNNING, expires_on__lte=today
    ).select_related("structure__organisation")
    for acceptance in ending:
        with transaction.atomic():
            current = _locked(acceptance)
            if current.status not in RUNNING or current.expires_on > today:
                continue
            was_signed = current.status == RS.APPROVED
            current.status = RS.EXPIRED
            current.save(update_fields=["status"])
            count = 0
            if was_signed:
                reason = _(
                    "Fin de l'acceptation du risque n° %(n)s le %(d)s : la vulnérabilité est de "
                    "nouveau à corriger."
                ) % {"n": current.pk, "d": current.expires_on.strftime("%d/%m/%Y")}
                count = _reopen_findings(
                    SYSTEM, current, reason, EventKind.ACCEPTANCE_EXPIRED, now, None
                )
                expired += 1
                reopened += count
            else:
                stale += 1
            audit.record(
                SYSTEM,
                "acceptance.expire",
                current,
                changes={"signed": was_signed, "reopened": count, "expires_on": current.expires_on},
            )
    return expired, reopened, stale


def sweep(today: date | None = None, now: datetime | None = None) -> dict[str, int]:
    """Send the 30-day reminders and end the acceptances whose date has come. Idempotent."""
    now = now or timezone.now()
    if today is not None and today != timezone.localdate(now):
        # A sweep run "as of" another day (tests, catching up): events are dated that day.
        now = timezone.make_aware(datetime.combine(today, timezone.localtime(now).time()))
    today = today or timezone.localdate(now)
    reminders, failed = _send_reminders(today, now)
    expired, reopened, stale = _expire(today, now)
    return {
        "reminders": reminders,
        "reminders_failed": failed,
        "expired": expired,
        "reopened": reopened,
        "stale_requests": stale,
    }
