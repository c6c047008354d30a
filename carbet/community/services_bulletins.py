"""Bulletins: the centre writes, targets and publishes them; each targeted structure receives a
delivery row (the only way it sees the bulletin), an e-mail, and acknowledges it.

Rights: writing and publishing need ``CommunityPerm.PUBLISH`` and a centre role; acknowledging
needs ``CommunityPerm.ACKNOWLEDGE`` on the delivery's structure; the reminder "now" needs
``CommunityPerm.REGION``. Every change is written to the audit trail. Mails are in
``carbet.community.mail_bulletins``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.community import mail_bulletins as mail
from carbet.community.choices import Acknowledgement, BulletinStatus, Severity, Tlp
from carbet.community.models import Bulletin, BulletinDelivery
from carbet.community.service import CommunityPerm
from carbet.community.targeting import SIZE_BOUNDS, structures_targeted
from carbet.core import access
from carbet.core.choices import Category
from carbet.core.models import Ght, Structure
from carbet.core.tenancy import SYSTEM, Actor, can
from carbet.core.validators import validate_departement

log = logging.getLogger(__name__)

CVE_RE = re.compile(r"CVE-\d{4}-\d{4,}")
MAX_REFERENCES = 20
MAX_CVES = 50
MAX_PRODUCTS = 20
MAX_REFERENCE_LENGTH = 500
MAX_REMINDERS = 3
# Severities that get automatic reminders when not acknowledged.
REMINDED_SEVERITIES = (Severity.CRITICAL, Severity.HIGH)
# Statuses that still call for an acknowledgement ("read" is not enough for a reminder).
PENDING = (Acknowledgement.UNREAD, Acknowledgement.READ)
ACK_CHOICES = (Acknowledgement.READ, Acknowledgement.APPLIED, Acknowledgement.NOT_CONCERNED)
TEXT_FIELDS = ("title", "summary", "body", "severity", "tlp", "remind_after_days")
TARGET_FIELDS = ("categories", "departements", "ghts", "sizes", "products", "structures")
_url = URLValidator(schemes=["http", "https"])


# --- Validation (shared by the form and the API) ----------------------------------------------


def split_list(text: str) -> list[str]:
    """Items typed one per line or separated by commas, semicolons or spaces."""
    return [item for item in re.split(r"[\s,;]+", text or "") if item]


def clean_cves(values: Iterable[Any]) -> list[str]:
    """Upper-cased CVE identifiers, each once, in the given order; ``ValidationError`` names the
    first one that is not ``CVE-YYYY-NNNN``."""
    out: list[str] = []
    for raw in values or ():
        value = str(raw).strip().upper()
        if not value:
            continue
        if not CVE_RE.fullmatch(value) or len(value) > 30:
            raise ValidationError(
                _("« %(value)s » n'est pas un identifiant CVE (forme CVE-2024-12345).")
                % {"value": str(raw)[:40]},
                code="cve",
            )
        if value not in out:
            out.append(value)
    if len(out) > MAX_CVES:
        raise ValidationError(
            _("Au plus %(max)d CVE par bulletin.") % {"max": MAX_CVES}, code="cves"
        )
    return out


def clean_references(values: Iterable[Any]) -> list[str]:
    """Web addresses (http or https), each once, in the given order."""
    out: list[str] = []
    for raw in values or ():
        value = str(raw).strip()
        if not value:
            continue
        try:
            if len(value) > MAX_REFERENCE_LENGTH:
                raise ValidationError("too long")
            _url(value)
        except ValidationError:
            raise ValidationError(
                _("« %(value)s » n'est pas une adresse web (https://…).") % {"value": value[:60]},
                code="reference",
            ) from None
        if value not in out:
            out.append(value)
    if len(out) > MAX_REFERENCES:
        raise ValidationError(
            _("Au plus %(max)d références par bulletin.") % {"max": MAX_REFERENCES},
            code="references",
        )
    return out


def _clean_choice_list(values: Iterable[Any], allowed: set[str], field: str) -> list[str]:
    out = []
    for raw in values or ():
        value = str(raw).strip()
        if value not in allowed:
            raise ValidationError({field: _("Valeur inconnue : %(v)s.") % {"v": value[:40]}})
        if value not in out:
            out.append(value)
    return out


def _clean_ids(values: Iterable[Any], model: Any, field: str) -> list[int]:
    ids = []
    for raw in values or ():
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationError({field: _("Identifiant invalide.")}) from None
    ids = sorted(set(ids))
    if ids and model.objects.filter(pk__in=ids).count() != len(ids):
        raise ValidationError({field: _("Identifiant inconnu.")})
    return ids


def _clean_departements(values: Iterable[Any]) -> list[str]:
    out = []
    for raw in values or ():
        value = str(raw).strip().upper()
        try:
            validate_departement(value)
        except ValidationError as exc:
            raise ValidationError({"departements": exc.messages}) from None
        if value not in out:
            out.append(value)
    return out


def _clean_products(values: Iterable[Any]) -> list[str]:
    out = []
    for raw in values or ():
        value = " ".join(str(raw).split())
        if not value:
            continue
        if len(value) > 100 or len(value) < 2:
            raise ValidationError({"products": _("Un nom de produit fait de 2 à 100 caractères.")})
        if value.casefold() not in {v.casefold() for v in out}:
            out.append(value)
    if len(out) > MAX_PRODUCTS:
        raise ValidationError({"products": _("Au plus %(max)d produits.") % {"max": MAX_PRODUCTS}})
    return out


def clean_targeting(values: dict[str, Any]) -> dict[str, Any]:
    """The targeting criteria of ``values``, checked and normalised."""
    return {
        "categories": _clean_choice_list(
            values.get("categories"), set(Category.values), "categories"
        ),
        "departements": _clean_departements(values.get("departements")),
        "ghts": _clean_ids(values.get("ghts"), Ght, "ghts"),
        "sizes": _clean_choice_list(values.get("sizes"), set(SIZE_BOUNDS), "sizes"),
        "products": _clean_products(values.get("products")),
        "structures": _clean_ids(values.get("structures"), Structure, "structures"),
    }


def clean_values(values: dict[str, Any]) -> dict[str, Any]:
    """Every field of a bulletin checked; ``ValidationError`` per field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    title = " ".join(str(values.get("title") or "").split())
    if not title or len(title) > 200:
        errors["title"] = [_("Un titre de 1 à 200 caractères.")]
    out["title"] = title
    summary = " ".join(str(values.get("summary") or "").split())
    if len(summary) > 300:
        errors["summary"] = [_("Une phrase de 300 caractères au plus.")]
    out["summary"] = summary
    body = str(values.get("body") or "").strip()
    if not body or len(body) > 20000:
        errors["body"] = [_("Un texte de 1 à 20 000 caractères.")]
    out["body"] = body
    out["severity"] = values.get("severity") or Severity.MEDIUM
    if out["severity"] not in Severity.values:
        errors["severity"] = [_("Gravité inconnue.")]
    out["tlp"] = values.get("tlp") or Tlp.GREEN
    if out["tlp"] not in Tlp.values:
        errors["tlp"] = [_("Niveau TLP inconnu.")]
    days = values.get("remind_after_days", 3)
    try:
        out["remind_after_days"] = int(days if days not in (None, "") else 3)
        if not 0 <= out["remind_after_days"] <= 60:
            raise ValueError
    except (TypeError, ValueError):
        errors["remind_after_days"] = [_("Un nombre de jours de 0 à 60.")]
    for field, cleaner in (("references", clean_references), ("cves", clean_cves)):
        try:
            out[field] = cleaner(values.get(field) or [])
        except ValidationError as exc:
            errors[field] = exc.messages
    try:
        out.update(clean_targeting(values))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors[field] = messages
    if errors:
        raise ValidationError(errors)
    return out


