"""Brute-force lockout per account and per source address, on passwords and on TOTP codes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from carbet.accounts import lockout
from carbet.accounts.models import LoginAttempt
from carbet.audit.models import AuditEntry
from tests.accounts.test_login import current_code, is_fully_signed_in, post_login
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def small_policy(settings):
    """3 failures within 60 s lock for 120 s; django-otp's own throttle is off to isolate ours."""
    settings.CARBET_LOCKOUT_THRESHOLD = 3
    settings.CARBET_LOCKOUT_WINDOW_SECONDS = 60
    settings.CARBET_LOCKOUT_SECONDS = 120
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def age_attempts(seconds: int, **filters) -> None:
    """Move failures back in time, as if the clock had moved on."""
    for attempt in LoginAttempt.objects.filter(**filters):
        attempt.at -= dt.timedelta(seconds=seconds)
        attempt.save()


def client_from(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def fail(client: Client, login: str, times: int) -> None:
    for _ in range(times):
        response = post_login(client, login, "not the password at all")
        assert "_auth_user_id" not in client.session
    return response


def test_account_locks_after_threshold_even_with_right_password(region):
    fail(client_from("127.0.0.2"), "dir@alpha.test", 3)
    # Another address, the right password: the account itself is locked.
    client = client_from("127.0.0.3")
    response = post_login(client, "dir@alpha.test", PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "bloquée jusqu" in body and "Réessayez après cette heure" in body
    assert "_auth_user_id" not in client.session
    lock = AuditEntry.objects.get(action="auth.lockout")
    assert lock.actor_id is None and lock.actor_label == "dir@alpha.test"
    assert lock.changes["account"] == "dir@alpha.test"


def test_lock_counts_the_account_whatever_the_case_of_the_login(region):
    client = client_from("127.0.0.2")
    post_login(client, "DIR@alpha.test", "nope nope nope")
    post_login(client_from("127.0.0.4"), "dir@ALPHA.test", "nope nope nope")
    post_login(client_from("127.0.0.5"), "dir@alpha.test", "nope nope nope")
    assert post_login(client_from("127.0.0.6"), "dir@alpha.test").status_code == 429


def test_account_unlocks_after_the_lock_time(region):
    fail(client_from("127.0.0.2"), "dir@alpha.test", 3)
    assert post_login(client_from("127.0.0.3"), "dir@alpha.test").status_code == 429
    age_attempts(121)
    client = client_from("127.0.0.3")
    response = post_login(client, "dir@alpha.test")
    assert response.status_code == 302
    assert is_fully_signed_in(client)
    # The success wiped the account's failures.
    assert not LoginAttempt.objects.filter(username="dir@alpha.test").exists()


def test_failures_spread_beyond_the_window_do_not_lock(region):
    client = client_from("127.0.0.2")
    fail(client, "dir@alpha.test", 2)
    age_attempts(61)
    fail(client, "dir@alpha.test", 1)
    assert post_login(client_from("127.0.0.3"), "dir@alpha.test").status_code == 302


def test_attempts_while_locked_do_not_extend_the_lock(region):
    fail(client_from("127.0.0.2"), "dir@alpha.test", 3)
    before = LoginAttempt.objects.count()
    post_login(client_from("127.0.0.2"), "dir@alpha.test", "still guessing")
    assert LoginAttempt.objects.count() == before


def test_source_address_locks_across_accounts(region):
    attacker = client_from("127.0.0.7")
    for login in ("a@nowhere.test", "b@nowhere.test", "c@nowhere.test"):
        post_login(attacker, login, "spray spray spray")
    # A real user behind the same address is refused, even with the right password...
    assert post_login(client_from("127.0.0.7"), "dir@alpha.test").status_code == 429
    # ...while the same account from another address gets in.
    assert post_login(client_from("127.0.0.8"), "dir@alpha.test").status_code == 302
    age_attempts(121)
    assert post_login(client_from("127.0.0.7"), "ref@alpha.test").status_code == 302


def test_success_clears_only_the_accounts_failures(region):
    fail(client_from("127.0.0.2"), "dir@alpha.test", 2)
    post_login(client_from("127.0.0.3"), "ghost@nowhere.test", "nope nope nope")
    assert post_login(client_from("127.0.0.4"), "dir@alpha.test").status_code == 302
    assert list(LoginAttempt.objects.values_list("username", flat=True)) == ["ghost@nowhere.test"]


def test_wrong_totp_codes_count_toward_the_same_lockout(region):
    user = region.users["centre_admin"]
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = client_from("127.0.0.2")
    assert post_login(client, user.email).url == reverse("accounts:verify")
    good = current_code(device)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(3):
        client.post(reverse("accounts:verify"), {"code": wrong})
    response = client.post(reverse("accounts:verify"), {"code": current_code(device)})
    assert response.status_code == 429
    assert "bloquée jusqu" in response.content.decode()
    assert not is_fully_signed_in(client)
    # The password step is locked too for this account.
    assert post_login(client_from("127.0.0.9"), user.email).status_code == 429
    assert AuditEntry.objects.filter(action="auth.mfa_failed").count() == 3
    age_attempts(121)
    response = client.post(reverse("accounts:verify"), {"code": current_code(device)})
    assert response.status_code == 302 and is_fully_signed_in(client)


def test_lock_computation_with_an_injected_clock(db):
    start = timezone.now()
    for second in (0, 10, 20):
        lockout.record_failure("x@test", "127.0.0.2", now=start + dt.timedelta(seconds=second))
    until = lockout.locked_until("x@test", None, now=start + dt.timedelta(seconds=21))
    assert until == start + dt.timedelta(seconds=20 + 120)
    assert lockout.locked_until("x@test", None, now=start + dt.timedelta(seconds=141)) is None
    assert lockout.locked_until("other@test", "127.0.0.2", now=start + dt.timedelta(seconds=30))
    assert lockout.locked_until("other@test", "127.0.0.3", now=start) is None


@pytest.mark.parametrize("threshold", [1, 5])
def test_threshold_is_read_from_settings(db, threshold):
    with override_settings(CARBET_LOCKOUT_THRESHOLD=threshold):
        locked = [lockout.record_failure("y@test", None) for _ in range(threshold)]
    assert locked == [False] * (threshold - 1) + [True]
