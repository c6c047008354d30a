"""The community's home page: a structure's people see their own alerts first and never
another structure's; the centre sees the region's exposure; the ARS has no access."""

from __future__ import annotations

import pytest

from carbet.community.models import StructureAlert, Vulnerability
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerts(region):
    vuln = Vulnerability.objects.create(
        vuln_id="CVE-2024-21762", title="FortiOS : écriture hors limites", kev=True, cvss=9.8
    )
    StructureAlert.objects.create(
        structure=region.a, vulnerability=vuln, products=["FortiOS 7.0.12 sur vpn.alpha.test"],
        certainty="version",
    )  # fmt: skip
    StructureAlert.objects.create(
        structure=region.b, vulnerability=vuln, products=["FortiOS 7.2.1 sur secret-beta.test"],
        certainty="version",
    )  # fmt: skip
    return region


def test_a_director_sees_their_alerts_first_and_nothing_of_another_structure(client, alerts):
    login(client, alerts.users["director"])
    page = client.get("/communaute/").content.decode()
    assert "CVE-2024-21762" in page
    assert "vpn.alpha.test" in page
    assert "secret-beta.test" not in page
    assert "1 alerte ciblée attend votre réponse" in page


def test_the_centre_sees_the_regional_exposure(client, alerts):
    login(client, alerts.users["centre_analyst"])
    page = client.get("/communaute/").content.decode()
    assert "Exposition de la région" in page
    assert "CVE-2024-21762" in page


def test_the_ars_and_people_without_a_role_get_no_community_page(client, alerts):
    for name in ("ars_viewer", "nobody"):
        login(client, alerts.users[name])
        assert client.get("/communaute/").status_code == 403
