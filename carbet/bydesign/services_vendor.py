"""The vendor questionnaire by signed link: send, remind, revoke, answer.

The link carries a random token (256 bits); only its SHA-256 is stored, so the database alone
opens nothing. A link expires, can be revoked, and is spent once answered. A reminder makes a
new token (the older link stops working): the plain token is never kept to be sent again.
Answers and attachments become the evidence of the measures they inform (``vendor`` codes
of the catalogue), written into those measures' evidence with the date and the sender.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.bydesign import catalogue, vendor_questions
from carbet.bydesign.models import DigitalService, MeasureState, VendorAttachment, VendorRequest
from carbet.bydesign.service import BydesignPerm
from carbet.core import uploads
from carbet.core.access import require
from carbet.core.links import absolute_url
from carbet.core.tenancy import SYSTEM, Actor

MAX_FILES = 3
MAX_FILE_BYTES = 10 * 1024 * 1024
REMIND_EVERY = timedelta(days=7)
MAX_REMINDERS = 3
ALLOWED_DAYS = (14, 30, 60)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def link_for(token: str) -> str:
    return absolute_url(reverse("bydesign_public:form", args=[token]))


def _mail(request: VendorRequest, token: str, reminder: bool) -> None:
    service = request.service
    subject = (
        _("Rappel : questionnaire de sécurité pour %(name)s")
        if reminder
        else _("Questionnaire de sécurité pour %(name)s")
    ) % {"name": service.name}
    body = "\n\n".join(
        [
            _(
                "%(structure)s utilise ou prépare le service « %(name)s », dont vous êtes le "
                "fournisseur ou le prestataire. Avant de le mettre en service, la direction doit "
                "connaître ses mesures de sécurité."
            )
            % {"structure": service.structure.name, "name": service.name},
            _(
                "Merci de répondre à huit questions (certificat HDS, lieu des données, double "
                "authentification, sauvegardes, journaux, mises à jour, réversibilité, contacts) "
                "par ce lien personnel, valable jusqu'au %(day)s, sans compte à créer :"
            )
            % {"day": timezone.localtime(request.expires_at).strftime("%d/%m/%Y")},
            link_for(token),
            _("Ne transférez pas ce lien : il donne accès au questionnaire de cette structure."),
        ]
    )
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [request.email]).send()


def send_request(
    actor: Actor,
    service: DigitalService,
    email: str,
    days: int = 30,
    *,
    now: datetime | None = None,
    ip: str | None = None,
) -> VendorRequest:
    require(actor, BydesignPerm.VENDOR, service.structure)
    if days not in ALLOWED_DAYS:
        raise ValidationError({"days": _("Choisissez 14, 30 ou 60 jours.")})
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        request = VendorRequest.objects.create(
            service=service,
            email=email.strip().lower(),
            token_digest=digest(token),
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
            expires_at=now + timedelta(days=days),
            last_sent_at=now,
        )
        audit.record(
            actor,
            "bydesign.vendor.send",
            service,
            ip=ip,
            changes={"email": request.email, "expires_at": request.expires_at.isoformat()},
        )
    _mail(request, token, reminder=False)
    return request


def revoke(actor: Actor, request: VendorRequest, ip: str | None = None) -> None:
    require(actor, BydesignPerm.VENDOR, request.service.structure)
    if request.revoked_at is None:
        request.revoked_at = timezone.now()
        request.save(update_fields=["revoked_at"])
        audit.record(
            actor, "bydesign.vendor.revoke", request.service, ip=ip, changes={"request": request.pk}
        )


def open_request(token: str, now: datetime | None = None) -> VendorRequest | None:
    """The request behind a link, if it is still open (unknown, expired, revoked: None)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 128:
        return None
    now = now or timezone.now()
    request = (
        VendorRequest.objects.filter(token_digest=digest(token))
        .select_related("service__structure")
        .first()
    )
    if request is None or request.revoked_at is not None or request.expires_at <= now:
        return None
    return request


@dataclass
class Submission:
    request: VendorRequest | None
    errors: dict[str, str]


