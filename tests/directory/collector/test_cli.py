"""``carbet ad collect`` / ``carbet ad analyse`` in a subprocess, as a structure's IT runs them:
no database, progress on stderr, the --json contract on stdout, exit 2 on bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.ops.realservers import carbet_env, run_carbet

CONTRACT_FINDING_KEYS = {
    "rule", "anssi", "level", "category", "points", "severity", "title", "objects",
}  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    # DATABASE_URL points nowhere: a command touching the database would fail.
    return carbet_env(
        tmp_path_factory.mktemp("carbet-data"),
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
    )


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory, samba_dc):
    folder = tmp_path_factory.mktemp("secrets")
    (folder / "password").write_text(samba_dc.reader_password + "\n")
    (folder / "passphrase").write_text("une phrase de passe assez longue\n")
    (folder / "empty").write_text("")
    return folder


@pytest.mark.realserver
def test_collect_then_analyse_json(env, secrets_dir, samba_dc, tmp_path):
    out = tmp_path / "annuaire.cad"
    collected = run_carbet(
        env, "ad", "collect", "--server", samba_dc.server, "--user", samba_dc.reader_user,
        "--password-file", str(secrets_dir / "password"), "--ca-file", samba_dc.ca_file,
        "--out", str(out), "--passphrase-file", str(secrets_dir / "passphrase"), "--pseudonymise",
    )  # fmt: skip
    assert collected.returncode == 0, collected.stderr
    assert "Utilisateurs" in collected.stderr and "Instantané écrit" in collected.stderr
    assert samba_dc.reader_password not in collected.stderr + collected.stdout
    assert b"adm_spn" not in out.read_bytes()
    now = (samba_dc.started_at + timedelta(hours=1)).isoformat()
    analysed = run_carbet(
        env, "ad", "analyse", str(out), "--json", "--now", now,
        "--passphrase-file", str(secrets_dir / "passphrase"),
    )  # fmt: skip
    assert analysed.returncode == 0, analysed.stderr
    document = json.loads(analysed.stdout)
    assert document["domain"] == samba_dc.dns_domain
    assert document["anssi_level"] == 1
    assert set(document["score"]) >= {
        "global", "stale_objects", "privileged_accounts", "trusts", "anomalies",
    }  # fmt: skip
    assert document["score"]["global"] == max(document["score"].values())
    assert document["findings"]
    for finding in document["findings"]:
        assert CONTRACT_FINDING_KEYS <= set(finding)
    rules = {f["rule"]: f for f in document["findings"]}
    # Pseudonymised: the weak admin is reported under its pseudonym, not its name.
    assert rules["vuln1_spn_priv"]["objects"][0].startswith("user-")
    assert document["pseudonymised"] is True


@pytest.mark.realserver
def test_readable_summary(env, secrets_dir, samba_dc, tmp_path):
    out = tmp_path / "plain.cad"
    collected = run_carbet(
        env, "ad", "collect", "--server", samba_dc.host, "--user", samba_dc.reader_user,
        "--password-file", str(secrets_dir / "password"), "--starttls", "--insecure",
        "--no-sysvol", "--out", str(out),
    )  # fmt: skip
    assert collected.returncode == 0, collected.stderr
    shown = run_carbet(env, "ad", "analyse", str(out))
    assert shown.returncode == 0, shown.stderr
    assert "Niveau ANSSI : 1 sur 5" in shown.stdout
    assert "Exploitable immédiatement" in shown.stdout and "adm_nopreauth" in shown.stdout


@pytest.mark.realserver
def test_wrong_password_exits_1(env, secrets_dir, samba_dc, tmp_path):
    (tmp_path / "bad").write_text("wrong\n")
    done = run_carbet(
        env, "ad", "collect", "--server", samba_dc.server, "--user", samba_dc.reader_user,
        "--password-file", str(tmp_path / "bad"), "--insecure", "--out", str(tmp_path / "x.cad"),
    )  # fmt: skip
    assert done.returncode == 1
    assert "Collecte impossible" in done.stderr and "bind refused" in done.stderr
    assert not (tmp_path / "x.cad").exists()


def test_argparse_errors_exit_2(env):
    done = run_carbet(env, "ad", "collect", "--user", "u", "--password-file", "p", "--out", "o")
    assert done.returncode == 2 and "--server" in done.stderr


def test_bad_arguments_and_files_are_command_errors_with_status_2(tmp_path):
    """In-process (a subprocess per case costs a Django start-up): every bad input is a
    CommandError carrying exit status 2, with a message that says what to fix."""
    garbage = tmp_path / "garbage.cad"
    garbage.write_bytes(b"CARBETAD\x01\x00 not zlib")
    (tmp_path / "empty").write_text("")
    (tmp_path / "password").write_text("secret\n")
    out = str(tmp_path / "o.cad")
    cases = [
        (("collect", "--server", "h", "--user", "u", "--password-file",
          str(tmp_path / "absent"), "--out", out), "Lecture impossible"),
        (("collect", "--server", "h", "--user", "u", "--password-file",
          str(tmp_path / "empty"), "--out", out), "est vide"),
        (("collect", "--server", "h:99999", "--user", "u", "--password-file",
          str(tmp_path / "password"), "--out", out), "port invalide"),
        (("collect", "--server", "h", "--user", "u", "--password-file",
          str(tmp_path / "password"), "--out", str(tmp_path / "no" / "o.cad")), "Dossier"),
        (("collect", "--server", "h", "--user", "u", "--password-file",
          str(tmp_path / "password"), "--ca-file", str(tmp_path / "no.pem"), "--out", out),
         "Certificat introuvable"),
        (("analyse", str(tmp_path / "absent.cad")), "introuvable"),
        (("analyse", str(garbage)), "Instantané illisible"),
        (("analyse", str(garbage), "--now", "demain"), "Date invalide"),
    ]  # fmt: skip
    for args, message in cases:
        with pytest.raises(CommandError, match=message) as raised:
            call_command("ad", *args)
        assert raised.value.returncode == 2, args
