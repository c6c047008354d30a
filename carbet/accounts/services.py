"""Signing in and looking after one's own account: password, second factor, language, API tokens.

Views call these functions and render; every sensitive step is written to the audit trail.
The login happens in two stages when a second factor applies: the password opens a session that
the MFA middleware confines to /compte/ until ``verify_second_factor`` (or a first enrolment)
marks it verified.
"""

from __future__ import annotations

import datetime as dt
from base64 import b32encode
from dataclasses import dataclass
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from carbet.accounts import lockout, passwords
from carbet.accounts.models import ApiToken, User, default_token_expiry
from carbet.audit.services import client_ip, record

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Application d'authentification"
BACKUP_DEVICE_NAME = "Codes de secours"


# --- Password stage ------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    """Outcome of a password check: a user, or a refusal (possibly with a lock end time)."""

    user: User | None
    locked_until: dt.datetime | None = None


def find_account(login: str) -> User | None:
    """The account a login names: its e-mail address (any case) or its username."""
    login = login.strip()
    if not login:
        return None
    return (
        User.objects.filter(Q(email__iexact=login) | Q(username__iexact=login))
        .order_by("pk")
        .first()
    )


def _key_for(user: User | None, login: str) -> str:
    return lockout.account_key(user.get_username() if user is not None else login)


def check_password_login(
    request, login: str, password: str, *, now: dt.datetime | None = None
) -> LoginResult:
    """Check a login and password against the lockout, then the password itself."""
    ip = client_ip(request)
    account = find_account(login)
    key = _key_for(account, login)
    until = lockout.locked_until(key, ip, now=now)
    if until is not None:
        return LoginResult(None, until)
    username = account.get_username() if account is not None else login.strip()
    user = authenticate(request, username=username, password=password)
    if user is None:
        return LoginResult(None, _count_failure(key, ip, login, "auth.login_failed", now=now))
    lockout.clear_account(key)
    return LoginResult(user)


def _count_failure(
    key: str, ip: str | None, attempted: str, action: str, *, now: dt.datetime | None = None
) -> dt.datetime | None:
    """Record a failure (database and audit); return the lock end time if it just locked."""
    record(None, action, actor_label=attempted[:254] or "?", ip=ip)
    if not lockout.record_failure(key, ip, now=now):
        return None
    until = lockout.locked_until(key, ip, now=now)
    record(
        None,
        "auth.lockout",
        actor_label=attempted[:254] or "?",
        ip=ip,
        changes={"account": key, "until": until.isoformat() if until else None},
    )
    return until


def second_factor_step(user: User) -> str | None:
    """What the user must do after the password: "verify", "enrol" or nothing."""
    if user_has_device(user, confirmed=True):
        return "verify"
    if user.mfa_required:
        return "enrol"
    return None


def open_session(request, user: User) -> str | None:
    """Log the user in (Django rotates the session key) and tell what second step remains."""
    django_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    step = second_factor_step(user)
    record(user, "auth.login", user, ip=client_ip(request), changes={"next_step": step or "none"})
    return step


def close_session(request) -> None:
    user = request.user
    if user.is_authenticated:
        record(user, "auth.logout", user, ip=client_ip(request))
    django_logout(request)


# --- Second factor ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    locked_until: dt.datetime | None = None
    throttled: bool = False


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code if ch.isalnum()).lower()


def verify_second_factor(request, code: str, *, now: dt.datetime | None = None) -> VerifyResult:
    """Check a TOTP code (6 digits) or a single-use backup code for the signed-in user."""
    user = request.user
    ip = client_ip(request)
    key = lockout.account_key(user.get_username())
    until = lockout.locked_until(key, ip, now=now)
    if until is not None:
        return VerifyResult(False, until)
    code = _normalise_code(code)
    is_totp = code.isdigit() and len(code) == 6
    model = TOTPDevice if is_totp else StaticDevice
    throttled = False
    with transaction.atomic():
        devices = model.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in devices:
            if not device.verify_is_allowed()[0]:
                throttled = True
                continue
            if code and device.verify_token(code):
                _mark_verified(request, device)
                lockout.clear_account(key)
                changes: dict[str, Any] = {"method": "totp" if is_totp else "backup_code"}
                if not is_totp:
                    changes["backup_codes_left"] = device.token_set.count()
                record(user, "auth.mfa_verified", user, ip=ip, changes=changes)
                return VerifyResult(True)
    if throttled:
        return VerifyResult(False, throttled=True)
    return VerifyResult(
        False, _count_failure(key, ip, user.get_username(), "auth.mfa_failed", now=now)
    )


def _mark_verified(request, device) -> None:
    django_otp.login(request, device)
    # The session has just gained a privilege: give it a new key.
    request.session.cycle_key()


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled, reused across reloads of the enrolment page."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The base32 secret, in groups of four for typing it by hand."""
    raw = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The provisioning QR code as inline SVG markup (no script, no data: URL)."""
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=4, omitsize=True, light="#fff", title=_("QR code à scanner"))
    # A viewBox (for scaling) plus a default size, so the code stays scannable without CSS.
    return svg.replace("<svg ", '<svg width="220" height="220" role="img" ', 1)


def confirm_enrolment(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a new device with its first code; return fresh backup codes, or None if wrong."""
    user = request.user
    if device.user_id != user.pk or device.confirmed:
        return None
    code = _normalise_code(code)
    if not (code.isdigit() and device.verify_token(code)):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _new_backup_codes(user)
    _mark_verified(request, device)
    record(user, "auth.mfa_enrolled", user, ip=client_ip(request), changes={"device": device.name})
    return codes


