"""CSV/XLSX export of the posture table: staff only, audited, formulas never run."""

from __future__ import annotations

import csv
import io

from django.urls import reverse
from openpyxl import load_workbook

from carbet.audit.models import AuditEntry
from carbet.core.models import Structure
from carbet.findings.posture.exports import POSTURE_COLUMNS
from tests.findings.test_posture_fixtures import seed_findings

EXPORT = "/vulnerabilites/tableau-de-bord/export/"


def _risky_structure(region) -> Structure:
    return Structure.objects.create(
        finess_et="970200057",
        name='=HYPERLINK("http://evil.test","Cliquez")',
        organisation=region.org_b,
        category="ehpad",
        departement="971",
    )


def test_csv_export_neutralises_formulas_and_is_audited(region):
    seed_findings(region)
    risky = _risky_structure(region)
    response = region.client("centre_admin").get(EXPORT + "?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == POSTURE_COLUMNS
    by_finess = {row[0]: row for row in rows[1:]}
    assert by_finess[risky.finess_et][1] == "'" + risky.name
    alpha = by_finess[region.a.finess_et]
    assert alpha[4:9] == ["2", "1", "1", "1", "3"]  # critical, high, medium, low, overdue
    entry = AuditEntry.objects.filter(action="export.posture").latest("sequence")
    assert entry.changes["format"] == "csv" and entry.changes["count"] == 4


def test_xlsx_export_reads_back_as_text(region):
    risky = _risky_structure(region)
    response = region.client("centre_analyst").get(EXPORT + "?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == POSTURE_COLUMNS
    names = [row[1] for row in values[1:]]
    assert "'" + risky.name in names
    assert all(not str(name).startswith("=") for name in names)


def test_unknown_format_is_not_found(region):
    response = region.client("centre_admin").get(reverse("findings:posture_export") + "?format=x")
    assert response.status_code == 404
