"""Only proven assets covered by a valid exposure mandate are ever contacted.

Each case declares the loopback address ``UNTOUCHABLE`` (a listener counting every connection)
in a way the mandate gate must refuse; the refusal is listed on the scan or raised, written to
the audit trail, and the listener never sees a single connection.
"""

from __future__ import annotations

import datetime as dt

import pytest

from carbet.audit.models import AuditEntry
from carbet.core.models import Asset, Mandate
from carbet.core.tenancy import SYSTEM
from carbet.exposure import services
from carbet.exposure.models import Scan, ScanStatus
from tests.conftest import make_mandate, proven
from tests.exposure.app.conftest import EXPOSED, UNTOUCHABLE

pytestmark = pytest.mark.realserver


def _untouchable(region, **fields) -> Asset:
    values = {**proven(), **fields}
    return Asset.objects.create(structure=region.a, kind="ipv4", value=UNTOUCHABLE, **values)


def _refusals(asset_value: str) -> list[AuditEntry]:
    return [
        entry
        for entry in AuditEntry.objects.filter(action="mandate.refused")
        if (entry.changes or {}).get("asset") == asset_value
    ]


def _only_untouchable(region) -> None:
    Asset.objects.filter(structure=region.a).exclude(value=UNTOUCHABLE).delete()


@pytest.mark.parametrize(
    "breakage",
    ["no_mandate", "expired", "revoked", "not_yet_valid", "other_service"],
)
def test_a_structure_without_a_valid_mandate_is_never_contacted(
    exposed, breakage, django_capture_on_commit_callbacks
):
    region = exposed
    _untouchable(region)
    _only_untouchable(region)
    from tests.exposure.app import listeners

    before = listeners.connections(UNTOUCHABLE)
    mandate = Mandate.objects.get(structure=region.a)
    today = dt.date.today()
    if breakage == "no_mandate":
        mandate.delete()
    elif breakage == "expired":
        mandate.valid_from = today - dt.timedelta(days=400)
        mandate.valid_until = today - dt.timedelta(days=1)
        mandate.save()
    elif breakage == "revoked":
        mandate.status = "revoked"
        mandate.save()
    elif breakage == "not_yet_valid":
        mandate.valid_from = today + dt.timedelta(days=3)
        mandate.save()
    elif breakage == "other_service":
        mandate.services = [k for k in mandate.services if k != "exposure_scan"]
        mandate.save()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(services.NothingToScan) as refused:
            services.request_structure_scan(region.a, region.users["centre_analyst"])
    assert refused.value.refused and refused.value.refused[0]["value"] == UNTOUCHABLE
    assert str(refused.value)  # a plain-French reason for the person who asked
    assert not Scan.objects.filter(structure=region.a).exists()
    assert _refusals(UNTOUCHABLE), "the refusal must be in the audit trail"
    assert listeners.connections(UNTOUCHABLE) == before


def test_unvalidated_or_unlisted_assets_are_refused_the_others_scanned(
    exposed, django_capture_on_commit_callbacks
):
    """One mandate listing only 127.77.0.1; 127.77.0.9 is declared twice over: unproven
    (as a network, even though the structure ticked "validated") and proven but not listed.
    Only 127.77.0.1 is contacted."""
    from tests.exposure.app import listeners

    region = exposed
    mandate = Mandate.objects.get(structure=region.a)
    mandate.all_assets = False
    mandate.save()
    mandate.assets.set(Asset.objects.filter(structure=region.a, value=EXPOSED))
    _untouchable(region)
    Asset.objects.create(structure=region.a, kind="cidr", value="127.77.0.8/30", validated=True)
    before = listeners.connections(UNTOUCHABLE)
    before_exposed = listeners.connections(EXPOSED)
    with django_capture_on_commit_callbacks(execute=True):
        scan = services.request_structure_scan(region.a, region.users["centre_analyst"])
    scan.refresh_from_db()
    assert scan.status == ScanStatus.SUCCEEDED, scan.error
    assert list(scan.targets.values_list("target", flat=True)) == [EXPOSED]
    refused = {item["value"]: item["reason"] for item in scan.refused}
    assert set(refused) == {UNTOUCHABLE, "127.77.0.2", "127.77.0.8/30"}
    assert "prouvée" in refused["127.77.0.8/30"]
    assert "périmètre" in refused[UNTOUCHABLE]
    assert _refusals(UNTOUCHABLE) and _refusals("127.77.0.8/30")
    assert listeners.connections(UNTOUCHABLE) == before
    assert listeners.connections(EXPOSED) > before_exposed
    # A scan that could not cover every asset never closes findings of the others.
    from carbet.findings.models import Run

    assert Run.objects.filter(stream__structure=region.a).latest("pk").complete is False


def test_a_mandate_revoked_after_the_request_stops_the_scan(
    exposed, django_capture_on_commit_callbacks
):
    from carbet.jobs import services as jobs
    from tests.exposure.app import listeners

    region = exposed
    _untouchable(region)
    _only_untouchable(region)
    scan = services.request_structure_scan(region.a, region.users["centre_analyst"])
    assert scan.targets_total == 1
    Mandate.objects.filter(structure=region.a).update(status="revoked")
    before = listeners.connections(UNTOUCHABLE)
    jobs.execute(str(scan.job_id))
    scan.refresh_from_db()
    assert listeners.connections(UNTOUCHABLE) == before
    assert scan.targets.count() == 0
    assert [item["value"] for item in scan.refused] == [UNTOUCHABLE]
    assert _refusals(UNTOUCHABLE)


def test_only_those_who_may_run_scans_can_request_one(exposed):
    from django.core.exceptions import PermissionDenied

    for role in ("director", "referent", "it_provider", "director_b", "ars_viewer"):
        with pytest.raises(PermissionDenied):
            services.request_structure_scan(exposed.a, exposed.users[role])
    # The platform itself (schedules) may.
    scan = services.request_structure_scan(exposed.a, SYSTEM, on_demand=False)
    assert scan.trigger == "scheduled"


def test_a_second_mandate_in_force_is_enough(exposed):
    Mandate.objects.filter(structure=exposed.a).update(status="revoked")
    make_mandate(exposed.a, reference="M-2")
    scan = services.request_structure_scan(exposed.a, SYSTEM)
    assert scan.targets_total == 2 and not scan.refused
