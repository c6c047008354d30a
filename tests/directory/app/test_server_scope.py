"""The server of an AD connection must be a proven asset of the structure (or a name under its
proven directory domain that resolves to one), when the connection is saved and again when the
collector connects; the bind password never goes elsewhere.

Real components only: the form and the API of the platform, a DNS server of the test's own on
loopback (its answers change between saving and running: rebinding), counting listeners that
prove zero connections, and the session's Samba AD DC.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from carbet.audit.models import AuditEntry
from carbet.core.models import Asset
from carbet.core.tenancy import SYSTEM
from carbet.directory import services
from carbet.directory.models import AuditStatus, DirectoryAudit, DirectoryConnection
from tests.api.conftest import token_client
from tests.conftest import proven
from tests.directory.samba import HOSTNAME, REALM

PASSWORD = "Lecture-seule-2026!"
DOMAIN = REALM.lower()  # the zone the test's DNS serves, and the Samba domain
DC_NAME = f"{HOSTNAME}.{DOMAIN}"


def _ad_domain(structure, value: str = DOMAIN) -> Asset:
    return Asset.objects.create(
        structure=structure, kind="ad_domain", value=value, internet_exposed=False, **proven()
    )


def _address(structure, value: str, **fields) -> Asset:
    fields = fields or proven()
    return Asset.objects.create(
        structure=structure, kind="ipv4", value=value, internet_exposed=False, **fields
    )


def _post(client, structure, asset, server: str, port: int | None = None, connection=None):
    url = (
        reverse("directory:connection_edit", args=[connection.pk])
        if connection
        else reverse("directory:connection_add", args=[structure.pk])
    )
    data = {
        "label": "DC",
        "asset": asset.pk,
        "server": server,
        "insecure": "on",
        "bind_user": f"audit@{DOMAIN}",
        "bind_password": PASSWORD,
    }
    if port:
        data["port"] = str(port)
    return client.post(url, data)


def _server_error(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(response.context["form"].errors.get("server", []))


def _refusals(stage: str) -> list[AuditEntry]:
    return [
        entry
        for entry in AuditEntry.objects.filter(action="directory.connection.refused")
        if entry.changes.get("stage") == stage
    ]


@pytest.fixture
def platform_dns(settings, dns_lab):
    """The platform resolves names through the test's DNS server."""
    settings.CARBET_EXPOSURE_NAMESERVER = dns_lab.nameserver
    return dns_lab


# --- When a connection is saved ------------------------------------------------------------


def test_an_address_that_is_not_proven_is_refused_at_save(region):
    domain = _ad_domain(region.a)
    _address(region.a, "127.0.0.7", validated=True)  # declared, validated, but not proven
    response = _post(region.client("centre_analyst"), region.a, domain, "127.0.0.7")
    error = _server_error(response)
    assert "n'est pas une adresse prouvée" in error and "vérifier par le centre" in error
    assert not DirectoryConnection.objects.exists()
    (entry,) = _refusals("save")
    assert entry.changes["server"] == "127.0.0.7" and PASSWORD not in str(entry.changes)


def test_another_structures_proven_address_is_refused(region):
    domain = _ad_domain(region.a)
    _address(region.b, "127.0.0.8")  # hospital B's DC
    error = _server_error(_post(region.client("centre_analyst"), region.a, domain, "127.0.0.8"))
    assert "127.0.0.8" in error
    assert not DirectoryConnection.objects.exists()


def test_an_unproven_internal_address_is_refused_with_the_on_site_alternative(region):
    domain = _ad_domain(region.a)
    _address(region.a, "10.20.30.40", validated=True)  # declared, not reviewed by the centre
    error = _server_error(_post(region.client("centre_analyst"), region.a, domain, "10.20.30.40"))
    assert "réseau interne" in error and "carbet ad collect" in error


def test_a_proven_internal_address_may_be_saved(region):
    """Most domain controllers sit on private addresses, reached through the centre's VPN:
    once the centre has reviewed the address, the connection may point at it (no connection
    is made here: saving an address literal needs no lookup)."""
    domain = _ad_domain(region.a)
    _address(region.a, "10.20.30.41")
    response = _post(region.client("centre_analyst"), region.a, domain, "10.20.30.41")
    assert response.status_code == 302, response.content.decode()[:2000]


def test_a_name_outside_the_proven_directory_domain_is_refused(region, platform_dns):
    domain = _ad_domain(region.a)
    _address(region.a, "127.0.0.9")
    platform_dns.answer({"dc1": ["127.0.0.9"]})
    Asset.objects.create(  # declared and validated by the structure, never proven
        structure=region.a, kind="ad_domain", value="autre.test", validated=True
    )
    client = region.client("centre_analyst")
    error = _server_error(_post(client, region.a, domain, "dc1.autre.test"))
    assert "ni un nom prouvé" in error and "Prouvez d'abord le domaine" in error
    # The same server under the proven domain, pointing at the proven address, is accepted.
    assert _post(client, region.a, domain, DC_NAME).status_code == 302


def test_a_name_under_the_domain_resolving_to_an_unproven_address_is_refused(region, platform_dns):
    domain = _ad_domain(region.a)
    _address(region.a, "127.0.0.9")
    platform_dns.answer({HOSTNAME: ["127.0.0.1"]})
    error = _server_error(_post(region.client("centre_analyst"), region.a, domain, DC_NAME))
    assert "127.0.0.1" in error and "n'est pas une adresse prouvée" in error
    assert not DirectoryConnection.objects.exists()


