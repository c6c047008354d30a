"""Generic findings files: the parser (property-tested), the import job, exports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from carbet.audit.models import AuditEntry
from carbet.core import uploads
from carbet.core.models import Asset
from carbet.findings.choices import Status
from carbet.findings.models import Finding, Stream
from carbet.findings.services import io as findings_io
from carbet.findings.services.io_format import COLUMNS, parse_findings_file
from carbet.jobs.models import Job, JobStatus
from tests.findings.findings_helpers import make_finding

HEADER = "title;severity;asset;cvss;epss;kev;cve;references;rule;evidence;fingerprint\n"


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return (header + "\n".join(rows) + "\n").encode()


# --- The parser ------------------------------------------------------------------------------


def test_a_good_csv_is_read_field_by_field():
    data = csv_bytes(
        'Serveur exposé;critique;alpha.test;9,8;12 %;oui;cve-2024-1234;"d1.o1; anssi-3";tls.old;'
        '"{""port"": 443}";fp1',
        "Bannière;info;;;;;;;;;",
    )
    parsed = parse_findings_file(data, "r.csv")
    assert parsed.ok, parsed.errors
    first, second = parsed.rows
    assert first.row == 2 and first.asset_value == "alpha.test"
    item = first.item
    assert (item.title, item.severity, item.cvss, item.kev) == ("Serveur exposé", 4, 9.8, True)
    assert item.epss == pytest.approx(0.12)
    assert item.cve == "CVE-2024-1234" and item.references == ["d1.o1", "anssi-3"]
    assert item.evidence == {"port": 443} and item.fingerprint == "fp1"
    assert second.item.severity == 0 and second.item.evidence == {}


def test_multi_line_descriptions_keep_their_paragraphs():
    data = 'titre,gravité,description\n"Titre","élevée","Ligne 1\n\nLigne 2"\n'.encode()
    parsed = parse_findings_file(data)
    assert parsed.ok and parsed.rows[0].item.description == "Ligne 1\n\nLigne 2"


def test_every_bad_cell_is_reported_and_nothing_is_kept():
    data = csv_bytes(
        "Ok;high;;;;;;;;;",
        ";bizarre;;11;2;peut-être;CVE-x;;;[1];",
        "Dup A;low;;;;;;;;;same",
        "Dup B;low;;;;;;;;;same",
    )
    parsed = parse_findings_file(data)
    assert not parsed.ok and parsed.rows == []
    problems = {(e.row, e.column) for e in parsed.errors}
    assert {
        (3, "title"),
        (3, "severity"),
        (3, "cvss"),
        (3, "epss"),
        (3, "kev"),
        (3, "cve"),
        (3, "evidence"),
        (5, "fingerprint"),
    } <= problems
    assert all(e.message for e in parsed.errors)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "vide"),
        (b"title;severity\n", "titres"),
        (b"nom;prenom\nA;B\n", "obligatoire"),
        (b"\xff\xfe\x00t\x00i", "ni un CSV"),
        ("titre;gravité\nÉté;haute\n".encode("latin-1"), "UTF-8"),
        (b'{"tool": "x", "findings": 3}', "liste"),
        (b"[1, 2", "JSON invalide"),
        (b"[]", "aucune"),
        (b'title;severity\n"open;high\n', "illisible"),
        (b"PK\x03\x04broken", "Excel"),
        (b"title;severity;tool\nA;high;nessus\nB;high;openvas\n", "un seul outil"),
    ],
)
def test_bad_files_give_a_file_level_french_error(data, expected):
    parsed = parse_findings_file(data)
    assert not parsed.ok and parsed.rows == []
    assert expected in " ".join(e.message for e in parsed.errors)


def test_json_forms_and_declared_tool():
    listing = json.dumps([{"title": "A", "severity": 3, "references": ["x", "y"], "extra": 1}])
    parsed = parse_findings_file(listing.encode(), "a.json")
    assert parsed.ok and parsed.rows[0].item.references == ["x", "y"]
    assert parsed.ignored_columns == ["extra"]
    wrapped = {"tool": "OpenVAS", "findings": [{"titre": "B", "gravite": "moyenne", "kev": True}]}
    parsed = parse_findings_file(json.dumps(wrapped).encode())
    assert parsed.ok and parsed.tool == "OpenVAS" and parsed.rows[0].item.kev is True
    bad = parse_findings_file(b'[{"title": "A", "severity": "high"}, "nope", {"title": "C"}]')
    assert {(e.row, e.column) for e in bad.errors} == {(2, ""), (3, "severity")}


def test_xlsx_files_are_read():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Titre", "Gravité", "CVSS", "KEV"])
    sheet.append(["Depuis Excel", "Critique", 9.1, True])
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = parse_findings_file(buffer.getvalue(), "r.xlsx")
    assert parsed.ok, parsed.errors
    assert parsed.rows[0].item.cvss == 9.1 and parsed.rows[0].item.kev is True


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_the_parser(data):
    parsed = parse_findings_file(data)
    assert parsed.ok == (parsed.error_count == 0)
    if not parsed.ok:
        assert parsed.rows == [] and parsed.errors


cell = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["critique", "high", "4", "oui", "non", "9,5", "CVE-2024-1", "{}", '{"a":1}']),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.sampled_from(list(COLUMNS)), min_size=1, max_size=8, unique=True),
    st.lists(st.lists(cell, min_size=0, max_size=9), max_size=15),
)
def test_random_rows_give_rows_or_per_row_errors(columns, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(columns)
    writer.writerows(rows)
    parsed = parse_findings_file(buffer.getvalue().encode())
    if parsed.ok:
        for row in parsed.rows:
            assert row.item.title and 0 <= int(row.item.severity) <= 4
    else:
        assert parsed.rows == []
        assert all(0 <= e.row <= len(rows) + 1 and e.message for e in parsed.errors)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.sampled_from([*COLUMNS, "x"]), children, max_size=6)
        ),
        max_leaves=30,
    )
)
def test_random_json_documents_never_crash_the_parser(document):
    parsed = parse_findings_file(json.dumps(document).encode(), "f.json")
    assert parsed.ok == (parsed.error_count == 0)


# --- Importing -------------------------------------------------------------------------------


def upload(data: bytes, name: str = "rapport.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_import_runs_as_a_job_and_writes_through_ingest(region, django_capture_on_commit_callbacks):
    client = region.client("centre_analyst")
    data = csv_bytes(
        "Serveur exposé;critique;alpha.test;;;;;;;;fp1",
        "Bannière;info;;;;;;;;;fp2",
        header="title;severity;asset;cvss;epss;kev;cve;references;rule;evidence;fingerprint\n",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/vulnerabilites/importer/", {"structure": region.a.pk, "file": upload(data)}
        )
    job = Job.objects.get(kind="findings.import")
    assert response["Location"] == f"/taches/{job.pk}/"
    assert job.status == JobStatus.SUCCEEDED and job.structure == region.a
    assert job.result["created"] == 2 and job.result["errors"] == []
    found = Finding.objects.get(structure=region.a, fingerprint="fp1")
    assert found.source == "import" and found.asset == Asset.objects.get(value="alpha.test")
    assert found.stream.scope == "generic"
    page = client.get(f"/taches/{job.pk}/").content.decode()
    assert "Créations" in page
    assert AuditEntry.objects.filter(action="findings.import").exists()
    # the director of the structure follows the job too
    assert region.client("director").get(f"/taches/{job.pk}/").status_code == 200


def test_a_bad_file_imports_nothing_and_lists_its_rows(region, django_capture_on_commit_callbacks):
    client = region.client("centre_analyst")
    data = csv_bytes("Bon;high;;;;;;;;;", "Mauvais;???;inconnu.test;;;;;;;;")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/vulnerabilites/importer/", {"structure": region.a.pk, "file": upload(data)})
    job = Job.objects.get(kind="findings.import")
    assert job.result["created"] == 0
    assert {(e["row"], e["column"]) for e in job.result["errors"]} == {(3, "severity")}
    assert not Finding.objects.filter(structure=region.a).exists()
    page = client.get(f"/taches/{job.pk}/").content.decode()
    assert "Gravité inconnue" in page
    # an unknown asset is an error of its own row, found after parsing
    unknown = csv_bytes("Bon;high;;;;;;;;;", "Autre;high;inconnu.test;;;;;;;;")
    outcome = findings_io.import_findings(region.users["centre_analyst"], region.a, unknown)
    assert [(e.row, e.column) for e in outcome.errors] == [(3, "asset")]
    assert not Finding.objects.filter(structure=region.a).exists()


def test_bad_json_imports_nothing(region):
    data = json.dumps({"tool": "x", "findings": [{"title": "A", "severity": "high"}, {}]}).encode()
    outcome = findings_io.import_findings(
        region.users["centre_admin"], region.a, data, filename="x.json"
    )
    assert not outcome.ok and outcome.as_result()["errors"]
    assert not Finding.objects.exists() and not Stream.objects.exists()


def test_complete_report_closes_only_its_tools_findings(region):
    admin = region.users["centre_admin"]

    def run(rows, complete, tool="nessus"):
        findings = [{"title": t, "severity": "high", "fingerprint": t} for t in rows]
        data = json.dumps({"tool": tool, "findings": findings}).encode()
        return findings_io.import_findings(admin, region.a, data, complete=complete)

    run(["a", "b"], complete=True)
    run(["z"], complete=True, tool="openvas")
    partial = run(["a"], complete=False)
    assert partial.counts["closed"] == 0
    full = run(["a"], complete=True)
    assert full.counts["closed"] == 1
    assert Finding.objects.get(fingerprint="b").status == Status.VERIFIED_CLOSED
    assert Finding.objects.get(fingerprint="z").status == Status.NEW
    assert Finding.objects.get(fingerprint="a").stream.scope == "nessus"


def test_import_page_rights_and_cross_tenant(region):
    data = csv_bytes("A;high;;;;;;;;;")
    for role in ("director", "referent", "director_b", "it_provider"):
        assert region.client(role).get("/vulnerabilites/importer/").status_code == 403
    # centre staff only: a structure user cannot pick another structure (not a choice)
    response = region.client("centre_analyst").post(
        "/vulnerabilites/importer/", {"structure": 999999, "file": upload(data)}
    )
    assert response.status_code == 200 and not Job.objects.exists()
    wrong_type = region.client("centre_analyst").post(
        "/vulnerabilites/importer/", {"structure": region.a.pk, "file": upload(data, "x.exe")}
    )
    assert "csv" in wrong_type.content.decode() and not Job.objects.exists()


def test_stored_upload_names_are_checked():
    # The job reads only a name carbet.core.uploads.store made (see tests/core/test_uploads.py).
    for bad in ("../etc/passwd", "findings-zz.csv", "", "x.csv", "imports/2025/../../x.csv"):
        with pytest.raises(ValueError):
            uploads.upload_path(bad, strict=True)


# --- Exporting -------------------------------------------------------------------------------


def test_exports_follow_the_filters_and_are_audited(region):
    make_finding(region.a, "visible", severity="critical")
    make_finding(region.a, "low", severity="low")
    make_finding(region.b, "other")
    client = region.client("director")
    response = client.get("/vulnerabilites/exporter/?format=csv&severity=4")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body), delimiter=";"))
    assert [r["title"] for r in rows] == ["Finding visible"]
    assert rows[0]["severity"] == "critique"
    entry = AuditEntry.objects.filter(action="findings.export").latest("sequence")
    assert entry.changes["count"] == 1 and entry.changes["filters"]["severity"] == 4
    as_json = client.get("/vulnerabilites/exporter/?format=json&status=all")
    document = json.loads(b"".join(as_json.streaming_content))
    assert {f["title"] for f in document["findings"]} == {"Finding visible", "Finding low"}
    # the IT provider sees findings but may not export them
    assert region.client("it_provider").get("/vulnerabilites/exporter/").status_code == 403


def test_an_export_reimports_to_the_same_findings(region):
    make_finding(region.a, "round", severity="high", references=["d1.o1"], evidence={"p": 1})
    client = region.client("centre_admin")
    body = b"".join(client.get("/vulnerabilites/exporter/?format=csv").streaming_content)
    outcome = findings_io.import_findings(region.users["centre_admin"], region.a, body)
    assert outcome.ok, outcome.errors
    assert (
        outcome.counts["created"] == 0
        and outcome.counts["updated"] + outcome.counts["unchanged"] == 1
    )
    as_json = b"".join(client.get("/vulnerabilites/exporter/?format=json").streaming_content)
    assert findings_io.import_findings(region.users["centre_admin"], region.a, as_json).ok


def test_xlsx_export_neutralises_formulas(region):
    make_finding(region.a, "f")
    Finding.objects.update(title='=HYPERLINK("http://evil.test","clic")', description="+1+1")
    response = region.client("centre_admin").get("/vulnerabilites/exporter/?format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert values["title"].startswith("'=") and values["description"] == "'+1+1"
    csv_body = b"".join(
        region.client("centre_admin").get("/vulnerabilites/exporter/").streaming_content
    ).decode("utf-8-sig")
    assert "\"'=HYPERLINK" in csv_body and ";'+1+1;" in csv_body
