"""Community events: the centre's trainings, webinars, exercises and meetings, the
registrations of the people of the structures they are for, and their calendars.

* The centre (``CommunityPerm.PUBLISH``) creates, edits and cancels events. Every change raises
  ``sequence`` (the iCalendar SEQUENCE), so calendar programs replace their copy; a change of
  date, place or link and a cancellation are mailed to the people registered. Audited.
* A person (``CommunityPerm.VIEW``) registers for one of their structures the event is targeted
  at (``carbet.community.targeting``). Past the capacity, they go on the waiting list; when a
  registered person cancels (or the centre adds places), the first on the list is promoted and
  told. Each confirmation carries the event as a ``.ics`` file.
* Each person may have a private calendar address (``/agenda-ical/<token>.ics``). The token is
  shown once; only its SHA-256 digest is stored, so the database alone opens nothing. Making a
  new one replaces (revokes) the old one.
* ``send_reminders`` mails the day before (and the week before for trainings), each reminder
  claimed on ``Registration.reminded_at`` before it is sent, so two runs never send it twice.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.community.choices import EventKind, EventStatus, RegistrationStatus
from carbet.community.models import CalendarFeed, Event, Registration
from carbet.community.service import CommunityPerm
from carbet.community.services_events_mail import PRODID, event_item
from carbet.community.services_events_mail import notify as send_messages
from carbet.community.targeting import is_targeted
from carbet.core.access import refusal, require
from carbet.core.exports import to_csv
from carbet.core.links import absolute_url
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM, Actor, can
from carbet.engines.community.calendar import build_calendar

EVENT_FIELDS = (
    "title",
    "kind",
    "description",
    "starts_at",
    "ends_at",
    "location",
    "online_url",
    "capacity",
    "registration_closes_at",
)
TARGET_FIELDS = ("categories", "departements", "ghts", "sizes", "products", "structures")
# A change of these tells the people registered (their calendar copy is out of date).
NOTIFY_FIELDS = ("starts_at", "ends_at", "location", "online_url")
ACTIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLIST)
# The private feed lists the events that ended less than this long ago, and those to come.
FEED_HISTORY = timedelta(days=90)
# A feed fetch writes its date at most this often (calendar programs poll every few minutes).
FETCH_MARK_EVERY = timedelta(hours=1)
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")


# --- Events ----------------------------------------------------------------------------------


def _check_dates(values: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts and ends and ends <= starts:
        errors["ends_at"] = _("La fin doit venir après le début.")
    closes = values.get("registration_closes_at")
    if closes and starts and closes > starts:
        errors["registration_closes_at"] = _(
            "Les inscriptions doivent se terminer au plus tard au début de l'événement."
        )
    if not (values.get("location") or "").strip() and not (values.get("online_url") or "").strip():
        errors["location"] = _("Indiquez un lieu, un lien de connexion, ou les deux.")
    if errors:
        raise ValidationError(errors)


def _assign(event: Event, values: dict[str, Any]) -> list[str]:
    """Copy the known fields of ``values`` onto ``event``; the names of those that changed."""
    changed = []
    for name in (*EVENT_FIELDS, *TARGET_FIELDS):
        if name not in values:
            continue
        value = values[name]
        if name in TARGET_FIELDS:
            value = list(value or [])
        elif isinstance(value, str):
            value = value.strip()
        elif name == "capacity":
            value = int(value or 0)
        if getattr(event, name) != value:
            setattr(event, name, value)
            changed.append(name)
    return changed


def _audit_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def create_event(actor: Actor, values: dict[str, Any], *, ip: str | None = None) -> Event:
    """A new event (scheduled); ``values`` holds the fields of ``EVENT_FIELDS`` and the
    targeting lists (all empty: the whole region)."""
    require(actor, CommunityPerm.PUBLISH)
    now = timezone.now()
    event = Event(author=actor if getattr(actor, "pk", None) else None, created_at=now)
    _assign(event, values)
    event.updated_at = now
    _check_dates({name: getattr(event, name) for name in EVENT_FIELDS})
    event.full_clean(exclude=["author"])
    with transaction.atomic():
        event.save()
        audit.record(
            actor,
            "community.event.create",
            event,
            ip=ip,
            changes={name: _audit_value(getattr(event, name)) for name in ("kind", "starts_at")}
            | {name: getattr(event, name) for name in TARGET_FIELDS},
        )
    return event


def update_event(
    actor: Actor, event: Event, values: dict[str, Any], *, ip: str | None = None
) -> list[str]:
    """Apply ``values``; the changed fields (none: nothing is written). Raises the sequence,
    promotes people from the waiting list if places were added, and tells those registered
    when the date, the place or the link changed."""
    require(actor, CommunityPerm.PUBLISH)
    if event.status == EventStatus.CANCELLED:
        raise ValidationError(_("Un événement annulé ne peut plus être modifié."))
    before = {name: getattr(event, name) for name in (*EVENT_FIELDS, *TARGET_FIELDS)}
    changed = _assign(event, values)
    if not changed:
        return []
    _check_dates({name: getattr(event, name) for name in EVENT_FIELDS})
    event.full_clean(exclude=["author"])
    promoted: list[Registration] = []
    with transaction.atomic():
        Event.objects.select_for_update().filter(pk=event.pk).first()
        event.sequence += 1
        event.updated_at = timezone.now()
        event.save()
        if "capacity" in changed:
            promoted = _promote(event)
        audit.record(
            actor,
            "community.event.update",
            event,
            ip=ip,
            changes={
                name: [_audit_value(before[name]), _audit_value(getattr(event, name))]
                for name in changed
                if name != "description"
            },
        )
    for registration in promoted:
        send_messages([registration], "promoted")
    if any(name in NOTIFY_FIELDS for name in changed):
        send_messages(_active(event, exclude=promoted), "updated")
    return changed


def cancel_event(actor: Actor, event: Event, reason: str = "", *, ip: str | None = None) -> int:
    """Cancel ``event`` and tell everyone registered or waiting; the number of messages sent.
    Registrations stay, so each person's calendar feed shows the event as cancelled."""
    require(actor, CommunityPerm.PUBLISH)
    if event.status == EventStatus.CANCELLED:
        return 0
    with transaction.atomic():
        event.status = EventStatus.CANCELLED
        event.sequence += 1
        event.updated_at = timezone.now()
        event.save(update_fields=["status", "sequence", "updated_at"])
        people = _active(event)
        audit.record(
            actor,
            "community.event.cancel",
            event,
            ip=ip,
            changes={"reason": reason[:500], "notified": len(people)},
        )
    return send_messages(people, "cancelled", reason=reason[:500])


