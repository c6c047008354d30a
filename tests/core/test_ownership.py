"""Ownership is proven, not declared: the attack of the security test, and each way to prove.

Real servers on this test module's own loopback range (127.91.x.y): an authoritative DNS server
carrying (or not) the structure's TXT token, an HTTP server serving (or not) the proof file and
counting its connections.
"""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse

from carbet.audit.models import AuditEntry
from carbet.core import ownership
from carbet.core import services as registry
from carbet.core.choices import Ownership
from carbet.core.mandates import check
from carbet.core.models import Asset, Mandate
from carbet.core.tenancy import SYSTEM
from tests.api.conftest import token_client
from tests.conftest import make_mandate, prove, proven
from tests.exposure.engine_maildns.authdns import AuthoritativeServer, zone_from_text

SCAN = "exposure_scan"
DNS_HOST = "127.91.0.53"
WEB_HOST = "127.91.0.80"
PRIVATE_WEB_HOST = "127.91.0.81"  # a "private" site: loopback forbidden in that test
HITS: Counter = Counter()


class _ProofHandler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        HITS[self.server.server_address[0]] += 1
        if self.path == "/.well-known/carbet-verification.txt" and self.server.body:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(self.server.body)
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _web_server(host: str) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer((host, 0), _ProofHandler)
    server.body = b""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def web():
    servers = {host: _web_server(host) for host in (WEB_HOST, PRIVATE_WEB_HOST)}
    yield servers
    for server in servers.values():
        server.shutdown()


def _zone(token_a: str) -> str:
    return f"""
$TTL 60
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 60 60 60 60
@ IN NS ns.lab.test.
ns IN A {DNS_HOST}
_carbet-verification.alpha-proof IN TXT "carbet-verification={token_a}"
alpha-proof IN A {WEB_HOST}
wrong-token IN TXT "carbet-verification=not-the-token"
wrong-token IN A 127.91.0.99
site-a IN A {WEB_HOST}
intranet IN A {PRIVATE_WEB_HOST}
"""


@pytest.fixture
def lab(region, web, settings):
    token = ownership.proof_token(region.a)
    server = AuthoritativeServer(
        [zone_from_text("lab.test.", _zone(token))], host=DNS_HOST
    ).start()
    port = web[WEB_HOST].server_address[1]
    settings.CARBET_EXPOSURE_NAMESERVER = server.nameserver
    settings.CARBET_ALLOW_LOOPBACK_ASSETS = True
    # Both web servers share nothing but the module; each picks its own port: point the
    # proof fetch at the one the test reads (HTTPS port unused here: nothing listens there).
    settings.CARBET_PROOF_WEB_PORTS = (1, port)
    for server_ in web.values():
        server_.body = b""
    yield server
    server.stop()


def _asset(structure, value: str, kind: str = "hostname", **extra) -> Asset:
    asset = Asset(structure=structure, kind=kind, value=value, **extra)
    registry.save_asset(SYSTEM, asset)
    return asset


# --- The attack: declare another hospital's asset and validate it yourself ---------------------


def test_claiming_another_structures_asset_scans_nothing(region, rf):
    """Director of A declares B's domain and validates it herself: nothing may contact it, and
    B's own declaration is blocked too until the centre decides (both are in conflict)."""
    director = region.users["director"]
    b_asset = Asset.objects.get(structure=region.b, value="beta.test")
    assert check(region.b, SCAN, b_asset).allowed  # before the attack

    claimed = Asset(structure=region.a, kind="domain", value="beta.test")
    registry.save_asset(director, claimed)
    registry.validate_asset(director, claimed)
    claimed.refresh_from_db()
    b_asset.refresh_from_db()

    assert claimed.validated and claimed.ownership == Ownership.CONFLICT
    assert b_asset.ownership == Ownership.CONFLICT
    refused = check(region.a, SCAN, claimed)
    assert not refused.allowed and "autre structure" in refused.reason
    assert not check(region.b, SCAN, b_asset).allowed
    # The platform's policy for A's scans refuses B's name wherever it comes from.
    assert ownership.connect_policy(region.a).name_refusal("beta.test") == "name_other_structure"


@pytest.fixture
def lab_addresses(settings):
    """Addresses in tests are loopback (never another network): the lab setting accepts them."""
    settings.CARBET_ALLOW_LOOPBACK_ASSETS = True


