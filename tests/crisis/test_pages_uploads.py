"""Hostile evidence uploads through the page: each is refused with a plain sentence, the form
comes back with what was typed, and nothing is stored (no row, no file). A good file keeps its
SHA-256, shown on the page, and comes back byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carbet.crisis.models import Evidence

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _post(client, case, upload, description="Capture de l'écran de rançon, poste 12"):
    return client.post(
        reverse("crisis:evidence", args=[case.pk]),
        {"file": upload, "description": description, "holder": "DSI"},
    )


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (SimpleUploadedFile("rapport.pdf", b"MZ\x90\x00" + b"\x00" * 200), "ne correspond pas"),
        (SimpleUploadedFile("outil.exe", b"MZ\x90\x00" + b"\x00" * 200), "format"),
        (SimpleUploadedFile("vide.pdf", b""), ""),
    ],
    ids=["exe-renamed-pdf", "exe", "empty"],
)
def test_a_hostile_file_is_refused_clearly_and_nothing_is_lost(region, case, keys, upload, words):
    media = Path(keys) / "media"
    before = _files(media)
    response = _post(region.client("director"), case, upload)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in body
    assert words.lower() in body.lower()
    assert "Capture de l&#x27;écran de rançon, poste 12" in body  # what was typed stays
    assert not Evidence.objects.exists()
    assert _files(media) == before


def test_a_file_too_large_is_refused(region, case, keys, settings):
    settings.CARBET_MAX_UPLOAD_BYTES = 1024
    response = _post(
        region.client("director"), case, SimpleUploadedFile("gros.pdf", PDF + b"0" * 4096)
    )
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_good_file_keeps_its_fingerprint_and_a_safe_name(region, case, keys):
    client = region.client("director")
    response = _post(client, case, SimpleUploadedFile("../../etc/rançon (1).pdf", PDF))
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    digest = hashlib.sha256(PDF).hexdigest()
    assert evidence.sha256 == digest
    assert ".." not in evidence.stored_name and "/etc/" not in evidence.stored_name
    page = client.get(reverse("crisis:evidence", args=[case.pk])).content.decode()
    assert digest in page
    download = client.get(reverse("crisis:evidence_file", args=[case.pk, evidence.pk]))
    assert download.content == PDF
    assert "/" not in download["Content-Disposition"].split("filename=")[1]


def test_another_structure_cannot_upload_nor_download(region, case, keys):
    client = region.client("director")
    _post(client, case, SimpleUploadedFile("preuve.pdf", PDF))
    evidence = Evidence.objects.get()
    other = region.client("director_b")
    assert _post(other, case, SimpleUploadedFile("x.pdf", PDF)).status_code == 404
    url = reverse("crisis:evidence_file", args=[case.pk, evidence.pk])
    assert other.get(url).status_code == 404
    assert Evidence.objects.count() == 1
