"""The demo's matched alerts: a real matching pass on a bundled feed in a temporary store, for
the demo structures only, written by the same functions as ``carbet community match``."""

from __future__ import annotations

import pytest

from carbet.community import demo_alerts, services_inventory
from carbet.community.models import MatchRun, StructureAlert
from carbet.community.service import COMMUNITY_SOURCE
from carbet.core.tenancy import SYSTEM
from carbet.findings.models import Finding

pytestmark = pytest.mark.django_db


def test_the_demo_alerts_come_from_a_real_pass_and_stay_in_the_demo(
    region, smtp_inbox, tmp_path, monkeypatch
):
    feeds = tmp_path / "platform-feeds.sqlite"
    monkeypatch.setenv("CARBET_FEEDS_DB", str(feeds))
    services_inventory.create_line(
        SYSTEM, region.a, {"vendor": "Fortinet", "product": "FortiOS", "version": "7.0.12"}
    )
    services_inventory.create_line(
        SYSTEM, region.b, {"vendor": "Fortinet", "product": "FortiOS", "version": "7.0.12"}
    )
    assert demo_alerts.load({"ch-alpha": region.a}, [], None) == 1
    alert = StructureAlert.objects.visible_to(SYSTEM).get()
    assert alert.structure == region.a and alert.vulnerability.vuln_id == "CVE-2024-21762"
    assert alert.vulnerability.kev and alert.sent_at is None
    assert Finding.objects.filter(structure=region.a, source=COMMUNITY_SOURCE).count() == 1
    assert not Finding.objects.filter(structure=region.b, source=COMMUNITY_SOURCE).exists()
    assert MatchRun.objects.get().new_alerts == 1
    assert smtp_inbox.messages == []
    assert not feeds.exists()  # the platform's own feed store is never written
    assert demo_alerts.load({"ch-alpha": region.a}, [], None) == 0  # idempotent
