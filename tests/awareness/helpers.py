"""Shared steps of the awareness tests: a sent campaign and its tokens as received by SMTP."""

from __future__ import annotations

import random
import re

from carbet.awareness import sending, services_campaigns
from carbet.awareness.models import Campaign
from tests.awareness.conftest import add_targets, draft_campaign, phishing_ready, smtp_profile

DOMAIN = "alpha-mail.test"
LINK_RE = re.compile(r"/s/([A-Za-z0-9_-]{32})/c")


def sent_campaign(region, smtp, count: int = 4, *, targets=None, **overrides):
    """Launch and send a campaign for region.a; returns it and {email: token}."""
    if targets is None:
        phishing_ready(region.a, DOMAIN)
        add_targets(region.a, DOMAIN, count)
    smtp.clear()
    campaign = draft_campaign(region.a, smtp_profile(smtp), **overrides)
    services_campaigns.launch(region.users["centre_analyst"], campaign, rng=random.Random(1))
    sending.run(campaign.pk)
    campaign = Campaign.objects.get(pk=campaign.pk)
    found = {}
    for received in smtp.messages:
        text = received.message.get_body(("plain",)).get_content()
        (token,) = set(LINK_RE.findall(text))
        found[received.envelope_to[0]] = token
    return campaign, found
