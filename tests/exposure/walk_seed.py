"""Cross-tenant walk hooks of the exposure service (see tests/walk_seeds.py)."""

from __future__ import annotations

from typing import Any

from carbet.exposure.models import (
    ExposureAlert,
    Scan,
    ScanObservation,
    ScanProfile,
    ScanSchedule,
    ScanStatus,
    ScanTarget,
)

SECRET = "CH Alpha-Secret"


def seed(structure_a: Any) -> None:
    """One of each exposure object of structure A, named so that a leak is visible."""
    profile = ScanProfile.objects.create(name=f"{SECRET} profil", ports=[443])
    ScanSchedule.objects.create(
        structure=structure_a, weekday=2, hour=22, profile=profile, note=f"{SECRET} créneau"
    )
    scan_of(structure_a, profile)


def scan_of(structure: Any, profile: ScanProfile | None = None) -> Scan:
    scan = Scan.objects.filter(structure=structure).first()
    if scan is not None:
        return scan
    scan = Scan.objects.create(
        structure=structure,
        profile=profile,
        trigger="on_demand",
        status=ScanStatus.SUCCEEDED,
        complete=True,
        score=40,
        grade="E",
        scores={"exposure": {"score": 40, "grade": "E", "reasons": [f"{SECRET} RDP"]}},
        refused=[{"asset": None, "value": "secret-alpha-asset.test", "reason": SECRET}],
        diff={"first": True, "new": ["alpha-secret-fp"], "gone": []},
    )
    target = ScanTarget.objects.create(
        scan=scan,
        structure=structure,
        target="secret-alpha-asset.test",
        status="done",
        complete=True,
        services=[{"port": 3389, "service": "rdp", "product": SECRET}],
        evidence={"banner": SECRET},
    )
    ScanObservation.objects.create(
        scan=scan,
        target=target,
        structure=structure,
        check_id="port.rdp",
        category="exposure",
        port=3389,
        severity=4,
        title=f"{SECRET} bureau à distance",
        key="port.rdp|3389|",
        fingerprint="alpha-secret-fp",
    )
    ExposureAlert.objects.create(
        structure=structure, fingerprint="alpha-secret-fp", scan=scan, title=SECRET
    )
    return scan


API_OBJECT_PARAMETERS = {
    ("scans", "id"): lambda region: scan_of(region.a),
}