def audience(values: dict[str, Any]) -> int:
    """How many structures the criteria in ``values`` reach (the live count of the form)."""
    try:
        criteria = clean_targeting(values)
    except ValidationError:
        return 0
    return structures_targeted(Bulletin(**criteria)).count()


# --- Writing and publishing (the centre) -----------------------------------------------------


def save_bulletin(
    actor: Actor,
    values: dict[str, Any],
    bulletin: Bulletin | None = None,
    *,
    ip: str | None = None,
) -> Bulletin:
    """Create a draft, or change one (a published bulletin is not rewritten: withdraw it and
    write another)."""
    access.require_centre(actor, CommunityPerm.PUBLISH)
    cleaned = clean_values(values)
    if bulletin is not None and bulletin.status != BulletinStatus.DRAFT:
        raise ValidationError(_("Seul un brouillon peut être modifié."))
    creating = bulletin is None
    with transaction.atomic():
        if creating:
            bulletin = Bulletin(author=actor if getattr(actor, "pk", None) else None)
        changes = {
            k: v for k, v in cleaned.items() if k != "body" and getattr(bulletin, k, None) != v
        }
        for key, value in cleaned.items():
            setattr(bulletin, key, value)
        bulletin.updated_at = timezone.now()
        bulletin.save()
        action = "community.bulletin.create" if creating else "community.bulletin.update"
        audit.record(actor, action, bulletin, ip=ip, changes=changes, label=bulletin.title)
    return bulletin