def _new_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _i in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def regenerate_backup_codes(request) -> list[str]:
    """Replace the backup codes of a user who has a confirmed authenticator."""
    user = request.user
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError(_("Activez d'abord la double authentification."))
    with transaction.atomic():
        codes = _new_backup_codes(user)
    record(user, "auth.backup_codes", user, ip=client_ip(request))
    return codes


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def has_confirmed_totp(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def delete_devices(user: User) -> int:
    """Remove every second-factor device of ``user``; returns how many there were."""
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.filter(user=user).count()
    StaticDevice.objects.filter(user=user).delete()
    return totp + static


def remove_own_mfa(request, password: str) -> None:
    """Turn off one's own second factor (not allowed where it is mandatory)."""
    user = request.user
    if user.mfa_required:
        raise ValidationError(_("La double authentification est obligatoire pour votre rôle."))
    if not user.check_password(password):
        raise ValidationError(_("Mot de passe incorrect."))
    delete_devices(user)
    record(user, "auth.mfa_removed", user, ip=client_ip(request))


# --- Profile ----------------------------------------------------------------------------------


def change_password(request, form) -> int:
    """Apply a validated password-change form (all tokens revoked, this session kept)."""
    user = request.user
    return passwords.set_password(
        user,
        form.cleaned_data["new_password1"],
        actor=user,
        method="profile",
        request=request,
        ip=client_ip(request),
    )


def set_password_from_link(request, user: User, form) -> int:
    """Apply a validated one-time-link form: new password, tokens revoked, lockout lifted."""
    revoked = passwords.set_password(
        user, form.cleaned_data["new_password1"], actor=user, method="link", ip=client_ip(request)
    )
    lockout.clear_account(lockout.account_key(user.get_username()))
    return revoked


def set_language(user: User, language: str) -> None:
    if user.language != language:
        before = user.language
        user.language = language
        user.save(update_fields=["language"])
        record(user, "user.update", user, changes={"language": [before, language]})


# --- API tokens -------------------------------------------------------------------------------


def max_token_days() -> int:
    return int(settings.CARBET_API_TOKEN_MAX_DAYS)


def default_token_days() -> int:
    return int(settings.CARBET_API_TOKEN_DAYS)


def token_expiry(expires_on: dt.date | None) -> dt.datetime:
    """A token chosen to expire "on" a day stays valid through that whole local day; without a
    day it gets the default lifetime (every token expires)."""
    if expires_on is None:
        return default_token_expiry()
    next_day = expires_on + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(next_day, dt.time.min))


def check_token_end(expires_on: dt.date | None, today: dt.date | None = None) -> None:
    """A chosen end date must be in the future and within the maximum lifetime."""
    if expires_on is None:
        return
    today = today or timezone.localdate()
    if expires_on <= today:
        raise ValidationError(_("Choisissez une date à venir."))
    if expires_on > today + dt.timedelta(days=max_token_days()):
        raise ValidationError(
            _(
                "Un jeton dure au plus %(days)d jours (jusqu'au %(last)s) : choisissez une date "
                "plus proche."
            )
            % {
                "days": max_token_days(),
                "last": (today + dt.timedelta(days=max_token_days())).strftime("%d/%m/%Y"),
            }
        )


def create_token(
    actor: User, name: str, expires_on: dt.date | None, *, ip: str | None = None
) -> tuple[ApiToken, str]:
    """Issue a personal token; the raw value is returned once and never stored."""
    check_token_end(expires_on)
    token, raw = ApiToken.issue(actor, name.strip(), token_expiry(expires_on))
    record(
        actor,
        "api_token.create",
        token,
        ip=ip,
        changes={"name": token.name, "hint": token.hint, "expires_at": token.expires_at},
    )
    return token, raw


def revoke_token(actor: User, token: ApiToken, *, ip: str | None = None) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.revoked_reason = "owner"
    token.save(update_fields=["revoked_at", "revoked_reason"])
    record(actor, "api_token.revoke", token, ip=ip, changes={"hint": token.hint})


# How long before its end a token is flagged on the profile page.
TOKEN_WARNING_DAYS = 14


def token_notices(user: User, *, now: dt.datetime | None = None) -> dict[str, list[ApiToken]]:
    """Working tokens the owner should hear about: given an end date by the upgrade that made
    expiry mandatory, or ending within ``TOKEN_WARNING_DAYS``."""
    now = now or timezone.now()
    working = list(
        user.api_tokens.filter(revoked_at__isnull=True, expires_at__gt=now).order_by("expires_at")
    )
    soon = now + dt.timedelta(days=TOKEN_WARNING_DAYS)
    return {
        "expiry_added": [t for t in working if t.expiry_added],
        "ending_soon": [t for t in working if t.expires_at <= soon and not t.expiry_added],
    }
