"""Through the platform, the scope holds end to end (issue 11): the mandate gate decides which
assets a scan starts from, the connect-time policy what it may then connect to.

Real scans of real listeners on loopback (``listeners`` count every connection) with the
exposure tests' authoritative DNS server as the installation's resolver. ``UNTOUCHABLE``
(127.77.0.9) plays another hospital's server, or the centre's own network, or an internal
address; each test proves it gets ZERO connections and that the refusal is kept and shown.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from carbet.core import services as registry
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import SYSTEM
from carbet.exposure import services
from carbet.exposure.models import Scan, ScanStatus, ScanTarget
from tests.api.conftest import token_client
from tests.conftest import proven
from tests.exposure.app import listeners
from tests.exposure.app.conftest import EXPOSED, UNTOUCHABLE
from tests.exposure.engine_maildns.authdns import AuthoritativeServer, zone_from_text

pytestmark = pytest.mark.realserver

DNS_HOST = "127.77.0.53"
ZONE = f"""@ 300 IN SOA ns.alpha.test. hostmaster.alpha.test. 1 3600 600 86400 300
@ NS ns.alpha.test.
ns A {DNS_HOST}
portail A {UNTOUCHABLE}
intranet A {UNTOUCHABLE}
"""


@pytest.fixture(scope="module")
def resolver():
    server = AuthoritativeServer([zone_from_text("alpha.test.", ZONE)], host=DNS_HOST).start()
    yield server
    server.stop()


@pytest.fixture
def portail(exposed, resolver, settings):
    """Structure A's proven host name ``portail.alpha.test``, which resolves to UNTOUCHABLE."""
    settings.CARBET_EXPOSURE_NAMESERVER = resolver.nameserver
    Asset.objects.filter(structure=exposed.a).delete()
    Asset.objects.create(
        structure=exposed.a, kind="hostname", value="portail.alpha.test", **proven()
    )
    return exposed


def _scan_a(region, django_capture_on_commit_callbacks) -> Scan:
    with django_capture_on_commit_callbacks(execute=True):
        scan = services.request_structure_scan(region.a, region.users["centre_analyst"])
    scan.refresh_from_db()
    assert scan.status == ScanStatus.SUCCEEDED, scan.error
    return scan


def _refusal(scan: Scan, target: str) -> dict:
    row = ScanTarget.objects.get(scan=scan, target=target)
    assert row.complete is False
    (record,) = row.refused
    return record


def test_a_proven_name_resolving_to_an_internal_address_is_not_contacted(
    portail, settings, django_capture_on_commit_callbacks
):
    """The SSRF of the security test: a proven host name pointing inside."""
    settings.CARBET_ALLOW_LOOPBACK_ASSETS = False  # production: loopback is internal
    before = listeners.connections(UNTOUCHABLE)
    scan = _scan_a(portail, django_capture_on_commit_callbacks)
    assert listeners.connections(UNTOUCHABLE) == before
    record = _refusal(scan, "portail.alpha.test")
    assert (record["address"], record["reason"], record["via"]) == (UNTOUCHABLE, "loopback", "name")
    row = ScanTarget.objects.get(scan=scan)
    assert row.addresses == [UNTOUCHABLE]  # what the name resolved to is shown
    assert not row.services and not scan.observations.exists()
    # Partial: known vulnerabilities are not closed as fixed.
    from carbet.findings.models import Run

    assert scan.complete is False
    assert Run.objects.filter(stream__structure=portail.a).latest("pk").complete is False


def test_a_proven_name_resolving_to_another_structures_address_is_not_contacted(
    portail, django_capture_on_commit_callbacks
):
    Asset.objects.create(structure=portail.b, kind="ipv4", value=UNTOUCHABLE, **proven())
    before = listeners.connections(UNTOUCHABLE)
    scan = _scan_a(portail, django_capture_on_commit_callbacks)
    assert listeners.connections(UNTOUCHABLE) == before
    assert _refusal(scan, "portail.alpha.test")["reason"] == "other_structure"


def test_the_centres_own_network_is_never_contacted(
    portail, settings, django_capture_on_commit_callbacks
):
    settings.CARBET_CENTRE_NETWORKS = ["127.77.0.8/29"]
    before = listeners.connections(UNTOUCHABLE)
    scan = _scan_a(portail, django_capture_on_commit_callbacks)
    assert listeners.connections(UNTOUCHABLE) == before
    assert _refusal(scan, "portail.alpha.test")["reason"] == "centre"


