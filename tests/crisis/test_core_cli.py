"""``carbet crisis templates check FILE``: a valid template, and every problem of a bad one with
its line (the centre edits templates by hand)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from carbet.crisis import library


def test_a_shipped_template_checks(capsys):
    call_command("crisis", "templates", "check", str(library.DATA_DIR / "ransomware.json"))
    out = capsys.readouterr().out
    assert "« ransomware » valide" in out


def test_a_bad_template_names_its_lines(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{\n  "format": 1,\n  "code": "x",\n  "version": "1",\n  "title": "X",\n'
        '  "phases": {"alert": {"tasks": [{"workstream": "magie", "title": "t"}]}},\n'
        '  "checklists": []\n}\n',
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exit_:
        call_command("crisis", "templates", "check", str(bad))
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert f"{bad}:6: chantier inconnu 'magie'" in err
    assert f"{bad}:7: la liste de contrôle « exit »" in err


def test_an_unreadable_file(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"title": "é"}'.encode("latin-1"))
    with pytest.raises(CommandError):
        call_command("crisis", "templates", "check", str(path))
    with pytest.raises(CommandError):
        call_command("crisis", "templates", "check", str(tmp_path / "missing.json"))
