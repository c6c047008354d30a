"""Signing in: password, second factor (real TOTP codes), enrolment, sign-out, language."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from carbet.audit.models import AuditEntry
from tests.conftest import PASSWORD, make_user

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:verify")
ENROL = reverse("accounts:enrol")


def post_login(client: Client, login: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"login": login, "password": password, **extra})


def current_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show right now (computed, not mocked)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def is_fully_signed_in(client: Client) -> bool:
    """Past the MFA gate: the home page no longer sends to verify/enrol, the profile opens."""
    home = client.get(reverse("web:home"))
    if home.status_code == 302 and home.url in (VERIFY, ENROL, LOGIN):
        return False
    return client.get(reverse("accounts:profile")).status_code == 200


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_login_page_renders_with_labels(db):
    response = Client().get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'for="id_login"' in body and 'for="id_password"' in body
    assert "<script>" not in body and 'style="' not in body


def test_structure_user_without_mfa_logs_in_with_email_any_case(region):
    client = Client()
    response = post_login(client, "DIR@alpha.test")
    assert response.status_code == 302
    assert response.url == reverse("web:home")
    assert client.get(reverse("accounts:profile")).status_code == 200
    entry = AuditEntry.objects.filter(action="auth.login").latest("sequence")
    assert entry.actor_id == region.users["director"].pk


def test_login_with_next_goes_back_there(region):
    client = Client()
    target = reverse("accounts:profile")
    response = post_login(client, "dir@alpha.test", next=target)
    assert response.url == target
    response = post_login(Client(), "dir@alpha.test", next="https://evil.test/")
    assert response.url == reverse("web:home")


def test_login_rotates_the_session_key(region):
    client = Client()
    client.get(LOGIN)
    session = client.session
    session["marker"] = 1
    session.save()
    before = client.session.session_key
    post_login(client, "dir@alpha.test")
    assert client.session.session_key != before


def test_bad_credentials_get_one_generic_message_and_are_audited(region):
    unknown = post_login(Client(), "ghost@nowhere.test", "whatever-password")
    wrong = post_login(Client(), "dir@alpha.test", "wrong password here")
    for response in (unknown, wrong):
        assert response.status_code == 200
        assert "Adresse e-mail ou mot de passe incorrect" in response.content.decode()
    failed = AuditEntry.objects.filter(action="auth.login_failed").order_by("sequence")
    assert [e.actor_label for e in failed] == ["ghost@nowhere.test", "dir@alpha.test"]
    assert all(e.actor_id is None for e in failed)


def test_inactive_account_is_refused(region):
    user = region.users["director"]
    user.is_active = False
    user.save()
    response = post_login(Client(), "dir@alpha.test")
    assert response.status_code == 200
    assert "_auth_user_id" not in Client().session


def test_centre_admin_without_device_must_enrol_before_anything_else(region):
    client = Client()
    response = post_login(client, "admin@centre.test")
    assert response.url == ENROL
    for path in ("/registre/", reverse("web:home"), "/journal/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url == ENROL, path
    # Account pages other than the MFA ones are closed too: no token before the second factor.
    assert client.get(reverse("accounts:profile")).url == ENROL
    assert client.post(reverse("accounts:token_create"), {"name": "x"}).url == ENROL


def test_enrolment_reuses_the_device_on_reload_and_confirms_with_a_real_code(region):
    user = region.users["centre_admin"]
    client = Client()
    post_login(client, user.email)
    first = client.get(ENROL)
    second = client.get(ENROL)
    assert first.status_code == second.status_code == 200
    assert TOTPDevice.objects.filter(user=user).count() == 1
    body = first.content.decode()
    assert "<svg" in body and "data:" not in body
    assert "FreeOTP" in body
    device = TOTPDevice.objects.get(user=user)
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', body).group(1)
    assert secret.replace(" ", "") in device.config_url
    assert secret in second.content.decode()  # same secret, same QR code after a reload

    wrong = client.post(ENROL, {"code": "000000" if current_code(device) != "000000" else "1"})
    assert wrong.status_code == 200 and "ne correspond pas" in wrong.content.decode()
    device.refresh_from_db()
    device.throttle_reset()

    done = client.post(ENROL, {"code": current_code(device)})
    assert done.status_code == 200
    codes = re.findall(r'<li><code class="secret">([a-z2-7]+)</code></li>', done.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert is_fully_signed_in(client)
    assert AuditEntry.objects.filter(action="auth.mfa_enrolled", actor_id=user.pk).exists()
    # Reloading the enrolment page now leads to the profile, not to a second device.
    assert client.get(ENROL).url == reverse("accounts:profile")


def test_full_totp_login(region):
    user = region.users["centre_admin"]
    device = confirmed_device(user)
    client = Client()
    response = post_login(client, user.email)
    assert response.url == VERIFY
    assert client.get("/registre/").url == VERIFY
    assert not is_fully_signed_in(client)
    before = client.session.session_key
    response = client.post(VERIFY, {"code": current_code(device)})
    assert response.status_code == 302
    assert client.session.session_key != before
    assert is_fully_signed_in(client)
    entry = AuditEntry.objects.filter(action="auth.mfa_verified").latest("sequence")
    assert entry.changes == {"method": "totp"}


def test_wrong_totp_code_is_refused_and_audited(region):
    user = region.users["centre_admin"]
    device = confirmed_device(user)
    client = Client()
    post_login(client, user.email)
    good = current_code(device)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 200
    assert "pas valable" in response.content.decode()
    assert client.get("/registre/").url == VERIFY
    assert not is_fully_signed_in(client)
    assert AuditEntry.objects.filter(action="auth.mfa_failed").count() == 1


def test_structure_user_who_enrolled_voluntarily_must_verify(region):
    user = region.users["director"]
    device = confirmed_device(user)
    client = Client()
    assert post_login(client, user.email).url == VERIFY
    client.post(VERIFY, {"code": current_code(device)})
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_backup_code_works_exactly_once(region):
    user = region.users["centre_admin"]
    confirmed_device(user)
    static = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    static.token_set.create(token="abcd2345")
    static.token_set.create(token="efgh6789")

    client = Client()
    post_login(client, user.email)
    assert client.post(VERIFY, {"code": "ABCD-2345"}).status_code == 302
    assert is_fully_signed_in(client)
    entry = AuditEntry.objects.filter(action="auth.mfa_verified").latest("sequence")
    assert entry.changes == {"method": "backup_code", "backup_codes_left": 1}

    again = Client()
    post_login(again, user.email)
    response = again.post(VERIFY, {"code": "abcd2345"})
    assert response.status_code == 200
    assert again.get("/registre/").url == VERIFY
    assert not is_fully_signed_in(again)


def test_verify_without_login_goes_to_login(db):
    response = Client().get(VERIFY)
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_logout_is_post_only_and_audited(region):
    client = Client()
    post_login(client, "dir@alpha.test")
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.url == reverse("accounts:login")
    assert client.get(reverse("accounts:profile")).status_code == 302
    assert AuditEntry.objects.filter(action="auth.logout").count() == 1


def test_language_preference_is_applied_at_login(region):
    user = region.users["director"]
    user.language = "en"
    user.save()
    client = Client()
    response = post_login(client, user.email)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


@pytest.mark.parametrize("who", ["ars_viewer", "centre_analyst"])
def test_every_mfa_role_is_sent_to_enrolment(region, who):
    assert post_login(Client(), region.users[who].email).url == ENROL


def test_superuser_must_enrol(db):
    user = make_user("root@centre.test")
    user.is_superuser = True
    user.save()
    assert post_login(Client(), "root@centre.test").url == ENROL
