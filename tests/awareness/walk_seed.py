"""Awareness objects of structure A for the cross-tenant walks (see tests/walk_seeds.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carbet.awareness.models import (
    Campaign,
    ClickEvent,
    EmailTemplate,
    Recipient,
    SmtpProfile,
    Target,
    TargetGroup,
    TrainingAssignment,
    TrainingModule,
)
from carbet.engines.awareness import tokens


def _campaign(structure) -> Campaign:
    existing = Campaign.objects.filter(structure=structure).first()
    if existing is not None:
        return existing
    profile, _ = SmtpProfile.objects.get_or_create(
        name="Walk SMTP", defaults={"host": "127.0.0.1", "from_address": "walk@lab.test"}
    )
    group, _ = TargetGroup.objects.get_or_create(structure=structure, name="CH Alpha-Secret group")
    target, _ = Target.objects.get_or_create(
        structure=structure,
        email="secret.person@secret-alpha-asset.test",
        defaults={
            "full_name": "Mme Alpha Secrète",
            "service": "CH Alpha-Secret",
            "pseudonym": "P-ALPHA001",
        },
    )
    target.groups.add(group)
    campaign = Campaign.objects.create(
        structure=structure,
        name="CH Alpha-Secret campagne",
        template=EmailTemplate.objects.order_by("pk").first(),
        smtp_profile=profile,
        dpo_reference="CH Alpha-Secret DPO",
        representatives_informed_on=dt.date.today(),
        launch_at=timezone.now(),
        status="done",
        finished_at=timezone.now(),
    )
    recipient = Recipient.objects.create(
        campaign=campaign,
        target=target,
        email=target.email,
        pseudonym=target.pseudonym,
        service=target.service,
        state="sent",
        sent_at=timezone.now(),
        token_digest=tokens.digest(tokens.new_token()),
    )
    ClickEvent.objects.create(recipient=recipient, ip="192.0.2.1", user_agent="CH Alpha-Secret")
    TrainingAssignment.objects.create(
        structure=structure,
        module=TrainingModule.objects.order_by("pk").first(),
        target=target,
        campaign=campaign,
    )
    return campaign


def seed(structure_a) -> None:
    _campaign(structure_a)


API_OBJECT_PARAMETERS = {
    ("simulations", "id"): lambda region: _campaign(region.a),
}
