"""Forms of the registry: contacts, assets, mandates, structures and organisations."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carbet.audit.models import AuditEntry
from carbet.core.choices import MandateStatus
from carbet.core.models import Asset, Contact, Mandate, Organisation, Structure

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def last_action() -> str:
    return AuditEntry.objects.order_by("-sequence").values_list("action", flat=True).first()


# --- Contacts --------------------------------------------------------------------------------


def test_contact_add_edit_delete(region):
    client = region.client("referent")
    url = reverse("core:contact_add", args=[region.a.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"role": "cyber_referent", "name": "Réf", "email": "ref@alpha.test", "phone": ""}
    )
    assert response.status_code == 302
    contact = Contact.objects.get(name="Réf")
    assert contact.structure == region.a
    assert last_action() == "contact.create"
    edit = reverse("core:contact_edit", args=[contact.pk])
    response = client.post(edit, {"role": "cyber_referent", "name": "Réf 2", "email": "bad"})
    assert response.status_code == 200
    assert "adresse de courriel valide" in response.content.decode()
    client.post(edit, {"role": "cyber_referent", "name": "Réf 2", "email": ""})
    contact.refresh_from_db()
    assert contact.name == "Réf 2"
    assert last_action() == "contact.update"
    delete = reverse("core:contact_delete", args=[contact.pk])
    assert client.get(delete).status_code == 200
    assert client.post(delete).status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert last_action() == "contact.delete"


def test_it_provider_cannot_edit_contacts(region):
    client = region.client("it_provider")
    contact = region.a.contacts.get()
    assert client.get(reverse("core:contact_add", args=[region.a.pk])).status_code == 403
    assert client.post(reverse("core:contact_delete", args=[contact.pk])).status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


# --- Assets ----------------------------------------------------------------------------------


def asset_post(**overrides):
    data = {
        "kind": "domain",
        "value": "hôpital.fr",
        "label": "Site",
        "criticality": "high",
        "internet_exposed": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_asset_add_normalises_idna(region):
    client = region.client("it_provider")
    response = client.post(reverse("core:asset_add", args=[region.a.pk]), asset_post())
    assert response.status_code == 302
    asset = Asset.objects.get(label="Site")
    assert asset.value == "xn--hpital-ixa.fr"
    assert not asset.validated
    assert last_action() == "asset.create"


@pytest.mark.parametrize(
    ("post", "message"),
    [
        (asset_post(kind="ipv4", value="10.1.2.3"), "adresse est privée"),
        (asset_post(kind="ipv4", value="999.1.1.1"), "pas une adresse IP valide"),
        (asset_post(kind="cidr", value="8.8.0.0/16"), "1024 au plus"),
        (asset_post(kind="domain", value="exa mple.fr"), "ni espace"),
        (asset_post(kind="ipv6", value="8.8.8.8"), "pas du type choisi"),
    ],
)
def test_asset_add_with_invalid_value_shows_french_error_and_keeps_data(region, post, message):
    client = region.client("director")
    response = client.post(reverse("core:asset_add", args=[region.a.pk]), post)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    form = response.context["form"]
    assert form["value"].value() == post["value"]
    assert form["label"].value() == "Site"
    assert form["criticality"].value() == "high"
    assert not Asset.objects.filter(label="Site").exists()


def test_private_address_is_fine_for_an_internal_asset(region):
    client = region.client("director")
    post = asset_post(kind="cidr", value="10.0.0.0/24", internet_exposed=None)
    assert client.post(reverse("core:asset_add", args=[region.a.pk]), post).status_code == 302
    assert Asset.objects.get(label="Site").value == "10.0.0.0/24"


def test_duplicate_asset_is_refused_kindly(region):
    client = region.client("director")
    response = client.post(
        reverse("core:asset_add", args=[region.a.pk]), asset_post(value="ALPHA.test.")
    )
    assert response.status_code == 200
    assert "déjà déclaré" in response.content.decode()


def test_asset_edit_withdraws_validation_when_value_changes(region):
    asset = Asset.objects.get(value="alpha.test")
    client = region.client("it_provider")
    url = reverse("core:asset_edit", args=[asset.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, asset_post(value="alpha2.test"))
    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.value == "alpha2.test" and not asset.validated


def test_asset_validate_by_director_only(region):
    asset = Asset.objects.create(structure=region.a, kind="domain", value="pending.test")
    url = reverse("core:asset_validate", args=[asset.pk])
    assert region.client("it_provider").post(url).status_code == 403
    assert region.client("centre_admin").post(url).status_code == 403
    assert region.client("director").get(url).status_code == 405
    assert region.client("director").post(url).status_code == 302
    asset.refresh_from_db()
    assert asset.validated and asset.validated_by == region.users["director"]
    assert last_action() == "asset.validate"


def test_asset_delete(region):
    asset = Asset.objects.get(value="alpha.test")
    client = region.client("referent")
    assert client.get(reverse("core:asset_delete", args=[asset.pk])).status_code == 200
    assert client.post(reverse("core:asset_delete", args=[asset.pk])).status_code == 302
    assert not Asset.objects.filter(pk=asset.pk).exists()
    assert last_action() == "asset.delete"


# --- Mandates --------------------------------------------------------------------------------


def mandate_post(document, **overrides):
    today = dt.date.today()
    data = {
        "services": ["exposure_scan", "phishing"],
        "scope": "all",
        "reference": "M-2026-01",
        "signed_by_name": "Mme Directrice",
        "signed_by_title": "Directrice",
        "signed_on": today.isoformat(),
        "valid_from": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=365)).isoformat(),
        "document": document,
    }
    data.update(overrides)
    return data


def test_mandate_upload_stores_document_with_its_sha256(region):
    client = region.client("director")
    url = reverse("core:mandate_add", args=[region.a.pk])
    assert client.get(url).status_code == 200
    document = SimpleUploadedFile("mandat signé.pdf", PDF, content_type="application/pdf")
    response = client.post(url, mandate_post(document))
    assert response.status_code == 302
    mandate = Mandate.objects.get(reference="M-2026-01")
    assert mandate.document_sha256 == hashlib.sha256(PDF).hexdigest()
    assert mandate.services == ["exposure_scan", "phishing"]
    assert mandate.all_assets
    assert mandate.recorded_by == region.users["director"]
    with mandate.document.open("rb") as handle:
        assert handle.read() == PDF
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert entry.action == "mandate.create"
    assert entry.changes["document_sha256"] == mandate.document_sha256


def test_mandate_upload_with_chosen_assets(region):
    asset = Asset.objects.get(value="alpha.test")
    client = region.client("centre_analyst")
    document = SimpleUploadedFile("m.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50)
    response = client.post(
        reverse("core:mandate_add", args=[region.a.pk]),
        mandate_post(document, scope="chosen", assets=[asset.pk], reference="M-choisi"),
    )
    assert response.status_code == 302
    mandate = Mandate.objects.get(reference="M-choisi")
    assert not mandate.all_assets
    assert list(mandate.assets.all()) == [asset]


def test_mandate_upload_refuses_an_exe_renamed_pdf(region):
    client = region.client("director")
    fake = SimpleUploadedFile("mandat.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100)
    response = client.post(reverse("core:mandate_add", args=[region.a.pk]), mandate_post(fake))
    assert response.status_code == 200
    assert "ne correspond pas à son extension" in response.content.decode()
    assert not Mandate.objects.filter(reference="M-2026-01").exists()
    form = response.context["form"]
    assert form["signed_by_name"].value() == "Mme Directrice"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("mandat.exe", b"MZ" + b"0" * 10, "PDF, PNG ou JPEG"),
        ("mandat.docx", b"PK\x03\x04", "PDF, PNG ou JPEG"),
    ],
)
def test_mandate_upload_refuses_other_types(region, name, content, message):
    response = region.client("director").post(
        reverse("core:mandate_add", args=[region.a.pk]),
        mandate_post(SimpleUploadedFile(name, content)),
    )
    assert response.status_code == 200
    assert message in response.content.decode()


def test_mandate_upload_refuses_oversize(region, settings):
    settings.CARBET_MAX_UPLOAD_BYTES = 100
    response = region.client("director").post(
        reverse("core:mandate_add", args=[region.a.pk]),
        mandate_post(SimpleUploadedFile("m.pdf", PDF + b"0" * 200)),
    )
    assert response.status_code == 200
    assert "taille maximale" in response.content.decode()


def test_mandate_form_checks_dates_and_services(region):
    today = dt.date.today()
    response = region.client("director").post(
        reverse("core:mandate_add", args=[region.a.pk]),
        mandate_post(
            SimpleUploadedFile("m.pdf", PDF),
            services=[],
            valid_until=(today - dt.timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 200
    assert "Cochez au moins un service" in response.content.decode()


def test_mandate_upload_denied_to_it_provider_and_referent(region):
    url = reverse("core:mandate_add", args=[region.a.pk])
    assert region.client("it_provider").get(url).status_code == 403
    assert region.client("referent").get(url).status_code == 403


def test_mandate_document_download(region):
    mandate = region.a.mandates.get()
    response = region.client("referent").get(reverse("core:mandate_document", args=[mandate.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"%PDF-1.4 signed"
    assert last_action() == "mandate.download"


def test_mandate_document_denied_to_it_provider_and_other_structures(region):
    mandate = region.a.mandates.get()
    url = reverse("core:mandate_document", args=[mandate.pk])
    before = AuditEntry.objects.count()
    assert region.client("it_provider").get(url).status_code == 403
    assert region.client("director_b").get(url).status_code == 404
    assert region.client("ars_viewer").get(url).status_code == 404
    assert AuditEntry.objects.count() == before


def test_mandate_revoke(region):
    mandate = region.a.mandates.get()
    url = reverse("core:mandate_revoke", args=[mandate.pk])
    assert region.client("referent").get(url).status_code == 403
    client = region.client("director")
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 200
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.ACTIVE
    assert client.post(url, {"reason": "Changement de prestataire"}).status_code == 302
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.REVOKED
    assert mandate.status_reason == "Changement de prestataire"
    assert last_action() == "mandate.revoke"
    assert client.get(url).status_code == 302  # already revoked: back to the page


# --- Structures and organisations -------------------------------------------------------------


def test_centre_staff_create_and_edit_a_structure(region):
    client = region.client("centre_analyst")
    url = reverse("core:structure_create")
    assert client.get(url).status_code == 200
    data = {
        "finess_et": "750712184",
        "name": "Clinique Gamma",
        "organisation": region.org_b.pk,
        "category": "clinique",
        "departement": "75",
        "beds": "40",
        "places": "0",
        "activity_weight": "1",
    }
    response = client.post(url, {**data, "finess_et": "750712185"})
    assert response.status_code == 200
    assert "clé de contrôle" in response.content.decode()
    response = client.post(url, data)
    assert response.status_code == 302
    created = Structure.objects.get(finess_et="750712184")
    assert last_action() == "structure.create"
    edit = reverse("core:structure_edit", args=[created.pk])
    client.post(edit, {**data, "name": "Clinique Gamma Sud"})
    created.refresh_from_db()
    assert created.name == "Clinique Gamma Sud"


def test_centre_staff_create_an_organisation(region):
    client = region.client("centre_admin")
    response = client.post(
        reverse("core:organisation_create"),
        {"finess_ej": "2A0000012", "name": "Asso Corse", "legal_status": "private_non_profit"},
    )
    assert response.status_code == 302
    organisation = Organisation.objects.get(name="Asso Corse")
    assert organisation.finess_ej == "2A0000012"
    edit = reverse("core:organisation_edit", args=[organisation.pk])
    assert client.get(edit).status_code == 200


@pytest.mark.parametrize("role", ["director", "referent", "it_provider", "ars_viewer"])
def test_structure_people_cannot_create_or_edit_structures(region, role):
    client = region.client(role)
    assert client.get(reverse("core:structure_create")).status_code == 403
    assert client.get(reverse("core:structure_edit", args=[region.a.pk])).status_code == 403
    assert client.get(reverse("core:organisation_create")).status_code == 403
    edit = reverse("core:organisation_edit", args=[region.org_a.pk])
    assert client.get(edit).status_code == 403


# --- Another structure's people get 404 everywhere --------------------------------------------


def foreign_urls(region):
    """Every object URL of structure ``a``'s rows (seen from structure ``b``)."""
    contact = region.a.contacts.get()
    asset = region.a.assets.get()
    mandate = region.a.mandates.get()
    return [
        ("get", reverse("core:structure", args=[region.a.pk])),
        ("get", reverse("core:contact_add", args=[region.a.pk])),
        ("get", reverse("core:contact_edit", args=[contact.pk])),
        ("post", reverse("core:contact_delete", args=[contact.pk])),
        ("get", reverse("core:asset_add", args=[region.a.pk])),
        ("get", reverse("core:asset_edit", args=[asset.pk])),
        ("post", reverse("core:asset_delete", args=[asset.pk])),
        ("post", reverse("core:asset_validate", args=[asset.pk])),
        ("get", reverse("core:mandate_add", args=[region.a.pk])),
        ("get", reverse("core:mandate_document", args=[mandate.pk])),
        ("post", reverse("core:mandate_revoke", args=[mandate.pk])),
        ("get", reverse("core:export_assets", args=[region.a.pk])),
        ("get", reverse("core:organisation", args=[region.org_a.pk])),
        ("get", reverse("core:ght", args=[region.ght.pk])),
    ]


@pytest.mark.parametrize("role", ["director_b", "nobody"])
def test_another_structure_gets_404_on_every_object(region, role):
    client = region.client(role)
    for method, url in foreign_urls(region):
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
    assert region.a.contacts.exists() and region.a.assets.exists()
    assert region.a.mandates.get().status == MandateStatus.ACTIVE
