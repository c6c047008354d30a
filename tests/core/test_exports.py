"""Exports of structures and assets (CSV, XLSX): scope, formula protection, audit, round trip."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from carbet.audit.models import AuditEntry
from carbet.core import imports
from carbet.core.exports import safe_cell
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import SYSTEM

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 1 23", "'+33 1 23"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Clinique", "Clinique"),
        (12, 12),
        (True, "oui"),
        (None, ""),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_export_structures_csv_with_filters(region):
    region.b.name = "=cmd|' /C calc'!A0"
    region.b.save()
    client = region.client("centre_analyst")
    response = client.get(reverse("core:export_structures") + "?format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="structures-')
    rows = csv_rows(response)
    assert rows[0][:4] == ["finess_et", "nom", "categorie", "finess_ej"]
    assert len(rows) == 4
    assert ["'=cmd|' /C calc'!A0"] == [r[1] for r in rows if r[0] == region.b.finess_et]
    response = client.get(reverse("core:export_structures") + "?format=csv&category=ehpad")
    assert len(csv_rows(response)) == 3
    entry = AuditEntry.objects.filter(action="export.structures").first()
    assert entry.changes == {"format": "csv", "count": 2}


def test_export_structures_xlsx(region):
    response = region.client("centre_admin").get(reverse("core:export_structures") + "?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "finess_et" and len(rows) == 4
    assert {r[1] for r in rows[1:]} == {region.a.name, region.a2.name, region.b.name}


def test_director_exports_only_their_structures(region):
    response = region.client("director").get(reverse("core:export_structures"))
    assert [r[0] for r in csv_rows(response)[1:]] == [region.a.finess_et]


@pytest.mark.parametrize("role", ["it_provider", "ars_viewer", "nobody"])
def test_export_denied_without_the_right(region, role):
    client = region.client(role)
    assert client.get(reverse("core:export_structures")).status_code == 403
    url = reverse("core:export_assets", args=[region.a.pk])
    assert client.get(url).status_code in (403, 404)


def test_export_assets_of_a_structure(region):
    Asset.objects.create(structure=region.a, kind="application", value="-Logiciel de soins")
    response = region.client("referent").get(
        reverse("core:export_assets", args=[region.a.pk]) + "?format=csv"
    )
    rows = csv_rows(response)
    assert rows[0] == [
        "finess_et",
        "type",
        "valeur",
        "libelle",
        "criticite",
        "expose_internet",
        "valide",
    ]
    values = {r[2] for r in rows[1:]}
    assert values == {"alpha.test", "'-Logiciel de soins"}
    assert region.b.assets.get().value not in response.content.decode()
    entry = AuditEntry.objects.filter(action="export.assets").first()
    assert entry.structure_id == region.a.pk and entry.changes["count"] == 2
    other = region.client("director_b").get(reverse("core:export_assets", args=[region.a.pk]))
    assert other.status_code == 404


def test_exported_structures_reimport_unchanged(region):
    for structure, finess in ((region.a, "970200010"), (region.a2, "970200028")):
        Structure.objects.filter(pk=structure.pk).update(finess_et=finess)
    Structure.objects.filter(pk=region.b.pk).update(finess_et="970200036")
    for kind, url in (
        ("structures", reverse("core:export_structures") + "?format=xlsx"),
        ("assets", reverse("core:export_assets", args=[region.a.pk]) + "?format=csv"),
    ):
        data = region.client("centre_admin").get(url).content
        report = imports.run_import(SYSTEM, kind, data)
        assert report.ok, report.errors
        assert report.created == 0 and report.updated == 0 and report.unchanged >= 1
