"""Evidence that an action was done, and its approval by the centre.

A structure (or its IT provider) deposits a note and, if it has one, a document (PDF, PNG,
JPEG or plain text, at most ``CARBET_MAX_UPLOAD_BYTES``); the document's SHA-256 is kept so it
can be shown later that it was not changed. When a centre analyst approves the evidence, the
action becomes *verified* and its findings still open close as *verified closed* ("preuve
validée"). A complete rescan that no longer sees a finding closes it too (the ingest service).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core import uploads
from carbet.core.tenancy import Actor
from carbet.findings.choices import Status
from carbet.findings.models import ActionEvidence, ActionItem, ActionStatus
from carbet.findings.plans import finding_status
from carbet.findings.plans.services import (
    FINISHED_STATUSES,
    MAX_TEXT,
    require,
    update_progress,
)

# Accepted documents (checked by content in carbet.core.uploads).
EVIDENCE_KINDS = frozenset({*uploads.IMAGES_AND_PDF, uploads.Kind.TEXT})
APPROVED_REASON = "preuve validée"


def store_document(upload: UploadedFile) -> uploads.Stored:
    """Check an evidence document (PDF, PNG, JPEG or plain text, by content) and keep it under a
    random name; raises ``ValidationError`` on ``document`` and stores nothing otherwise."""
    return uploads.store(
        upload,
        EVIDENCE_KINDS,
        area="evidence",
        field="document",
        type_message=_("Déposez la preuve en PDF, PNG, JPEG ou texte (.txt)."),
    )


@transaction.atomic
def submit_evidence(
    actor: Actor,
    action: ActionItem,
    *,
    note: str = "",
    document: UploadedFile | None = None,
    claim_done: bool = False,
    ip: str | None = None,
    now: datetime | None = None,
) -> ActionEvidence:
    """Deposit a proof on ``action`` (ACTION_PROGRESS). With ``claim_done`` the action is also
    declared done, which marks its findings *mitigation claimed*."""
    require(actor, Perm.ACTION_PROGRESS, action.structure)
    if action.status in FINISHED_STATUSES:
        raise ValidationError(_("Cette action est déjà vérifiée ou abandonnée."))
    note = (note or "").strip()
    if not note and document is None:
        raise ValidationError(
            {"note": _("Décrivez ce qui a été fait ou joignez un document.")}, code="required"
        )
    if len(note) > MAX_TEXT:
        raise ValidationError(
            {"note": _("Texte trop long : %(max)s caractères au plus.") % {"max": MAX_TEXT}}
        )
    now = now or timezone.now()
    evidence = ActionEvidence(
        action=action,
        note=note,
        submitted_by=actor if getattr(actor, "pk", None) else None,
        submitted_at=now,
    )
    if document is not None:
        stored = store_document(document)
        evidence.document_sha256 = stored.sha256
        evidence.document = stored.name
        original = stored.original_name
    else:
        original = ""
    evidence.save()
    audit.record(
        actor,
        "evidence.submit",
        evidence,
        structure=action.structure,
        changes={
            "action": action.pk,
            "note": note[:200],
            "document": evidence.document.name if evidence.document else "",
            "document_name": original,
            "document_sha256": evidence.document_sha256,
        },
        ip=ip,
    )
    if claim_done and action.status != ActionStatus.DONE:
        update_progress(actor, action, status=ActionStatus.DONE, ip=ip, now=now)
    return evidence


@transaction.atomic
def approve_evidence(
    actor: Actor,
    evidence: ActionEvidence,
    *,
    ip: str | None = None,
    now: datetime | None = None,
) -> ActionEvidence:
    """A centre analyst (ACTION_VERIFY) accepts the proof: the action becomes *verified* and
    its still-open findings close as *verified closed*, reason "preuve validée"."""
    action = evidence.action
    require(actor, Perm.ACTION_VERIFY, action.structure)
    if evidence.approved_at is not None:
        raise ValidationError(_("Cette preuve est déjà validée."))
    if action.status == ActionStatus.CANCELLED:
        raise ValidationError(_("Cette action est abandonnée : sa preuve ne peut être validée."))
    now = now or timezone.now()
    evidence.approved_by = actor if getattr(actor, "pk", None) else None
    evidence.approved_at = now
    evidence.save(update_fields=["approved_by", "approved_at"])
    previous = action.status
    action.status = ActionStatus.VERIFIED
    action.progress = 100
    action.completed_at = action.completed_at or now
    action.save(update_fields=["status", "progress", "completed_at"])
    closed = finding_status.move(
        actor,
        list(action.findings.all()),
        Status.VERIFIED_CLOSED,
        APPROVED_REASON,
        allowed_from=finding_status.TO_VERIFIED_FROM,
        ip=ip,
        now=now,
    )
    audit.record(
        actor,
        "evidence.approve",
        evidence,
        structure=action.structure,
        changes={"action": action.pk, "document_sha256": evidence.document_sha256},
        ip=ip,
    )
    audit.record(
        actor,
        "action.verify",
        action,
        changes={
            "status": [previous, action.status],
            "evidence": evidence.pk,
            "closed_findings": closed,
        },
        ip=ip,
    )
    return evidence
