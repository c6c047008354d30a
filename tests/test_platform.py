"""Platform-wide guarantees: every command has --help, safe HTTP defaults, no unscoped queries."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[1]
CARBET_COMMANDS = sorted(name for name, app in get_commands().items() if app.startswith("carbet"))


def _carbet(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "carbet.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_the_carbet_command_lists_its_own_and_djangos_commands():
    """``carbet --help`` groups Carbet's own commands (services' ones found from their specs);
    ``carbet help --all`` adds Django's."""
    result = _carbet("--help")
    assert result.returncode == 0, result.stderr
    for name in CARBET_COMMANDS:
        if name != "flush":  # Carbet's flush overrides Django's: listed with Django's
            assert f"  {name} " in result.stdout, name
    everything = _carbet("help", "--all")
    for name in ("migrate", "check", "flush"):
        assert name in everything.stdout


@pytest.mark.parametrize("command", CARBET_COMMANDS)
def test_every_carbet_subcommand_has_help(command):
    result = _carbet(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_expected_subcommands_exist():
    expected = {"serve", "worker", "demo", "createadmin", "backup", "restore", "audit"}
    missing = expected - set(get_commands())
    assert not missing, f"missing carbet subcommands: {sorted(missing)}"


def test_security_headers_on_every_page(client, db):
    response = client.get("/sante/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_safe_defaults_without_configuration():
    """The production settings, read with an empty environment, are HTTPS-ready."""
    code = (
        "import carbet.settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
        " s.DEBUG, s.SESSION_COOKIE_HTTPONLY, s.PASSWORD_HASHERS[0].rsplit('.',1)[-1])"
    )
    env = {"PATH": os.environ["PATH"], "CARBET_DATA_DIR": str(Path(settings.DATA_DIR) / "fresh")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "31536000",
        "False",
        "True",
        "Argon2PasswordHasher",
    ]
    key_file = Path(settings.DATA_DIR) / "fresh" / "keys" / "secret_key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600


def _view_modules() -> list[Path]:
    paths = []
    for path in (ROOT / "carbet").rglob("*.py"):
        if path.name.startswith(("views", "api")) or path.parent.name in {"views", "api"}:
            paths.append(path)
    return paths


def test_views_and_api_never_use_unscoped_tenant_managers():
    """Views reach tenant rows only through ``visible_to``: ``Model.objects.get/filter/all``
    on a tenant model in a view or API module is refused here, so a forgotten scope fails CI."""
    from django.apps import apps

    tenant_models = {m.__name__ for m in apps.get_models() if hasattr(m, "tenant_path")}
    offenders = []
    for path in _view_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "objects"
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id in tenant_models
                and node.attr != "visible_to"
            ):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                offenders.append(f"{where} {node.value.value.id}.objects.{node.attr}")
    assert not offenders, "unscoped tenant queries in views/API:\n" + "\n".join(offenders)


def test_commands_print_no_library_deprecation_notice():
    """dnspython's DSA notice used to precede every command's output (issue 19)."""
    # A scan of a closed loopback port: the command imports the DNS library, answers at once.
    result = _carbet("scan", "127.0.0.1", "--ports", "1", "--json")
    assert result.returncode in (0, 1), result.stderr
    assert "Deprecation" not in result.stderr
