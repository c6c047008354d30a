"""The crisis PDFs as a reader sees them: every page rendered to an image (pdftoppm) carries
ink, and each file stays within the page count it promises. The crisis kit is rebuilt when a
contact changes; the full main courante is a tagged PDF whose text is the log's."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.core.models import Contact
from carbet.crisis import pdf, services_log
from carbet.crisis.pdf_text import TextPdf

pytestmark = pytest.mark.django_db


def _pages_as_images(data: bytes, tmp_path: Path) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    source = tmp_path / "file.pdf"
    source.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(source), str(tmp_path / "page")],
        check=True,
        timeout=120,
    )
    return sorted(tmp_path.glob("page-*.png"))


def _ink(image: Path) -> float:
    """Share of the page's pixels that are not white."""
    from PIL import Image

    with Image.open(image) as picture:
        grey = picture.convert("L")
        pixels = grey.getdata()
        dark = sum(1 for value in pixels if value < 200)
        return dark / len(pixels)


def _text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_the_crisis_kit_prints_the_contacts_on_a_few_inked_pages(region, keys, tmp_path):
    Contact.objects.create(
        structure=region.a, role="director", name="Mme Kit Directrice", phone="0639980001"
    )
    data = pdf.crisis_kit(region.a, site_url="https://carbet.centre.test/")
    images = _pages_as_images(data, tmp_path)
    assert 4 <= len(images) <= 10
    assert all(_ink(image) > 0.002 for image in images)
    text = _text(data)
    assert "Mme Kit Directrice" in text and "0639980001" in text
    assert "Main courante papier" in text and "carbet.centre.test" in text


def test_the_kit_is_rebuilt_when_a_contact_changes(region, keys):
    contact = Contact.objects.create(structure=region.a, role="dpo", name="M. Ancien DPO")
    before = pdf.kit_digest(region.a)
    first = pdf.crisis_kit(region.a)
    assert pdf.crisis_kit(region.a) == first  # unchanged: served from the cache
    contact.name = "Mme Nouvelle DPO"
    contact.save()
    assert pdf.kit_digest(region.a) != before
    assert "Mme Nouvelle DPO" in _text(pdf.crisis_kit(region.a))


def test_the_kit_is_reachable_from_the_structure_page(region, keys):
    response = region.client("director").get(reverse("crisis:kit_pdf", args=[region.a.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")


def test_the_full_log_pdf_holds_every_entry_with_corrections(region, case, tmp_path):
    user = region.users["director"]
    first = None
    for n in range(300):
        entry = services_log.append_entry(
            user, case, text=f"Entrée numéro {n} — été, œuvre", kind="fact"
        )
        first = first or entry
    services_log.correct_entry(user, first, text="Entrée corrigée")
    data = pdf.log_pdf(case)
    images = _pages_as_images(data, tmp_path)
    total = case.log.count()
    assert 3 <= len(images) <= total // 20 + 2
    assert all(_ink(image) > 0.002 for image in images)
    text = " ".join(_text(data).split())  # lines wrap wherever the widths fall
    assert "Entrée numéro 299 — été, œuvre" in text
    assert f"CORRIGÉE par le n° {total}" in text
    assert "chaîne vérifiée" in text


def test_the_log_pdf_is_tagged(region, case):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf.log_pdf(case)))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root and root["/Lang"] == "fr"
    assert reader.metadata.title.startswith("Main courante")


def test_the_case_report_pdf(region, case, tmp_path):
    data = region.client("director").get(reverse("crisis:report_pdf", args=[case.pk])).content
    images = _pages_as_images(data, tmp_path)
    assert 2 <= len(images) <= 12
    assert all(_ink(image) > 0.002 for image in images)
    assert case.reference in _text(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=400), min_size=1, max_size=6))
def test_any_text_gives_a_readable_pdf(texts):
    """Whatever a log entry holds (parentheses, backslashes, control characters, emoji, very
    long words), the writer produces a PDF a reader opens."""
    from pypdf import PdfReader

    doc = TextPdf("Essai (test) \\ ok")
    for text in texts:
        doc.paragraph(text, strike_from=1)
    assert len(PdfReader(io.BytesIO(doc.render())).pages) >= 1


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàçùœÉ€()\\0123456789.,;:!?'-", min_size=1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(WORDS, min_size=1, max_size=120))
def test_french_text_comes_back_whole(words):
    """Wrapping and escaping lose nothing: the text read back from the file, spaces aside, is
    the text written (long tokens are cut across lines, never dropped)."""
    from pypdf import PdfReader

    text = " ".join(words)
    doc = TextPdf("Essai")
    doc.paragraph(text)
    reader = PdfReader(io.BytesIO(doc.render()))
    back = "".join(page.extract_text() or "" for page in reader.pages)
    assert "".join(text.split()) in "".join(back.split())