# --- Registrations ---------------------------------------------------------------------------


def _active(event: Event, exclude: Iterable[Registration] = ()) -> list[Registration]:
    skip = {r.pk for r in exclude}
    return [
        r
        for r in Registration.objects.visible_to(SYSTEM)
        .filter(event=event, status__in=ACTIVE)
        .select_related("user", "structure", "event")
        if r.pk not in skip
    ]


def registered_count(event: Event) -> int:
    return (
        Registration.objects.visible_to(SYSTEM)
        .filter(event=event, status=RegistrationStatus.REGISTERED)
        .count()
    )


def check_open(event: Event, now: datetime) -> None:
    if event.status == EventStatus.CANCELLED:
        raise ValidationError(_("Cet événement est annulé."))
    if event.starts_at <= now:
        raise ValidationError(_("Cet événement a déjà commencé."))
    if event.registration_closes_at and event.registration_closes_at <= now:
        raise ValidationError(_("Les inscriptions à cet événement sont closes."))


def register(
    actor: Actor,
    event: Event,
    structure: Structure,
    *,
    notify: bool = True,
    now: datetime | None = None,
    ip: str | None = None,
) -> Registration:
    """Register ``actor`` (a person) for ``event`` on behalf of ``structure``: registered while
    places remain, on the waiting list after. A confirmation is mailed (with the ``.ics``)."""
    if getattr(actor, "pk", None) is None:
        raise refusal()
    require(actor, CommunityPerm.VIEW, structure)
    if not is_targeted(event, structure):
        raise ValidationError({"structure": _("Cet événement ne s'adresse pas à cette structure.")})
    now = now or timezone.now()
    check_open(event, now)
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        check_open(locked, now)
        row = Registration.objects.visible_to(SYSTEM).filter(event=event, user=actor).first()
        if row is not None and row.status in ACTIVE:
            raise ValidationError(_("Vous êtes déjà inscrit à cet événement."))
        full = bool(locked.capacity) and registered_count(locked) >= locked.capacity
        status = RegistrationStatus.WAITLIST if full else RegistrationStatus.REGISTERED
        if row is None:
            row = Registration(event=event, user=actor)
        row.structure, row.status, row.reminded_at = structure, status, None
        row.created_at = row.updated_at = now
        row.save()
        audit.record(
            actor,
            "community.event.register",
            row,
            ip=ip,
            label=f"{event.title} – {actor}",
            changes={"event": event.pk, "status": status},
        )
    if notify:
        send_messages([row], "confirmed" if status == RegistrationStatus.REGISTERED else "waitlist")
    return row


