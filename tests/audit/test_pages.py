"""The audit trail page: who sees what, filters, pagination and the integrity badge."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from carbet.audit import services, triggers
from carbet.audit.models import AuditEntry
from carbet.core.tenancy import SYSTEM


@pytest.fixture
def trail(region, django_capture_on_commit_callbacks):
    cache.clear()
    admin = region.users["centre_admin"]
    with django_capture_on_commit_callbacks(execute=True):
        services.record(admin, "mandate.create", region.a, changes={"reference": [None, "M-A"]})
        services.record(admin, "mandate.create", region.b, changes={"reference": [None, "M-B"]})
        services.record(region.users["director"], "asset.validate", region.a2, label="alpha.test")
        services.record(admin, "user.create", None, label="nouvel-utilisateur@centre.test")
        services.record(SYSTEM, "backup.create", None, label="sauvegarde-secrete.tar.gz")
    return region


def test_admin_sees_the_whole_trail_with_integrity_badge(trail):
    response = trail.client("centre_admin").get(reverse("audit:list"))
    assert response.status_code == 200
    text = response.content.decode()
    for marker in ("CH Alpha", "EHPAD Beta", "nouvel-utilisateur@centre.test", "backup.create"):
        assert marker in text
    assert f'hx-get="{reverse("audit:integrity")}"' in text
    assert "M-A" in text and "→" in text


def test_director_sees_only_entries_of_the_structures_they_direct(trail):
    text = trail.client("director").get(reverse("audit:list")).content.decode()
    assert "M-A" in text
    assert "M-B" not in text and "EHPAD Beta" not in text
    assert "nouvel-utilisateur@centre.test" not in text and "sauvegarde-secrete" not in text
    assert "alpha.test" not in text  # a2 is not directed by this director
    assert reverse("audit:integrity") not in text


def test_organisation_director_sees_all_structures_of_the_organisation(trail):
    text = trail.client("org_director").get(reverse("audit:list")).content.decode()
    assert "M-A" in text and "alpha.test" in text and "M-B" not in text


def test_director_of_b_sees_nothing_of_a(trail):
    text = trail.client("director_b").get(reverse("audit:list")).content.decode()
    assert "M-B" in text
    assert "M-A" not in text and "CH Alpha" not in text


@pytest.mark.parametrize(
    "role", ["referent", "it_provider", "ars_viewer", "centre_analyst", "nobody"]
)
def test_roles_without_audit_permission_are_refused(trail, role):
    assert trail.client(role).get(reverse("audit:list")).status_code == 403


@pytest.mark.parametrize("role", ["director", "director_b", "referent", "ars_viewer"])
def test_integrity_badge_is_for_admins_only(trail, role):
    assert trail.client(role).get(reverse("audit:integrity")).status_code == 403


def test_integrity_badge_reports_an_intact_then_altered_trail(trail):
    client = trail.client("centre_admin")
    text = client.get(reverse("audit:integrity")).content.decode()
    assert "Intégrité vérifiée" in text and "5 entrées vérifiées" in text
    with connection.cursor() as cursor:
        triggers.remove(cursor, connection.vendor)
        cursor.execute("DELETE FROM audit_auditentry WHERE sequence = 2")
        triggers.install(cursor, connection.vendor)
    cached = client.get(reverse("audit:integrity")).content.decode()
    assert "Intégrité vérifiée" in cached  # cached for a minute...
    fresh = client.get(reverse("audit:integrity") + "?refresh=1").content.decode()
    assert "Journal altéré" in fresh and "supprimées" in fresh  # ...unless asked afresh


def test_filters_by_action_actor_structure_and_dates(trail):
    client = trail.client("centre_admin")
    url = reverse("audit:list")
    text = client.get(url, {"action": "asset.validate"}).content.decode()
    assert "alpha.test" in text and "M-A" not in text
    text = client.get(url, {"actor": "DIR@alpha"}).content.decode()
    assert "alpha.test" in text and "M-B" not in text
    text = client.get(url, {"structure": trail.b.pk}).content.decode()
    assert "M-B" in text and "M-A" not in text
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    assert "M-A" in client.get(url, {"date_from": today, "date_to": today}).content.decode()
    assert "M-A" not in client.get(url, {"date_from": tomorrow}).content.decode()


def test_bad_date_range_is_explained_and_shows_everything(trail):
    text = (
        trail.client("centre_admin")
        .get(reverse("audit:list"), {"date_from": "2026-05-02", "date_to": "2026-05-01"})
        .content.decode()
    )
    assert "La date de fin précède la date de début." in text
    assert "M-A" in text


def test_director_cannot_filter_on_another_structure(trail):
    text = (
        trail.client("director")
        .get(reverse("audit:list"), {"structure": trail.b.pk})
        .content.decode()
    )
    assert "M-B" not in text and "EHPAD Beta" not in text


def test_pagination_keeps_filters(trail, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(60):
            services.record(SYSTEM, "test.bulk", trail.a, label=f"ligne {index}")
    client = trail.client("centre_admin")
    first = client.get(reverse("audit:list"), {"action": "test.bulk"}).content.decode()
    assert "Page 1 sur 2" in first and "action=test.bulk&amp;page=2" in first
    second = client.get(reverse("audit:list"), {"action": "test.bulk", "page": 2}).content.decode()
    assert "ligne 0<" in second and "ligne 59<" not in second


def test_entries_are_listed_newest_first(trail):
    text = trail.client("centre_admin").get(reverse("audit:list")).content.decode()
    assert text.index("backup.create") < text.index("mandate.create")
    assert AuditEntry.objects.count() == 5
