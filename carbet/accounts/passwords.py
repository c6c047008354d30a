"""Changing a password, and what must die with the old one.

Every way a password changes — chosen on the profile page, set through a one-time link (first
access, forgotten password, link issued by an administrator or by ``carbet setpassword-link``)
— goes through :func:`set_password`. It revokes all of the account's API tokens (a token made
while the old password was known to someone else must not outlive it) and writes the change to
the audit trail.

Other sessions end on their own: Django stores a hash derived from the password in each
session and refuses sessions whose hash no longer matches; ``set_password`` only re-signs the
session of the person who changed their own password, so they stay signed in there.

Paths outside Carbet's pages (Django's own ``changepassword`` command, a Python shell, the
demo) are caught by :class:`RevokeTokensOnChange`, a "validator" in
``AUTH_PASSWORD_VALIDATORS`` that Django calls after every saved password change.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.models import ApiToken, User
from carbet.audit.services import record
from carbet.core.tenancy import SYSTEM, Actor

PASSWORD_CHANGE_REASON = "password_changed"  # noqa: S105 - a reason code, not a secret
# How each path is named in the audit trail.
METHODS = ("profile", "link", "other")


@dataclass
class _Change:
    """What ``set_password`` tells the hook about the change it is making."""

    actor: Actor
    method: str
    ip: str | None
    revoked: int | None = None


_CONTEXT_ATTR = "_carbet_password_change"


def revoke_all_tokens(
    user: User, *, actor: Actor, reason: str = PASSWORD_CHANGE_REASON, ip: str | None = None
) -> int:
    """Revoke every token of ``user`` that still works; one audit entry per token."""
    now = timezone.now()
    tokens = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now))
    for token in tokens:
        token.revoked_at = now
        token.revoked_reason = reason
        token.save(update_fields=["revoked_at", "revoked_reason"])
        record(
            actor,
            "api_token.revoke",
            token,
            ip=ip,
            changes={"hint": token.hint, "reason": reason},
        )
    return len(tokens)


def after_password_change(user: User, *, actor: Actor, method: str, ip: str | None = None) -> int:
    """Revoke the tokens and audit the change; returns how many tokens were revoked."""
    revoked = revoke_all_tokens(user, actor=actor, ip=ip)
    record(
        actor,
        "auth.password_changed",
        user,
        ip=ip,
        changes={"method": method, "api_tokens_revoked": revoked},
    )
    return revoked


def set_password(
    user: User, raw_password: str, *, actor: Actor, method: str, request=None, ip: str | None = None
) -> int:
    """Give ``user`` a new (already validated) password; returns the number of revoked tokens.

    With ``request`` of the same user, that browser session stays signed in; every other
    session of the account ends at its next request.
    """
    if method not in METHODS:
        raise ValueError(f"unknown password change method {method!r}")
    change = _Change(actor, method, ip)
    setattr(user, _CONTEXT_ATTR, change)
    try:
        with transaction.atomic():
            user.set_password(raw_password)
            user.save(update_fields=["password"])
            if change.revoked is None:
                # The hook is not installed (a settings file without it): do its work here.
                change.revoked = after_password_change(user, actor=actor, method=method, ip=ip)
    finally:
        delattr(user, _CONTEXT_ATTR)
    if request is not None and getattr(request.user, "pk", None) == user.pk:
        update_session_auth_hash(request, user)
    return change.revoked


class RevokeTokensOnChange:
    """Django calls ``password_changed`` after saving any new password: revoke the tokens.

    It accepts every password (``validate`` does nothing); its help text tells the person what
    a change will do.
    """

    def validate(self, password: str, user: User | None = None) -> None:
        return None

    def get_help_text(self) -> str:
        return _(
            "Changer de mot de passe révoque tous vos jetons d'API et ferme vos autres sessions."
        )

    def password_changed(self, password: str, user: User | None = None) -> None:
        if user is None or user.pk is None or not isinstance(user, User):
            return
        change: _Change | None = getattr(user, _CONTEXT_ATTR, None)
        if change is not None:
            change.revoked = after_password_change(
                user, actor=change.actor, method=change.method, ip=change.ip
            )
            return
        # A path outside Carbet's pages. A brand-new account has nothing to revoke and its
        # creation is audited by whoever created it; otherwise end the tokens and say so.
        if user.last_login is None and not ApiToken.objects.filter(user=user).exists():
            return
        after_password_change(user, actor=SYSTEM, method="other")