def publish(actor: Actor, bulletin: Bulletin, *, ip: str | None = None, notify: bool = True) -> int:
    """Publish a draft: one delivery per targeted structure, then (once committed) the e-mails
    (``notify=False``: none, for the demonstration data). The number of structures reached."""
    access.require_centre(actor, CommunityPerm.PUBLISH)
    with transaction.atomic():
        locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if locked.status != BulletinStatus.DRAFT:
            raise ValidationError(_("Ce bulletin n'est pas un brouillon : il est déjà publié."))
        targets = list(structures_targeted(locked).values_list("pk", flat=True))
        if not targets:
            raise ValidationError(_("Ce ciblage n'atteint aucune structure : élargissez-le."))
        now = timezone.now()
        locked.status = BulletinStatus.PUBLISHED
        locked.published_at = now
        locked.updated_at = now
        locked.save(update_fields=["status", "published_at", "updated_at"])
        BulletinDelivery.objects.bulk_create(
            [
                # notify=False: marked as told, so no later run mails them either
                BulletinDelivery(
                    bulletin=locked,
                    structure_id=pk,
                    delivered_at=now,
                    emailed_at=None if notify else now,
                )
                for pk in targets
            ],
            ignore_conflicts=True,
        )
        audit.record(
            actor,
            "community.bulletin.publish",
            locked,
            ip=ip,
            label=locked.title,
            changes={"structures": len(targets), "severity": locked.severity, "tlp": locked.tlp},
        )
    bulletin.refresh_from_db()
    if notify:
        transaction.on_commit(lambda: mail_deliveries(bulletin))
    return len(targets)


def mail_deliveries(bulletin: Bulletin) -> int:
    """E-mail the structures of ``bulletin`` not yet told (claimed row by row, so two runs never
    send twice); the number of structures told. A structure none of whose people could be
    reached (mail server down) is released, and the next ``send_reminders`` run tries again."""
    pending = (
        BulletinDelivery.objects.visible_to(SYSTEM)
        .filter(bulletin=bulletin, emailed_at__isnull=True)
        .select_related("structure__organisation")
    )
    told = 0
    for delivery in pending:
        now = timezone.now()
        claimed = (
            BulletinDelivery.objects.visible_to(SYSTEM)
            .filter(pk=delivery.pk, emailed_at__isnull=True)
            .update(emailed_at=now)
        )
        if not claimed:
            continue
        people = mail.recipients(delivery.structure)
        addresses = mail.send(bulletin, delivery.structure, reminder=False, people=people)
        row = BulletinDelivery.objects.visible_to(SYSTEM).filter(pk=delivery.pk)
        if people and not addresses:
            row.update(emailed_at=None)
            continue
        row.update(recipients=addresses)
        told += 1 if addresses else 0
    if not told:
        return 0
    audit.record(
        SYSTEM,
        "community.bulletin.mailed",
        bulletin,
        label=bulletin.title,
        changes={"structures": told},
    )
    return told


