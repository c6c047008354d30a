"""Evidence files: upload (with SHA-256), sharing across an organisation or GHT, deletion, and
the reminders before and after a document's validity ends.

Sharing follows the registry: a document can cover the structures of the uploader's
organisation or GHT on which the uploader may answer — one continuity plan for the systems a
GHT shares. Each covered structure sees it; no other structure does (``Evidence.covered`` is
also the tenancy path). Every upload, share and deletion is in the audit trail.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core import uploads
from carbet.core.models import Structure
from carbet.core.recipients import addresses as recipients
from carbet.core.tenancy import SYSTEM, Actor, can
from carbet.roadmap.models import Evidence, Requirement
from carbet.roadmap.service import RoadmapPerm

log = logging.getLogger(__name__)
REMIND_DAYS_BEFORE = 30
# What a document proving a requirement may be, checked by content (the form promises it).
EVIDENCE_KINDS = frozenset({*uploads.IMAGES_AND_PDF, *uploads.OFFICE, uploads.Kind.TEXT})


def share_targets(actor: Actor, structure: Structure):
    """Structures ``structure``'s evidence may also cover: same organisation or same GHT, on
    which ``actor`` may answer (``structure`` itself excluded)."""
    same = Q(organisation_id=structure.organisation_id)
    ght_id = structure.organisation.ght_id
    if ght_id:
        same |= Q(organisation__ght_id=ght_id)
    return (
        Structure.objects.visible_to(actor, RoadmapPerm.ANSWER)
        .filter(same)
        .exclude(pk=structure.pk)
        .order_by("name")
    )


def upload(
    actor: Actor,
    structure: Structure,
    document: UploadedFile,
    *,
    title: str,
    issued_on: date,
    valid_until: date | None = None,
    requirements: list[Requirement] | None = None,
    share_with: list[Structure] | None = None,
    note: str = "",
    ip: str | None = None,
) -> Evidence:
    if not can(actor, RoadmapPerm.ANSWER, structure):
        raise PermissionDenied
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Donnez un titre au justificatif.")})
    if valid_until is not None and valid_until < issued_on:
        raise ValidationError({"valid_until": _("La fin de validité précède la date du document.")})
    allowed = {s.pk: s for s in share_targets(actor, structure)}
    targets = []
    for target in share_with or []:
        if target.pk not in allowed:
            raise ValidationError(
                {
                    "share_with": _("Vous ne pouvez pas partager avec « %(name)s ».")
                    % {"name": target}
                }
            )
        targets.append(allowed[target.pk])
    stored = uploads.store(
        document,
        EVIDENCE_KINDS,
        area="roadmap/evidence",
        field="document",
        type_message=_(
            "Format refusé : déposez un PDF, une image (PNG, JPEG), un document bureautique "
            "(DOCX, XLSX, ODT, ODS) ou un texte (.txt)."
        ),
    )
    try:
        evidence = _record_upload(
            actor, structure, stored, title, note, issued_on, valid_until, targets, requirements, ip
        )
    except BaseException:
        uploads.delete_upload(stored.name)  # nothing stays on disk without its row
        raise
    return evidence


def _record_upload(
    actor: Actor,
    structure: Structure,
    stored: uploads.Stored,
    title: str,
    note: str,
    issued_on: date,
    valid_until: date | None,
    targets: list[Structure],
    requirements: list[Requirement] | None,
    ip: str | None,
) -> Evidence:
    digest = stored.sha256
    with transaction.atomic():
        evidence = Evidence(
            structure=structure,
            title=title[:200],
            note=(note or "").strip()[:4000],
            document_name=stored.original_name,
            document_sha256=digest,
            size=stored.size,
            issued_on=issued_on,
            valid_until=valid_until,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        evidence.document = stored.name
        evidence.save()
        evidence.covered.set([structure, *targets])
        if requirements:
            evidence.requirements.set(requirements)
        audit.record(
            actor,
            "evidence.upload",
            evidence,
            ip=ip,
            changes={
                "sha256": digest,
                "requirements": [r.label for r in requirements or []],
                "shared_with": [t.finess_et for t in targets],
            },
        )
    return evidence


def share(
    actor: Actor, evidence: Evidence, targets: list[Structure], ip: str | None = None
) -> Evidence:
    """Set which other structures the document covers (the owner always stays covered)."""
    if not can(actor, RoadmapPerm.ANSWER, evidence.structure):
        raise PermissionDenied
    allowed = {s.pk for s in share_targets(actor, evidence.structure)}
    if any(t.pk not in allowed for t in targets):
        raise ValidationError(
            {"share_with": _("Partage refusé : structure hors de votre périmètre.")}
        )
    with transaction.atomic():
        before = sorted(evidence.covered.values_list("finess_et", flat=True))
        evidence.covered.set([evidence.structure, *targets])
        after = sorted(evidence.covered.values_list("finess_et", flat=True))
        audit.record(
            actor, "evidence.share", evidence, ip=ip, changes={"from": before, "to": after}
        )
    return evidence


def delete(actor: Actor, evidence: Evidence, ip: str | None = None) -> None:
    """Only the owner structure's people (or the centre) delete a document."""
    if not can(actor, RoadmapPerm.ANSWER, evidence.structure):
        raise PermissionDenied
    with transaction.atomic():
        audit.record(
            actor,
            "evidence.delete",
            evidence,
            ip=ip,
            changes={"title": evidence.title, "sha256": evidence.document_sha256},
        )
        stored = evidence.document
        evidence.delete()
        transaction.on_commit(lambda: stored.delete(save=False))


