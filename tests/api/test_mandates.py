"""Mandates through the API: multipart upload with SHA-256, scope, states, revoke, download."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.api.mandates import MANDATE_STATES, state_filter
from carbet.audit.models import AuditEntry
from carbet.core.models import Asset, Mandate
from carbet.core.services import mandate_state
from tests.api.conftest import assert_error
from tests.conftest import make_mandate

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _form(**overrides):
    today = dt.date.today()
    form = {
        "reference": "M-2026-01",
        "services": ["exposure_scan", "phishing"],
        "signed_by_name": "Mme la Directrice",
        "signed_by_title": "Directrice",
        "signed_on": today.isoformat(),
        "valid_from": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=365)).isoformat(),
        "document": SimpleUploadedFile("mandat signé.pdf", PDF, content_type="application/pdf"),
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def test_upload_stores_the_documents_sha256(region, api):
    response = api("director").multipart(f"/structures/{region.a.pk}/mandates", _form())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["document_sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["services"] == ["exposure_scan", "phishing"]
    assert body["state"] == "active" and body["scope"] == {"all_assets": True, "assets": []}
    assert "mandates/" not in response.content.decode()  # the storage path never leaves
    mandate = Mandate.objects.get(pk=body["id"])
    assert mandate.covers("phishing") and not mandate.covers("directory_audit")
    entry = AuditEntry.objects.filter(action="mandate.create").latest("sequence")
    assert entry.changes["document_sha256"] == body["document_sha256"]
    assert entry.source_ip == "127.0.0.1"


def test_a_document_that_is_not_a_pdf_is_refused(region, api):
    client = api("director")
    for name, content in (
        ("mandat.exe", b"MZ\x90\x00"),
        ("mandat.pdf", b"<html>not a pdf"),
        ("mandat.pdf", b""),
        ("mandat", PDF),
    ):
        document = SimpleUploadedFile(name, content)
        response = client.multipart(f"/structures/{region.a.pk}/mandates", _form(document=document))
        error = assert_error(response, 422)
        assert "document" in error["details"], (name, error)
    assert Mandate.objects.filter(structure=region.a).count() == 1


def test_missing_document_and_bad_fields_are_reported(region, api):
    client = api("director")
    response = client.multipart(
        f"/structures/{region.a.pk}/mandates",
        _form(document=None, services=["teleportation"], signed_on="31/12/2026"),
    )
    error = assert_error(response, 422)
    assert {"document", "services.0", "signed_on"} <= set(error["details"]), error
    response = client.multipart(
        f"/structures/{region.a.pk}/mandates",
        _form(valid_until=(dt.date.today() - dt.timedelta(days=1)).isoformat()),
    )
    assert "valid_until" in assert_error(response, 422)["details"]


@override_settings(CARBET_MAX_UPLOAD_BYTES=10)
def test_an_oversized_document_is_a_413(region, api):
    response = api("director").multipart(f"/structures/{region.a.pk}/mandates", _form())
    assert_error(response, 413, "payload_too_large")


def test_a_mandate_may_cover_chosen_assets_of_its_structure_only(region, api):
    client = api("director")
    own = Asset.objects.get(structure=region.a)
    foreign = Asset.objects.get(structure=region.b)
    response = client.multipart(
        f"/structures/{region.a.pk}/mandates",
        _form(all_assets="false", assets=[own.pk, foreign.pk]),
    )
    assert "assets" in assert_error(response, 422)["details"]
    response = client.multipart(
        f"/structures/{region.a.pk}/mandates", _form(all_assets="false", assets=[own.pk])
    )
    assert response.status_code == 201, response.content
    assert response.json()["scope"] == {
        "all_assets": False,
        "assets": [{"id": own.pk, "kind": "domain", "value": "alpha.test"}],
    }


def test_who_may_record_a_mandate(region, api):
    assert_error(api("referent").multipart(f"/structures/{region.a.pk}/mandates", _form()), 403)
    assert_error(api("director").multipart(f"/structures/{region.b.pk}/mandates", _form()), 404)
    assert_error(api("ars_viewer").multipart(f"/structures/{region.a.pk}/mandates", _form()), 404)


def test_it_provider_cannot_see_mandates(region, api):
    client = api("it_provider")
    mandate = Mandate.objects.get(structure=region.a)
    assert_error(client.get("/mandates"), 403)
    assert_error(client.get(f"/mandates/{mandate.pk}"), 404)
    assert_error(client.get(f"/mandates/{mandate.pk}/document"), 404)
    assert_error(client.post(f"/mandates/{mandate.pk}/revoke", {"reason": "x"}), 404)
    assert "mandate.view" not in client.get("/me").json()["permissions"]


def test_mandate_list_detail_and_filters(region, api):
    client = api("org_director")
    today = dt.date.today()
    make_mandate(
        region.a2,
        reference="OLD",
        valid_from=today - dt.timedelta(days=400),
        signed_on=today - dt.timedelta(days=400),
        valid_until=today - dt.timedelta(days=35),
    )
    body = client.get("/mandates").json()
    assert {m["structure"]["id"] for m in body["results"]} == {region.a.pk, region.a2.pk}
    expired = client.get("/mandates", state="expired").json()["results"]
    assert [m["reference"] for m in expired] == ["OLD"]
    assert client.get("/mandates", structure=region.a.pk).json()["count"] == 1
    assert_error(client.get("/mandates", state="soonish"), 422)
    detail = client.get(f"/mandates/{expired[0]['id']}").json()
    assert detail["validity"]["valid_until"] == (today - dt.timedelta(days=35)).isoformat()
    assert set(detail) >= {"services", "scope", "validity", "state", "document_sha256"}
    assert "document" not in detail


def test_revoke(region, api):
    mandate = Mandate.objects.get(structure=region.a)
    assert_error(api("referent").post(f"/mandates/{mandate.pk}/revoke", {"reason": "x"}), 403)
    client = api("director")
    assert_error(client.post(f"/mandates/{mandate.pk}/revoke", {"reason": ""}), 422)
    assert_error(client.post(f"/mandates/{mandate.pk}/revoke", {}), 422)
    body = client.post(f"/mandates/{mandate.pk}/revoke", {"reason": "Prestataire changé"}).json()
    assert body["state"] == "revoked" and body["status_reason"] == "Prestataire changé"
    assert_error(client.post(f"/mandates/{mandate.pk}/revoke", {"reason": "again"}), 409)
    assert AuditEntry.objects.filter(action="mandate.revoke", object_id=str(mandate.pk)).exists()


def test_document_download_is_audited(region, api):
    mandate = Mandate.objects.get(structure=region.a)
    response = api("referent").get(f"/mandates/{mandate.pk}/document")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 signed"
    assert response["Content-Disposition"].startswith("attachment")
    entry = AuditEntry.objects.filter(action="mandate.download").latest("sequence")
    assert entry.actor_id == region.users["referent"].pk
    assert entry.object_id == str(mandate.pk) and entry.source_ip == "127.0.0.1"


def test_a_missing_document_file_is_a_404_not_a_crash(region, api):
    mandate = Mandate.objects.get(structure=region.a)
    mandate.document.storage.delete(mandate.document.name)
    assert_error(api("director").get(f"/mandates/{mandate.pk}/document"), 404)


@settings(max_examples=60, deadline=None)
@given(
    status=st.sampled_from(["active", "revoked"]),
    start=st.integers(-400, 60),
    length=st.integers(0, 500),
)
def test_state_filter_agrees_with_mandate_state(status, start, length):
    """The list filter (a query) and the state shown (Python) can never disagree."""
    today = timezone.localdate()
    mandate = Mandate(
        status=status,
        valid_from=today + dt.timedelta(days=start),
        valid_until=today + dt.timedelta(days=start + length),
    )
    matching = []
    for state in MANDATE_STATES:
        condition = state_filter(state, today)
        if _evaluate(condition, mandate):
            matching.append(state)
    assert matching == [mandate_state(mandate, today)]


def _evaluate(condition, mandate) -> bool:
    """Evaluate a Q of simple lookups on an unsaved instance (same semantics as SQL here)."""
    import operator

    ops = {
        "exact": operator.eq,
        "gt": operator.gt,
        "gte": operator.ge,
        "lt": operator.lt,
        "lte": operator.le,
    }
    results = []
    for child in condition.children:
        if hasattr(child, "children"):
            results.append(_evaluate(child, mandate))
            continue
        lookup, expected = child
        field, _sep, op = lookup.partition("__")
        results.append(ops[op or "exact"](getattr(mandate, field), expected))
    combined = all(results) if condition.connector == "AND" else any(results)
    return not combined if condition.negated else combined


@override_settings(CARBET_MAX_UPLOAD_BYTES=1024)
def test_an_announced_oversized_upload_is_refused_before_it_is_read(region, api):
    big = SimpleUploadedFile("mandat.pdf", PDF + b"0" * 200_000)
    response = api("director").multipart(f"/structures/{region.a.pk}/mandates", _form(document=big))
    assert_error(response, 413, "payload_too_large")
    assert Mandate.objects.filter(structure=region.a).count() == 1
