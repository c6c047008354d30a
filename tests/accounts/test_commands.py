"""``carbet createadmin`` and ``carbet setpassword-link``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from carbet.accounts.models import User
from carbet.accounts.roles import CentreRole
from carbet.audit.models import AuditEntry
from tests.accounts.test_login import post_login

STRONG = "la mangrove veille sur le carbet"


def test_createadmin_with_password_file(db, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text(STRONG + "\n", encoding="utf-8")
    out = StringIO()
    call_command(
        "createadmin",
        "--email",
        "Chef@Centre.test",
        "--name",
        "La Cheffe",
        "--password-file",
        str(secret),
        stdout=out,
    )
    user = User.objects.get(email="chef@centre.test")
    assert user.centre_role == CentreRole.ADMIN and user.full_name == "La Cheffe"
    assert user.check_password(STRONG)
    assert "double authentification" in out.getvalue()
    assert AuditEntry.objects.get(action="user.create").actor_label == "carbet createadmin"
    # The admin must enrol a second factor at first login.
    assert post_login(Client(), "chef@centre.test", STRONG).url == reverse("accounts:enrol")


@pytest.mark.parametrize(
    ("password", "reason"),
    [("Kx7#pq9!Lm2", "12"), ("password1234", "courant"), ("", "vide")],
)
def test_createadmin_refuses_weak_passwords_with_the_validators_messages(
    db, tmp_path, password, reason
):
    secret = tmp_path / "pw"
    secret.write_text(password, encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("createadmin", "--email", "a@centre.test", "--password-file", str(secret))
    assert reason in str(error.value)
    assert not User.objects.filter(email="a@centre.test").exists()


def test_createadmin_refuses_an_existing_email(region, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text(STRONG, encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("createadmin", "--email", "ADMIN@centre.test", "--password-file", str(secret))
    assert "existe déjà" in str(error.value)
    assert User.objects.filter(email__iexact="admin@centre.test").count() == 1


def test_createadmin_without_terminal_or_file_explains(db, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="--password-file"):
        call_command("createadmin", "--email", "b@centre.test")


def test_setpassword_link_prints_a_working_url(region, monkeypatch):
    monkeypatch.setenv("CARBET_BASE_URL", "https://carbet.example.test/")
    out = StringIO()
    call_command("setpassword-link", "--email", "dir@beta.test", stdout=out, stderr=StringIO())
    url = out.getvalue().strip()
    assert url.startswith("https://carbet.example.test/compte/mot-de-passe/")
    path = url.removeprefix("https://carbet.example.test")
    assert Client().get(path).status_code == 200
    with pytest.raises(CommandError):
        call_command("setpassword-link", "--email", "ghost@nowhere.test")
