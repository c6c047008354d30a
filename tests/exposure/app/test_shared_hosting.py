"""Shared hosting is scanned once (issue 11): two structures the centre recognised as sharing
an address each get their own results and findings, but the server is contacted once."""

from __future__ import annotations

import pytest

from carbet.core import ownership
from carbet.core.models import Asset
from carbet.exposure import services
from carbet.exposure.models import Scan, ScanStatus, ScanTarget
from carbet.findings.models import Finding
from tests.conftest import prove, proven
from tests.exposure.app import listeners
from tests.exposure.app.conftest import EXPOSED

pytestmark = pytest.mark.realserver


def _scan(structure, region, django_capture_on_commit_callbacks) -> Scan:
    with django_capture_on_commit_callbacks(execute=True):
        scan = services.request_structure_scan(structure, region.users["centre_analyst"])
    scan.refresh_from_db()
    assert scan.status == ScanStatus.SUCCEEDED, scan.error
    return scan


@pytest.fixture
def shared(exposed):
    """EXPOSED declared by A (proven) and B: a conflict the centre resolves as shared."""
    Asset.objects.filter(structure=exposed.b).delete()
    Asset.objects.filter(structure=exposed.a).exclude(value=EXPOSED).delete()
    b_asset = Asset.objects.create(structure=exposed.b, kind="ipv4", value=EXPOSED)
    a_asset = Asset.objects.get(structure=exposed.a, value=EXPOSED)
    ownership.refresh_conflicts(b_asset)
    a_asset.refresh_from_db()
    assert a_asset.in_conflict
    ownership.resolve_conflict(
        exposed.users["centre_analyst"], a_asset, "shared", "hébergeur commun, contrat vu"
    )
    b_asset.refresh_from_db()  # now marked shared by the centre's decision
    prove(b_asset)
    return exposed


def test_a_shared_address_is_contacted_once_and_each_structure_gets_its_findings(
    shared, django_capture_on_commit_callbacks
):
    before = listeners.connections(EXPOSED)
    scan_a = _scan(shared.a, shared, django_capture_on_commit_callbacks)
    after_a = listeners.connections(EXPOSED)
    assert after_a > before
    scan_b = _scan(shared.b, shared, django_capture_on_commit_callbacks)
    assert listeners.connections(EXPOSED) == after_a  # B's scan contacted nothing
    row_a = ScanTarget.objects.get(scan=scan_a, target=EXPOSED)
    row_b = ScanTarget.objects.get(scan=scan_b, target=EXPOSED)
    assert row_b.services == row_a.services and row_b.score == row_a.score
    assert "shared_scan" in row_b.evidence
    findings_a = set(
        Finding.objects.filter(structure=shared.a, source="exposure").values_list("rule", flat=True)
    )
    findings_b = set(
        Finding.objects.filter(structure=shared.b, source="exposure").values_list("rule", flat=True)
    )
    assert findings_a and findings_a == findings_b
    # Each structure's findings are its own rows, on its own asset.
    assert not Finding.objects.filter(structure=shared.b, asset__structure=shared.a).exists()


def test_an_unshared_twin_is_never_reused(exposed, django_capture_on_commit_callbacks):
    """Without the centre's "shared" decision, nothing crosses between structures."""
    Asset.objects.filter(structure=exposed.b).delete()
    _scan(exposed.a, exposed, django_capture_on_commit_callbacks)
    Asset.objects.filter(structure=exposed.a).delete()  # A leaves; B declares the address
    Asset.objects.create(structure=exposed.b, kind="ipv4", value=EXPOSED, **proven())
    before = listeners.connections(EXPOSED)
    scan_b = _scan(exposed.b, exposed, django_capture_on_commit_callbacks)
    assert listeners.connections(EXPOSED) > before
    assert "shared_scan" not in ScanTarget.objects.get(scan=scan_b, target=EXPOSED).evidence