def test_claiming_an_address_inside_another_structures_network_conflicts(region, lab_addresses):
    b_net = Asset(structure=region.b, kind="cidr", value="127.91.100.0/28")
    registry.save_asset(SYSTEM, b_net)
    inside = _asset(region.a, "127.91.100.7", kind="ipv4")
    assert inside.ownership == Ownership.CONFLICT
    b_net.refresh_from_db()
    assert b_net.ownership == Ownership.CONFLICT
    policy = ownership.connect_policy(region.a)
    assert policy.address_refusal("127.91.100.9") == "other_structure"


def test_deleting_the_claim_frees_the_owner(region):
    b_asset = Asset.objects.get(structure=region.b, value="beta.test")
    claimed = _asset(region.a, "beta.test", kind="mail_domain")
    b_asset.refresh_from_db()
    assert b_asset.in_conflict
    registry.delete_asset(region.users["director"], claimed)
    b_asset.refresh_from_db()
    assert not b_asset.in_conflict and check(region.b, SCAN, b_asset).allowed


def test_the_api_attack_path_gets_no_scannable_asset(region):
    """The exact requests of the security test, through the JSON API."""
    client = token_client(region.users["director"])
    answer = client.post(
        f"/structures/{region.a.pk}/assets", {"kind": "domain", "value": "beta.test"}
    )
    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert created["ownership"] == "conflict"
    validated = client.post(f"/assets/{created['id']}/validate")
    assert validated.status_code == 200 and validated.json()["ownership"] == "conflict"
    asset = Asset.objects.get(pk=created["id"])
    assert not check(region.a, SCAN, asset).allowed
    # A structure can neither review its own asset nor resolve the conflict in its favour.
    review = {"note": "c'est bien à nous, promis"}
    assert client.post(f"/assets/{created['id']}/review", review).status_code == 403
    resolve = {"decision": "owner", "note": "à nous"}
    assert client.post(f"/assets/{created['id']}/resolve", resolve).status_code == 403
    # Verifying finds no token: the answer says so, nothing is proven.
    verify = client.post(f"/assets/{created['id']}/verify")
    assert verify.status_code == 200 and verify.json()["proven"] is False


def test_a_new_declaration_never_carries_proof(region):
    """Proof fields in a payload or on an instance are ignored on creation."""
    forged = Asset(structure=region.a, kind="hostname", value="forged.alpha.test", **proven())
    registry.save_asset(region.users["director"], forged)
    forged.refresh_from_db()
    assert forged.ownership == Ownership.TO_PROVE
    answer = token_client(region.users["director"]).post(
        f"/structures/{region.a.pk}/assets",
        {"kind": "hostname", "value": "x.alpha.test", "proven_at": "2026-01-01T00:00:00Z"},
    )
    assert answer.status_code == 422  # unknown field refused, nothing created
    assert not Asset.objects.filter(value="x.alpha.test").exists()


def test_changing_the_value_withdraws_the_proof(region):
    asset = prove(_asset(region.a, "www.alpha.test"))
    assert asset.is_proven
    asset.value = "www2.alpha.test"
    registry.save_asset(region.users["director"], asset)
    asset.refresh_from_db()
    assert asset.ownership == Ownership.TO_PROVE and asset.proof_method == ""


# --- Proving a name ------------------------------------------------------------------------------


def test_dns_txt_proof(region, lab):
    asset = _asset(region.a, "alpha-proof.lab.test")
    outcome = ownership.verify(region.users["referent"], asset)
    asset.refresh_from_db()
    assert outcome.proven, outcome.message
    assert asset.ownership == Ownership.PROVEN and asset.proof_method == "dns_txt"
    assert asset.proven_by == region.users["referent"]
    assert AuditEntry.objects.filter(action="asset.prove", object_id=str(asset.pk)).exists()


def test_another_structures_token_proves_nothing(region, lab, web):
    """The record carries a token, but not this structure's: B cannot use A's proof."""
    asset = _asset(region.b, "alpha-proof.lab.test")
    outcome = ownership.verify(region.users["director_b"], asset)
    asset.refresh_from_db()
    assert not outcome.proven and asset.ownership != Ownership.PROVEN
    wrong = _asset(region.a, "wrong-token.lab.test")
    assert not ownership.verify(region.users["director"], wrong).proven
    assert AuditEntry.objects.filter(action="asset.prove_failed").count() == 2


def test_web_file_proof(region, lab, web):
    web[WEB_HOST].body = ownership.proof_token(region.a).encode() + b"\n"
    asset = _asset(region.a, "site-a.lab.test")
    outcome = ownership.verify(region.users["director"], asset)
    asset.refresh_from_db()
    assert outcome.proven, outcome.message
    assert asset.proof_method == "web_file"


