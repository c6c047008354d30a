"""The demo bulletins: loaded once, through the services, targeted as described."""

from __future__ import annotations

from datetime import date

import pytest

from carbet.community import demo_bulletins
from carbet.community.models import Bulletin, BulletinDelivery, SoftwareLine

pytestmark = pytest.mark.django_db


def test_demo_bulletins_are_loaded_once(region, smtp_inbox):
    SoftwareLine.objects.create(
        structure=region.a, origin="exposure", source_key="exposure:vpn.alpha.test:443",
        vendor="Fortinet", product="FortiOS", version="7.2.5",
    )  # fmt: skip
    structures = {"ch-anse-bleue": region.a, "ehpad-hibiscus": region.a2, "ehpad-ti-kaz": region.b}
    users = list(region.users.values())
    today = date(2026, 3, 10)
    assert demo_bulletins.load(structures, users, today) == 4
    assert demo_bulletins.load(structures, users, today) == 0
    forti = Bulletin.objects.get(title=demo_bulletins.FORTI["title"])
    assert forti.status == "published" and forti.published_at.date() == date(2026, 3, 7)
    delivered = {d.structure_id: d for d in forti.deliveries.all()}
    assert set(delivered) == {region.a.pk}
    assert delivered[region.a.pk].status == "applied"
    assert delivered[region.a.pk].acknowledged_by == region.users["director"]
    phishing = Bulletin.objects.get(title=demo_bulletins.PHISHING["title"])
    statuses = dict(phishing.deliveries.values_list("structure_id", "status"))
    assert statuses == {region.a2.pk: "applied", region.b.pk: "read"}
    # nobody runs Windows Server 2012 here: that bulletin stays a draft, like the real draft
    assert Bulletin.objects.filter(status="draft").count() == 2
    assert BulletinDelivery.objects.count() == 3
    assert not smtp_inbox.messages  # the demo sends no e-mail