def cancel_registration(
    actor: Actor,
    registration: Registration,
    *,
    notify: bool = True,
    now: datetime | None = None,
    ip: str | None = None,
) -> list[Registration]:
    """Cancel a registration (the person's own, or any for the centre); the people promoted
    from the waiting list in its place (each told by e-mail)."""
    own = getattr(actor, "pk", None) is not None and registration.user_id == actor.pk
    if not (own or can(actor, CommunityPerm.PUBLISH)):
        raise refusal()
    if registration.status == RegistrationStatus.CANCELLED:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=registration.event_id)
        was = registration.status
        registration.status = RegistrationStatus.CANCELLED
        registration.updated_at = now
        registration.save(update_fields=["status", "updated_at"])
        promoted = _promote(event, now) if was == RegistrationStatus.REGISTERED else []
        audit.record(
            actor,
            "community.event.unregister",
            registration,
            ip=ip,
            label=f"{event.title} – {registration.user}",
            changes={"event": event.pk, "was": was, "promoted": [r.pk for r in promoted]},
        )
    if notify:
        for row in promoted:
            send_messages([row], "promoted")
    return promoted


def _promote(event: Event, now: datetime | None = None) -> list[Registration]:
    """Move the first people of the waiting list into the free places (inside the caller's
    transaction, with the event row locked)."""
    now = now or timezone.now()
    if event.status == EventStatus.CANCELLED or event.starts_at <= now:
        return []
    waiting = (
        Registration.objects.visible_to(SYSTEM)
        .filter(event=event, status=RegistrationStatus.WAITLIST)
        .select_related("user", "structure", "event")
        .order_by("created_at", "pk")
    )
    if event.capacity:
        free = event.capacity - registered_count(event)
        if free <= 0:
            return []
        waiting = waiting[:free]
    promoted = list(waiting)
    for row in promoted:
        row.status, row.updated_at = RegistrationStatus.REGISTERED, now
        row.save(update_fields=["status", "updated_at"])
        audit.record(SYSTEM, "community.event.promote", row, changes={"event": event.pk})
    return promoted


def export_registrations(actor: Actor, event: Event, *, ip: str | None = None) -> bytes:
    """The registrations of ``event`` as CSV for the centre (``PUBLISH``), audited: it names
    people and their addresses."""
    from carbet.community import selectors_events

    columns, rows = selectors_events.registration_table(actor, event)
    audit.record(actor, "community.event.export", event, ip=ip, changes={"rows": len(rows)})
    return to_csv(columns, rows)


# --- Private calendar feed -------------------------------------------------------------------


def feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def feed_url(token: str) -> str:
    return absolute_url(reverse("community_public:feed", args=[token]))


def create_feed(actor: Actor, *, ip: str | None = None) -> str:
    """A new private calendar address for ``actor``; the token, to show once. An address made
    before stops working."""
    if getattr(actor, "pk", None) is None:
        raise refusal()
    require(actor, CommunityPerm.VIEW)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed, created = CalendarFeed.objects.select_for_update().get_or_create(
            user=actor, defaults={"token_digest": feed_digest(token)}
        )
        if not created:
            feed.token_digest = feed_digest(token)
            feed.created_at, feed.last_fetched_at = timezone.now(), None
            feed.save(update_fields=["token_digest", "created_at", "last_fetched_at"])
        audit.record(
            actor,
            "community.calendar_feed.create" if created else "community.calendar_feed.regenerate",
            feed,
            ip=ip,
        )
    return token


