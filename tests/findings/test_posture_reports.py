"""PDF reports, checked as rendered pages: page count, pages not blank, expected text.

Each PDF is converted to PNG images with poppler's ``pdftoppm`` (Debian package
``poppler-utils``) under ``test-artifacts/reports/`` so a person can look at them; the test
measures each page's pixel variance with Pillow (a blank page has none) and reads the text back
with pypdf.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image, ImageStat
from pypdf import PdfReader

from carbet.audit.models import AuditEntry
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.posture import reports
from tests.findings.test_posture_fixtures import (
    A_SECRET,
    B_SECRET,
    SHARED_CVE,
    seed_findings,
    widen_region,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"


@pytest.fixture
def seeded(region):
    seed_findings(region)
    return region


def pdf_pages_as_png(pdf: bytes, name: str) -> list[Path]:
    """Write the PDF and its pages as PNG files (72 dpi) under test-artifacts/reports/."""
    assert shutil.which("pdftoppm"), "install poppler-utils (apt-get install poppler-utils)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    target = ARTIFACTS / f"{name}.pdf"
    target.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "72", "-png", str(target), str(ARTIFACTS / name)],
        check=True,
        timeout=120,
    )
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


def assert_not_blank(png: Path) -> None:
    image = Image.open(png).convert("L")
    variance = ImageStat.Stat(image).var[0]
    assert variance > 50, f"{png.name} looks blank (variance {variance:.1f})"


def pdf_text(pdf: bytes) -> list[str]:
    """Each page's text, whitespace normalised (lines wrap anywhere in a table cell)."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return [" ".join((page.extract_text() or "").split()) for page in pages]


def test_director_summary_is_two_readable_pages(seeded):
    client = seeded.client("director")
    url = reverse("findings:structure_report", args=[seeded.a.pk])
    response = client.get(url + "?partie=synthese")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    pages = pdf_pages_as_png(pdf, "structure-summary")
    assert len(pages) == 2
    for png in pages:
        assert_not_blank(png)
    first, second = pdf_text(pdf)
    assert "Où en sommes-nous" in first and seeded.a.name in first
    assert "Les 5 priorités" in second and "Fortinet VPN" in second
    assert "Ce que fait le centre" in second and "prochaines échéances" in second
    assert B_SECRET not in first + second
    entry = AuditEntry.objects.filter(action="report.download").latest("sequence")
    assert entry.structure_id == seeded.a.pk and entry.changes["part"] == "summary"


def test_full_report_adds_the_annex_with_every_open_finding(seeded):
    long_remedy = "Appliquer la mise à jour de l'éditeur puis redémarrer le service. " * 12
    ingest(
        seeded.a,
        "import",
        [
            FindingInput(
                title=f"{A_SECRET} constat importé n° {i} " + "x" * 200,
                fingerprint=f"imported-{i}",
                severity="medium",
                remediation=long_remedy,
            )
            for i in range(25)
        ],
        complete=False,
    )
    pdf = reports.structure_report_pdf(seeded.users["director"], seeded.a)
    pages = pdf_pages_as_png(pdf, "structure-full")
    assert len(pages) >= 4  # two summary pages, then an annex of several pages
    for png in pages:
        assert_not_blank(png)
    texts = pdf_text(pdf)
    # Long titles and remedies never push the summary past two pages.
    assert "Les 5 priorités" in texts[1]
    assert "Détail des vulnérabilités ouvertes" in texts[2]
    annex = "".join(texts[2:])
    assert "constat importé n° 24" in annex and "Plan d'action" in annex
    assert B_SECRET not in "".join(texts)


def test_regional_report_shows_aggregates_only(seeded):
    # Three structures are too few for any anonymous figure: four more make seven.
    added = widen_region(seeded)
    client = seeded.client("ars_viewer")
    response = client.get(reverse("findings:regional_report"))
    assert response.status_code == 200
    pdf = response.content
    pages = pdf_pages_as_png(pdf, "regional")
    assert 1 <= len(pages) <= 3
    for png in pages:
        assert_not_blank(png)
    text = "".join(pdf_text(pdf))
    assert "Indicateurs par catégorie" in text and "Autres (petits groupes)" in text
    for structure in (seeded.a, seeded.a2, seeded.b, *added):
        assert structure.name not in text and structure.finess_et not in text
    assert A_SECRET not in text and B_SECRET not in text and SHARED_CVE not in text


@pytest.mark.parametrize("role", ["director_b", "ars_viewer", "it_provider", "nobody"])
def test_structure_report_refused_to_others(seeded, role):
    response = seeded.client(role).get(reverse("findings:structure_report", args=[seeded.a.pk]))
    assert response.status_code in (403, 404)


@pytest.mark.parametrize("role", ["director", "referent", "director_b", "it_provider"])
def test_regional_report_refused_to_structure_users(seeded, role):
    response = seeded.client(role).get(reverse("findings:regional_report"))
    assert response.status_code == 403