def _store_files(files: list[Any]) -> list[uploads.Stored]:
    if len(files) > MAX_FILES:
        raise ValidationError({"files": _("Trois fichiers au plus.")})
    stored: list[uploads.Stored] = []
    try:
        for upload in files:
            stored.append(
                uploads.store(
                    upload,
                    uploads.IMAGES_AND_PDF,
                    area="bydesign/vendor",
                    field="files",
                    max_bytes=MAX_FILE_BYTES,
                )
            )
    except ValidationError:
        _forget(stored)
        raise
    return stored


def _forget(stored: list[uploads.Stored]) -> None:
    for item in stored:
        uploads.delete_upload(item.name)


def _as_evidence(request: VendorRequest, names: list[str]) -> None:
    """Each answer goes into the evidence of the measures it informs."""
    day = timezone.localdate(request.answered_at).strftime("%d/%m/%Y")
    labels = {row["code"]: row for row in vendor_questions.answered_rows(request.answers)}
    for item in catalogue.applicable(request.service):
        lines = [
            f"{labels[c]['question']} {labels[c]['choice']} {labels[c]['text']}".strip()
            for c in item.measure.vendor
            if c in labels
        ]
        if not lines:
            continue
        state, _created = MeasureState.objects.get_or_create(
            service=request.service, code=item.code
        )
        header = _("Réponse du fournisseur (%(email)s, %(day)s) :") % {
            "email": request.email,
            "day": day,
        }
        if names:
            lines.append(_("Pièces jointes : %(names)s") % {"names": ", ".join(names)})
        text = "\n".join([header, *lines])
        state.evidence = (f"{state.evidence}\n\n{text}" if state.evidence else text)[:4000]
        state.updated_at = timezone.now()
        state.save(update_fields=["evidence", "updated_at"])


def submit(token: str, data: dict[str, Any], files: list[Any], ip: str | None = None) -> Submission:
    """Record the vendor's answers (once); bad input changes nothing and says what is wrong."""
    request = open_request(token)
    if request is None:
        return Submission(None, {"link": _("Ce lien n'est plus valable.")})
    if request.answered_at is not None:
        return Submission(request, {"link": _("Ce questionnaire a déjà reçu une réponse.")})
    answers, errors = vendor_questions.clean(data)
    if errors:
        return Submission(request, errors)
    try:
        stored = _store_files(files)
    except ValidationError as exc:
        return Submission(request, {"files": " ".join(exc.messages)})
    with transaction.atomic():
        claimed = VendorRequest.objects.filter(pk=request.pk, answered_at__isnull=True).update(
            answered_at=timezone.now(), answers=answers
        )
        if not claimed:
            _forget(stored)
            return Submission(request, {"link": _("Ce questionnaire a déjà reçu une réponse.")})
        request.refresh_from_db()
        VendorAttachment.objects.bulk_create(
            [
                VendorAttachment(
                    request=request,
                    name=s.original_name[:200],
                    stored=s.name,
                    sha256=s.sha256,
                    size=s.size,
                )
                for s in stored
            ]
        )
        _as_evidence(request, [s.original_name for s in stored])
        audit.record(
            SYSTEM,
            "bydesign.vendor.answer",
            request.service,
            ip=ip,
            actor_label=request.email,
            changes={"request": request.pk, "files": [s.sha256 for s in stored]},
        )
    return Submission(request, {})


def send_reminders(now: datetime | None = None) -> dict[str, int]:
    """Every week, a new link to vendors who have not answered (three times at most)."""
    now = now or timezone.now()
    due = VendorRequest.objects.filter(
        answered_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
        reminders__lt=MAX_REMINDERS,
        last_sent_at__lte=now - REMIND_EVERY,
    ).select_related("service__structure")
    counts = {"sent": 0, "failed": 0}
    for request in due:
        token = secrets.token_urlsafe(32)
        claimed = VendorRequest.objects.filter(
            pk=request.pk, token_digest=request.token_digest
        ).update(token_digest=digest(token), last_sent_at=now, reminders=request.reminders + 1)
        if not claimed:
            continue
        try:
            _mail(request, token, reminder=True)
        except OSError:
            # The vendor keeps the link they have; the reminder is tried again next run.
            VendorRequest.objects.filter(pk=request.pk).update(
                token_digest=request.token_digest,
                last_sent_at=request.last_sent_at,
                reminders=request.reminders,
            )
            counts["failed"] += 1
        else:
            counts["sent"] += 1
    return counts
