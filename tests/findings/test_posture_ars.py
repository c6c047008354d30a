"""The ARS sees aggregates only: no structure's name, FINESS number or finding title reaches
any page, export or PDF the ARS role can open.

The test seeds identifiable data, then opens as the ARS every page of the project that takes no
parameter, every dashboard/report route with each structure's id, the regional PDF (read back as
text) and the posture export, and searches everything that came back for the markers.
"""

from __future__ import annotations

import io

from django.urls import reverse
from pypdf import PdfReader

from carbet.core.models import Organisation, Structure
from carbet.findings.models import Finding
from carbet.findings.posture import snapshots
from tests.findings.test_posture_fixtures import seed_findings, widen_region
from tests.test_cross_tenant_walk import SKIP_PATTERN_PREFIXES, _fill, _param_names, all_routes


def _markers() -> set[str]:
    found: set[str] = set()
    for name, finess in Structure.objects.values_list("name", "finess_et"):
        found.update({name, finess})
    for name, finess in Organisation.objects.values_list("name", "finess_ej"):
        found.update({name, finess})
    found.update(Finding.objects.values_list("title", flat=True))
    return found


def _body_text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        reader = PdfReader(io.BytesIO(body))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    return body.decode("utf-8", "replace")


def test_nothing_identifying_reaches_the_ars(region):
    seed_findings(region)
    widen_region(region)  # seven structures: enough for figures to be published at all
    snapshots.take_snapshots()
    markers = _markers()
    assert len(markers) > 10
    client = region.client("ars_viewer")
    opened: dict[str, str] = {}
    for route, _name, pattern in all_routes():
        if route.startswith(SKIP_PATTERN_PREFIXES) or _param_names(pattern, route):
            continue
        path = _fill(route, {})
        response = client.get(path, follow=True)
        if response.status_code == 200:
            opened[path] = _body_text(response)
    for structure in (region.a, region.a2, region.b):
        for url_name in ("findings:structure_dashboard", "findings:structure_report"):
            response = client.get(reverse(url_name, args=[structure.pk]))
            assert response.status_code in (403, 404), url_name
    export = client.get(reverse("findings:posture_export") + "?format=xlsx")
    assert export.status_code == 403
    # What the ARS is meant to use is among what was opened.
    assert reverse("findings:ars_dashboard") in opened
    assert reverse("findings:regional_report") in opened
    assert "Indicateurs par catégorie" in opened[reverse("findings:regional_report")]
    leaks = [
        f"{path} shows {marker!r}"
        for path, text in opened.items()
        for marker in markers
        if marker in text
    ]
    assert not leaks, "\n".join(leaks)
