"""Helpers of the security-by-design tests: the test region, a care-record service of the
EHPAD ``a2`` described by its referent, and a real SMTP server on loopback."""

from __future__ import annotations

import pytest

from carbet.accounts.roles import StructureRole
from carbet.bydesign import services
from carbet.core.tenancy import SYSTEM
from tests.conftest import make_user
from tests.findings.test_posture_digest import smtp_inbox  # noqa: F401 - a real SMTP server

CARE_RECORD = {
    "name": "Dossier de soins",
    "kind": "care_record",
    "description": "Plan de soins et transmissions",
    "users": "Soignants",
    "data_kind": "health",
    "hosting": "saas",
    "hds_certified": True,
    "internet_exposed": True,
    "availability": "hours",
    "vendor_name": "Éditeur",
    "vendor_email": "secu@editeur.test",
}


@pytest.fixture
def bd(region):
    """The region, with a director and a referent of the EHPAD ``a2`` and its care record."""
    region.users["director_a2"] = make_user(
        "dir@ehpad-alpha.test", **{StructureRole.DIRECTOR: [region.a2]}
    )
    region.users["referent_a2"] = make_user(
        "ref@ehpad-alpha.test", **{StructureRole.REFERENT: [region.a2]}
    )
    region.care = services.create_service(SYSTEM, region.a2, dict(CARE_RECORD))
    return region
