"""PDF files of every service, rendered with WeasyPrint from self-contained HTML.

One place for the platform's PDF rules, whatever the service (posture reports, the roadmap,
phishing campaign reports, training certificates): nothing is ever fetched while rendering (no
network, no local file, whatever text a finding or a lure carries), and every file is a tagged
PDF (PDF/UA-1) that screen readers can read.
"""

from __future__ import annotations

import logging
from typing import Any

# Tagged PDF (PDF/UA-1): headings, paragraphs, tables and reading order are marked in the file,
# so screen readers can read the reports; the title and language come from <title> and <html
# lang>. Every report's HTML page stays the accessible alternative (RGAA 4.1, issue 18).
PDF_VARIANT = "pdf/ua-1"


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict:
    """WeasyPrint's URL fetcher: reports embed everything, so nothing may be fetched."""
    raise ValueError(f"reports fetch nothing ({url[:40]})")


def html_to_pdf(html: str) -> bytes:
    """Render self-contained HTML (inline CSS and SVG) to a tagged PDF (PDF/UA-1)."""
    from weasyprint import HTML  # imported here: it is heavy and only reports need it

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # one line per page
    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf(pdf_variant=PDF_VARIANT)


def page_count(html: str) -> int:
    """How many pages ``html`` takes once laid out (to fit a report into what it promises)."""
    from weasyprint import HTML

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    return len(HTML(string=html, url_fetcher=_refuse_fetch).render().pages)


def css_text(text: str) -> str:
    """Text safe inside a CSS string in a <style> element (page footers), 80 characters."""
    return "".join(ch for ch in str(text) if ch not in '"\\<>\n\r')[:80]
