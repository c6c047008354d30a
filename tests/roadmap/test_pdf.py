"""The director's "feuille de route" PDF, checked as rendered pages: page count, pages not
blank, expected text (poppler's pdftoppm turns pages into PNG under test-artifacts/roadmap/)."""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

from django.urls import reverse
from PIL import Image, ImageStat
from pypdf import PdfReader

from carbet.audit.models import AuditEntry
from carbet.core.tenancy import SYSTEM
from carbet.roadmap import services, services_backups, services_roadmap
from carbet.roadmap.models import RoadmapItem

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "roadmap"


def _pages_as_png(pdf: bytes, name: str) -> list[Path]:
    assert shutil.which("pdftoppm"), "install poppler-utils (apt-get install poppler-utils)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    target = ARTIFACTS / f"{name}.pdf"
    target.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", str(target), str(ARTIFACTS / name)],
        check=True,
        timeout=120,
    )
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


def _seed(rm) -> None:
    diagnostic = services.assessment_for(rm.a, rm.frameworks["diagnostic"])
    services.save_theme(
        SYSTEM,
        diagnostic,
        {
            "acc.mfa": "0",
            "inf.sauvegarde": "1",
            "gov.referent": "2",
            "pos.maj": "3",
            "sen.formation": "1",
            "rea.procedure": "0",
            "gov.inventaire": "1",
        },
    )
    user = rm.users["centre_analyst"]
    roadmap = services_roadmap.propose_roadmap(user, rm.a)
    first = RoadmapItem.objects.filter(roadmap=roadmap).order_by("rank").first()
    services_roadmap.save_item(
        user,
        roadmap,
        {
            "budget": Decimal("4800"),
            "funding_domain": "D2",
            "funding_amount": Decimal("4000"),
            "owner_label": "Directrice",
        },
        first,
    )
    system = services_backups.save_system(
        user,
        rm.a,
        {
            "name": "DPI",
            "criticality": "critical",
            "method": "image",
            "copies": 3,
            "media": 2,
            "offsite": True,
            "immutable_offline": True,
            "supervised": True,
        },
    )
    services_backups.record_restore_test(
        user,
        system,
        {
            "tested_on": rm.today,
            "scope": "Base DPI",
            "result": "success",
            "to_production": True,
            "business_referent": "Cadre de santé",
        },
    )


def test_roadmap_pdf_pages_are_readable_images_with_the_expected_text(rm):
    _seed(rm)
    response = rm.client("director").get(reverse("roadmap:plan_pdf", args=[rm.a.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    reader = PdfReader(io.BytesIO(pdf))
    texts = [" ".join((p.extract_text() or "").split()) for p in reader.pages]
    assert len(texts) >= 3  # summary, plan, CaRE checklist
    pngs = _pages_as_png(pdf, "feuille-de-route")
    assert len(pngs) == len(texts)
    for png in pngs:
        variance = ImageStat.Stat(Image.open(png).convert("L")).var[0]
        assert variance > 50, f"{png.name} looks blank"
    assert "Feuille de route cybersécurité" in texts[0]
    assert rm.a.name in texts[0]
    assert "Vos six priorités" in texts[0]
    assert "Le plan, année par année" in texts[1]
    everything = " ".join(texts)
    assert "4 800" in everything or "4800" in everything
    assert "CaRE D2" in everything
    assert "Test de restauration du" in everything  # automatic evidence in the checklist
    assert AuditEntry.objects.filter(action="roadmap.pdf").exists()
    # another structure's director gets nothing
    other = rm.client("director_b").get(reverse("roadmap:plan_pdf", args=[rm.a.pk]))
    assert other.status_code == 404
