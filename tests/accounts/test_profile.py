"""My account: password policy, second factor management, language, personal API tokens;
and the production security settings (hasher, cookies)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from carbet.accounts.models import ApiToken
from carbet.audit.models import AuditEntry
from tests.accounts.test_login import post_login
from tests.conftest import PASSWORD

PROFILE = reverse("accounts:profile")
RAW_TOKEN = re.compile(r"cbt_[A-Za-z0-9_-]{20,}")


# --- Password policy -------------------------------------------------------------------------


def test_password_of_11_characters_is_refused(region):
    with pytest.raises(ValidationError) as error:
        validate_password("Kx7#pq9!Lm2", user=region.users["director"])
    assert any("12" in message for message in error.value.messages)


def test_common_password_is_refused(region):
    with pytest.raises(ValidationError):
        validate_password("password1234", user=region.users["director"])


def test_long_passphrase_is_accepted(region):
    validate_password("cinq lamas roses sous la pluie", user=region.users["director"])


def test_password_change_from_profile(region):
    client = region.client("director")
    short = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "Kx7#pq9!Lm2", "new_password2": "Kx7#pq9!Lm2"},
    )
    assert short.status_code == 400
    assert "12" in short.content.decode()
    common = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "password1234",
            "new_password2": "password1234",
        },
    )
    assert common.status_code == 400
    new = "cinq lamas roses sous la pluie"
    ok = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert ok.status_code == 302
    # The session that changed the password stays signed in.
    assert client.get(PROFILE).status_code == 200
    user = region.users["director"]
    user.refresh_from_db()
    assert user.check_password(new)
    assert AuditEntry.objects.filter(action="auth.password_changed", actor_id=user.pk).exists()


# --- Production settings ---------------------------------------------------------------------


def _production_settings() -> dict:
    """Import carbet.settings in a clean process (no test overrides, no HTTP opt-out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARBET_", "DJANGO_"))}
    env["CARBET_DATA_DIR"] = tempfile.mkdtemp(prefix="carbet-settings-")
    code = (
        "import json, carbet.settings as s; print(json.dumps({"
        "'hashers': s.PASSWORD_HASHERS, 'session_secure': s.SESSION_COOKIE_SECURE, "
        "'session_httponly': s.SESSION_COOKIE_HTTPONLY, 'csrf_secure': s.CSRF_COOKIE_SECURE, "
        "'samesite': s.SESSION_COOKIE_SAMESITE, "
        "'browser_close': s.SESSION_EXPIRE_AT_BROWSER_CLOSE, "
        "'age': s.SESSION_COOKIE_AGE}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_argon2_is_the_first_hasher_in_production():
    import carbet.settings

    assert carbet.settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert _production_settings()["hashers"][0].endswith("Argon2PasswordHasher")


def test_session_cookies_are_secure_by_default():
    values = _production_settings()
    assert values["session_secure"] is True
    assert values["csrf_secure"] is True
    assert values["session_httponly"] is True
    assert values["samesite"] in ("Lax", "Strict")
    assert values["browser_close"] is True
    assert values["age"] <= 8 * 3600


# --- Second factor from the profile ----------------------------------------------------------


def test_profile_shows_identity_roles_and_mfa_offer(region):
    client = Client()
    post_login(client, "dg@alpha.test")  # no second factor yet: it is offered
    body = client.get(PROFILE).content.decode()
    assert "dg@alpha.test" in body
    assert "CH Alpha" in body  # the organisation of the membership
    assert "toutes les structures de l'organisation" in body
    assert reverse("accounts:enrol") in body


def test_voluntary_mfa_can_be_removed_with_password(region):
    client = region.client("director")  # the fixture gives a confirmed device
    user = region.users["director"]
    wrong = client.post(reverse("accounts:mfa_remove"), {"password": "not my password"})
    assert wrong.status_code == 400
    assert TOTPDevice.objects.filter(user=user).exists()
    ok = client.post(reverse("accounts:mfa_remove"), {"password": PASSWORD})
    assert ok.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="auth.mfa_removed", actor_id=user.pk).exists()


def test_mandatory_mfa_cannot_be_removed(region):
    client = region.client("centre_analyst")
    response = client.post(reverse("accounts:mfa_remove"), {"password": PASSWORD})
    assert response.status_code == 400
    assert "obligatoire" in response.content.decode()
    assert TOTPDevice.objects.filter(user=region.users["centre_analyst"]).exists()


def test_backup_codes_can_be_regenerated_and_old_ones_die(region):
    client = region.client("centre_admin")
    user = region.users["centre_admin"]
    old = StaticDevice.objects.create(user=user, name="old", confirmed=True)
    old.token_set.create(token="oldcode1")
    response = client.post(reverse("accounts:backup_codes"))
    assert response.status_code == 200
    codes = re.findall(
        r'<li><code class="secret">([a-z2-7]+)</code></li>', response.content.decode()
    )
    assert len(codes) == 10
    assert not StaticDevice.objects.filter(pk=old.pk).exists()
    assert client.get(reverse("accounts:backup_codes")).status_code == 405


def test_language_choice_is_saved_and_set_in_cookie(region):
    client = region.client("director")
    response = client.post(reverse("accounts:language"), {"language": "en"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    region.users["director"].refresh_from_db()
    assert region.users["director"].language == "en"
    assert client.post(reverse("accounts:language"), {"language": "xx"}).status_code == 400


# --- API tokens -------------------------------------------------------------------------------


def test_token_raw_value_is_shown_once_and_only_its_hash_is_stored(region):
    client = region.client("director")
    response = client.post(reverse("accounts:token_create"), {"name": "inventaire"})
    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
    raws = set(RAW_TOKEN.findall(response.content.decode()))
    assert len(raws) == 1
    raw = raws.pop()
    token = ApiToken.objects.get(user=region.users["director"])
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.name, token.hint, token.token_hash}
    assert token.hint == raw[-6:]
    assert ApiToken.authenticate(raw) == region.users["director"]
    again = client.get(PROFILE).content.decode()
    assert raw not in again and token.hint in again
    entry = AuditEntry.objects.get(action="api_token.create")
    assert raw not in json.dumps(entry.changes)


def test_token_revocation(region):
    client = region.client("director")
    token, raw = ApiToken.issue(region.users["director"], "old script")
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert ApiToken.authenticate(raw) is None
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1
    assert client.get(reverse("accounts:token_revoke", args=[token.pk])).status_code == 405


def test_another_persons_token_cannot_be_revoked(region):
    token, raw = ApiToken.issue(region.users["director_b"], "beta script")
    client = region.client("director")
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    assert ApiToken.authenticate(raw) == region.users["director_b"]
    assert client.post(reverse("accounts:token_revoke", args=[999_999])).status_code == 404


def test_token_expiry_is_limited_to_a_year(region):
    client = region.client("director")
    today = timezone.localdate()
    too_far = client.post(
        reverse("accounts:token_create"),
        {"name": "long", "expires_on": (today + dt.timedelta(days=366)).isoformat()},
    )
    assert too_far.status_code == 400
    assert "au plus 365 jours" in too_far.content.decode()
    past = client.post(
        reverse("accounts:token_create"),
        {"name": "past", "expires_on": today.isoformat()},
    )
    assert past.status_code == 400
    ok = client.post(
        reverse("accounts:token_create"),
        {"name": "year", "expires_on": (today + dt.timedelta(days=365)).isoformat()},
    )
    assert ok.status_code == 200
    token = ApiToken.objects.get(name="year")
    assert timezone.localtime(token.expires_at).date() == today + dt.timedelta(days=366)
    assert not ApiToken.objects.filter(name__in=["long", "past"]).exists()


def test_profile_requires_login(db):
    response = Client().get(PROFILE)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_profile_after_password_only_login_for_user_without_mfa(region):
    client = Client()
    post_login(client, "ref@alpha.test")
    assert client.get(PROFILE).status_code == 200