def test_changing_the_server_of_a_saved_connection_checks_it_again(region):
    domain = _ad_domain(region.a)
    _address(region.a, "127.0.0.9")
    client = region.client("centre_analyst")
    assert _post(client, region.a, domain, "127.0.0.9").status_code == 302
    connection = DirectoryConnection.objects.get()
    error = _server_error(_post(client, region.a, domain, "127.0.0.10", connection=connection))
    assert "127.0.0.10" in error
    connection.refresh_from_db()
    assert connection.server == "127.0.0.9"


# --- When the collection starts and connects -------------------------------------------------


def _forged(structure, domain, server: str, port: int) -> DirectoryConnection:
    """A row written without the form (a bug, a script, a database edit): no check ran."""
    return DirectoryConnection.objects.create(
        structure=structure, asset=domain, label="forgée", server=server, port=port,
        insecure=True, bind_user=f"audit@{DOMAIN}", bind_password=PASSWORD,
    )  # fmt: skip


def test_api_start_of_a_forged_connection_is_refused_without_contact(region, listener):
    domain = _ad_domain(region.a)
    connection = _forged(region.a, domain, "127.0.0.1", listener.port)
    response = token_client(region.users["centre_analyst"]).post(
        f"/api/v1/directory/connections/{connection.pk}/audits"
    )
    assert response.status_code == 422
    body = response.json()["error"]
    assert "n'est pas une adresse prouvée" in " ".join(body["details"]["server"])
    assert not DirectoryAudit.objects.exists()
    assert listener.accepted == 0
    assert _refusals("request")


def test_a_forged_row_is_refused_at_connect_time_with_zero_connections(
    region, listener, django_capture_on_commit_callbacks
):
    """Queued with a proven server, then the row is rewritten in the database before the job
    runs: the collector checks the address it is about to use, and contacts nothing."""
    domain = _ad_domain(region.a)
    _address(region.a, "127.0.0.2")
    connection = _forged(region.a, domain, "127.0.0.2", listener.port)
    with django_capture_on_commit_callbacks(execute=True):
        audit_row = services.request_online_audit(SYSTEM, connection)
        DirectoryConnection.objects.filter(pk=connection.pk).update(server="127.0.0.1")
    audit_row.refresh_from_db()
    assert audit_row.status == AuditStatus.FAILED
    assert "hors du périmètre prouvé" in audit_row.error and PASSWORD not in audit_row.error
    assert listener.accepted == 0 and PASSWORD.encode() not in listener.received
    (entry,) = _refusals("connect")
    assert entry.changes["refused"][0]["address"] == "127.0.0.1"
    assert entry.changes["refused"][0]["reason"] == "outside_scope"


@pytest.mark.realserver
def test_a_name_resolving_outside_the_scope_at_run_time_contacts_nothing(
    region, samba_dc, listener, platform_dns, django_capture_on_commit_callbacks
):
    """(b) A row naming a server under the proven AD domain whose name resolves to an address
    that is not proven: zero connections, the password is never sent."""
    domain = _ad_domain(region.a, samba_dc.dns_domain)
    _address(region.a, samba_dc.host)
    platform_dns.answer({HOSTNAME: ["127.0.0.1"]})
    connection = _forged(region.a, domain, DC_NAME, listener.port)
    with django_capture_on_commit_callbacks(execute=True):
        audit_row = services.request_online_audit(SYSTEM, connection)
    audit_row.refresh_from_db()
    assert audit_row.status == AuditStatus.FAILED, audit_row.error
    assert listener.accepted == 0 and PASSWORD.encode() not in listener.received
    assert _refusals("connect")[0].changes["resolved"] == ["127.0.0.1"]


@pytest.mark.realserver
def test_rebinding_between_save_and_run_reaches_nothing(
    region, samba_dc, listener, platform_dns, django_capture_on_commit_callbacks
):
    """(c) At save time the name designates the proven DC; at run time, another listener."""
    domain = _ad_domain(region.a, samba_dc.dns_domain)
    _address(region.a, samba_dc.host)
    platform_dns.answer({HOSTNAME: [samba_dc.host]})
    client = region.client("centre_analyst")
    saved = _post(client, region.a, domain, DC_NAME, port=listener.port)
    assert saved.status_code == 302, _server_error(saved)
    connection = DirectoryConnection.objects.get()
    platform_dns.answer({HOSTNAME: ["127.0.0.1"]})  # rebinding: now the listener's address
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("directory:connection_run", args=[connection.pk]))
    assert response.status_code == 302
    audit_row = DirectoryAudit.objects.get()
    assert audit_row.status == AuditStatus.FAILED
    assert "hors du périmètre prouvé" in audit_row.error
    assert listener.accepted == 0 and PASSWORD.encode() not in listener.received


@pytest.mark.realserver
def test_a_withdrawn_proof_stops_the_next_collection(
    region, samba_dc, django_capture_on_commit_callbacks
):
    """The policy is built right before the job runs: a DC address whose proof was withdrawn
    after the connection was saved is no longer reached."""
    domain = _ad_domain(region.a, samba_dc.dns_domain)
    address = _address(region.a, samba_dc.host)
    connection = _forged(region.a, domain, samba_dc.host, samba_dc.ldaps_port)
    connection.ca_pem, connection.insecure = Path(samba_dc.ca_file).read_text(), False
    connection.save()
    with django_capture_on_commit_callbacks(execute=True):
        audit_row = services.request_online_audit(SYSTEM, connection)
        Asset.objects.filter(pk=address.pk).update(proven_at=None)
    audit_row.refresh_from_db()
    assert audit_row.status == AuditStatus.FAILED
    assert "hors du périmètre prouvé" in audit_row.error
