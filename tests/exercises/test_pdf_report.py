"""The after-action report: a tagged PDF (PDF/UA-1) whose pages, rendered to images with
Poppler's pdftoppm, are not blank; the summary comes first and the detail starts on its own
page; no player is named."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from carbet.core.tenancy import SYSTEM
from carbet.exercises import services_after, services_console
from carbet.exercises.models import Expectation
from carbet.exercises.pdf import exercise_report_pdf, report_html


def _held(exercise):
    services_console.start(SYSTEM, exercise)
    services_console.validate_expectation(
        SYSTEM, Expectation.objects.get(exercise=exercise, ref="E1"), "met", "Rapide"
    )
    services_console.record_observation(
        SYSTEM, exercise, criterion="Alerte rapide", rating=3, note="Bonne réactivité"
    )
    services_console.finish(SYSTEM, exercise)
    services_after.evaluate_objective(SYSTEM, exercise, "O1", "met", "Atteint")
    services_after.add_item(SYSTEM, exercise, kind="strength", title="Cellule réunie vite")
    services_after.add_item(
        SYSTEM,
        exercise,
        kind="improvement",
        title="Annuaire de crise introuvable",
        recommendation="L'imprimer",
        severity=3,
    )
    return exercise


def test_report_pages_render_and_are_not_blank(exercise, tmp_path: Path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("Poppler's pdftoppm is not installed")
    _held(exercise)
    html = report_html(exercise)
    assert "Joueur Crise" not in html and "Observatrice" not in html  # counted, never named
    assert html.index("Évaluation par objectif") < html.index("Chronologie")
    data = exercise_report_pdf(exercise)
    root = PdfReader(io.BytesIO(data)).trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/Lang"] == "fr"  # tagged (PDF/UA-1)
    (tmp_path / "r.pdf").write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", str(tmp_path / "r.pdf"), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    pages = sorted(tmp_path.glob("p-*.pgm"))
    assert len(pages) >= 2  # the summary, then the detail on its own page
    for page in pages:
        raw = page.read_bytes()
        # PGM: a header of three lines, then one byte per pixel (255 = white).
        pixels = raw.split(b"\n", 3)[3]
        dark = sum(1 for b in pixels if b < 128)
        assert dark > 200, f"{page.name} looks blank"
