"""The events of the demo region: four events with registrations (one on the waiting list),
loaded through the part's services, and nothing more on a second load."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils import timezone

from carbet.community import demo_events
from carbet.community import selectors_events as selectors
from carbet.community.choices import RegistrationStatus
from carbet.community.models import Event, Registration
from carbet.demo import services as demo

pytestmark = pytest.mark.django_db


def test_demo_events_load_once(smtp_inbox):
    report = demo.LoadReport()
    with override_settings(CARBET_ALLOW_LOOPBACK_ASSETS=True):
        ght = demo._ensure_ght(report)
        organisations, structures = demo._ensure_registry(ght, report)
        users = demo._ensure_users(ght, organisations, structures, "demo demo demo 2024", report)
    today = timezone.localdate()
    made = demo_events.load(structures, users, today)
    assert Event.objects.count() == 4
    assert made == 4 + Registration.objects.count()
    assert {e.kind for e in Event.objects.all()} == {"training", "webinar", "exercise", "meeting"}
    training = Event.objects.get(kind="training")
    assert training.categories == ["ehpad"]
    places = selectors.places(training)
    assert (places.registered, places.waiting) == (2, 1)
    assert Registration.objects.filter(status=RegistrationStatus.WAITLIST).count() == 1
    assert Registration.objects.count() == 7
    assert demo_events.load(structures, users, today) == 0
    assert smtp_inbox.messages == []  # the demo sends no e-mail