def test_web_file_fetch_obeys_the_connect_policy(region, lab, web, settings):
    """A name pointing at a forbidden address is never fetched (the proof is no SSRF)."""
    settings.CARBET_ALLOW_LOOPBACK_ASSETS = False
    web[PRIVATE_WEB_HOST].body = ownership.proof_token(region.a).encode()
    before = HITS[PRIVATE_WEB_HOST]
    asset = Asset.objects.create(structure=region.a, kind="hostname", value="intranet.lab.test")
    outcome = ownership.verify(region.users["director"], asset)
    assert not outcome.proven
    assert "bouclage" in outcome.message
    assert HITS[PRIVATE_WEB_HOST] == before


def test_a_name_under_a_proven_domain_is_proven(region):
    domain = Asset.objects.get(structure=region.a, value="alpha.test")
    assert domain.is_proven
    host = _asset(region.a, "vpn.alpha.test")
    outcome = ownership.verify(region.users["director"], host)
    host.refresh_from_db()
    assert outcome.proven and host.proof_method == "parent_domain"
    assert "alpha.test" in host.proof_note


def test_an_address_cannot_be_self_proven(region, lab_addresses):
    address = _asset(region.a, "127.91.113.10", kind="ipv4")
    outcome = ownership.verify(region.users["director"], address)
    assert not outcome.proven and "centre" in outcome.message


# --- The centre's review and decisions --------------------------------------------------------


def test_centre_review_records_who_and_how(region, lab_addresses):
    address = _asset(region.a, "127.91.113.11", kind="ipv4")
    with pytest.raises(PermissionDenied):
        ownership.record_review(region.users["director"], address, "c'est bien notre adresse")
    with pytest.raises(ValidationError):
        ownership.record_review(region.users["centre_analyst"], address, "ok")
    ownership.record_review(
        region.users["centre_analyst"], address, "registre RIPE : attribué au CH Alpha"
    )
    address.refresh_from_db()
    assert address.is_proven and address.proven_by == region.users["centre_analyst"]
    assert check(region.a, SCAN, address).allowed


def test_conflict_resolved_for_one_owner(region):
    b_asset = Asset.objects.get(structure=region.b, value="beta.test")
    claimed = _asset(region.a, "beta.test", kind="domain")
    ownership.resolve_conflict(
        region.users["centre_admin"], b_asset, "owner", "domaine enregistré par l'EHPAD Beta"
    )
    b_asset.refresh_from_db()
    claimed.refresh_from_db()
    assert b_asset.is_proven and check(region.b, SCAN, b_asset).allowed
    assert claimed.ownership == Ownership.REJECTED
    assert "écarté" in check(region.a, SCAN, claimed).reason
    # A's policy still refuses B's name: a rejected claim gives no way in.
    assert ownership.connect_policy(region.a).name_refusal("beta.test")


def test_shared_hosting(region, lab_addresses):
    a_ip = prove(_asset(region.a, "127.91.100.20", kind="ipv4"))
    b_ip = _asset(region.b, "127.91.100.20", kind="ipv4")
    a_ip.refresh_from_db()
    assert a_ip.ownership == Ownership.CONFLICT and b_ip.ownership == Ownership.CONFLICT
    ownership.resolve_conflict(
        region.users["centre_analyst"], a_ip, "shared", "hébergeur commun, contrat vu"
    )
    a_ip.refresh_from_db()
    b_ip.refresh_from_db()
    assert a_ip.shared and b_ip.shared
    assert a_ip.is_proven and b_ip.ownership == Ownership.TO_PROVE  # B still proves its own
    assert ownership.connect_policy(region.a).address_refusal("127.91.100.20") is None
    assert ownership.connect_policy(region.b).address_refusal("127.91.100.20") is None
    # A third structure declaring it is a new claim the centre has not seen: all three wait.
    c_ip = _asset(region.a2, "127.91.100.20", kind="ipv4")
    a_ip.refresh_from_db()
    assert c_ip.ownership == Ownership.CONFLICT and a_ip.ownership == Ownership.CONFLICT
    assert ownership.connect_policy(region.a2).address_refusal("127.91.100.20")


# --- Mandate dates --------------------------------------------------------------------------------


def test_mandate_longer_than_three_years_is_refused(region):
    today = dt.date.today()
    mandate = Mandate(
        structure=region.a, services=["exposure_scan"], signed_by_name="D", signed_on=today,
        valid_from=today, valid_until=dt.date(9999, 12, 31),
    )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        mandate.clean()
    assert "3 ans" in str(error.value)
    mandate.valid_until = today + dt.timedelta(days=3 * 365)
    mandate.clean()


