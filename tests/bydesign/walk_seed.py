"""Cross-tenant walk hooks of the security-by-design service (see tests/walk_seeds.py)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from carbet.bydesign import services, services_track
from carbet.bydesign.models import Decision, DigitalService, VendorAttachment, VendorRequest
from carbet.core.tenancy import SYSTEM

SECRET = "CH Alpha-Secret"
# Key pages for the accessibility check in Chromium (see tests/walk_seeds.py).
A11Y_PAGES = [
    ("director", "/services-numeriques/"),
    ("director", "/services-numeriques/structure/{structure}/"),
    ("director", "/services-numeriques/structure/{structure}/parcours/"),
    ("analyst", "/services-numeriques/parcours/region/"),
    ("ars", "/services-numeriques/parcours/region/"),
]


def _service(structure: Any) -> DigitalService:
    found = DigitalService.objects.filter(structure=structure, name=f"{SECRET} DPI").first()
    if found is not None:
        return found
    return services.create_service(
        SYSTEM,
        structure,
        {
            "name": f"{SECRET} DPI",
            "kind": "care_record",
            "description": SECRET,
            "data_kind": "health",
            "hosting": "saas",
            "hds_certified": True,
            "internet_exposed": True,
            "availability": "hours",
            "vendor_name": SECRET,
        },
    )


def seed(structure_a: Any) -> None:
    """One of each of the service's objects for structure A, named after the secret marker."""
    service = _service(structure_a)
    services.set_status(SYSTEM, service, "def.logs", "na", reason=f"{SECRET} raison")
    today = timezone.localdate()
    Decision.objects.create(
        service=service,
        outcome="accept",
        valid_from=today,
        valid_until=today + timezone.timedelta(days=365),
        signer_name=SECRET,
        snapshot=services.snapshot_of(service),
        dossier="bydesign/decisions/none.pdf",
    )
    request = VendorRequest.objects.create(
        service=service,
        email="secret@alpha-vendor.test",
        token_digest="f" * 64,
        expires_at=timezone.now() + timezone.timedelta(days=30),
        answers={"support": {"choice": "", "text": SECRET}},
    )
    VendorAttachment.objects.create(
        request=request,
        name=f"{SECRET}.pdf",
        stored="bydesign/vendor/none.pdf",
        sha256="0" * 64,
        size=1,
    )
    services_track.mark(SYSTEM, structure_a, "exercise", "in_progress", note=SECRET)


API_OBJECT_PARAMETERS = {
    ("digital-services", "id"): lambda region: _service(region.a),
}
