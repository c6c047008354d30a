"""A password change ends what the old password opened: every API token, every other session.

Each way a password can change is driven here through real HTTP (Django's test client) or the
real command, then the old token is tried against the API and the other browser session
against a page.
"""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carbet.accounts.models import ApiToken, User
from carbet.audit.models import AuditEntry
from tests.api.conftest import API
from tests.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase 2026"
PROFILE = reverse("accounts:profile")


def api_status(raw: str) -> int:
    return Client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"}).status_code


def signed_in(client: Client) -> bool:
    return client.get(PROFILE).status_code == 200


def two_tokens(user: User) -> list[str]:
    return [ApiToken.issue(user, f"script {i}")[1] for i in range(2)]


def assert_all_revoked(user: User, raws: list[str], method: str) -> None:
    for raw in raws:
        response = Client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_revoked"
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert set(ApiToken.objects.filter(user=user).values_list("revoked_reason", flat=True)) == {
        "password_changed"
    }
    change = AuditEntry.objects.filter(action="auth.password_changed").latest("sequence")
    assert change.changes["method"] == method
    assert change.changes["api_tokens_revoked"] == len(raws)
    revocations = AuditEntry.objects.filter(action="api_token.revoke")
    assert revocations.count() == len(raws)
    assert {e.changes["reason"] for e in revocations} == {"password_changed"}


def test_profile_change_revokes_tokens_keeps_this_session_and_ends_the_others(region):
    user = region.users["director"]
    raws = two_tokens(user)
    here, elsewhere = region.client("director"), region.client("director")
    assert all(api_status(raw) == 200 for raw in raws) and signed_in(elsewhere)
    response = here.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.status_code == 200
    assert "2 jetons d&#x27;API ont été révoqués" in response.content.decode()
    assert_all_revoked(user, raws, "profile")
    assert signed_in(here)
    assert not signed_in(elsewhere)  # Django's session hash no longer matches
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_refused_change_revokes_nothing(region):
    user = region.users["director"]
    raws = two_tokens(user)
    response = region.client("director").post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert all(api_status(raw) == 200 for raw in raws)
    assert not AuditEntry.objects.filter(action="auth.password_changed").exists()


def _use_link(path: str) -> None:
    client = Client()
    assert client.get(path).status_code == 200
    response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content[:300]


def test_link_from_the_command_revokes_tokens_and_ends_every_session(region, monkeypatch):
    user = region.users["director"]
    raws = two_tokens(user)
    session = region.client("director")
    monkeypatch.setenv("CARBET_BASE_URL", "http://testserver")
    out = StringIO()
    call_command("setpassword-link", "--email", user.email, stdout=out, stderr=StringIO())
    _use_link(out.getvalue().strip().removeprefix("http://testserver"))
    assert_all_revoked(user, raws, "link")
    assert not signed_in(session)


def test_link_issued_by_an_administrator_revokes_tokens(region):
    user = region.users["director"]
    raws = two_tokens(user)
    admin = region.client("centre_admin")
    page = admin.post(reverse("accounts:user_link", args=[user.pk]))
    assert page.status_code == 200
    link = re.search(r"http://testserver(/compte/mot-de-passe/[^\"<\s]+)", page.content.decode())
    assert link is not None
    _use_link(link.group(1))
    assert_all_revoked(user, raws, "link")
    assert signed_in(admin)  # the administrator's own session is not touched


def test_a_password_set_outside_carbets_pages_still_revokes(region):
    """Django's changepassword command, a shell or a script: ``set_password`` then ``save``."""
    user = region.users["director"]
    raws = two_tokens(user)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert_all_revoked(user, raws, "other")


def test_djangos_changepassword_command_revokes(region, monkeypatch):
    # The command reads the password from the terminal with getpass: the only stand-in here,
    # since a test has no terminal.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    user = region.users["director"]
    raws = two_tokens(user)
    call_command("changepassword", user.username, stdout=StringIO())
    assert_all_revoked(user, raws, "other")


def test_a_hash_upgrade_at_login_is_not_a_password_change(region):
    """Django re-hashes a password with the current hasher at login: tokens stay."""
    user = region.users["director"]
    raws = two_tokens(user)
    assert user.check_password(PASSWORD)
    assert all(api_status(raw) == 200 for raw in raws)


def test_new_accounts_are_not_reported_as_password_changes(db):
    User.objects.create_user(username="n@x.test", email="n@x.test", password=NEW_PASSWORD)
    assert not AuditEntry.objects.filter(action="auth.password_changed").exists()


def test_the_password_forms_say_what_a_change_does(region):
    page = region.client("director").get(PROFILE).content.decode()
    assert "révoque tous vos jetons d&#x27;API" in page


# --- Token lifetimes ---------------------------------------------------------------------------


def test_a_token_without_a_date_gets_the_default_lifetime(region, settings):
    settings.CARBET_API_TOKEN_DAYS = 30
    client = region.client("director")
    assert client.post(reverse("accounts:token_create"), {"name": "nodate"}).status_code == 200
    token = ApiToken.objects.get(name="nodate")
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)


def test_the_maximum_lifetime_is_a_setting(region, settings):
    settings.CARBET_API_TOKEN_MAX_DAYS = 30
    client = region.client("director")
    today = timezone.localdate()
    response = client.post(
        reverse("accounts:token_create"),
        {"name": "far", "expires_on": (today + dt.timedelta(days=31)).isoformat()},
    )
    assert response.status_code == 400
    assert "au plus 30 jours" in response.content.decode()
    assert not ApiToken.objects.filter(name="far").exists()


def test_profile_explains_end_dates_given_by_the_upgrade(region):
    user = region.users["director"]
    token, _raw = ApiToken.issue(user, "old inventory script")
    ApiToken.objects.filter(pk=token.pk).update(expiry_added=True)
    ApiToken.issue(user, "nearly done", timezone.now() + dt.timedelta(days=3))
    page = region.client("director").get(PROFILE).content.decode()
    assert "Vos jetons créés sans date en ont reçu une" in page
    day = timezone.localtime(token.expires_at).strftime("%d/%m/%Y")
    assert f"« old inventory script » expire le {day}" in page
    assert "Le jeton « nearly done » expire bientôt" in page


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_gives_tokens_without_an_end_date_one(settings):
    """Migrate back to before mandatory expiry, store an old token, migrate forward."""
    settings.CARBET_API_TOKEN_DAYS = 90
    before, latest = [("accounts", "0002_initial")], [("accounts", "0004_token_expiry_required")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old_apps = executor.loader.project_state(before).apps
        OldUser = old_apps.get_model("accounts", "User")
        OldToken = old_apps.get_model("accounts", "ApiToken")
        owner = OldUser.objects.create(username="o@x.test", email="o@x.test", password="!")
        OldToken.objects.create(user=owner, name="old", token_hash="a" * 64, hint="abcdef")
        OldToken.objects.create(
            user=owner,
            name="dated",
            token_hash="b" * 64,
            hint="bcdefg",
            expires_at=timezone.now() + dt.timedelta(days=5),
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
    old = ApiToken.objects.get(name="old")
    assert old.expiry_added
    assert dt.timedelta(days=89) < old.expires_at - timezone.now() <= dt.timedelta(days=90)
    dated = ApiToken.objects.get(name="dated")
    assert not dated.expiry_added
    assert dated.expires_at - timezone.now() <= dt.timedelta(days=5)
