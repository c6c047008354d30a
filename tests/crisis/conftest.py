"""Fixtures of the crisis tests: the shared region, a real SMTP server (aiosmtpd on loopback,
the session's: tests/conftest.py) wired as Django's default mailer, and an open case of structure A
whose cell holds A's director and referent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from carbet.core.models import Contact

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def mail(smtp):
    """Django's default mailer pointed at the loopback SMTP server."""
    mailers = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": smtp.host, "port": smtp.port, "timeout": 10},
        }
    }
    with override_settings(MAILERS=mailers, DEFAULT_FROM_EMAIL="carbet@centre.test"):
        yield smtp


@pytest.fixture
def keys(settings, tmp_path):
    """A private audit key file (the log's seals use the audit keyring)."""
    settings.CARBET_AUDIT_KEY_FILE = str(tmp_path / "audit.key")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path


@pytest.fixture
def case(region, keys):
    """A ransomware case of structure A opened from a report, qualified at T0 + 30 min."""
    from carbet.crisis import services

    Contact.objects.create(
        structure=region.a,
        role="it_provider",
        name="Infogérance Sud",
        organisation_name="InfoSud",
        email="support@infosud.test",
        phone="0596000000",
    )
    Contact.objects.create(
        structure=region.a, role="dpo", name="Déléguée DPO", email="dpo@alpha.test"
    )
    report = services.report_incident(
        region.users["director"],
        region.a,
        what="Écrans de rançon sur les postes des urgences",
        since=T0 - dt.timedelta(hours=1),
        affected="Urgences, admissions",
        contact_name="Dr Alpha",
        contact_phone="0600000000",
        now=T0,
    )
    return services.qualify_report(
        region.users["centre_analyst"],
        report,
        qualification="crisis",
        severity=4,
        personal_data=True,
        category="ransomware",
        note="Rançongiciel confirmé",
        now=T0 + dt.timedelta(minutes=30),
    )


def now() -> dt.datetime:
    return timezone.now()
