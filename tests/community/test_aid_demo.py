"""The demo's mutual aid and shared solutions, loaded on the demo registry through the parts'
own services: realistic posts, conversations, profiles, offers and answers; idempotent; and
what each side of the demo then sees."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils import timezone

from carbet.community import demo_aid, demo_solutions, selectors_aid, selectors_solutions
from carbet.community.models import AidPost, AidThread, Need, Offer, OfferInterest, SkillProfile
from carbet.demo import services as demo


@pytest.fixture
def demo_region(db):
    """The demo registry and accounts only (no findings, no other service)."""
    report = demo.LoadReport()
    with override_settings(CARBET_ALLOW_LOOPBACK_ASSETS=True):
        ght = demo._ensure_ght(report)
        organisations, structures = demo._ensure_registry(ght, report)
        users = demo._ensure_users(ght, organisations, structures, "démo 2026 !", report)
    return structures, users


def _user(users, email):
    return next(u for u in users if u.email == email)


def test_demo_aid(demo_region, smtp_inbox):
    structures, users = demo_region
    made = demo_aid.load(structures, users, timezone.localdate())
    assert made == 4 + 2 + 2
    assert demo_aid.load(structures, users, timezone.localdate()) == 0  # idempotent
    assert AidPost.objects.count() == 4 and AidThread.objects.count() == 2
    assert SkillProfile.objects.filter(visible=True).count() == 2
    assert smtp_inbox.messages == []  # the demo sends no notice
    # The DPO post is for the médico-social sector: the EHPAD see it, the hospital does not.
    dpo = AidPost.objects.get(title__startswith="DPO")
    flamboyants = _user(users, "direction@flamboyants.test")
    hospital = _user(users, "direction@ch-anse-bleue.test")
    assert selectors_aid.posts_shown_to(flamboyants).filter(pk=dpo.pk).exists()
    assert not selectors_aid.posts_shown_to(hospital).filter(pk=dpo.pk).exists()
    thread = AidThread.objects.get(post=dpo)
    assert thread.messages.count() == 2
    assert selectors_aid.threads_for(flamboyants).filter(pk=thread.pk).exists()
    assert not selectors_aid.threads_for(hospital).filter(pk=thread.pk).exists()


def test_demo_solutions(demo_region):
    structures, users = demo_region
    made = demo_solutions.load(structures, users, timezone.localdate())
    assert made == 3 + 8 + 3
    assert demo_solutions.load(structures, users, timezone.localdate()) == 0
    assert Offer.objects.filter(status="open").count() == 3
    assert OfferInterest.objects.count() == 8 and Need.objects.count() == 3
    backup = Offer.objects.get(title=demo_solutions.BACKUP)
    hospital = _user(users, "direction@ch-anse-bleue.test")
    hibiscus = _user(users, "directrice@ehpad-hibiscus.test")
    assert not selectors_solutions.offers_shown_to(hospital).filter(pk=backup.pk).exists()
    assert selectors_solutions.offers_shown_to(hibiscus).filter(pk=backup.pk).exists()
    demand = selectors_solutions.demand(backup)
    assert demand.totals.structures == 3 and demand.totals.quantity == 125
