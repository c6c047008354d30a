"""The PRIS provider's link: narrow (one case's log and indicators, nothing else, no account),
shown once, and dead once expired, revoked or the case closed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carbet.crisis.models import Indicator, LogEntry, ProviderAccess, Stakeholder

pytestmark = pytest.mark.django_db


def _grant(region, case) -> str:
    from carbet.crisis import services_board

    pris = services_board.add_stakeholder(
        region.users["centre_analyst"],
        case,
        kind="pris",
        name="Réponse SA",
        qualification_ref="Q-1",
    )
    client = region.client("centre_analyst")
    response = client.post(reverse("crisis:access_grant", args=[case.pk, pris.pk]), {"days": "7"})
    assert response.status_code == 302
    page = client.get(reverse("crisis:stakeholders", args=[case.pk])).content.decode()
    (link,) = re.findall(r"https?://[^\s<\"]+/crise-p/[A-Za-z0-9_-]+/", page)
    # Shown once: the next visit no longer has it.
    again = client.get(reverse("crisis:stakeholders", args=[case.pk])).content.decode()
    assert link not in again
    return link.split("testserver", 1)[1]


def test_the_provider_link_opens_one_case_and_adds_entries(region, case):
    path = _grant(region, case)
    assert ProviderAccess.objects.get().expires_at > timezone.now() + dt.timedelta(days=6)
    provider = Client()
    page = provider.get(path)
    assert page.status_code == 200
    body = page.content.decode()
    assert case.reference in body
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "no-referrer"
    response = provider.post(
        path, {"text": "Collecte des journaux du contrôleur", "kind": "action"}
    )
    assert response.status_code == 302
    entry = LogEntry.objects.get(text="Collecte des journaux du contrôleur")
    assert "Réponse SA" in entry.author_label and entry.stakeholder is not None
    provider.post(
        path, {"what": "indicator", "type": "ipv4", "value": "198.51.100.9", "tlp": "amber"}
    )
    assert Indicator.objects.filter(case=case, value="198.51.100.9").exists()
    # Nothing else opens: the case's pages want an account.
    for name in ("crisis:case", "crisis:evidence", "crisis:clock", "crisis:director"):
        assert provider.get(reverse(name, args=[case.pk])).status_code == 302


def test_the_director_cannot_hand_out_a_link(region, case):
    pris = Stakeholder.objects.create(case=case, kind="pris", name="Réponse SA")
    client = region.client("director")
    response = client.post(reverse("crisis:access_grant", args=[case.pk, pris.pk]), {"days": "7"})
    assert response.status_code == 403
    assert not ProviderAccess.objects.exists()


def test_an_expired_or_revoked_link_is_dead(region, case):
    path = _grant(region, case)
    access = ProviderAccess.objects.get()
    ProviderAccess.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    provider = Client()
    assert provider.get(path).status_code == 404
    assert provider.post(path, {"text": "trop tard", "kind": "fact"}).status_code == 404
    assert not LogEntry.objects.filter(text="trop tard").exists()
    ProviderAccess.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=1)
    )
    assert provider.get(path).status_code == 200
    region.client("centre_analyst").post(reverse("crisis:access_revoke", args=[case.pk, access.pk]))
    assert provider.get(path).status_code == 404


def test_a_random_token_is_a_plain_404(region, case):
    assert Client().get("/crise-p/" + "A" * 43 + "/").status_code == 404
