"""carbet.core.uploads: one path for every upload (size, type by content, names, root, SHA-256).

The roadmap evidence hole of issue 12 is tested in tests/roadmap/test_evidence_uploads.py.
"""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.core import uploads
from carbet.core.uploads import Kind

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX = _zip(
    {
        "[Content_Types].xml": b'<Types><Override ContentType="application/vnd.openxmlformats-'
        b'officedocument.wordprocessingml.document.main+xml"/></Types>',
        "word/document.xml": b"<w:document/>",
    }
)
ODT = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})


def _files() -> list:
    root = uploads.storage_root()
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- Content sniffing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "kinds", "kind"),
    [
        ("a.pdf", PDF, uploads.IMAGES_AND_PDF, Kind.PDF),
        ("a.PNG", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, uploads.IMAGES_AND_PDF, Kind.PNG),
        ("a.jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, uploads.IMAGES_AND_PDF, Kind.JPEG),
        ("a.docx", DOCX, uploads.OFFICE, Kind.DOCX),
        ("a.odt", ODT, uploads.OFFICE, Kind.ODT),
        ("a.txt", "déjà fait".encode(), {Kind.TEXT}, Kind.TEXT),
        ("liste", b"nom;email\nA;a@b.fr\n", {Kind.TABLE}, Kind.TABLE),
        ("x.snap", b"CARBETAD\x01\x00rest", {Kind.AD_SNAPSHOT}, Kind.AD_SNAPSHOT),
        (
            "ad_hc.xml",
            b"\xef\xbb\xbf  <?xml version='1.0'?><x/>",
            {Kind.PINGCASTLE},
            Kind.PINGCASTLE,
        ),
    ],
)
def test_real_files_are_accepted_with_their_digest(name, data, kinds, kind):
    loaded = uploads.check_bytes(data, name, kinds)
    assert loaded.kind == kind
    assert loaded.sha256 == hashlib.sha256(data).hexdigest() and loaded.size == len(data)


@pytest.mark.parametrize(
    ("name", "data", "kinds", "code"),
    [
        ("setup.exe", EXE, uploads.IMAGES_AND_PDF, "type"),
        ("setup.pdf", EXE, uploads.IMAGES_AND_PDF, "content"),
        ("fake.png", PDF, uploads.IMAGES_AND_PDF, "content"),
        ("fake.docx", ODT, uploads.OFFICE, "content"),
        ("fake.xlsx", DOCX, uploads.OFFICE, "content"),
        ("fake.odt", b"PK\x03\x04garbage", uploads.OFFICE, "content"),
        ("notes.txt", b"abc\x00def", {Kind.TEXT}, "content"),
        ("empty.pdf", b"", uploads.IMAGES_AND_PDF, "empty"),
        ("list.csv", EXE, {Kind.TABLE}, "content"),
        ("snap", b"not a snapshot", {Kind.AD_SNAPSHOT}, "content"),
    ],
)
def test_wrong_files_are_refused_with_a_french_reason(name, data, kinds, code):
    with pytest.raises(ValidationError) as caught:
        uploads.check_bytes(data, name, kinds)
    assert uploads.refusal_code(caught.value) == code
    message = " ".join(caught.value.messages)
    assert message and ("fichier" in message.lower() or "illisible" in message.lower())


@override_settings(CARBET_MAX_UPLOAD_BYTES=10)
def test_the_size_limit_is_counted_while_reading_not_trusted_from_the_client():
    upload = SimpleUploadedFile("a.pdf", PDF)
    upload.size = 5  # a client announcing less than it sends
    with pytest.raises(ValidationError) as caught:
        uploads.load(upload, uploads.IMAGES_AND_PDF)
    assert uploads.refusal_code(caught.value) == "size" and "Mo" in " ".join(caught.value.messages)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".pdf", ".docx", ".xlsx", ".odt"]))
def test_random_bytes_are_never_a_pdf_or_office_document_unless_they_start_like_one(data, suffix):
    kinds = {*uploads.IMAGES_AND_PDF, *uploads.OFFICE}
    try:
        loaded = uploads.check_bytes(data, "x" + suffix, kinds)
    except ValidationError:
        return
    if loaded.kind is Kind.PDF:
        assert data.startswith(b"%PDF-")
    else:
        assert data.startswith(b"PK\x03\x04")
        zipfile.ZipFile(io.BytesIO(data)).testzip()  # a real archive


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(min_size=1, max_size=512))
def test_random_bytes_with_a_pdf_head_are_accepted_as_pdf_and_nothing_else(data):
    assert uploads.check_bytes(b"%PDF-" + data, "a.pdf", {Kind.PDF}).kind is Kind.PDF
    with pytest.raises(ValidationError):
        uploads.check_bytes(b"%PDF-" + data, "a.docx", uploads.OFFICE)


# --- Storing and opening ------------------------------------------------------------------------


@pytest.mark.django_db
def test_stored_files_have_random_names_mode_0600_and_the_original_name_as_metadata():
    stored = uploads.store(
        SimpleUploadedFile("../../Mandat signé.pdf", PDF), {Kind.PDF}, area="tests"
    )
    path = uploads.upload_path(stored.name, strict=True)
    assert path.is_relative_to(uploads.storage_root().resolve())
    assert "Mandat" not in stored.name and stored.name.endswith(".pdf")
    assert stored.original_name == "Mandat signé.pdf"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert hashlib.sha256(path.read_bytes()).hexdigest() == stored.sha256
    with uploads.open_upload(stored.name) as handle:
        assert handle.read() == PDF
    uploads.delete_upload(stored.name)


def test_a_refused_file_leaves_nothing_on_disk():
    before = set(_files())
    with pytest.raises(ValidationError):
        uploads.store(SimpleUploadedFile("setup.pdf", EXE), {Kind.PDF}, area="tests")
    assert set(_files()) == before


_HOSTILE = st.one_of(
    st.text(min_size=1, max_size=40),
    st.sampled_from(["../x", "/etc/passwd", "a/../../x", "a\x00b", "..", ".", "a\\..\\b"]),
    st.lists(st.sampled_from(["..", "a", "é", "\x00", "/", "\\", "ü.pdf"]), min_size=1).map(
        "".join
    ),
)


@settings(max_examples=300)
@given(name=_HOSTILE)
def test_no_name_opens_anything_outside_the_storage_root(name):
    root = uploads.storage_root().resolve()
    try:
        path = uploads.upload_path(name)
    except ValueError:
        return
    assert path.is_relative_to(root) and path != root


@settings(
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(name=_HOSTILE)
def test_whatever_the_uploaded_name_the_file_lands_under_the_root(name):
    upload = SimpleUploadedFile("placeholder.pdf", PDF)
    upload.name = name + ".pdf"  # bypass Django's own cleaning: the module must not rely on it
    stored = uploads.store(upload, {Kind.PDF}, area="tests")
    path = uploads.upload_path(stored.name, strict=True)
    assert path.is_relative_to(uploads.storage_root().resolve())
    assert "/" not in stored.original_name and "\x00" not in stored.original_name
    uploads.delete_upload(stored.name)
