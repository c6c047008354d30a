"""``carbet scan``: the --json contract on loopback, the table, bad arguments, no database, and
``--structure`` through the platform (mandate gate)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from carbet.core.models import Asset, Mandate
from tests.conftest import make_mandate, proven

ROOT = Path(__file__).resolve().parents[3]


def carbet(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    """The real command, with production settings and a database that cannot be reached."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carbet.settings",
        "CARBET_DATA_DIR": str(data_dir),
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/absent",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "carbet.cli", "scan", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.realserver
def test_json_contract_on_loopback(lab, tmp_path):
    hosts = [lab[name].host for name in ("rdp_legacy", "hl7", "smb_bad", "dicom_open")]
    result = carbet(*hosts, "--ports", "3389,2575,4450:smb,11112", "--json", "--timeout", "15",
                    "--concurrency", "64", data_dir=tmp_path / "data")  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"targets"}
    by_target = {target["target"]: target for target in document["targets"]}
    assert list(by_target) == hosts
    for target in document["targets"]:
        assert set(target) == {
            "target", "addresses", "score", "grade", "caps", "services", "findings", "refused"
        }
        for cap in target["caps"]:  # issue 19: which cap set the grade, and why (French)
            assert set(cap) == {"check", "grade", "reason"} and cap["reason"]
        assert target["refused"] == []  # the analyst's tool: loopback targets are scanned
        assert isinstance(target["score"], int) and target["grade"]
        for service in target["services"]:
            assert set(service) == {"port", "service", "product", "version"}
        for finding in target["findings"]:
            assert set(finding) == {"check", "severity", "title", "port", "evidence"}
            assert finding["severity"] in {"info", "low", "medium", "high", "critical"}
    checks = {t["target"]: {f["check"] for f in t["findings"]} for t in document["targets"]}
    assert {"port.rdp", "port.rdp.no_nla"} <= checks[lab["rdp_legacy"].host]
    assert "medical.hl7.exposed" in checks[lab["hl7"].host]
    assert {"port.smb", "port.smb.v1"} <= checks[lab["smb_bad"].host]
    assert "medical.dicom.any_ae_accepted" in checks[lab["dicom_open"].host]
    rdp = by_target[lab["rdp_legacy"].host]
    assert rdp["services"] == [
        {"port": 3389, "service": "rdp", "product": "Remote Desktop Protocol", "version": ""}
    ]
    assert rdp["findings"][0]["severity"] == "critical"  # most severe first
    # No database was needed: none was created, none was reached.
    assert not list((tmp_path / "data").glob("*.sqlite3"))
    assert "\r[" not in result.stderr  # no progress bar when stderr is not a terminal


@pytest.mark.realserver
def test_readable_table(lab, tmp_path):
    result = carbet(lab["vnc_noauth"].host, "--ports", "5900", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "port.vnc.noauth" in result.stdout
    assert "critique" in result.stdout
    assert "PORT" in result.stdout and "vnc" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["127.0.0.1", "--ports", "abc"], "Port invalide"),
        ([], "au moins une cible"),
        (["10.0.0.0/8"], "découpez-le"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(args, message, tmp_path):
    result = carbet(*args, data_dir=tmp_path / "data")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["127.0.0.1", "--ports", "0"], "Port hors limites"),
        (["127.0.0.1", "--ports", "80:gopher"], "Sonde inconnue"),
        (["127.0.0.1", "--nameserver", "not-an-ip"], "Serveur DNS invalide"),
        (["127.0.0.1", "--nameserver", "127.0.0.1:70000"], "Serveur DNS invalide"),
        (["127.0.0.1", "--timeout", "-3"], "Durée invalide"),
        (["127.0.0.1", "--concurrency", "0"], "Nombre invalide"),
        (["127.0.0.1", "--ca-file", "/nonexistent.pem"], "Magasin de certificats illisible"),
        (["127.0.0.1", "--structure", "750712184"], "pas les deux"),
        (["127.0.0.1", "--wait"], "--structure"),
    ],
)
def test_bad_arguments_in_process(args, message):
    """The same checks as above without a process each (argparse errors become CommandError
    in call_command; from the shell they exit with 2, as the test above shows)."""
    with pytest.raises(CommandError) as error:
        call_command("scan", *args)
    assert message in str(error.value)
    assert getattr(error.value, "returncode", 2) in (1, 2)


def test_help_lists_the_options(tmp_path):
    result = carbet("--help", data_dir=tmp_path / "data")
    assert result.returncode == 0
    for option in ("--ports", "--nameserver", "--ca-file", "--json", "--timeout",
                   "--concurrency", "--structure", "--wait"):  # fmt: skip
        assert option in result.stdout


# --- through the platform ------------------------------------------------------------------------


def test_structure_unknown_finess(db):
    with pytest.raises(CommandError) as error:
        call_command("scan", structure="000000000")
    assert error.value.returncode == 2


def test_structure_without_mandate_is_refused(region):
    Mandate.objects.filter(structure=region.a).delete()
    Asset.objects.create(structure=region.a, kind="ipv4", value="127.44.0.15", **proven())
    with pytest.raises(CommandError) as error:
        call_command("scan", structure=region.a.finess_et)
    assert "mandat" in str(error.value).lower()


@pytest.mark.realserver
@pytest.mark.django_db(transaction=True)  # the job starts on commit, as in production
def test_structure_scan_through_the_platform(region, lab, capsys):
    Asset.objects.filter(structure=region.a).delete()  # alpha.test resolves nowhere here
    Asset.objects.create(structure=region.a, kind="ipv4", value=lab["hl7"].host, **proven())
    make_mandate(region.a)
    call_command("scan", structure=region.a.finess_et, wait=True, json=True)
    document = json.loads(capsys.readouterr().out)
    (target,) = document["targets"]
    assert target["target"] == lab["hl7"].host
    assert "medical.hl7.exposed" in {finding["check"] for finding in target["findings"]}


@pytest.mark.realserver
def test_progress_bar_on_a_terminal(lab, tmp_path):
    import pty

    controller, terminal = pty.openpty()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "carbet.settings",
           "CARBET_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}  # fmt: skip
    try:
        result = subprocess.run(
            [sys.executable, "-m", "carbet.cli", "scan", lab["hl7"].host, "--ports", "2575"],
            stdout=subprocess.PIPE, stderr=terminal, env=env, cwd=ROOT, timeout=120, check=False,
        )  # fmt: skip
        os.close(terminal)
        terminal = -1
        shown = os.read(controller, 65536)
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert result.returncode == 0
    assert b"[" + b"#" * 30 + b"] 1/1" in shown
    assert b"medical.hl7.exposed" in result.stdout