def withdraw(actor: Actor, bulletin: Bulletin, *, ip: str | None = None) -> Bulletin:
    """Withdraw a published bulletin (an error, an outdated advice): structures still find it,
    marked withdrawn, and get no more reminders."""
    access.require_centre(actor, CommunityPerm.PUBLISH)
    if bulletin.status != BulletinStatus.PUBLISHED:
        raise ValidationError(_("Seul un bulletin publié peut être retiré."))
    with transaction.atomic():
        bulletin.status = BulletinStatus.WITHDRAWN
        bulletin.updated_at = timezone.now()
        bulletin.save(update_fields=["status", "updated_at"])
        audit.record(actor, "community.bulletin.withdraw", bulletin, ip=ip, label=bulletin.title)
    return bulletin


# --- Receiving (each structure) --------------------------------------------------------------


def is_centre(actor: Actor) -> bool:
    return actor is SYSTEM or bool(
        getattr(actor, "is_superuser", False) or getattr(actor, "centre_role", "")
    )


def mark_read(actor: Actor, delivery: BulletinDelivery) -> bool:
    """The first look of a structure's person marks the delivery read (the centre's looks do
    not count); True when it changed."""
    if is_centre(actor) or delivery.status != Acknowledgement.UNREAD:
        return False
    if not can(actor, CommunityPerm.VIEW, delivery.structure):
        return False
    now = timezone.now()
    with transaction.atomic():
        changed = (
            BulletinDelivery.objects.visible_to(actor, CommunityPerm.VIEW)
            .filter(pk=delivery.pk, status=Acknowledgement.UNREAD)
            .update(status=Acknowledgement.READ, acknowledged_at=now, acknowledged_by=actor)
        )
        if changed:
            audit.record(
                actor,
                "community.bulletin.read",
                delivery,
                structure=delivery.structure,
                label=delivery.bulletin.title,
            )
    if changed:
        delivery.refresh_from_db()
    return bool(changed)


def acknowledge(
    actor: Actor,
    delivery: BulletinDelivery,
    status: str,
    reason: str = "",
    *,
    ip: str | None = None,
) -> BulletinDelivery:
    """Record a structure's answer to a bulletin: read, applied, or not concerned (why)."""
    access.require(actor, CommunityPerm.ACKNOWLEDGE, delivery.structure)
    reason = " ".join((reason or "").split())
    if status not in ACK_CHOICES:
        raise ValidationError({"status": _("Réponse inconnue.")})
    if status == Acknowledgement.NOT_CONCERNED and not reason:
        raise ValidationError(
            {"reason": _("Dites en quelques mots pourquoi la structure n'est pas concernée.")}
        )
    if len(reason) > 500:
        raise ValidationError({"reason": _("500 caractères au plus.")})
    if delivery.bulletin.status != BulletinStatus.PUBLISHED:
        raise ValidationError(_("Ce bulletin a été retiré : il n'appelle plus de réponse."))
    previous = delivery.status
    with transaction.atomic():
        delivery.status = status
        delivery.reason = reason if status == Acknowledgement.NOT_CONCERNED else ""
        delivery.acknowledged_by = actor if getattr(actor, "pk", None) else None
        delivery.acknowledged_at = timezone.now()
        delivery.save(update_fields=["status", "reason", "acknowledged_by", "acknowledged_at"])
        audit.record(
            actor,
            "community.bulletin.acknowledge",
            delivery,
            structure=delivery.structure,
            ip=ip,
            label=delivery.bulletin.title,
            changes={"status": [previous, status], "reason": delivery.reason},
        )
    return delivery


# --- Reminders -------------------------------------------------------------------------------


def _is_due(delivery: BulletinDelivery, now: datetime) -> bool:
    """Whether the period since delivery (or the last reminder) has passed."""
    since = delivery.last_reminder_at or delivery.delivered_at
    return since + timedelta(days=delivery.bulletin.remind_after_days) <= now


