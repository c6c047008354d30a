"""Signed links of participants without an account (players, observers) and of the RETEX.

A link is ``/x/<token>/``: 32 random bytes (``secrets``), so it cannot be guessed or forged.
Only its SHA-256 digest is stored (``AccessLink.token_digest``): a copy of the database gives no
working link. A link opens nothing once revoked (a flag on its row) or past its expiry, and a
participant's new link revokes the previous one.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from django.utils import timezone

from carbet.exercises.models import AccessLink

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{40,64}$")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def open_link(token: str, purpose: str) -> AccessLink | None:
    """The live link of ``token`` for ``purpose``, or ``None`` (unknown, forged, revoked,
    expired, or an exercise that was cancelled). The lookup is by digest: equal digests are
    found by the unique index, so no token comparison can leak timing about a valid one."""
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        return None
    link = (
        AccessLink.objects.select_related("exercise", "participant", "exercise__structure")
        .filter(token_digest=digest(token), purpose=purpose)
        .first()
    )
    now = timezone.now()
    if link is None or link.revoked_at is not None or link.expires_at <= now:
        return None
    if link.exercise.status == "cancelled":
        return None
    AccessLink.objects.filter(pk=link.pk).update(last_seen_at=now)
    return link


def space_path(token: str) -> str:
    """The path of a participant's space (the public prefix ``/x/`` of the service)."""
    return f"/x/{token}/"
