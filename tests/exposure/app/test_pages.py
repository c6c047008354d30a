"""Pages per role: who sees what, who may launch and manage; audit of launches and changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from carbet.audit.models import AuditEntry
from carbet.exposure.models import Scan, ScanProfile, ScanSchedule
from carbet.exposure.services_schedule import ensure_schedules
from tests.exposure.app.factories import finished_scan

VIEWERS = (
    "centre_admin", "centre_analyst", "director", "referent", "it_provider", "org_director",
    "ght_referent",
)  # fmt: skip
OUTSIDERS = ("director_b", "nobody")


@pytest.fixture
def scanned(region):
    region.scan = finished_scan(region.a)
    return region


@pytest.mark.parametrize("role", VIEWERS)
def test_people_of_the_structure_see_its_exposure_priorities_first(scanned, role):
    client = scanned.client(role)
    response = client.get(reverse("exposure:structure", args=[scanned.a.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Ce qu'il faut faire d'abord" in text
    assert text.index("Ce qu'il faut faire d'abord") < text.index("Notes par domaine")
    assert "127.77.1.1" in text and "3389" in text
    assert "Apache/2.4.41" in text  # evidence: banner and headers
    can_launch = role in ("centre_admin", "centre_analyst")
    assert ("Lancer une analyse" in text) is can_launch
    for name in ("exposure:scan", "exposure:scan_diff", "exposure:scan_progress"):
        assert client.get(reverse(name, args=[scanned.scan.pk])).status_code == 200


@pytest.mark.parametrize("role", OUTSIDERS)
def test_others_get_nothing(scanned, role):
    client = scanned.client(role)
    assert client.get(reverse("exposure:structure", args=[scanned.a.pk])).status_code in (403, 404)
    for name in ("exposure:scan", "exposure:scan_diff", "exposure:scan_progress"):
        assert client.get(reverse(name, args=[scanned.scan.pk])).status_code == 404
    response = client.post(reverse("exposure:launch", args=[scanned.a.pk]))
    assert response.status_code in (403, 404)


def test_the_ars_sees_no_structure_detail(scanned):
    client = scanned.client("ars_viewer")
    assert client.get(reverse("exposure:overview")).status_code == 403
    assert client.get(reverse("exposure:structure", args=[scanned.a.pk])).status_code == 404


def test_region_overview_for_the_centre(scanned):
    finished_scan(scanned.b, rdp=False, value="127.77.1.2")
    response = scanned.client("centre_analyst").get(reverse("exposure:overview"))
    text = response.content.decode()
    assert response.status_code == 200
    # Worst first: A has a critical exposure, B does not; A2 was never scanned.
    assert text.index(scanned.a.name) < text.index(scanned.b.name) < text.index(scanned.a2.name)
    assert "Analyser toute la région" in text


def test_a_director_of_one_structure_goes_straight_to_it(scanned):
    response = scanned.client("director").get(reverse("exposure:overview"))
    assert response.status_code == 302
    assert response.url == reverse("exposure:structure", args=[scanned.a.pk])


def test_launch_by_the_centre_is_audited_and_shows_progress(scanned):
    client = scanned.client("centre_analyst")
    response = client.post(reverse("exposure:launch", args=[scanned.a.pk]), follow=True)
    assert response.status_code == 200
    running = Scan.objects.filter(structure=scanned.a).exclude(pk=scanned.scan.pk).get()
    text = response.content.decode()
    assert "Analyse en cours" in text
    assert reverse("exposure:scan_progress", args=[running.pk]) in text  # htmx polling
    assert AuditEntry.objects.filter(action="exposure.scan.requested", object_id=str(running.pk))
    # Once finished, the polled fragment asks htmx to reload the page.
    Scan.objects.filter(pk=running.pk).update(status="succeeded")
    fragment = client.get(
        reverse("exposure:scan_progress", args=[running.pk]), HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 204 and fragment["HX-Refresh"] == "true"


def test_a_launch_without_any_mandate_says_why(scanned):
    from carbet.core.models import Mandate

    Mandate.objects.filter(structure=scanned.a).delete()
    client = scanned.client("centre_analyst")
    response = client.post(reverse("exposure:launch", args=[scanned.a.pk]), follow=True)
    assert "mandat" in response.content.decode()
    assert Scan.objects.filter(structure=scanned.a).count() == 1


def test_profiles_and_schedules_are_managed_by_the_centre_and_audited(region):
    for role in ("director", "referent", "it_provider", "director_b"):
        client = region.client(role)
        assert client.get(reverse("exposure:profiles")).status_code == 403
        assert client.get(reverse("exposure:schedules")).status_code == 403
    client = region.client("centre_analyst")
    assert client.get(reverse("exposure:profiles")).status_code == 200
    bad = client.post(reverse("exposure:profile_create"), {"name": "X", "ports_text": "22, 70000"})
    assert bad.status_code == 200 and "65535" in bad.content.decode()
    data = {
        "name": "Nuit légère", "ports_text": "22, 80, 8000-8002", "connect_timeout": 2,
        "read_timeout": 3, "target_timeout": 60, "global_concurrency": 100,
        "per_target_concurrency": 4, "per_target_budget": 100, "tls": "on",
    }  # fmt: skip
    assert client.post(reverse("exposure:profile_create"), data).status_code == 302
    profile = ScanProfile.objects.get(name="Nuit légère")
    assert profile.ports == [22, 80, 8000, 8001, 8002] and not profile.mail_dns
    assert AuditEntry.objects.filter(action="exposure.profile.created").exists()

    assert ensure_schedules() == 3
    slots = set(ScanSchedule.objects.values_list("weekday", "hour"))
    assert len(slots) == 3  # spread: each structure its own slot
    schedule = ScanSchedule.objects.get(structure=region.a)
    response = client.post(
        reverse("exposure:schedule_edit", args=[schedule.pk]),
        {"weekday": 5, "hour": 23, "profile": profile.pk, "enabled": "on"},
    )
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.weekday, schedule.hour, schedule.profile_id) == (5, 23, profile.pk)
    entry = AuditEntry.objects.get(action="exposure.schedule.updated")
    assert entry.changes["weekday"][1] == 5
    assert region.client("director").get(
        reverse("exposure:schedule_edit", args=[schedule.pk])
    ).status_code in (403, 404)