def _remind(
    deliveries: Iterable[BulletinDelivery], now: datetime, guard: Q
) -> list[BulletinDelivery]:
    """Claim each delivery (reminder count + 1, unchanged since read) before sending; returns
    those sent."""
    sent = []
    for delivery in deliveries:
        claimed = (
            BulletinDelivery.objects.visible_to(SYSTEM)
            .filter(guard, pk=delivery.pk, reminders=delivery.reminders, status__in=PENDING)
            .update(reminders=F("reminders") + 1, last_reminder_at=now)
        )
        if not claimed:
            continue  # another run took it
        mail.send(delivery.bulletin, delivery.structure, reminder=True)
        sent.append(delivery)
    return sent


def _audit_reminders(actor: Actor, sent: list[BulletinDelivery], manual: bool) -> None:
    by_bulletin: dict[int, list[BulletinDelivery]] = {}
    for delivery in sent:
        by_bulletin.setdefault(delivery.bulletin_id, []).append(delivery)
    for rows in by_bulletin.values():
        audit.record(
            actor,
            "community.bulletin.remind",
            rows[0].bulletin,
            label=rows[0].bulletin.title,
            changes={"structures": [d.structure_id for d in rows], "manual": manual},
        )


def send_reminders(now: datetime | None = None) -> int:
    """Remind the structures that have not acknowledged a published critical or high bulletin
    (beyond "read"): at most once per ``remind_after_days`` and three times in all. The number
    of structures reminded; running it twice sends nothing more."""
    now = now or timezone.now()
    unsent = (
        BulletinDelivery.objects.visible_to(SYSTEM)
        .filter(bulletin__status=BulletinStatus.PUBLISHED, emailed_at__isnull=True)
        .values_list("bulletin_id", flat=True)
        .distinct()
    )
    for bulletin in Bulletin.objects.filter(pk__in=list(unsent)):
        mail_deliveries(bulletin)  # notices a mail server failure kept from going out
    candidates = (
        BulletinDelivery.objects.visible_to(SYSTEM)
        .filter(
            bulletin__status=BulletinStatus.PUBLISHED,
            bulletin__severity__in=REMINDED_SEVERITIES,
            bulletin__remind_after_days__gt=0,
            status__in=PENDING,
            reminders__lt=MAX_REMINDERS,
        )
        .select_related("bulletin", "structure__organisation")
        .order_by("bulletin_id", "structure__name")
    )
    due = [d for d in candidates if _is_due(d, now)]
    sent = _remind(due, now, Q(reminders__lt=MAX_REMINDERS))
    _audit_reminders(SYSTEM, sent, manual=False)
    return len(sent)


def remind_now(actor: Actor, bulletin: Bulletin, *, ip: str | None = None) -> int:
    """The centre's "remind now": every structure that has not acknowledged, unless reminded in
    the last hour (a double click sends once). The number of structures reminded."""
    access.require_centre(actor, CommunityPerm.REGION)
    if bulletin.status != BulletinStatus.PUBLISHED:
        raise ValidationError(_("Seul un bulletin publié peut faire l'objet d'une relance."))
    now = timezone.now()
    recent = Q(last_reminder_at__isnull=True) | Q(last_reminder_at__lte=now - timedelta(hours=1))
    candidates = (
        BulletinDelivery.objects.visible_to(actor, CommunityPerm.REGION)
        .filter(recent, bulletin=bulletin, status__in=PENDING)
        .select_related("bulletin", "structure__organisation")
        .order_by("structure__name")
    )
    sent = _remind(list(candidates), now, recent)
    _audit_reminders(actor, sent, manual=True)
    return len(sent)


__all__ = [
    "acknowledge",
    "audience",
    "clean_cves",
    "clean_references",
    "clean_values",
    "mail_deliveries",
    "mark_read",
    "publish",
    "remind_now",
    "save_bulletin",
    "send_reminders",
    "withdraw",
]