# --- Reminders ------------------------------------------------------------------------------


def _covered_recipients(evidence: Evidence) -> list[str]:
    addresses: set[str] = set()
    for structure in evidence.covered.select_related("organisation"):
        addresses.update(recipients(structure))
    return sorted(addresses)


def _message(evidence: Evidence, expired: bool) -> tuple[str, str]:
    day = evidence.valid_until.strftime("%d/%m/%Y") if evidence.valid_until else ""
    if expired:
        subject = _("Justificatif expiré : %(title)s") % {"title": evidence.title}
        first = _("Le justificatif « %(title)s » n'est plus valable depuis le %(day)s.")
    else:
        subject = _("Justificatif bientôt expiré : %(title)s") % {"title": evidence.title}
        first = _("Le justificatif « %(title)s » ne sera plus valable le %(day)s.")
    body = "\n\n".join(
        [
            first % {"title": evidence.title, "day": day},
            _(
                "Pourquoi c'est important : un justificatif expiré ne compte plus pour les "
                "objectifs CaRE ni pour votre feuille de route."
            ),
            _(
                "Que faire : déposez la version à jour dans Carbet, rubrique « Feuille de "
                "route », « Justificatifs »."
            ),
        ]
    )
    return subject, body


def _send(evidence: Evidence, expired: bool) -> bool:
    to = _covered_recipients(evidence)
    if not to:
        return True  # nobody to tell: do not retry every night
    subject, body = _message(evidence, expired)
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to).send()
    return True


def send_reminders(today: date | None = None, now: datetime | None = None) -> dict[str, int]:
    """E-mail the covered structures 30 days before a document expires and once it has.

    Idempotent: each reminder is claimed (timestamp set) before sending and released if the
    mail server refuses, so a rerun neither repeats nor loses one.
    """
    today = today or timezone.localdate()
    now = now or timezone.now()
    sent = {"before": 0, "after": 0, "failed": 0}
    soon = Evidence.objects.filter(
        valid_until__isnull=False,
        valid_until__gte=today,
        valid_until__lte=today + timedelta(days=REMIND_DAYS_BEFORE),
        reminder_before_at__isnull=True,
    )
    expired = Evidence.objects.filter(
        valid_until__isnull=False, valid_until__lt=today, reminder_after_at__isnull=True
    )
    for queryset, stamp, key, is_expired in (
        (soon, "reminder_before_at", "before", False),
        (expired, "reminder_after_at", "after", True),
    ):
        for evidence in list(queryset):
            claimed = Evidence.objects.filter(pk=evidence.pk, **{f"{stamp}__isnull": True}).update(
                **{stamp: now}
            )
            if not claimed:
                continue
            try:
                _send(evidence, is_expired)
            except Exception:  # the mail server is down: release the claim, retry tomorrow
                log.exception("evidence reminder not sent", extra={"evidence": evidence.pk})
                Evidence.objects.filter(pk=evidence.pk).update(**{stamp: None})
                sent["failed"] += 1
                continue
            sent[key] += 1
            audit.record(
                SYSTEM,
                "evidence.reminder",
                evidence,
                changes={"expired": is_expired, "valid_until": evidence.valid_until.isoformat()},
            )
    return sent
