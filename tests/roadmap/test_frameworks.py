"""Framework files: the bundled ones load and validate; broken ones are refused with the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.audit.models import AuditEntry
from carbet.engines.roadmap import frameworks as engine
from carbet.engines.roadmap import jsonpos
from carbet.engines.roadmap.frameworks import FrameworkError
from carbet.roadmap import frameworks
from carbet.roadmap.models import Framework, Requirement

BUNDLED = frameworks.BUNDLED_DIR


def test_bundled_files_are_valid_and_mappings_resolve():
    specs = {s.code: s for s in frameworks.check()}
    assert set(specs) >= {"care-d1", "care-d2", "anssi-hygiene", "diagnostic"}
    hygiene = specs["anssi-hygiene"]
    assert len(hygiene.requirements) == 42
    assert len(hygiene.themes) == 10
    assert {r.official_id for r in hygiene.requirements} == {f"Mesure {i}" for i in range(1, 43)}
    assert {r.level for r in hygiene.requirements} == {"standard", "renforce"}
    d2 = specs["care-d2"]
    codes = {r.code for r in d2.requirements}
    assert {"d2.p1", "d2.p2", "d2.o1.d", "d2.o3.c", "d2.o4"} <= codes
    assert [r.code for r in d2.requirements if r.prerequisite] == ["d2.p1", "d2.p2"]
    assert d2.requirement("d2.o1.d").min_activity_share == pytest.approx(0.66)
    diagnostic = specs["diagnostic"]
    assert {t.code for t in diagnostic.themes} == {
        "contexte",
        "gouvernance",
        "acces",
        "postes",
        "infrastructures",
        "sensibilisation",
        "reaction",
    }
    assert all(len(r.answers) == 4 for r in diagnostic.requirements)


@pytest.mark.django_db
def test_migrate_loaded_the_bundled_frameworks_and_reload_is_unchanged():
    assert Framework.objects.filter(code="care-d2").exists()
    assert Requirement.objects.filter(framework__code="anssi-hygiene").count() == 42
    results = frameworks.load()
    assert all(r.unchanged for r in results)


def _broken(tmp_path: Path, name: str, mutate) -> Path:
    data = json.loads((BUNDLED / "care-d2.json").read_text("utf-8"))
    mutate(data)
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_a_bad_value_is_reported_at_the_line_of_its_key(tmp_path):
    path = _broken(tmp_path, "d2.json", lambda d: d["requirements"][3].update(priority=7))
    with pytest.raises(FrameworkError) as caught:
        frameworks.check([path])
    issue = caught.value.issues[0]
    assert issue.line == _line_of(path, '"priority": 7')
    assert str(issue).startswith(f"{path}:{issue.line}: ")
    assert "priority" in issue.message


def test_unknown_key_unknown_dependency_and_duplicate_code(tmp_path):
    def mutate(data):
        data["requirements"][0]["titel"] = "typo"
        data["requirements"][1]["requires"] = ["d2.zz"]
        data["requirements"][2]["code"] = "d2.p1"

    path = _broken(tmp_path, "d2.json", mutate)
    with pytest.raises(FrameworkError) as caught:
        frameworks.check([path])
    messages = {i.line: i.message for i in caught.value.issues}
    assert "titel" in messages[_line_of(path, '"titel"')]
    assert "d2.zz" in messages[_line_of(path, '"d2.zz"')]
    assert any("deux fois" in m for m in messages.values())


def test_syntax_error_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "format": 1,\n  "code": "x"\n  "version": "1"\n}\n', "utf-8")
    with pytest.raises(FrameworkError) as caught:
        frameworks.check([path])
    assert caught.value.issues[0].line == 4
    assert "JSON invalide" in caught.value.issues[0].message


def test_dependency_cycle_is_refused(tmp_path):
    def mutate(data):
        data["requirements"][1]["requires"] = ["d2.o1.a"]  # d2.o1.a requires d2.p2

    path = _broken(tmp_path, "d2.json", mutate)
    with pytest.raises(FrameworkError, match="circulaires"):
        frameworks.check([path])


@pytest.mark.django_db
def test_command_load_refuses_a_broken_file_and_loads_a_new_version(tmp_path):
    broken = _broken(tmp_path, "bad.json", lambda d: d.update(kind="nope"))
    with pytest.raises(CommandError) as caught:
        call_command("frameworks", "check", str(broken))
    assert f"{broken}:{_line_of(broken, '"kind"')}" in str(caught.value)

    def new_version(data):
        data["version"] = "2026.1"
        data["requirements"] = [r for r in data["requirements"] if r["code"] != "d2.o3.d"]
        data["requirements"][0]["title"] = "PSSI signée (nouvelle rédaction)"

    updated = _broken(tmp_path, "care-d2.json", new_version)
    call_command("frameworks", "load", str(updated))
    framework = Framework.objects.get(code="care-d2")
    assert framework.version == "2026.1"
    assert framework.requirements.get(code="d2.o3.d").retired
    assert framework.requirements.get(code="d2.p1").title == "PSSI signée (nouvelle rédaction)"
    assert AuditEntry.objects.filter(
        action="framework.load", object_label="care-d2 2026.1"
    ).exists()


def test_jsonpos_matches_json_on_valid_documents():
    text = (BUNDLED / "diagnostic.json").read_text("utf-8")
    assert jsonpos.loads(text) == json.loads(text)


def test_jsonpos_refuses_deep_nesting_without_crashing():
    with pytest.raises(jsonpos.JsonPositionError, match="imbrication"):
        jsonpos.loads("[" * 10_000 + "]" * 10_000)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_jsonpos_round_trips_any_json(value):
    assert jsonpos.loads(json.dumps(value, indent=1)) == value


@given(st.text(max_size=400))
@settings(max_examples=300)
def test_parser_never_crashes_on_garbage(text):
    try:
        engine.parse(text, "upload.json")
    except FrameworkError as exc:
        assert exc.issues and all(i.filename == "upload.json" for i in exc.issues)


@given(st.binary(max_size=300))
@settings(max_examples=200)
def test_parser_never_crashes_on_bytes(data):
    try:
        engine.parse(data, "upload.json")
    except FrameworkError:
        pass


mutation_values = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.text(max_size=5)
    | st.lists(st.text(max_size=3), max_size=2)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
)


@given(
    index=st.integers(0, 12),
    key=st.sampled_from([*sorted(engine.REQUIREMENT_KEYS), "other"]),
    value=mutation_values,
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_parser_reports_or_accepts_any_field_mutation(index, key, value):
    data = json.loads((BUNDLED / "care-d2.json").read_text("utf-8"))
    data["requirements"][index][key] = value
    text = json.dumps(data, ensure_ascii=False, indent=2)
    try:
        spec = engine.parse(text, "x.json")
    except FrameworkError as exc:
        lines = text.count("\n") + 1
        assert all(0 <= i.line <= lines for i in exc.issues)
    else:
        assert len(spec.requirements) == 13
