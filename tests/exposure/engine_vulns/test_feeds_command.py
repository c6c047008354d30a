"""``carbet feeds import|status``: works without the platform database (no ``db`` fixture here:
pytest-django would fail any test that touched it)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

DATA = Path(__file__).parent / "data"


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("feeds", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_then_status(tmp_path):
    db = str(tmp_path / "feeds.sqlite")
    out, _ = run("status", "--db", db)
    assert "Aucun flux importé" in out
    files = [str(DATA / name) for name in ("nvd.json", "kev.json", "epss.csv", "certfr.json")]
    out, err = run("import", *files, "--db", db)
    assert err == ""
    assert "NVD (CVE) : 8 entrées importées depuis nvd.json" in out
    assert "CISA KEV : 2 entrées" in out and "EPSS : 6 entrées" in out
    out, _ = run("status", "--db", db, "--json")
    feeds = json.loads(out)["feeds"]
    assert {k: v["count"] for k, v in feeds.items()} == {"nvd": 8, "kev": 2, "epss": 6, "certfr": 2}
    assert feeds["epss"]["source_date"] == "2025-03-16"
    out, _ = run("status", "--db", db)
    assert "CISA KEV" in out and "2025-03-01" in out


def test_bad_file_is_refused_with_a_clear_message(tmp_path):
    db = str(tmp_path / "feeds.sqlite")
    bad = tmp_path / "broken.csv"
    bad.write_text("cve,epss,percentile\nCVE-2024-1,0.1,0.2\n")
    with pytest.raises(CommandError, match="1 fichier"):
        run("import", str(bad), str(DATA / "kev.json"), "--db", db)
    out, _ = run("status", "--db", db, "--json")
    counts = {k: v["count"] for k, v in json.loads(out)["feeds"].items()}
    assert counts == {"nvd": 0, "kev": 2, "epss": 0, "certfr": 0}  # the good file went in