def test_mandate_signed_in_the_future_is_refused(region):
    today = dt.date.today()
    mandate = Mandate(
        structure=region.a, services=["exposure_scan"], signed_by_name="D",
        signed_on=today + dt.timedelta(days=2), valid_from=today + dt.timedelta(days=2),
        valid_until=today + dt.timedelta(days=30),
    )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        mandate.clean()
    assert "futur" in str(error.value)


def test_existing_mandates_still_check(region):
    assert make_mandate(region.a2).pk


# --- Pages ----------------------------------------------------------------------------------


def test_structure_user_sees_instructions_not_rivals(region):
    claimed = _asset(region.a, "beta.test", kind="domain")
    page = region.client("director").get(reverse("core:asset_ownership", args=[claimed.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "autre structure" in text
    assert "EHPAD Beta" not in text  # who else claims it is the centre's to know
    pending = _asset(region.a, "mail.alpha-site.test")
    page = region.client("director").get(reverse("core:asset_ownership", args=[pending.pk]))
    assert "_carbet-verification.mail.alpha-site.test" in page.content.decode()
    assert ownership.proof_token(region.a) in page.content.decode()


def test_centre_sees_rivals_and_resolves_through_the_page(region):
    b_asset = Asset.objects.get(structure=region.b, value="beta.test")
    _asset(region.a, "beta.test", kind="domain")
    client = region.client("centre_analyst")
    page = client.get(reverse("core:asset_ownership", args=[b_asset.pk]))
    assert "CH Alpha" in page.content.decode()
    queue = client.get(reverse("core:ownership_queue"))
    assert queue.status_code == 200 and "beta.test" in queue.content.decode()
    answer = client.post(
        reverse("core:asset_resolve", args=[b_asset.pk]),
        {"decision": "owner", "note": "nom de domaine de l'EHPAD Beta (registrar)"},
    )
    assert answer.status_code == 302
    b_asset.refresh_from_db()
    assert b_asset.is_proven


def test_other_structures_cannot_reach_the_pages(region):
    b_asset = Asset.objects.get(structure=region.b, value="beta.test")
    client = region.client("director")
    for name in ("asset_ownership",):
        assert client.get(reverse(f"core:{name}", args=[b_asset.pk])).status_code == 404
    for name in ("asset_verify", "asset_review", "asset_resolve"):
        assert client.post(reverse(f"core:{name}", args=[b_asset.pk])).status_code == 404
    assert client.get(reverse("core:ownership_queue")).status_code == 403
    assert region.client("ars_viewer").get(reverse("core:ownership_queue")).status_code == 403
    api = token_client(region.users["director"])
    assert api.get(f"/assets/{b_asset.pk}/proof").status_code == 404
    assert api.post(f"/assets/{b_asset.pk}/verify").status_code == 404
    assert api.post(f"/assets/{b_asset.pk}/review", {"note": "x" * 12}).status_code == 404


@override_settings(CARBET_ALLOW_LOOPBACK_ASSETS=False)
def test_policy_refuses_private_ranges(region):
    """Pure decisions (no connection is made to any of these addresses)."""
    policy = ownership.connect_policy(region.a)
    assert policy.address_refusal("127.0.0.1") == "loopback"
    assert policy.address_refusal("10.1.2.3") == "private"
    assert policy.address_refusal("100.64.0.1") == "shared"
    assert policy.address_refusal("::ffff:10.0.0.1") == "private"
    assert policy.address_refusal("8.8.8.8") is None


def test_policy_refuses_the_centres_own_ranges(region, lab_addresses, settings):
    settings.CARBET_CENTRE_NETWORKS = ["127.91.200.0/24"]
    policy = ownership.connect_policy(region.a)
    assert policy.address_refusal("127.91.200.5") == "centre"
    assert policy.address_refusal("127.91.201.5") is None


def test_internal_addresses_never_conflict_and_pass_only_a_closed_scope(region):
    """Every hospital reuses 10.x: two structures' internal DCs are no conflict, and only a
    closed scope listing the proven internal address (a directory audit) may reach it."""
    a_dc = _asset(region.a, "10.20.0.5", kind="ipv4", internet_exposed=False)
    b_dc = _asset(region.b, "10.20.0.5", kind="ipv4", internet_exposed=False)
    assert a_dc.ownership == Ownership.TO_PROVE and b_dc.ownership == Ownership.TO_PROVE
    ownership.record_review(region.users["centre_analyst"], a_dc, "DC vu par le VPN du centre")
    assert ownership.proven_addresses(region.a) == ["10.20.0.5"]
    scoped = ownership.connect_policy(region.a, allowed=ownership.proven_addresses(region.a))
    assert scoped.address_refusal("10.20.0.5") is None
    assert scoped.address_refusal("10.20.0.6") == "private"
    assert ownership.connect_policy(region.a).address_refusal("10.20.0.5") == "private"
    assert ownership.connect_policy(region.b).address_refusal("10.20.0.5") == "private"


def test_a_name_under_another_structures_domain_conflicts(region):
    """Claiming vpn.beta.test while B holds beta.test is claiming B's zone."""
    b_domain = Asset.objects.get(structure=region.b, value="beta.test")
    sub = _asset(region.a, "soins.beta.test")
    b_domain.refresh_from_db()
    assert sub.ownership == Ownership.CONFLICT and b_domain.ownership == Ownership.CONFLICT
    # Even a (mistaken) centre review of the sub-name leaves it blocked while B claims the zone.
    ownership.record_review(region.users["centre_analyst"], sub, "revue trop rapide du nom")
    sub.refresh_from_db()
    assert not check(region.a, SCAN, sub).allowed


# --- Proofs are re-checked -----------------------------------------------------------------------


def test_recheck_keeps_published_proofs_and_withdraws_lapsed_ones(region, lab, web):
    from django.core.management import call_command

    web[WEB_HOST].body = ownership.proof_token(region.a).encode()
    by_dns = _asset(region.a, "alpha-proof.lab.test")
    by_file = _asset(region.a, "site-a.lab.test", kind="domain")
    assert ownership.verify(region.users["director"], by_dns).proven
    assert ownership.verify(region.users["director"], by_file).proven
    child = _asset(region.a, "vpn.site-a.lab.test")
    assert ownership.verify(region.users["director"], child).proven  # by its parent
    reviewed = Asset.objects.get(structure=region.a, value="alpha.test")  # centre review

    report = ownership.recheck(region.a)
    assert report.checked == 3 and report.kept == 3 and report.lapsed == []

    web[WEB_HOST].body = b""  # the site no longer publishes the token
    from io import StringIO

    out = StringIO()
    call_command("ownership", "recheck", "--structure", region.a.finess_et, stdout=out)
    assert "retirée(s)" in out.getvalue()
    for asset in (by_dns, by_file, child, reviewed):
        asset.refresh_from_db()
    assert by_dns.is_proven and reviewed.is_proven
    assert by_file.ownership == Ownership.TO_PROVE and child.ownership == Ownership.TO_PROVE
    assert AuditEntry.objects.filter(action="asset.proof_lapsed").count() == 2


def test_conflicts_command_lists_them(region):
    from io import StringIO

    from django.core.management import CommandError, call_command

    _asset(region.a, "beta.test", kind="domain")
    out = StringIO()
    call_command("ownership", "conflicts", stdout=out)
    assert out.getvalue().count("beta.test") == 2 and "2 déclaration(s)" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("ownership", "conflicts", "--structure", "000000000", stdout=out)


def test_bad_decisions_are_refused_clearly_and_change_nothing(region):
    """Pages and API: an unknown decision, an empty reason, a review without detail."""
    b_asset = Asset.objects.get(structure=region.b, value="beta.test")
    claimed = _asset(region.a, "beta.test", kind="domain")
    client = region.client("centre_analyst")
    for data in ({"decision": "bogus", "note": "x"}, {"decision": "owner", "note": "  "}, {}):
        response = client.post(reverse("core:asset_resolve", args=[b_asset.pk]), data, follow=True)
        assert response.status_code == 200
        assert "est tranché" not in response.content.decode()
    page = client.post(
        reverse("core:asset_review", args=[b_asset.pk]), {"note": "ok"}, follow=True
    ).content.decode()
    assert "vérifiée" in page  # the message says how to word the review
    api = token_client(region.users["centre_analyst"])
    bogus = {"decision": "bogus", "note": "x"}
    assert api.post(f"/assets/{b_asset.pk}/resolve", bogus).status_code == 422
    assert api.post(f"/assets/{b_asset.pk}/resolve", {"decision": "owner"}).status_code == 422
    assert api.post(f"/assets/{b_asset.pk}/review", {"note": "court"}).status_code == 422
    assert api.post(f"/assets/{b_asset.pk}/review", b"{not json").status_code in (400, 422)
    for asset in (b_asset, claimed):
        asset.refresh_from_db()
        assert asset.ownership == Ownership.CONFLICT and not asset.rejected and not asset.shared
