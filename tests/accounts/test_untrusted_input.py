"""Property tests: whatever a visitor types or puts in a link, account code never crashes and
never lets anyone in."""

from __future__ import annotations

from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from carbet.accounts import lockout, services
from carbet.accounts.models import User
from carbet.accounts.views_auth import _user_from_link
from tests.conftest import make_user

QUICK = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
texts = st.text(max_size=80)


@QUICK
@given(uid=texts, token=texts)
def test_any_set_password_link_text_is_refused_quietly(db, uid, token):
    assert _user_from_link(uid, token) is None


@QUICK
@given(login=texts)
def test_account_key_is_stable_and_bounded(login):
    key = lockout.account_key(login)
    assert key == lockout.account_key(key)
    assert len(key) <= 254


@QUICK
@given(code=st.text(max_size=40))
def test_no_typed_code_verifies_a_device_without_its_secret(db, code):
    user = User.objects.filter(email="prop@prop.test").first() or make_user("prop@prop.test")
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="phone", confirmed=True, defaults={"tolerance": 0}
    )
    typed = "".join(ch for ch in code if ch.isalnum())
    assume(typed != f"{totp(device.bin_key):06d}")  # a lucky guess of the real code is no bug
    request = RequestFactory().post("/")
    request.user = user
    request.session = Client().session
    result = services.verify_second_factor(request, code)
    assert not result.ok


@QUICK
@given(login=texts, password=st.text(max_size=60))
def test_login_page_answers_any_input_without_error(db, login, password):
    response = Client().post(reverse("accounts:login"), {"login": login, "password": password})
    assert response.status_code in (200, 429)
