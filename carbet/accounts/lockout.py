"""Brute-force lockout: too many failures in a short window lock an account or an address.

Failures (wrong password, wrong second-factor code) are rows of ``LoginAttempt``. An account
(keyed by its canonical login) or a source address is locked once ``CARBET_LOCKOUT_THRESHOLD``
failures fall within ``CARBET_LOCKOUT_WINDOW_SECONDS``; the lock lasts ``CARBET_LOCKOUT_SECONDS``
from the last of those failures. Attempts made while locked are refused without being counted,
so the lock ends at a fixed, announced time instead of growing while someone keeps guessing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from carbet.accounts.models import LoginAttempt


@dataclass(frozen=True)
class Policy:
    """The lockout numbers, read from settings at call time (tests override them)."""

    threshold: int
    window: dt.timedelta
    duration: dt.timedelta

    @classmethod
    def current(cls) -> Policy:
        return cls(
            threshold=max(1, settings.CARBET_LOCKOUT_THRESHOLD),
            window=dt.timedelta(seconds=settings.CARBET_LOCKOUT_WINDOW_SECONDS),
            duration=dt.timedelta(seconds=settings.CARBET_LOCKOUT_SECONDS),
        )


def account_key(login: str) -> str:
    """The key failures are counted under: the login, trimmed and case-folded."""
    return login.strip().casefold()[:254]


def _locked_until(filters: dict, policy: Policy, now: dt.datetime) -> dt.datetime | None:
    recent = list(
        LoginAttempt.objects.filter(at__gt=now - policy.window - policy.duration, **filters)
        .order_by("-at")
        .values_list("at", flat=True)[: policy.threshold]
    )
    if len(recent) < policy.threshold:
        return None
    newest, oldest_of_burst = recent[0], recent[-1]
    if newest - oldest_of_burst > policy.window:
        return None
    until = newest + policy.duration
    return until if until > now else None


def locked_until(key: str, ip: str | None, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the account ``key`` or the address ``ip`` unlocks, or ``None`` if neither is locked."""
    now = now or timezone.now()
    policy = Policy.current()
    candidates = [_locked_until({"username": key}, policy, now)]
    if ip:
        candidates.append(_locked_until({"ip_address": ip}, policy, now))
    found = [until for until in candidates if until is not None]
    return max(found) if found else None


def record_failure(key: str, ip: str | None, *, now: dt.datetime | None = None) -> bool:
    """Count one failure; return whether it has just locked the account or the address."""
    now = now or timezone.now()
    LoginAttempt.objects.create(username=key, ip_address=ip, at=now)
    policy = Policy.current()
    # Rows older than any lock could reach are noise; the audit trail keeps the history.
    purge_older_than(policy.window + policy.duration + dt.timedelta(days=1), now=now)
    return locked_until(key, ip, now=now) is not None


def clear_account(key: str) -> None:
    """A successful login wipes the account's failures (the address keeps its own)."""
    LoginAttempt.objects.filter(username=key).delete()


def purge_older_than(age: dt.timedelta, *, now: dt.datetime | None = None) -> int:
    """Drop failures too old to matter to any lock; returns how many were removed."""
    now = now or timezone.now()
    deleted, _ = LoginAttempt.objects.filter(at__lt=now - age).delete()
    return deleted
