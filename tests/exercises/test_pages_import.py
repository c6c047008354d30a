"""Importing scenarios and chronograms through the page: hostile files get a clear error with
their line, and nothing is written (a property test throws arbitrary bytes at it)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.engines.exercises import jsonformat
from carbet.exercises.models import ScenarioVersion
from tests.conftest import login
from tests.exercises.conftest import scenario

URL = "/exercices/bibliotheque/import/"


def _post(client: Client, name: str, data: bytes, **extra) -> str:
    response = client.post(URL, {"file": SimpleUploadedFile(name, data), **extra})
    assert response.status_code in (200, 302), response.status_code
    return response.content.decode() if response.status_code == 200 else ""


def _analyst(region) -> Client:
    return login(Client(), region.users["centre_analyst"])


def test_a_valid_scenario_is_imported_and_shown(region):
    text = jsonformat.export(scenario()).replace('"test-rancon"', '"import-ok"', 1)
    response = _analyst(region).post(URL, {"file": SimpleUploadedFile("s.json", text.encode())})
    assert response.status_code == 302
    version = ScenarioVersion.objects.get(code="import-ok")
    page = _analyst(region).get(f"/exercices/bibliotheque/{version.pk}/").content.decode()
    assert "Alerte du DSI" in page and "Dossier de mise en situation" in page


def test_a_broken_json_gets_its_line_and_nothing_is_written(region):
    before = ScenarioVersion.objects.count()
    text = jsonformat.export(scenario()).replace('"debutant"', '"expert"', 1)
    page = _post(_analyst(region), "mauvais.json", text.encode())
    assert 'role="alert"' in page and "rien n'a été importé" in page
    assert "mauvais.json:6: " in page  # file:line: message
    page = _post(_analyst(region), "coupe.json", b'{"code": "x",\n "title": ')
    assert "coupe.json:" in page
    assert ScenarioVersion.objects.count() == before


def test_an_executable_renamed_json_is_refused_clearly(region):
    before = ScenarioVersion.objects.count()
    page = _post(_analyst(region), "scenario.json", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200))
    assert 'role="alert"' in page and "scenario.json" in page
    assert ScenarioVersion.objects.count() == before


def test_a_chronogram_is_grafted_on_a_base_scenario(region, version):
    csv_text = (
        "Heure;Canal;Émetteur;Objet;Message;Réaction attendue\n"
        "J+0 H+0 M+0;courriel;DSI;Écrans noirs;Plus rien ne marche;Activer la cellule\n"
        "T+01:30;presse;Le Quotidien;Panne à l'hôpital;Article;\n"
    )
    client = _analyst(region)
    response = client.post(
        URL,
        {
            "file": SimpleUploadedFile("chrono.csv", csv_text.encode()),
            "base": version.pk,
            "version": "2.0-local",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    grafted = ScenarioVersion.objects.get(code=version.code, version="2.0-local")
    injects = grafted.data["injects"]
    assert [i["offset_minutes"] for i in injects] == [0, 90]
    assert grafted.data["objectives"] == version.data["objectives"]


def test_a_chronogram_with_a_bad_time_names_its_line(region, version):
    csv_text = "Heure;Canal;Objet\nJ+0;courriel;Un\ndemain matin;courriel;Deux\n"
    page = _post(_analyst(region), "chrono.csv", csv_text.encode(), base=version.pk, version="3.0")
    assert "chrono.csv:3:" in page
    assert not ScenarioVersion.objects.filter(version="3.0").exists()
    # Without a base scenario, a chronogram alone is refused with the reason.
    page = _post(_analyst(region), "chrono.csv", b"Heure;Canal;Objet\nJ+0;courriel;Un\n")
    assert "scénario de départ" in page


def test_an_xlsx_chronogram_problem_names_its_cell(region, version):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Chronogramme"
    sheet.append(["Heure", "Canal", "Objet"])
    sheet.append(["J+0", "courriel", "Un"])
    sheet.append(["n'importe quand", "courriel", "Deux"])
    buffer = io.BytesIO()
    book.save(buffer)
    page = _post(_analyst(region), "chrono.xlsx", buffer.getvalue(), base=version.pk, version="4.0")
    assert "Chronogramme!A3" in page
    assert not ScenarioVersion.objects.filter(version="4.0").exists()


def test_only_the_centre_imports(region):
    for role in ("director", "ars_viewer", "director_b"):
        client = login(Client(), region.users[role])
        assert client.get(URL).status_code == 403
        response = client.post(URL, {"file": SimpleUploadedFile("s.json", b"{}")})
        assert response.status_code == 403


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
    ),
    name=st.sampled_from(["s.json", "c.csv", "c.xlsx", "x.txt"]),
)
def test_arbitrary_bytes_never_break_the_page_nor_write(region, version, data, name):
    before = ScenarioVersion.objects.count()
    client = _analyst(region)
    response = client.post(
        URL, {"file": SimpleUploadedFile(name, data), "base": version.pk, "version": "9.9"}
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert 'role="alert"' in response.content.decode()
        assert ScenarioVersion.objects.count() == before
