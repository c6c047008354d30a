"""On the demo region (``carbet demo``): the service's own demo (two EHPAD at different steps,
a care record with a signed decision), and automatic statuses computed from what the other
services' demo really produced (directory audits, exposure scans, campaigns, backups)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from carbet.bydesign import nightly, selectors, services
from carbet.bydesign.facts import facts_for
from carbet.bydesign.models import DigitalService, MeasureState, TrackStatus
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM
from carbet.engines.bydesign.auto import auto_status

PASSWORD = "une démo bien gardée 2024"
pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    """The demo region, inside the test's transaction (rolled back after it: nothing leaks
    into the other tests, whatever order they run in)."""
    call_command("demo", password=PASSWORD, stdout=io.StringIO())


def test_the_demo_and_statuses_from_the_other_services_results(demo):
    _the_services_demo()
    _automatic_statuses_follow_the_other_services_demo_results()


def _the_services_demo():
    hibiscus = Structure.objects.get(name="EHPAD Les Hibiscus")
    care = DigitalService.objects.get(structure=hibiscus, kind="care_record")
    state = selectors.decision_state(care, timezone.localdate())
    assert state.code == "valid" and state.decision.outcome == "conditions"
    assert state.decision.signer_name == "Josette Demo-Lacour"
    ti_kaz = Structure.objects.get(name="EHPAD Ti Kaz")
    steps = dict(TrackStatus.objects.values_list("structure_id", "progress"))
    assert steps[hibiscus.pk] > steps[ti_kaz.pk]


def _automatic_statuses_follow_the_other_services_demo_results():
    today = timezone.localdate()
    structures = list(Structure.objects.all())
    for structure in structures:
        services.create_service(
            SYSTEM,
            structure,
            {
                "name": "Portail (test)",
                "kind": "website",
                "data_kind": "personal",
                "hosting": "on_site",
                "internet_exposed": True,
                "availability": "day",
            },
        )
    nightly.run(reminders=False)
    facts = facts_for(s.pk for s in structures)
    checked = {"password_policy": 0, "exposure": 0, "phishing": 0, "backups": 0}
    for service in DigitalService.objects.filter(name="Portail (test)"):
        states = {s.code: s for s in MeasureState.objects.filter(service=service)}
        for code, rule in (
            ("pro.passwords", "password_policy"),
            ("def.exposure", "exposure"),
            ("def.awareness", "phishing"),
            ("res.backups", "backups"),
        ):
            expected = auto_status(rule, facts[service.structure_id], today)
            found = states.get(code)
            assert (found.auto_status if found else "") == (expected.status if expected else "")
            checked[rule] += expected is not None
    # The demo's other services produced results for several structures of each kind.
    assert all(checked.values()), checked