def test_the_refusal_is_shown_in_plain_french_on_the_pages_and_in_the_api(
    portail, settings, django_capture_on_commit_callbacks
):
    settings.CARBET_CENTRE_NETWORKS = ["127.77.0.8/29"]
    scan = _scan_a(portail, django_capture_on_commit_callbacks)
    expected = (
        f"Carbet n&#x27;a pas contacté {UNTOUCHABLE} (nom portail.alpha.test) : "
        "réseau du centre lui-même"
    )
    for name, args in (("exposure:scan", [scan.pk]), ("exposure:structure", [portail.a.pk])):
        page = portail.client("director").get(reverse(name, args=args))
        assert page.status_code == 200
        assert expected in page.content.decode(), name
    api = token_client(portail.users["director"]).get(f"/exposure/scans/{scan.pk}")
    (target,) = api.json()["targets"]
    (record,) = target["refused"]
    assert record["address"] == UNTOUCHABLE and record["reason"] == "centre"
    assert record["message"].startswith(f"Carbet n'a pas contacté {UNTOUCHABLE}")


def test_a_declaration_made_while_a_scan_runs_binds_its_next_chunk(
    portail, django_capture_on_commit_callbacks, monkeypatch
):
    """The policy is rebuilt for each chunk of targets, from the registry as it stands: two
    proven names resolve to the same address; another structure declares it after the first
    chunk; the second chunk does not contact it."""
    from carbet.exposure import services_run

    Asset.objects.create(
        structure=portail.a, kind="hostname", value="intranet.alpha.test", **proven()
    )
    monkeypatch.setattr(services_run, "CHUNK", 1)
    real_engine = services_run.run_engine
    seen: list[str] = []
    after_first: list[int] = []

    def engine_then_claim(targets, config):
        seen.extend(targets)
        results = real_engine(targets, config)
        if len(seen) == 1:
            after_first.append(listeners.connections(UNTOUCHABLE))
            Asset.objects.create(structure=portail.b, kind="ipv4", value=UNTOUCHABLE)
        return results

    monkeypatch.setattr(services_run, "run_engine", engine_then_claim)
    before = listeners.connections(UNTOUCHABLE)
    scan = _scan_a(portail, django_capture_on_commit_callbacks)
    assert sorted(seen) == ["intranet.alpha.test", "portail.alpha.test"]
    assert after_first[0] > before  # the first chunk reached it (loopback allowed in tests)
    assert listeners.connections(UNTOUCHABLE) == after_first[0]  # the second did not
    assert ScanTarget.objects.get(scan=scan, target=seen[0]).refused == []
    assert _refusal(scan, seen[1])["reason"] == "other_structure"


# --- The original attack, end to end -------------------------------------------------------------


def test_claiming_another_hospitals_address_through_the_api_opens_no_connection(
    exposed, django_capture_on_commit_callbacks
):
    """Director of A declares B's address and validates it herself (the security test's exact
    requests): A's next scan opens zero connections to it, nor does B's (conflict)."""
    Asset.objects.create(structure=exposed.b, kind="ipv4", value=UNTOUCHABLE, **proven())
    client = token_client(exposed.users["director"])
    answer = client.post(
        f"/structures/{exposed.a.pk}/assets", {"kind": "ipv4", "value": UNTOUCHABLE}
    )
    assert answer.status_code == 201, answer.content
    assert client.post(f"/assets/{answer.json()['id']}/validate").status_code == 200
    before = listeners.connections(UNTOUCHABLE)
    scan = _scan_a(exposed, django_capture_on_commit_callbacks)
    assert listeners.connections(UNTOUCHABLE) == before
    assert UNTOUCHABLE not in set(scan.targets.values_list("target", flat=True))
    refused = {item["value"]: item["reason"] for item in scan.refused}
    assert "autre structure" in refused[UNTOUCHABLE]
    assert listeners.connections(EXPOSED) > 0  # A's own assets were scanned
    # B's own declaration is blocked too until the centre decides (both are in conflict).
    Asset.objects.filter(structure=exposed.b, kind="domain").delete()  # resolves nowhere here
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(services.NothingToScan) as refused:
            services.request_structure_scan(exposed.b, SYSTEM)
    assert [item["value"] for item in refused.value.refused] == [UNTOUCHABLE]
    assert listeners.connections(UNTOUCHABLE) == before


def test_claiming_through_the_registry_service_then_validating_changes_nothing(
    exposed, django_capture_on_commit_callbacks
):
    director = exposed.users["director"]
    Asset.objects.create(structure=exposed.b, kind="cidr", value="127.77.0.8/30", **proven())
    claimed = Asset(structure=exposed.a, kind="ipv4", value=UNTOUCHABLE)
    registry.save_asset(director, claimed)
    registry.validate_asset(director, claimed)
    before = listeners.connections(UNTOUCHABLE)
    scan = _scan_a(exposed, django_capture_on_commit_callbacks)
    assert listeners.connections(UNTOUCHABLE) == before
    assert UNTOUCHABLE in {item["value"] for item in scan.refused}
    assert Structure.objects.count() >= 2
