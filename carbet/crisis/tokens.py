"""The PRIS provider's narrow, expiring access to one case.

The incident-response provider (PRIS) often has no account on the platform and must not get
one for a few weeks' engagement. The cell grants it a link: a random token (shown once; only
its SHA-256 is kept) valid until ``expires_at`` and revocable. With it the provider reads the
case's main courante and indicators and adds entries and indicators, signed with its name —
nothing else (no evidence files, no declarations, no other case). Every grant, revocation and
use that writes is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.tenancy import SYSTEM, Actor
from carbet.crisis.choices import Phase, StakeholderKind
from carbet.crisis.models import Indicator, LogEntry, ProviderAccess, Stakeholder
from carbet.crisis.service import CrisisPerm
from carbet.crisis.services import require_case
from carbet.crisis.services_evidence import add_indicator
from carbet.crisis.services_log import append_entry

MAX_DAYS = 30
TOKEN_BYTES = 32


def _hash(token: str) -> str:
    return hashlib.sha256(b"carbet-crisis-provider\x00" + token.encode()).hexdigest()


def grant_provider_access(
    actor: Actor,
    stakeholder: Stakeholder,
    *,
    days: int = 14,
    now: dt.datetime | None = None,
) -> tuple[ProviderAccess, str]:
    """A new access for a PRIS stakeholder of the case; the token is returned once."""
    case = stakeholder.case
    require_case(actor, case, CrisisPerm.MANAGE)
    if stakeholder.kind != StakeholderKind.PRIS:
        raise ValueError(_("Cet accès est réservé au prestataire de réponse aux incidents."))
    if case.phase == Phase.CLOSED:
        raise ValueError(_("Le dossier est clos."))
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(_("Durée de 1 à %(n)d jours.") % {"n": MAX_DAYS})
    now = now or timezone.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    access = ProviderAccess.objects.create(
        case=case,
        stakeholder=stakeholder,
        token_hash=_hash(token),
        created_at=now,
        created_by=actor if getattr(actor, "pk", None) else None,
        expires_at=now + dt.timedelta(days=days),
    )
    audit.record(
        actor,
        "crisis.provider_grant",
        case,
        changes={"stakeholder": str(stakeholder), "expires": access.expires_at.isoformat()},
    )
    return access, token


def access_for(token: str, *, now: dt.datetime | None = None) -> ProviderAccess | None:
    """The live access a token opens, or ``None`` (unknown, expired, revoked, closed case)."""
    if not token or len(token) > 200:
        return None
    now = now or timezone.now()
    access = (
        ProviderAccess.objects.visible_to(SYSTEM)
        .select_related("case", "stakeholder")
        .filter(token_hash=_hash(token))
        .first()
    )
    if access is None or access.revoked_at is not None or access.expires_at <= now:
        return None
    if access.case.phase == Phase.CLOSED:
        return None
    return access


def revoke(actor: Actor, access: ProviderAccess, *, now: dt.datetime | None = None) -> None:
    require_case(actor, access.case, CrisisPerm.MANAGE)
    access.revoked_at = now or timezone.now()
    access.save(update_fields=["revoked_at"])
    audit.record(actor, "crisis.provider_revoke", access.case, changes={"access": access.pk})


def provider_label(access: ProviderAccess) -> str:
    stakeholder = access.stakeholder
    ref = f", {stakeholder.qualification_ref}" if stakeholder.qualification_ref else ""
    return f"{stakeholder} (PRIS{ref})"[:255]


def _touch(access: ProviderAccess, now: dt.datetime) -> None:
    access.last_used_at = now
    access.save(update_fields=["last_used_at"])


def provider_append(
    access: ProviderAccess,
    *,
    text: str,
    kind: str,
    event_at: dt.datetime | None = None,
    source: str = "",
    now: dt.datetime | None = None,
) -> LogEntry:
    """An entry written by the provider through its access (checked live again here)."""
    now = now or timezone.now()
    if access.revoked_at is not None or access.expires_at <= now:
        raise PermissionError("provider access no longer valid")
    entry = append_entry(
        SYSTEM,
        access.case,
        text=text,
        kind=kind,
        event_at=event_at,
        source=source or str(access.stakeholder),
        stakeholder=access.stakeholder,
        author_label=provider_label(access),
        now=now,
        check=False,
    )
    _touch(access, now)
    return entry


def provider_add_indicator(
    access: ProviderAccess,
    *,
    type: str,
    value: str,
    tlp: str,
    source: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> Indicator:
    now = now or timezone.now()
    if access.revoked_at is not None or access.expires_at <= now:
        raise PermissionError("provider access no longer valid")
    indicator = add_indicator(
        SYSTEM,
        access.case,
        type=type,
        value=value,
        tlp=tlp,
        source=source or str(access.stakeholder),
        note=note,
        author_label=provider_label(access),
        check=False,
    )
    _touch(access, now)
    return indicator
