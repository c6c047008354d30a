"""Chronogram import from CSV and XLSX: French headers, people's times, line-precise problems."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from carbet.engines.exercises.chronogram import MAX_BYTES, import_chronogram
from carbet.engines.exercises.model import Cell, Problem

CELLS = (
    Cell("crise", "Cellule de crise", "decision"),
    Cell("soins", "Soins et hébergement", "soins"),
    Cell("com", "Communication", "communication"),
)
HEADER = [
    "N°",
    "HEURE",
    "Cellule",
    "canal",
    "Emetteur",
    "Objet",
    "Contenu",
    "Réaction ATTENDUE",
    "Portée",
]


def csv_bytes(rows, delimiter=";", title=True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    if title:
        buffer.write("Chronogramme de l'exercice\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows, sheet="Chronogramme", header=HEADER) -> bytes:
    workbook = Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["Mode d'emploi"])
    target = workbook.create_sheet(sheet)
    target.append(["Exercice 2026"])
    target.append(header)
    for row in rows:
        target.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GOOD_ROWS = [
    [
        "1",
        "J+0 H+0 M+0",
        "Toutes",
        "Courriel",
        "DSI <dsi@exemple.invalid>",
        "Alerte",
        "Les postes\nsont bloqués",
        "Réunir la cellule\nOuvrir la main courante",
        "",
    ],
    [
        "2",
        "T+00:20",
        "Cellule de crise, Communication",
        "Presse",
        "Le Courrier",
        "Article",
        "Cyberattaque ?",
        "",
        "régionale",
    ],
    [
        "3",
        "09:45",
        "soins",
        "téléphone",
        "Urgences",
        "Appel",
        "Allô, le DPI ne répond plus",
        "Mode dégradé",
        "Locale",
    ],
    ["4", "+1h30", "Direction", "", "Équipe d'animation", "", "Point de situation", "", ""],
    [
        "5",
        "J+1 H+2",
        "Soins et hébergement et Communication",
        "Réseaux sociaux",
        "@quelqu_un",
        "Rumeur",
        "Texte",
        "",
        "",
    ],
]


def check_good(injects):
    assert [i.code for i in injects] == ["1", "2", "3", "4", "5"]
    assert [i.offset_minutes for i in injects] == [0, 20, 45, 90, 1560]
    assert [i.channel for i in injects] == ["email", "press", "phone", "message", "social"]
    first = injects[0]
    assert first.recipients == ("all",)
    assert (first.sender.name, first.sender.address) == ("DSI", "dsi@exemple.invalid")
    assert first.subject == "Alerte" and first.body == "Les postes\nsont bloqués"
    assert [e.text for e in first.expectations] == ["Réunir la cellule", "Ouvrir la main courante"]
    assert [e.code for e in first.expectations] == ["1-E1", "1-E2"]
    assert injects[1].recipients == ("crise", "com") and injects[1].scope == "regional"
    assert injects[2].phone_script == "Allô, le DPI ne répond plus" and injects[2].body == ""
    assert injects[3].recipients == ("directeur",) and injects[3].title == "Point de situation"
    assert injects[4].recipients == ("soins", "com")


def test_csv_chronogram():
    result = import_chronogram(csv_bytes(GOOD_ROWS), "c.csv", cells=CELLS)
    assert result.problems == ()
    check_good(result.injects)


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_csv_other_delimiters(delimiter):
    result = import_chronogram(csv_bytes(GOOD_ROWS, delimiter), "c.csv", cells=CELLS)
    assert result.problems == ()


def test_xlsx_chronogram_with_spreadsheet_types():
    rows = [list(row) for row in GOOD_ROWS]
    rows[2][1] = dt.time(9, 45)  # a time-formatted cell
    rows[3][1] = dt.timedelta(hours=1, minutes=30)  # a duration cell
    rows[1][1] = 20  # a bare number of minutes
    result = import_chronogram(xlsx_bytes(rows), "c.xlsx", cells=CELLS)
    assert result.problems == ()
    check_good(result.injects)


def test_xlsx_formulas_are_text_never_computed():
    rows = [["1", "T+10", "Toutes", "Message", "X", "=1+1", '=HYPERLINK("http://x")', "", ""]]
    result = import_chronogram(xlsx_bytes(rows), "c.xlsx")
    assert result.injects[0].title == "=1+1"
    assert result.injects[0].body == '=HYPERLINK("http://x")'
    rows = [["1", "=A1+1", "Toutes", "Message", "X", "Titre", "", "", ""]]
    result = import_chronogram(xlsx_bytes(rows), "c.xlsx")
    assert result.injects == ()
    assert result.problems[0].location == "Chronogramme!B3"
    assert result.problems[0].render().startswith("c.xlsx:Chronogramme!B3: heure « =A1+1 »")


def test_start_time_is_a_parameter():
    rows = [["1", "08:45", "Toutes", "Message", "X", "Titre", "", "", ""]]
    assert (
        import_chronogram(csv_bytes(rows), "c.csv", start=dt.time(8, 0)).injects[0].offset_minutes
        == 45
    )
    problem = import_chronogram(csv_bytes(rows), "c.csv").problems[0]
    assert (problem.line, "avant l'heure de début" in problem.message) == (3, True)


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (["1", "plus tard", "Toutes", "Courriel", "", "T", "", "", ""], "B", "illisible"),
        (["1", "T+5", "Toutes", "Fax", "", "T", "", "", ""], "D", "canal « Fax » inconnu"),
        (
            ["1", "T+5", "Pharmacie", "Courriel", "", "T", "", "", ""],
            "C",
            "destinataire « Pharmacie » inconnu",
        ),
        (["1", "T+5", "Toutes", "Courriel", "", "", "", "", ""], "F", "objet et message vides"),
        (["1", "T+5", "Toutes", "Courriel", "", "T", "", "", "nationale"], "I", "portée"),
        (["a b", "T+5", "Toutes", "Courriel", "", "T", "", "", ""], "A", "numéro « a b » invalide"),
    ],
)
def test_row_problems_csv_line_and_xlsx_cell(row, column, message):
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], row]
    result = import_chronogram(csv_bytes(rows), "c.csv", cells=CELLS)
    assert result.injects == ()
    found = [p for p in result.problems if message in p.message]
    assert found and found[0].line == 7, result.problems  # title, header, row 1 on 3 lines, row 2
    result = import_chronogram(xlsx_bytes(rows), "c.xlsx", cells=CELLS)
    found = [p for p in result.problems if message in p.message]
    assert found and found[0].location == f"Chronogramme!{column}5", result.problems


def test_duplicate_numbers_and_missing_columns():
    rows = [GOOD_ROWS[0], GOOD_ROWS[0]]
    problems = import_chronogram(csv_bytes(rows), "c.csv", cells=CELLS).problems
    assert "en double (déjà ligne 3)" in problems[0].message and problems[0].line == 6
    data = b"Titre\nCanal;Objet\nCourriel;X\n"
    assert "colonne « Heure »" in import_chronogram(data, "c.csv").problems[0].message
    data = b"Heure;Canal\nT+1;Courriel\n"
    assert "« Objet »" in import_chronogram(data, "c.csv").problems[0].message
    assert "aucune ligne" in import_chronogram(b"Heure;Objet\n", "c.csv").problems[0].message


def test_without_cells_names_become_codes():
    rows = [["1", "T+5", "Cellule de crise / Presse", "Courriel", "", "T", "", "", ""]]
    result = import_chronogram(csv_bytes(rows), "c.csv")
    assert result.injects[0].recipients == ("cellule_de_crise", "presse")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "vide"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "ancien format"),
        (b"PK\x03\x04garbage", "illisible"),
        (b"a\x00b", "ni un CSV"),
        ("Heure;Objet\nT+1;caf\xe9\n".encode("latin-1"), "UTF-8"),
        (b'Heure;Objet\n"T+1;unterminated\n', "guillemet non fermé"),
        (b" " * (MAX_BYTES + 1), "trop volumineux"),
    ],
)
def test_hostile_files(data, message):
    result = import_chronogram(data, "f.csv")
    assert result.injects == ()
    assert any(message in p.message for p in result.problems), result.problems


def test_zip_that_is_not_a_workbook_and_too_many_rows():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    assert "illisible" in import_chronogram(buffer.getvalue(), "f.xlsx").problems[0].message
    rows = [[str(n), f"T+{n}", "Toutes", "Message", "", "T", "", "", ""] for n in range(60)]
    problems = import_chronogram(csv_bytes(rows), "f.csv", max_rows=20).problems
    assert "plus de 20 lignes" in problems[0].message
    problems = import_chronogram(xlsx_bytes(rows), "f.xlsx", max_rows=20).problems
    assert "plus de 20 lignes" in problems[0].message
    exactly = import_chronogram(csv_bytes(rows[:20]), "f.csv", max_rows=20)
    assert len(exactly.injects) == 20
    over = import_chronogram(csv_bytes(rows[:21]), "f.csv", max_rows=20).problems
    assert (over[0].line, "plus de 20 lignes" in over[0].message) == (23, True)


TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=30
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=st.lists(TEXT, min_size=1, max_size=12),
    bad=st.data(),
)
def test_csv_error_line_is_the_record_start_line_even_with_multiline_cells(messages, bad):
    rows = [
        [str(n + 1), f"T+{n}", "Toutes", "Message", "", f"titre {n}", text, "", ""]
        for n, text in enumerate(messages)
    ]
    index = bad.draw(st.integers(0, len(rows) - 1))
    rows[index][1] = "n'importe quand"
    data = csv_bytes(rows)
    result = import_chronogram(data, "c.csv")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerows(rows[:index])
    expected = 3 + buffer.getvalue().count("\n")
    problems = [p for p in result.problems if "illisible" in p.message]
    assert problems and problems[0].line == expected, (result.problems, expected)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_any_bytes_give_problems_never_an_exception(data):
    result = import_chronogram(data, "f.csv")
    assert all(isinstance(p, Problem) for p in result.problems)
    assert not (result.injects and result.problems)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(TEXT, max_size=10), max_size=8), st.sampled_from([";", ",", "\t"]))
def test_any_table_gives_injects_or_problems(rows, delimiter):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows([HEADER, *rows])
    result = import_chronogram(buffer.getvalue().encode(), "f.csv", cells=CELLS)
    assert bool(result.injects) != bool(result.problems)


CELL_VALUES = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.times(),
    st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=40)),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(CELL_VALUES, min_size=9, max_size=9), min_size=1, max_size=5))
def test_any_workbook_gives_injects_or_problems(rows):
    result = import_chronogram(xlsx_bytes(rows), "f.xlsx", cells=CELLS)
    assert bool(result.injects) != bool(result.problems)
    assert all(p.location.startswith("Chronogramme!") for p in result.problems if p.line)


def test_formatted_empty_rows_do_not_count_and_positions_stay_true():
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Feuil1"
    sheet["C4"], sheet["D4"] = "Heure", "Objet"
    sheet["C5"], sheet["D5"] = "T+5", "Alerte"
    sheet["C9"], sheet["D9"] = "plus tard", "Suite"
    sheet["A3000"].number_format = "hh:mm"  # styled, empty: Excel leaves such rows behind
    buffer = io.BytesIO()
    workbook.save(buffer)
    problems = import_chronogram(buffer.getvalue(), "x.xlsx", max_rows=5).problems
    assert [(p.line, p.location) for p in problems] == [(9, "Feuil1!C9")]
