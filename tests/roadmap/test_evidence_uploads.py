"""The roadmap evidence hole of issue 12: the form promised PDF/image/office documents only, but
the service stored anything whose name ended well (an .exe renamed .pdf). Now it goes through
carbet.core.uploads, which checks the content."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carbet.core import uploads
from carbet.roadmap import services_evidence
from carbet.roadmap.models import Evidence
from tests.roadmap.conftest import pdf_upload

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def _files() -> list:
    root = uploads.storage_root()
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("plan.pdf", EXE),
        ("plan.docx", bytes(range(256)) * 8),
        ("plan.pdf", b"\x7fELF" + b"\x01" * 60),
    ],
)
def test_roadmap_evidence_refuses_what_is_not_a_pdf_image_or_office_document(rm, name, content):
    before = set(_files())
    with pytest.raises(ValidationError) as caught:
        services_evidence.upload(
            rm.users["referent"],
            rm.a,
            SimpleUploadedFile(name, content),
            title="PCA",
            issued_on=rm.today,
        )
    assert "document" in caught.value.message_dict
    assert "ne correspond pas" in " ".join(caught.value.messages)
    assert not Evidence.objects.exists() and set(_files()) == before


@pytest.mark.django_db
def test_roadmap_evidence_page_says_why_a_renamed_program_is_refused(rm):
    response = rm.client("referent").post(
        reverse("roadmap:evidence", args=[rm.a.pk]),
        {
            "title": "PCA",
            "issued_on": rm.today.isoformat(),
            "document": SimpleUploadedFile("pca.pdf", EXE),
        },
    )
    assert response.status_code == 200
    assert "ne correspond pas à son extension" in response.content.decode()
    assert not Evidence.objects.exists()


@pytest.mark.django_db
def test_roadmap_evidence_keeps_a_real_pdf_under_a_random_name(rm):
    evidence = services_evidence.upload(
        rm.users["referent"],
        rm.a,
        pdf_upload("Plan de continuité.pdf"),
        title="PCA",
        issued_on=rm.today,
    )
    assert evidence.document_name == "Plan de continuité.pdf"
    assert "continuit" not in evidence.document.name
    assert evidence.document.name.startswith("roadmap/evidence/")
    with uploads.open_upload(evidence.document.name) as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == evidence.document_sha256
