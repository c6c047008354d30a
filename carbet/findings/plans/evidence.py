"""Evidence that an action was done, and its approval by the centre.

A structure (or its IT provider) deposits a note and, if it has one, a document (PDF, PNG,
JPEG or plain text, at most ``CARBET_MAX_UPLOAD_BYTES``); the document's SHA-256 is kept so it
can be shown later that it was not changed. When a centre analyst approves the evidence, the
action becomes *verified* and its findings still open close as *verified closed* ("preuve
validée"). A complete rescan that no longer sees a finding closes it too (the ingest service).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.findings.choices import Status
from carbet.findings.models import ActionEvidence, ActionItem, ActionStatus
from carbet.findings.plans import finding_status
from carbet.findings.plans.services import (
    FINISHED_STATUSES,
    MAX_TEXT,
    require,
    update_progress,
)

# Accepted documents: suffix → the bytes the file must start with (None: plain text).
EVIDENCE_TYPES: dict[str, bytes | None] = {
    ".pdf": b"%PDF-",
    ".png": b"\x89PNG\r\n\x1a\n",
    ".jpg": b"\xff\xd8\xff",
    ".jpeg": b"\xff\xd8\xff",
    ".txt": None,
}
APPROVED_REASON = "preuve validée"


def _suffix(name: str) -> str:
    name = (name or "").lower()
    return name[name.rfind(".") :] if "." in name else ""


def check_document(upload: UploadedFile, max_bytes: int | None = None) -> str:
    """Return the SHA-256 of an evidence document, refusing anything but PDF/PNG/JPEG/TXT."""
    max_bytes = settings.CARBET_MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    suffix = _suffix(upload.name or "")
    if suffix not in EVIDENCE_TYPES:
        raise ValidationError(
            {"document": _("Déposez la preuve en PDF, PNG, JPEG ou texte (.txt).")}, code="type"
        )
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationError(
            {
                "document": _("Le fichier dépasse la taille maximale de %(mb)s Mo.")
                % {"mb": max(1, max_bytes // (1024 * 1024))}
            },
            code="size",
        )
    magic = EVIDENCE_TYPES[suffix]
    digest = hashlib.sha256()
    size = 0
    first = True
    upload.seek(0)
    for chunk in upload.chunks():
        if first and magic is not None and not chunk.startswith(magic):
            raise ValidationError(
                {"document": _("Le contenu du fichier ne correspond pas à son extension.")},
                code="content",
            )
        if magic is None and b"\x00" in chunk:
            raise ValidationError(
                {"document": _("Ce fichier .txt n'est pas un simple texte.")}, code="content"
            )
        first = False
        size += len(chunk)
        if size > max_bytes:
            raise ValidationError(
                {"document": _("Le fichier dépasse la taille maximale autorisée.")}, code="size"
            )
        digest.update(chunk)
    if size == 0:
        raise ValidationError({"document": _("Le fichier est vide.")}, code="empty")
    upload.seek(0)
    return digest.hexdigest()


@transaction.atomic
def submit_evidence(
    actor: Any,
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
        evidence.document_sha256 = check_document(document)
        evidence.document = document
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
            "document_sha256": evidence.document_sha256,
        },
        ip=ip,
    )
    if claim_done and action.status != ActionStatus.DONE:
        update_progress(actor, action, status=ActionStatus.DONE, ip=ip, now=now)
    return evidence


@transaction.atomic
def approve_evidence(
    actor: Any,
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
