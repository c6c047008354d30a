"""The library installed after migrate, each of its scenarios copied into an exercise, and
``carbet exercises check|import|export``."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from carbet.core.tenancy import SYSTEM
from carbet.exercises import services, services_scenarios
from carbet.exercises.models import ScenarioVersion

pytestmark = pytest.mark.django_db


def test_the_library_is_installed_and_every_scenario_makes_an_exercise(region):
    library = list(ScenarioVersion.objects.filter(from_library=True))
    assert len(library) >= 6
    assert {row.level for row in library} == {"debutant", "intermediaire", "confirme"}
    assert services_scenarios.install_library() == 0  # idempotent
    for row in library:
        exercise = services.create_exercise(
            SYSTEM, region.a, row, planned_start=timezone.now() + dt.timedelta(days=1)
        )
        assert exercise.injects.count() > 0
        assert "{{" not in "".join(exercise.injects.values_list("subject", flat=True))


def test_import_refuses_problems_with_their_line_and_keeps_versions(region, tmp_path):
    analyst = region.users["centre_analyst"]
    row, problems = services_scenarios.import_scenario(analyst, b'{"code": 12,\n}', "bad.json")
    assert row is None and problems and problems[0].render().startswith("bad.json:")
    source = ScenarioVersion.objects.filter(from_library=True).first()
    data = json.loads(services_scenarios.export_scenario(source))
    data["code"], data["version"] = "maison", "2.0"
    text = json.dumps(data, ensure_ascii=False)
    row, problems = services_scenarios.import_scenario(analyst, text, "maison.json")
    assert problems == [] and row.code == "maison" and not row.from_library
    again, problems = services_scenarios.import_scenario(analyst, text, "maison.json")
    assert again is None and "existe déjà" in problems[0].message
    with pytest.raises(PermissionDenied):  # a director does not feed the centre's library
        services_scenarios.import_scenario(region.users["director"], text, "maison.json")


def test_the_check_command_prints_file_line_message(tmp_path, capsys):
    bad = tmp_path / "scenario.json"
    bad.write_text('{\n  "code": "x",\n  "version": 1\n}\n', encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        call_command("exercises", "check", str(bad))
    assert exit_.value.code == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines and all(line.startswith(f"{bad}:") for line in lines)
    good = tmp_path / "good.json"
    source = ScenarioVersion.objects.filter(from_library=True).first()
    good.write_text(services_scenarios.export_scenario(source), encoding="utf-8")
    call_command("exercises", "check", str(good))
    assert "OK" in capsys.readouterr().out
