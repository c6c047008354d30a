"""Fixtures of the awareness tests (the SMTP server is the session's: ``smtp`` in
tests/conftest.py): a structure ready for a campaign (mandate covering phishing, a mail domain whose
ownership is proven, a staff list, a sending profile)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carbet.awareness.models import Campaign, EmailTemplate, SmtpProfile, Target
from carbet.awareness.services_targets import new_pseudonym
from carbet.core.models import Asset, Mandate
from tests.conftest import make_mandate, proven


def phishing_ready(structure, domain: str, *, mandate: bool = True) -> Mandate | None:
    """A proven mail domain (the centre's review) and (optionally) a mandate covering phishing.

    The structure's own "validated" is not enough any more: only proven ownership counts."""
    Asset.objects.get_or_create(
        structure=structure, kind="mail_domain", value=domain, defaults=proven()
    )
    if mandate:
        return make_mandate(structure, covers_phishing=True, reference=f"PH-{structure.pk}")
    return None


def add_targets(structure, domain: str, count: int, services=("Soins", "Accueil")) -> list:
    return [
        Target.objects.create(
            structure=structure,
            full_name=f"Agent {i:03d} Test",
            email=f"agent{i:03d}@{domain}",
            service=services[i % len(services)],
            role="IDE",
            pseudonym=new_pseudonym(),
        )
        for i in range(count)
    ]


def smtp_profile(sink, per_minute: int = 0) -> SmtpProfile:
    profile, _created = SmtpProfile.objects.get_or_create(
        name=f"Lab {sink.port} {per_minute}",
        defaults=dict(
            host=sink.host,
            port=sink.port,
            security="none",
            from_address="support@mail-lab.test",
            per_minute=per_minute,
            password="smtp-secret-value",
        ),
    )
    return profile


def draft_campaign(structure, profile, **overrides) -> Campaign:
    now = timezone.now()
    values = dict(
        structure=structure,
        name="Campagne de test",
        template=EmailTemplate.objects.get(name="Document partagé dans le DMP"),
        smtp_profile=profile,
        dpo_reference="DPO-2026-07",
        representatives_informed_on=dt.date.today() - dt.timedelta(days=10),
        launch_at=now,
        send_by=None,
        business_hours_only=False,
    )
    values.update(overrides)
    return Campaign.objects.create(**values)
