"""Imports of structures and assets (CSV, XLSX), the import job and page, and the CLI."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from carbet.audit.models import AuditEntry
from carbet.core import imports, uploads
from carbet.core.models import Asset, Ght, Organisation, Structure
from carbet.core.tenancy import SYSTEM
from carbet.engines.identifiers import normalize_domain
from carbet.engines.tabular import read_table
from carbet.jobs.models import Job, JobStatus

pytestmark = pytest.mark.django_db

STRUCTURES_CSV = (
    "\ufeffFINESS ET;Nom;Catégorie;FINESS EJ;Organisation;Statut;GHT;Département;Lits;Places;"
    "Poids activité;Adresse;Code postal;Commune\r\n"
    "750712184;EHPAD Les Tilleuls;EHPAD;750100125;Association Gamma;privé non lucratif;;75;;"
    "82;66,5;1 rue de la Paix;75001;Paris\r\n"
    "2A0000012;Centre hospitalier d'Ajaccio;Centre hospitalier;2A0000020;CH Ajaccio;public;"
    "GHT-CORSE;2A;320;10;;;;Ajaccio\r\n"
)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(kind: str, data: bytes | str, **kwargs) -> imports.ImportReport:
    if isinstance(data, str):
        data = data.encode()
    return imports.run_import(SYSTEM, kind, data, filename="test", **kwargs)


def errors_of(report) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in report.errors]


# --- Structures ------------------------------------------------------------------------------


def test_structures_csv_creates_organisations_ghts_and_structures(db):
    report = run("structures", STRUCTURES_CSV)
    assert report.ok, report.errors
    assert (report.created, report.updated, report.rows) == (2, 0, 2)
    assert report.organisations_created == 2 and report.ghts_created == 1
    tilleuls = Structure.objects.get(finess_et="750712184")
    assert tilleuls.category == "ehpad"
    assert tilleuls.places == 82 and tilleuls.beds == 0
    assert tilleuls.activity_weight == Decimal("66.50")
    assert tilleuls.organisation.legal_status == "private_non_profit"
    assert tilleuls.city == "Paris"
    ajaccio = Structure.objects.get(finess_et="2A0000012")
    assert ajaccio.organisation.ght == Ght.objects.get(code="GHT-CORSE")
    assert ajaccio.departement == "2A"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"structure.create", "organisation.create", "ght.create", "import.structures"} <= (
        actions
    )


def test_structures_xlsx_with_english_headers(db):
    data = xlsx_bytes(
        [
            ["establishment finess", "name", "category", "finess_ej", "organization", "status"],
            [750712184, "Clinic", "clinique", "750100125", "Group", "private"],
            [10000016, "Ain clinic", "mco", "750100125", None, None],
            [10000017, "Wrong key", "mco", "750100125", None, None],
        ]
    )
    # A spreadsheet dropped the leading zero of 010000016: it is restored, then Luhn-checked.
    report = run("structures", data)
    assert errors_of(report) == [(4, "finess_et")]
    report = run(
        "structures",
        xlsx_bytes(
            [
                ["establishment finess", "name", "category", "finess_ej", "organization", "status"],
                [750712184, "Clinic", "clinique", "750100125", "Group", "private"],
                [10000016, "Ain clinic", "mco", "750100125", None, None],
            ]
        ),
    )
    assert report.ok, report.errors
    assert Structure.objects.get(finess_et="750712184").category == "clinique"
    ain = Structure.objects.get(finess_et="010000016")
    assert ain.departement == "01" and ain.organisation.name == "Group"


def test_xlsx_import_of_numbers_and_departement_from_finess(db):
    data = xlsx_bytes(
        [
            ["finess_et", "nom", "categorie", "finess_ej", "organisation", "statut", "lits"],
            ["750712184", "CH Paris", "ch", "750100125", "AP", "public", 1200.0],
        ]
    )
    report = run("structures", data)
    assert report.ok, report.errors
    created = Structure.objects.get(finess_et="750712184")
    assert created.beds == 1200 and created.departement == "75"


def test_reimport_updates_changed_rows_and_counts_unchanged(db):
    run("structures", STRUCTURES_CSV)
    changed = STRUCTURES_CSV.replace("EHPAD Les Tilleuls", "EHPAD Les Grands Tilleuls")
    report = run("structures", changed)
    assert report.ok
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert Structure.objects.filter(name="EHPAD Les Grands Tilleuls").exists()


def test_blank_cells_leave_existing_values(db):
    run("structures", STRUCTURES_CSV)
    sparse = (
        "finess_et;nom;categorie;finess_ej;commune\n750712184;EHPAD Les Tilleuls;ehpad;750100125;\n"
    )
    report = run("structures", sparse)
    assert report.ok and report.unchanged == 1
    assert Structure.objects.get(finess_et="750712184").city == "Paris"


def test_bad_rows_import_nothing_and_are_reported_by_row(db):
    bad = (
        "finess_et,nom,categorie,finess_ej,organisation,statut,departement,lits\n"
        "750712184,Bonne ligne,ehpad,750100125,Asso,public,75,10\n"
        "750712185,Clé fausse,ehpad,750100125,Asso,public,75,10\n"
        "750100125,,hôtel,750100125,Asso,public,75,-3\n"
        "750712184,Doublon,ehpad,750100125,Asso,public,75,10\n"
        "970200010,Sans org,ehpad,970200028,,,972,\n"
    )
    report = run("structures", bad)
    assert not report.ok
    assert Structure.objects.count() == 0 and Organisation.objects.count() == 0
    found = errors_of(report)
    assert (3, "finess_et") in found
    assert (4, "nom") in found and (4, "categorie") in found and (4, "lits") in found
    assert (5, "finess_et") in found  # duplicate of row 2
    assert (6, "organisation") in found and (6, "statut") in found
    assert (2, "finess_et") not in found
    messages = " ".join(e.message for e in report.errors)
    assert "clé de contrôle" in messages and "figure déjà ligne 2" in messages
    assert "Rien n'a été importé" in report.summary()
    entry = AuditEntry.objects.get(action="import.structures")
    assert entry.changes["errors"] == len(report.errors) and entry.changes["created"] == 0


def test_conflicting_organisation_names_in_one_file(db):
    data = (
        "finess_et;nom;categorie;finess_ej;organisation;statut;departement\n"
        "750712184;A;ehpad;750100125;Asso Un;public;75\n"
        "970200010;B;ehpad;750100125;Asso Deux;public;972\n"
    )
    report = run("structures", data)
    assert errors_of(report) == [(3, "organisation")]


def test_missing_required_column(db):
    report = run("structures", "finess_et;nom\n750712184;A\n")
    assert {(1, "categorie"), (1, "finess_ej")} <= set(errors_of(report))


def test_dry_run_writes_nothing_but_reports_counts(db):
    report = run("structures", STRUCTURES_CSV, dry_run=True)
    assert report.ok and report.created == 2
    assert "rien n'a été enregistré" in report.summary()
    assert Structure.objects.count() == 0 and Ght.objects.count() == 0
    assert AuditEntry.objects.filter(action="import.structures").count() == 1
    assert not AuditEntry.objects.filter(action="structure.create").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "vide"),
        (b"   \n\n", "vide"),
        (b"finess_et;nom;categorie;finess_ej\n", "aucune donn"),
        (b"\x00\x01\x02binary\xff", "ni un CSV"),
        ("finess_et;nom\n750712184;Caf\xe9\n".encode("latin-1"), "UTF-8"),
        (b"PK\x03\x04garbage-zip", "illisible"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b'finess_et;nom;categorie;finess_ej\n"' + b"a" * 200_000 + b'"\n', "illisible"),
    ],
)
def test_garbage_files_get_a_clear_error(db, data, message):
    report = run("structures", data)
    assert not report.ok
    assert message in report.errors[0].message
    assert Structure.objects.count() == 0


def test_row_and_size_limits(db, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    rows = "finess_et;nom;categorie;finess_ej\n" + "750712184;A;ehpad;750100125\n" * 4
    report = run("structures", rows)
    assert "plus de 3 lignes" in report.errors[0].message
    monkeypatch.setattr(imports, "MAX_BYTES", 10)
    report = run("structures", rows)
    assert "trop gros" in report.errors[0].message


# --- Assets ----------------------------------------------------------------------------------

# The fixture's FINESS numbers are placeholders; give the structures real-shaped numbers.
A_FINESS, B_FINESS = "970200010", "970200036"


@pytest.fixture
def region(region):
    Structure.objects.filter(pk=region.a.pk).update(finess_et=A_FINESS)
    Structure.objects.filter(pk=region.b.pk).update(finess_et=B_FINESS)
    region.a.refresh_from_db()
    region.b.refresh_from_db()
    return region


def test_assets_csv(region):
    data = (
        "finess_et,type,valeur,libelle,criticite,expose_internet\n"
        "970200010,domaine,Hôpital-Alpha.fr,Site web,élevée,oui\n"
        "970200010,ip,2001:4860:4860::8888,DNS,,\n"
        "970200010,réseau,10.0.0.0/24,LAN,vitale,non\n"
        "970200010,domain,alpha.test,Site principal,faible,oui\n"
    )
    report = run("assets", data)
    assert report.ok, report.errors
    assert (report.created, report.updated) == (3, 1)
    site = Asset.objects.get(value=normalize_domain("hôpital-alpha.fr"))
    assert site.value.startswith("xn--") and site.criticality == "high"
    assert Asset.objects.get(value="2001:4860:4860::8888").kind == "ipv6"
    lan = Asset.objects.get(value="10.0.0.0/24")
    assert not lan.internet_exposed and not lan.validated
    existing = Asset.objects.get(value="alpha.test")
    assert existing.label == "Site principal" and existing.validated  # value unchanged
    entry = AuditEntry.objects.get(action="asset.import")
    assert entry.structure_id == region.a.pk
    assert len(entry.changes["created"]) == 3 and entry.changes["updated"] == ["alpha.test"]


def test_assets_with_bad_rows_import_nothing(region):
    data = (
        "finess_et;type;valeur;expose_internet\n"
        "970200010;domaine;good.example;oui\n"
        "970200010;ipv4;192.168.1.10;oui\n"
        "750712184;domaine;nobody.example;oui\n"
        "970200010;cidr;8.8.0.0/16;oui\n"
        "970200010;domaine;GOOD.example.;oui\n"
        "970200010;téléphone;0102030405;peut-être\n"
    )
    report = run("assets", data)
    assert not report.ok
    assert not Asset.objects.filter(value="good.example").exists()
    found = errors_of(report)
    assert (3, "valeur") in found  # private address for an internet asset
    assert (4, "finess_et") in found  # unknown structure
    assert (5, "valeur") in found  # network too large
    assert (6, "valeur") in found  # same asset as row 2 once normalised
    assert (7, "type") in found and (7, "expose_internet") in found
    assert any("privée" in e.message for e in report.errors if e.row == 3)


def test_asset_import_only_reaches_the_actors_structures(region):
    data = "finess_et;type;valeur\n970200036;domaine;beta2.example\n"
    report = imports.run_import(region.users["centre_analyst"], "assets", data.encode())
    assert report.ok
    with pytest.raises(Exception, match="droit"):
        imports.run_import(region.users["director"], "assets", data.encode())


# --- Property: the parser survives any bytes -----------------------------------------------


@given(st.binary(max_size=2000))
def test_table_reader_never_crashes_on_random_bytes(data):
    table = read_table(data, imports.STRUCTURE_SCHEMA, max_rows=50, max_bytes=10_000)
    assert table.rows or table.errors
    for error in table.errors:
        assert isinstance(error.message, str) and error.message


@given(st.binary(max_size=2000))
def test_table_reader_never_crashes_on_random_zip_like_bytes(data):
    table = read_table(b"PK\x03\x04" + data, imports.ASSET_SCHEMA, max_rows=50, max_bytes=10_000)
    assert table.errors and not table.rows


def test_xlsx_that_unzips_too_large_is_refused(monkeypatch):
    from carbet.engines import tabular

    data = xlsx_bytes([["finess_et", "type", "valeur"], ["750712184", "domaine", "a.example"]])
    assert read_table(data, imports.ASSET_SCHEMA, max_rows=5, max_bytes=10**6).rows
    monkeypatch.setattr(tabular, "MAX_UNZIPPED_BYTES", 1000)
    table = read_table(data, imports.ASSET_SCHEMA, max_rows=5, max_bytes=10**6)
    assert "trop volumineux" in table.errors[0].message


@given(st.lists(st.text(max_size=12), min_size=1, max_size=6), st.sampled_from([";", ","]))
def test_table_reader_on_random_csv_text(cells, delimiter):
    text = "finess_et;type;valeur\n" + delimiter.join(cells) + "\n"
    table = read_table(text.encode(), imports.ASSET_SCHEMA, max_rows=50, max_bytes=10_000)
    assert table.rows or table.errors


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600))
def test_import_of_random_bytes_reports_errors_and_writes_nothing(db, data):
    report = run("assets", b"finess_et,type,valeur\n" + data)
    if report.ok:
        assert report.created == 0
    assert Asset.objects.count() == 0


# --- The import page and job -------------------------------------------------------------------


def test_import_page_runs_a_job_and_redirects_to_it(region, django_capture_on_commit_callbacks):
    client = region.client("centre_admin")
    assert client.get(reverse("core:import")).status_code == 200
    upload = SimpleUploadedFile("structures.csv", STRUCTURES_CSV.encode("utf-8"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("core:import"), {"kind": "structures", "file": upload})
    job = Job.objects.get(kind="core.import")
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 2 and job.result["updated"] == 0
    assert job.result["errors"] == []
    assert "2 création(s)" in job.result["summary"]
    assert job.actor == region.users["centre_admin"]
    assert not _stored_imports()
    entry = AuditEntry.objects.get(action="import.structures")
    assert entry.actor_id == region.users["centre_admin"].pk


def test_import_job_reports_row_errors(region, django_capture_on_commit_callbacks):
    client = region.client("centre_analyst")
    data = xlsx_bytes([["finess_et", "type", "valeur"], ["970200010", "ipv4", "10.0.0.1"]])
    upload = SimpleUploadedFile("actifs.xlsx", data)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("core:import"), {"kind": "assets", "file": upload})
    job = Job.objects.get(kind="core.import")
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["created"] == 0
    assert job.result["errors"][0]["row"] == 2
    assert job.result["errors"][0]["column"] == "valeur"


def test_import_page_refuses_empty_and_oversize_files(region, monkeypatch):
    client = region.client("centre_admin")
    response = client.post(
        reverse("core:import"),
        {"kind": "structures", "file": SimpleUploadedFile("x.csv", b"")},
    )
    assert response.status_code == 200
    assert not Job.objects.exists()
    monkeypatch.setattr(imports, "MAX_BYTES", 5)
    response = client.post(
        reverse("core:import"),
        {"kind": "structures", "file": SimpleUploadedFile("x.csv", b"0123456789")},
    )
    assert "trop gros" in response.content.decode()


def test_import_job_of_a_deleted_account_does_not_run(region):
    from carbet.jobs.services import execute

    upload = SimpleUploadedFile("structures.csv", STRUCTURES_CSV.encode())
    job = imports.submit_import(region.users["centre_admin"], "structures", upload)
    region.users["centre_admin"].delete()
    execute(str(job.pk))
    job.refresh_from_db()
    assert job.result["created"] == 0
    assert "n'existe plus" in job.result["errors"][0]["message"]
    assert Structure.objects.count() == 3
    assert not _stored_imports()


@pytest.mark.parametrize("role", ["director", "referent", "it_provider", "ars_viewer", "nobody"])
def test_import_page_is_for_centre_staff(region, role):
    assert region.client(role).get(reverse("core:import")).status_code == 403


def _stored_imports() -> list:
    """Files left in the imports area of the upload storage (consumed imports are deleted)."""
    return [p for p in (uploads.storage_root() / "imports").rglob("*") if p.is_file()]


def test_stored_upload_names_cannot_escape_the_directory():
    for bad in ("../x.csv", "/etc/passwd", ".hidden", "", "imports/2025/.hidden.csv"):
        with pytest.raises(ValueError):
            uploads.upload_path(bad, strict=True)


# --- CLI -------------------------------------------------------------------------------------


def test_cli_import_and_dry_run(db, tmp_path, capsys):
    path = tmp_path / "structures.csv"
    path.write_text(STRUCTURES_CSV, encoding="utf-8")
    call_command("import", "structures", str(path), "--dry-run")
    assert Structure.objects.count() == 0
    call_command("import", "structures", str(path))
    assert Structure.objects.count() == 2
    out = capsys.readouterr().out
    assert "2 création(s)" in out
    entry = AuditEntry.objects.filter(action="import.structures").first()
    assert entry.actor_id is None and entry.actor_label.startswith("Carbet")


def test_cli_import_exits_1_with_the_row_report(db, tmp_path, capsys):
    path = tmp_path / "assets.csv"
    path.write_text("finess_et;type;valeur\n750712184;domaine;a.example\n", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        call_command("import", "assets", str(path))
    assert stopped.value.code == 1
    assert "ligne 2, colonne finess_et" in capsys.readouterr().out
