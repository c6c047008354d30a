"""Reports are tagged PDFs (PDF/UA-1: structure tree, marked content, language, title), and the
pages they are downloaded from say that the HTML page is their accessible version (RGAA 13.3)."""

from __future__ import annotations

import io

from pypdf import PdfReader

from carbet.core.pdf import PDF_VARIANT, html_to_pdf

HTML = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Rapport d'essai</title></head><body><h1>Synthèse</h1><p>Un paragraphe.</p>
<table><caption>Chiffres</caption><thead><tr><th scope="col">Gravité</th><th scope="col">Nombre</th>
</tr></thead><tbody><tr><td>Critique</td><td>2</td></tr></tbody></table></body></html>"""


def test_reports_are_tagged_pdf_ua():
    assert PDF_VARIANT == "pdf/ua-1"
    reader = PdfReader(io.BytesIO(html_to_pdf(HTML)))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root  # headings, paragraphs and tables are tagged
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "fr"
    assert reader.metadata.title == "Rapport d'essai"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    tags = repr(root["/StructTreeRoot"].get_object())
    assert "/StructTreeRoot" in repr(root) and tags


def test_the_pdf_note_offers_the_page_as_the_accessible_version():
    from django.template.loader import render_to_string

    note = render_to_string("_pdf_note.html")
    assert "balisés (PDF/UA)" in note and "version accessible" in note