def revoke_feed(actor: Actor, *, ip: str | None = None) -> bool:
    """Remove ``actor``'s calendar address (it answers 404 from now on)."""
    feed = CalendarFeed.objects.filter(user_id=getattr(actor, "pk", None)).first()
    if feed is None:
        return False
    with transaction.atomic():
        audit.record(actor, "community.calendar_feed.revoke", feed, ip=ip)
        feed.delete()
    return True


def open_feed(token: Any) -> CalendarFeed | None:
    """The feed behind a token, or None (malformed, unknown, revoked, account closed or
    without the right): one indexed query, nothing else is revealed."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return None
    feed = (
        CalendarFeed.objects.filter(token_digest=feed_digest(token)).select_related("user").first()
    )
    if feed is None or not feed.user.is_active or not can(feed.user, CommunityPerm.VIEW):
        return None
    return feed


def feed_calendar(feed: CalendarFeed, now: datetime | None = None) -> bytes:
    """The person's events: those they are registered for (a cancelled event as CANCELLED) and
    those they withdrew from (CANCELLED too, so calendars remove them). Only registrations
    for structures the person still holds the right on."""
    from carbet.community import selectors_events

    now = now or timezone.now()
    rows = selectors_events.feed_registrations(feed.user, now - FEED_HISTORY)
    items = [
        event_item(
            r.event,
            cancelled_for_person=r.status == RegistrationStatus.CANCELLED,
            with_link=r.status == RegistrationStatus.REGISTERED,
        )
        for r in rows
    ]
    if feed.last_fetched_at is None or feed.last_fetched_at < now - FETCH_MARK_EVERY:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)
    with translation.override(feed.user.language or "fr"):
        name = _("Carbet — mes événements")
    return build_calendar(items, calendar_name=name, prodid=PRODID)


# --- Reminders -------------------------------------------------------------------------------


def _day_start(event: Event, days_before: int) -> datetime:
    day = timezone.localdate(event.starts_at) - timedelta(days=days_before)
    return timezone.make_aware(datetime.combine(day, time.min))


def reminder_due(registration: Registration, now: datetime) -> str | None:
    """Which reminder ``registration`` is due at ``now``: "reminder_day" from the day before
    the event, "reminder_week" from a week before (trainings), or None. A person who
    registered inside the window already had the confirmation and gets no reminder for it."""
    event, last = registration.event, registration.reminded_at
    if (
        event.status != EventStatus.SCHEDULED
        or registration.status != RegistrationStatus.REGISTERED
        or now >= event.starts_at
    ):
        return None
    day = _day_start(event, 1)
    if now >= day:
        fresh = registration.updated_at >= day
        return None if fresh or (last is not None and last >= day) else "reminder_day"
    if event.kind != EventKind.TRAINING:
        return None
    week = _day_start(event, 7)
    if now < week or registration.updated_at >= week or (last is not None and last >= week):
        return None
    return "reminder_week"


def send_reminders(now: datetime | None = None) -> int:
    """Mail the reminders due (``carbet community reminders``, daily); the number sent. Each
    is claimed on ``reminded_at`` first: a second run, or a concurrent one, sends nothing."""
    now = now or timezone.now()
    candidates = (
        Registration.objects.visible_to(SYSTEM)
        .filter(
            status=RegistrationStatus.REGISTERED,
            event__status=EventStatus.SCHEDULED,
            event__starts_at__gt=now,
            event__starts_at__lte=now + timedelta(days=8),
            user__is_active=True,
        )
        .exclude(user__email="")
        .select_related("event", "user", "structure")
        .order_by("event__starts_at", "pk")
    )
    sent = 0
    for row in candidates:
        kind = reminder_due(row, now)
        if kind is None:
            continue
        claimed = (
            Registration.objects.visible_to(SYSTEM)
            .filter(pk=row.pk, reminded_at=row.reminded_at)
            .update(reminded_at=now)
        )
        if not claimed:
            continue
        if send_messages([row], kind):
            sent += 1
        else:  # not sent: release the claim, the next run tries again
            Registration.objects.visible_to(SYSTEM).filter(pk=row.pk, reminded_at=now).update(
                reminded_at=row.reminded_at
            )
    if sent:
        audit.record(SYSTEM, "community.event.reminders", changes={"sent": sent})
    return sent
