"""Community events: the centre's events, registrations and the waiting list, the messages
delivered to a real SMTP server on loopback (``smtp_inbox``), the ``.ics`` files parsed back
with the icalendar library, and the reminders (idempotent)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from icalendar import Calendar

from carbet.audit.models import AuditEntry
from carbet.community import selectors_events as selectors
from carbet.community import services_events as services
from carbet.community.choices import EventStatus, RegistrationStatus
from carbet.community.models import Event, Registration
from carbet.community.services_events_mail import event_ics

START = timezone.now().replace(microsecond=0) + dt.timedelta(days=20)


def event_values(**over) -> dict:
    values = {
        "title": "Sauvegardes : les bons réflexes",
        "kind": "training",
        "description": "## Au programme\n\nLa règle 3-2-1 et **les tests de restauration**.",
        "starts_at": START,
        "ends_at": START + dt.timedelta(hours=3),
        "location": "Fort-de-France, salle du centre",
        "online_url": "",
        "capacity": 0,
        "registration_closes_at": None,
        "categories": [],
        "departements": [],
        "ghts": [],
        "sizes": [],
        "products": [],
        "structures": [],
    }
    values.update(over)
    return values


def make_event(region, **over) -> Event:
    return services.create_event(region.users["centre_analyst"], event_values(**over))


def calendar_of(data: bytes) -> list:
    calendar = Calendar.from_ical(data)
    return list(calendar.walk("VEVENT"))


def attachments(message) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename(), part.get_payload(decode=True)) for part in message.iter_attachments()
    ]


# --- the centre's events ---------------------------------------------------------------------


def test_only_the_centre_publishes_and_each_change_is_audited(region):
    with pytest.raises(PermissionDenied):
        services.create_event(region.users["director"], event_values())
    event = make_event(region)
    assert event.sequence == 0 and event.status == EventStatus.SCHEDULED
    assert event.author == region.users["centre_analyst"]
    assert AuditEntry.objects.filter(action="community.event.create", object_id=str(event.pk))
    with pytest.raises(PermissionDenied):
        services.update_event(region.users["director"], event, {"title": "x"})
    analyst = region.users["centre_analyst"]
    assert services.update_event(analyst, event, {"title": event.title}) == []
    assert event.sequence == 0
    assert services.update_event(analyst, event, {"capacity": 12, "title": "Sauvegardes"}) == [
        "title",
        "capacity",
    ]
    event.refresh_from_db()
    assert event.sequence == 1 and event.capacity == 12
    entry = AuditEntry.objects.get(action="community.event.update")
    assert entry.changes["capacity"] == [0, 12]


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"ends_at": START - dt.timedelta(hours=1)}, "ends_at"),
        ({"location": "", "online_url": ""}, "location"),
        ({"registration_closes_at": START + dt.timedelta(hours=1)}, "registration_closes_at"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"kind": "party"}, "kind"),
    ],
)
def test_inconsistent_events_are_refused(region, over, field):
    with pytest.raises(ValidationError) as raised:
        make_event(region, **over)
    assert field in raised.value.message_dict
    assert not Event.objects.exists()


def test_a_cancelled_event_cannot_be_edited(region):
    event = make_event(region)
    services.cancel_event(region.users["centre_admin"], event, "Formateur malade")
    assert event.sequence == 1 and event.status == EventStatus.CANCELLED
    assert services.cancel_event(region.users["centre_admin"], event) == 0
    assert event.sequence == 1
    with pytest.raises(ValidationError):
        services.update_event(region.users["centre_admin"], event, {"title": "Autre"})


# --- who sees what ---------------------------------------------------------------------------


def test_events_are_seen_only_by_the_structures_they_target(region):
    only_a = make_event(region, title="Pour A", structures=[region.a.pk])
    guadeloupe = make_event(region, title="Pour la Guadeloupe", departements=["971"])
    everyone = make_event(region, title="Pour tous")
    ehpads = make_event(region, title="EHPAD", categories=["ehpad"])

    def titles(role):
        return {e.title for e in selectors.visible_events(region.users[role])}

    assert titles("director") == {"Pour A", "Pour tous"}
    assert titles("director_b") == {"Pour la Guadeloupe", "Pour tous", "EHPAD"}
    # The organisation's director covers A (CH) and A2 (EHPAD).
    assert titles("org_director") == {"Pour A", "Pour tous", "EHPAD"}
    assert titles("centre_analyst") == {"Pour A", "Pour la Guadeloupe", "Pour tous", "EHPAD"}
    with pytest.raises(Http404):
        selectors.event_for(region.users["director_b"], only_a.pk)
    with pytest.raises(Http404):
        selectors.event_for(region.users["director"], guadeloupe.pk)
    assert selectors.event_for(region.users["director"], everyone.pk) == everyone
    for pk in (ehpads.pk, "x", 10**30):
        with pytest.raises(Http404):
            selectors.event_for(region.users["director"], pk)
    with pytest.raises(PermissionDenied):
        selectors.visible_events(region.users["ars_viewer"])
    with pytest.raises(PermissionDenied):
        selectors.event_for(region.users["nobody"], everyone.pk)
    # Ended events leave the agenda.
    past = make_event(
        region,
        title="Passé",
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(days=2, hours=-2),
    )
    assert past not in selectors.visible_events(region.users["director"])
    assert past in selectors.visible_events(region.users["director"], upcoming=False)


def test_registration_is_for_one_of_the_persons_targeted_structures(region):
    event = make_event(region, structures=[region.a.pk])
    director, director_b = region.users["director"], region.users["director_b"]
    with pytest.raises(PermissionDenied):
        services.register(director_b, event, region.a, notify=False)
    with pytest.raises(ValidationError):
        services.register(region.users["org_director"], event, region.a2, notify=False)
    row = services.register(director, event, region.a, notify=False)
    assert row.status == RegistrationStatus.REGISTERED and row.structure == region.a
    with pytest.raises(ValidationError):
        services.register(director, event, region.a, notify=False)
    assert selectors.registration_structures(director, event) == [region.a]
    assert selectors.registration_structures(director_b, event) == []
    assert selectors.registration_structures(region.users["centre_admin"], event) == []
    # The audit entry belongs to A: B's audit pages never list it.
    entry = AuditEntry.objects.get(action="community.event.register")
    assert entry.structure_id == region.a.pk


def test_registration_closes(region):
    closed = make_event(region, registration_closes_at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(ValidationError):
        services.register(region.users["director"], closed, region.a, notify=False)
    cancelled = make_event(region)
    services.cancel_event(region.users["centre_admin"], cancelled)
    with pytest.raises(ValidationError):
        services.register(region.users["director"], cancelled, region.a, notify=False)


def test_only_the_person_or_the_centre_cancels_a_registration(region):
    event = make_event(region)
    row = services.register(region.users["director"], event, region.a, notify=False)
    with pytest.raises(PermissionDenied):
        services.cancel_registration(region.users["referent"], row)
    services.cancel_registration(region.users["centre_admin"], row, notify=False)
    row.refresh_from_db()
    assert row.status == RegistrationStatus.CANCELLED
    # Registering again reuses the row, at the end of the queue.
    again = services.register(region.users["director"], event, region.a, notify=False)
    assert again.pk == row.pk and again.status == RegistrationStatus.REGISTERED


# --- waiting list and messages (real SMTP server) --------------------------------------------


def test_waitlist_promotion_and_messages(region, smtp_inbox):
    event = make_event(region, capacity=1, online_url="https://visio.example/abc")
    director, referent = region.users["director"], region.users["referent"]
    first = services.register(director, event, region.a)
    second = services.register(referent, event, region.a)
    assert first.status == RegistrationStatus.REGISTERED
    assert second.status == RegistrationStatus.WAITLIST
    assert selectors.places(event).left == 0 and selectors.places(event).waiting == 1
    inbox = smtp_inbox.by_recipient()
    confirmation = inbox["dir@alpha.test"][0]
    assert "Inscription confirmée" in confirmation["Subject"]
    text = confirmation.get_body(("plain",)).get_content()
    assert "CH Alpha — site principal" in text and "https://visio.example/abc" in text
    assert confirmation.get_body(("html",)) is not None
    [(name, data)] = attachments(confirmation)
    assert name == f"evenement-{event.pk}.ics"
    [vevent] = calendar_of(data)
    assert str(vevent["SUMMARY"]) == event.title
    waiting = inbox["ref@alpha.test"][0]
    assert "Liste d'attente" in waiting["Subject"] and attachments(waiting) == []

    promoted = services.cancel_registration(director, first)
    assert [r.pk for r in promoted] == [second.pk]
    second.refresh_from_db()
    assert second.status == RegistrationStatus.REGISTERED
    promotion = smtp_inbox.by_recipient()["ref@alpha.test"][-1]
    assert "Une place s'est libérée" in promotion["Subject"]
    assert len(attachments(promotion)) == 1
    assert AuditEntry.objects.filter(action="community.event.promote").count() == 1


def test_more_places_promote_the_waiting_list(region, smtp_inbox):
    event = make_event(region, capacity=1)
    services.register(region.users["director"], event, region.a, notify=False)
    waiting = services.register(region.users["referent"], event, region.a, notify=False)
    services.update_event(region.users["centre_admin"], event, {"capacity": 2})
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.REGISTERED
    subjects = [m["Subject"] for m in smtp_inbox.by_recipient()["ref@alpha.test"]]
    assert any("Une place s'est libérée" in s for s in subjects)
    # Capacity 0 means no limit: everyone waiting gets in.
    event3 = make_event(region, capacity=1)
    services.register(region.users["director"], event3, region.a, notify=False)
    services.register(region.users["referent"], event3, region.a, notify=False)
    services.update_event(region.users["centre_admin"], event3, {"capacity": 0})
    assert selectors.places(event3).waiting == 0 and selectors.places(event3).registered == 2


def test_ics_uid_stable_sequence_utc_alarm_and_cancellation(region, smtp_inbox):
    event = make_event(region)
    services.register(region.users["director"], event, region.a)
    [first] = calendar_of(event_ics(event))
    assert first["DTSTART"].dt == START.astimezone(dt.UTC)
    assert first["DTSTART"].dt.utcoffset() == dt.timedelta(0)
    assert first["DTSTART"].to_ical().endswith(b"Z")
    assert int(first["SEQUENCE"]) == 0 and str(first["STATUS"]) == "CONFIRMED"
    assert [c.name for c in first.subcomponents] == ["VALARM"]
    new_start = START + dt.timedelta(days=1)
    services.update_event(
        region.users["centre_admin"],
        event,
        {"starts_at": new_start, "ends_at": new_start + dt.timedelta(hours=2)},
    )
    updated_mail = smtp_inbox.by_recipient()["dir@alpha.test"][-1]
    assert "Événement modifié" in updated_mail["Subject"]
    [(_name, data)] = attachments(updated_mail)
    [second] = calendar_of(data)
    assert str(second["UID"]) == str(first["UID"])
    assert int(second["SEQUENCE"]) == 1 and second["DTSTART"].dt == new_start
    services.cancel_event(region.users["centre_admin"], event, "Formateur malade")
    cancel_mail = smtp_inbox.by_recipient()["dir@alpha.test"][-1]
    assert "Événement annulé" in cancel_mail["Subject"]
    assert "Formateur malade" in cancel_mail.get_body(("plain",)).get_content()
    [(_name, data)] = attachments(cancel_mail)
    [third] = calendar_of(data)
    assert str(third["UID"]) == str(first["UID"])
    assert int(third["SEQUENCE"]) == 2 and str(third["STATUS"]) == "CANCELLED"


def test_cancelling_tells_registered_and_waiting_people_only(region, smtp_inbox):
    event = make_event(region, capacity=1, structures=[region.a.pk])
    other = make_event(region, title="Autre événement")
    services.register(region.users["director"], event, region.a, notify=False)
    services.register(region.users["referent"], event, region.a, notify=False)
    gone = services.register(region.users["org_director"], other, region.a, notify=False)
    services.register(region.users["director_b"], other, region.b, notify=False)
    services.cancel_registration(region.users["org_director"], gone, notify=False)
    assert services.cancel_event(region.users["centre_admin"], event) == 2
    assert sorted(smtp_inbox.by_recipient()) == ["dir@alpha.test", "ref@alpha.test"]


# --- reminders -------------------------------------------------------------------------------


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_reminders_week_then_day_each_once(region, smtp_inbox):
    day = timezone.localdate() + dt.timedelta(days=30)
    start = _at(day, 9)
    training = make_event(region, starts_at=start, ends_at=start + dt.timedelta(hours=3))
    webinar = make_event(
        region, kind="webinar", starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    long_ago = start - dt.timedelta(days=20)
    for event in (training, webinar):
        services.register(region.users["director"], event, region.a, notify=False, now=long_ago)
    # Registered inside the week: the confirmation is enough, no week reminder.
    services.register(
        region.users["referent"], training, region.a, notify=False, now=start - dt.timedelta(days=3)
    )

    assert services.send_reminders(now=_at(day - dt.timedelta(days=8), 8)) == 0
    week = _at(day - dt.timedelta(days=7), 8)
    assert services.send_reminders(now=week) == 1
    assert services.send_reminders(now=week) == 0
    assert services.send_reminders(now=week + dt.timedelta(days=2)) == 0
    [mail] = smtp_inbox.by_recipient()["dir@alpha.test"]
    assert "dans une semaine" in mail["Subject"] and len(attachments(mail)) == 1

    eve = _at(day - dt.timedelta(days=1), 8)
    assert services.send_reminders(now=eve) == 3  # training ×2, webinar
    assert services.send_reminders(now=eve) == 0
    assert services.send_reminders(now=_at(day, 7)) == 0
    assert services.send_reminders(now=start + dt.timedelta(minutes=5)) == 0
    subjects = [m["Subject"] for m in smtp_inbox.by_recipient()["dir@alpha.test"]]
    assert sum("c'est demain" in s for s in subjects) == 2
    assert Registration.objects.filter(reminded_at=eve).count() == 3


def test_no_reminder_for_cancelled_events_or_registrations(region, smtp_inbox):
    day = timezone.localdate() + dt.timedelta(days=30)
    start = _at(day, 9)
    event = make_event(region, starts_at=start, ends_at=start + dt.timedelta(hours=1))
    other = make_event(region, starts_at=start, ends_at=start + dt.timedelta(hours=1))
    long_ago = start - dt.timedelta(days=20)
    row = services.register(region.users["director"], event, region.a, notify=False, now=long_ago)
    services.register(region.users["director"], other, region.a, notify=False, now=long_ago)
    services.cancel_registration(region.users["director"], row, notify=False)
    services.cancel_event(region.users["centre_admin"], other)
    smtp_inbox.messages.clear()
    assert services.send_reminders(now=_at(day - dt.timedelta(days=1), 8)) == 0
    assert smtp_inbox.messages == []


def test_a_failed_reminder_is_released_for_the_next_run(region, settings):
    day = timezone.localdate() + dt.timedelta(days=30)
    start = _at(day, 9)
    event = make_event(
        region, kind="meeting", starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    row = services.register(
        region.users["director"], event, region.a, notify=False, now=start - dt.timedelta(days=9)
    )
    # A closed port on loopback: the SMTP connection is refused (no server, no mock).
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    eve = _at(day - dt.timedelta(days=1), 8)
    assert services.send_reminders(now=eve) == 0
    row.refresh_from_db()
    assert row.reminded_at is None


# --- the private calendar feed ---------------------------------------------------------------


def test_feed_token_shown_once_digest_stored_regenerate_revokes(region):
    director = region.users["director"]
    token = services.create_feed(director)
    feed = services.open_feed(token)
    assert feed is not None and feed.user == director
    assert feed.token_digest == services.feed_digest(token) and token not in feed.token_digest
    newer = services.create_feed(director)
    assert services.open_feed(token) is None and services.open_feed(newer) is not None
    actions = AuditEntry.objects.filter(action__startswith="community.calendar_feed")
    actions = list(actions.order_by("sequence"))
    assert [a.action for a in actions] == [
        "community.calendar_feed.create",
        "community.calendar_feed.regenerate",
    ]
    assert services.revoke_feed(director) is True
    assert services.open_feed(newer) is None
    assert services.revoke_feed(director) is False
    with pytest.raises(PermissionDenied):
        services.create_feed(region.users["ars_viewer"])
    # A closed account or a lost right closes the feed.
    token = services.create_feed(director)
    director.is_active = False
    director.save()
    assert services.open_feed(token) is None


def test_feed_lists_the_persons_own_registrations(region):
    director = region.users["director"]
    mine = make_event(region, title="Inscrit")
    cancelled = make_event(region, title="Annulé par le centre")
    withdrawn = make_event(region, title="Désinscrit")
    waiting = make_event(region, title="En attente", capacity=1)
    not_mine = make_event(region, title="Pas pour moi")
    for event in (mine, cancelled, withdrawn):
        services.register(director, event, region.a, notify=False)
    services.register(region.users["referent"], waiting, region.a, notify=False)
    services.register(director, waiting, region.a, notify=False)
    services.register(region.users["referent"], not_mine, region.a, notify=False)
    services.register(region.users["director_b"], not_mine, region.b, notify=False)
    services.cancel_event(region.users["centre_admin"], cancelled)
    services.cancel_registration(
        director, Registration.objects.get(event=withdrawn, user=director), notify=False
    )
    feed = services.open_feed(services.create_feed(director))
    events = {str(v["SUMMARY"]): v for v in calendar_of(services.feed_calendar(feed))}
    assert set(events) == {"Inscrit", "Annulé par le centre", "Désinscrit"}
    assert str(events["Inscrit"]["STATUS"]) == "CONFIRMED"
    assert str(events["Annulé par le centre"]["STATUS"]) == "CANCELLED"
    assert str(events["Désinscrit"]["STATUS"]) == "CANCELLED"
    feed.refresh_from_db()
    assert feed.last_fetched_at is not None


def test_csv_export_is_audited_and_protected(region):
    event = make_event(region)
    services.register(region.users["director"], event, region.a, notify=False)
    region.users["referent"].full_name = "=HYPERLINK(1)"
    region.users["referent"].save()
    services.register(region.users["referent"], event, region.a, notify=False)
    with pytest.raises(PermissionDenied):
        services.export_registrations(region.users["director"], event)
    data = services.export_registrations(region.users["centre_analyst"], event).decode()
    assert "dir@alpha.test" in data and "'=HYPERLINK(1)" in data
    assert AuditEntry.objects.filter(action="community.event.export").count() == 1
