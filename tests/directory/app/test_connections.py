"""Directory connections: secrets at rest, the mandate gate before any contact, the API."""

from __future__ import annotations

import pytest
from django.db import connection as connection_db
from django.urls import reverse

from carbet.audit.models import AuditEntry
from carbet.core.crypto import looks_encrypted
from carbet.core.mandates import MandateRefused
from carbet.core.models import Asset, Mandate
from carbet.core.tenancy import SYSTEM
from carbet.directory import services
from carbet.directory.models import AuditStatus, DirectoryAudit, DirectoryConnection
from tests.api.conftest import token_client
from tests.conftest import make_mandate, proven

PASSWORD = "Lecture-seule-2026!"


def _raw_column(model, column: str, pk: int) -> str:
    """The stored text, below the field's decryption."""
    with connection_db.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _domain_asset(structure, is_proven=True):
    fields = proven() if is_proven else {"validated": True}
    return Asset.objects.create(
        structure=structure, kind="ad_domain", value="alpha.local", internet_exposed=False, **fields
    )


def _proven_address(structure, value="127.0.0.1"):
    """The DC's address, proven by the centre's review (the only server a connection may name)."""
    return Asset.objects.create(
        structure=structure, kind="ipv4", value=value, internet_exposed=False, **proven()
    )


def _connection(structure, asset, port):
    return DirectoryConnection.objects.create(
        structure=structure,
        asset=asset,
        label="DC1",
        server="127.0.0.1",
        port=port,
        insecure=True,
        bind_user="audit@alpha.local",
        bind_password=PASSWORD,
    )


def test_the_password_is_encrypted_at_rest_and_never_shown_back(region):
    asset = _domain_asset(region.a)
    _proven_address(region.a, "127.0.0.5")
    client = region.client("centre_analyst")
    response = client.post(
        reverse("directory:connection_add", args=[region.a.pk]),
        {
            "label": "DC principal",
            "asset": asset.pk,
            "server": "127.0.0.5",
            "port": "636",
            "bind_user": "audit@alpha.local",
            "bind_password": PASSWORD,
        },
    )
    assert response.status_code == 302, response.content[:800]
    connection = DirectoryConnection.objects.get()
    raw = _raw_column(DirectoryConnection, "bind_password", connection.pk)
    assert looks_encrypted(raw) and PASSWORD not in raw
    edit = client.get(reverse("directory:connection_edit", args=[connection.pk]))
    assert PASSWORD not in edit.content.decode()
    event = AuditEntry.objects.get(action="directory.connection.create")
    assert PASSWORD not in str(event.changes)
    # Saving the form without retyping the password keeps it.
    client.post(
        reverse("directory:connection_edit", args=[connection.pk]),
        {
            "label": "DC1",
            "asset": asset.pk,
            "server": "127.0.0.5",
            "bind_user": "audit@alpha.local",
        },
    )
    connection.refresh_from_db()
    assert connection.label == "DC1" and connection.bind_password == PASSWORD


def test_a_connection_must_name_a_domain_of_the_structure(region):
    other = _domain_asset(region.b)
    response = region.client("centre_analyst").post(
        reverse("directory:connection_add", args=[region.a.pk]),
        {"label": "x", "asset": other.pk, "server": "dc", "bind_user": "u", "bind_password": "p"},
    )
    assert response.status_code == 200
    assert not DirectoryConnection.objects.exists()


@pytest.mark.realserver
@pytest.mark.parametrize("case", ["no_mandate", "asset_not_proven", "asset_not_listed"])
def test_no_valid_mandate_means_the_directory_is_never_contacted(
    region, listener, case, django_capture_on_commit_callbacks
):
    asset = _domain_asset(region.a, is_proven=case != "asset_not_proven")
    if case != "asset_not_proven":  # the region fixture mandates every structure
        Mandate.objects.filter(structure=region.a).delete()
    if case == "asset_not_listed":
        make_mandate(region.a, all_assets=False)
    connection = _connection(region.a, asset, listener.port)
    with django_capture_on_commit_callbacks(execute=True):
        response = region.client("centre_analyst").post(
            reverse("directory:connection_run", args=[connection.pk])
        )
    assert response.status_code == 302
    assert not DirectoryAudit.objects.exists()
    assert listener.accepted == 0
    assert AuditEntry.objects.filter(action="mandate.refused").exists()


@pytest.mark.realserver
def test_a_mandate_revoked_after_queueing_stops_the_collection(region, listener):
    asset = _domain_asset(region.a)
    _proven_address(region.a)  # the listener's address: only the mandate stops the collection
    Mandate.objects.filter(structure=region.a).delete()
    mandate = make_mandate(region.a)
    connection = _connection(region.a, asset, listener.port)
    audit_row = services.request_online_audit(SYSTEM, connection)  # queued, not run yet
    mandate.status = "revoked"
    mandate.save()
    with pytest.raises(MandateRefused):
        services.collect_online(audit_row, lambda step, n: None)
    assert listener.accepted == 0


def test_api_lists_audits_of_visible_structures_only(region):
    DirectoryAudit.objects.create(
        structure=region.a, origin="snapshot", status=AuditStatus.DONE, domain="alpha.local"
    )
    DirectoryAudit.objects.create(
        structure=region.b, origin="snapshot", status=AuditStatus.DONE, domain="beta.local"
    )
    client = token_client(region.users["director"])
    body = client.get("/api/v1/directory/audits").json()
    assert [row["domain"] for row in body["results"]] == ["alpha.local"]
    b_audit = DirectoryAudit.objects.get(structure=region.b)
    assert client.get(f"/api/v1/directory/audits/{b_audit.pk}").status_code == 404


def test_api_start_needs_the_right_and_a_mandate(region, listener):
    asset = _domain_asset(region.a)
    connection = _connection(region.a, asset, listener.port)
    referent = token_client(region.users["referent"])
    assert referent.post(f"/api/v1/directory/connections/{connection.pk}/audits").status_code == 403
    Mandate.objects.filter(structure=region.a).delete()
    analyst = token_client(region.users["centre_analyst"])
    response = analyst.post(f"/api/v1/directory/connections/{connection.pk}/audits")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mandate_refused"
    assert listener.accepted == 0
