"""Who may receive a simulated phishing mail: proven, unclaimed, mandated mail domains only.

The rule (docs/awareness.md): Carbet mails a person only when the person's address lies in one
of the structure's mail domains (asset kind "domaine de messagerie" or "nom de domaine", the
domain itself or a sub-domain) that

1. is **proven** to be the structure's own (DNS/web token, proven parent domain or the centre's
   review — ``carbet.core.ownership``; the structure's own "validated" is not proof),
2. is claimed by **no other structure** (a conflict blocks both until the centre decides), and
3. is covered by a **phishing mandate in force** (``carbet.core.mandates.check``).

The question is asked at launch (the whole launch is refused if one address fails) and again
before **every sending batch**: an asset deleted, a mandate revoked or a domain put in conflict
after launch stops the mail to those people. Such a recipient is **held** — not sent, not
dropped — with the reason in French; the centre sees it on the campaign page and may release
the held recipients once the domain is covered again (``release_held``). Release is a person's
decision, never automatic: a domain that lost its proof is a security event someone must look
at before mail goes out again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.awareness.choices import CampaignStatus, SendState
from carbet.awareness.models import Campaign, Recipient
from carbet.awareness.service import PHISHING_MANDATE, AwarenessPerm
from carbet.core import mandates, ownership
from carbet.core.choices import AssetKind
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import SYSTEM, Actor, can

DOMAIN_KINDS = (AssetKind.MAIL_DOMAIN, AssetKind.DOMAIN)
# The reason is stored on the recipient (``Recipient.error``, 300 characters).
MAX_REASON = 300


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower().rstrip(".")


def email_covered(email: str, domains: list[str]) -> bool:
    """``email``'s domain is one of ``domains`` or a sub-domain of one of them."""
    return ownership.name_is_covered(email_domain(email), domains)


@dataclass(frozen=True)
class Scope:
    """The mail domains of a structure at one moment: those that may be mailed, and why the
    others may not (keyed by the declared domain)."""

    covered: tuple[str, ...] = ()
    refused: dict[str, str] = field(default_factory=dict)

    def reason_for(self, email: str) -> str | None:
        """None when ``email`` may be mailed now; otherwise why not (French, for a person)."""
        domain = email_domain(email)
        if ownership.name_is_covered(domain, list(self.covered)):
            return None
        declared = [d for d in self.refused if domain == d or domain.endswith("." + d)]
        if declared:
            return self.refused[max(declared, key=len)][:MAX_REASON]
        return _(
            "Le domaine « %(domain)s » n'est pas un domaine de messagerie déclaré par la structure."
        ) % {"domain": domain[:120]}


def scope_of(structure: Structure, at: date | None = None) -> Scope:
    """Ask the mandate gate about each of the structure's mail domains, now (or on ``at``)."""
    covered: set[str] = set()
    refused: dict[str, str] = {}
    assets = Asset.objects.visible_to(SYSTEM).filter(structure=structure, kind__in=DOMAIN_KINDS)
    for asset in assets:
        value = asset.value.lower().rstrip(".")
        decision = mandates.check(structure, PHISHING_MANDATE, asset=asset, at=at)
        # The gate already refuses unproven and conflicting assets; asking ownership again
        # costs nothing and keeps this rule true if the gate's order ever changes.
        not_owned = ownership.refusal(asset)
        if decision and not_owned is None:
            covered.add(value)
        else:
            refused[value] = not_owned or decision.reason
    return Scope(tuple(sorted(covered)), refused)


def covered_domains(structure: Structure, at: date | None = None) -> list[str]:
    """The mail domains of ``structure`` that may be mailed on day ``at``."""
    return list(scope_of(structure, at).covered)


@dataclass(frozen=True)
class Coverage:
    covered: list[str]
    uncovered: list[str]
    domains: list[str]
    reasons: dict[str, str] = field(default_factory=dict)  # uncovered address → why


def coverage(structure: Structure, emails: list[str], at: date | None = None) -> Coverage:
    scope = scope_of(structure, at)
    covered, uncovered, reasons = [], [], {}
    for email in emails:
        reason = scope.reason_for(email)
        if reason is None:
            covered.append(email)
        else:
            uncovered.append(email)
            reasons[email] = reason
    return Coverage(covered, uncovered, list(scope.covered), reasons)


# --- At each batch: hold who is no longer covered ---------------------------------------------


def hold_uncovered(
    campaign: Campaign, rows: list[Recipient], at: date
) -> tuple[list[Recipient], list[Recipient]]:
    """Split the batch's ``rows`` into those that may be sent and those held, now.

    Held rows get state HELD and the reason; one audit entry records the batch's holds. Called
    inside the transaction that claims the batch, so the check and the claim see the same
    registry.
    """
    if not rows:
        return [], []
    scope = scope_of(campaign.structure, at)
    keep: list[Recipient] = []
    held: list[Recipient] = []
    for recipient in rows:
        reason = scope.reason_for(recipient.email)
        if reason is None:
            keep.append(recipient)
            continue
        recipient.state, recipient.error = SendState.HELD, reason
        held.append(recipient)
    if held:
        Recipient.objects.bulk_update(held, ["state", "error"], batch_size=500)
        by_domain: dict[str, str] = {}
        for recipient in held:
            by_domain.setdefault(email_domain(recipient.email), recipient.error)
        audit.record(
            SYSTEM,
            "awareness.recipients.held",
            campaign,
            structure=campaign.structure,
            changes={"count": len(held), "reasons": by_domain},
        )
    return keep, held


def held_summary(campaign: Campaign) -> list[dict[str, Any]]:
    """How many recipients are held, by reason (no address: the reasons name domains)."""
    rows = (
        Recipient.objects.visible_to(SYSTEM)
        .filter(campaign=campaign, state=SendState.HELD)
        .values("error")
        .annotate(count=Count("pk"))
        .order_by("-count", "error")
    )
    return [{"reason": row["error"], "count": row["count"]} for row in rows]


# --- The centre releases held recipients ---------------------------------------------------------


class ReleaseError(ValueError):
    """Held recipients cannot be released; the message says why, in French."""


@dataclass(frozen=True)
class ReleaseOutcome:
    released: int
    still_held: int


RELEASABLE = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.DONE)


def release_held(
    actor: Actor,
    campaign: Campaign,
    *,
    ip: str | None = None,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> ReleaseOutcome:
    """Put back in the queue the held recipients whose domain is covered again *now*.

    The others stay held with today's reason. Released messages are planned from now in the
    campaign's sending window and throttle; a finished campaign goes back to sending and a send
    job is started. The campaign row is locked so the sending job cannot finish the campaign
    between this check and the release (``sending._finish`` takes the same lock).
    """
    from carbet.awareness.services_campaigns import throttle_of, window_of
    from carbet.engines.awareness.schedule import ScheduleError, plan
    from carbet.jobs import services as jobs

    if not can(actor, AwarenessPerm.MANAGE, campaign.structure):
        raise PermissionDenied(_("Vous n'avez pas le droit de faire cette action."))
    now = now or timezone.now()
    if campaign.purged_at or campaign.status not in RELEASABLE:
        raise ReleaseError(
            _("Cette campagne est annulée ou purgée : ses destinataires ne peuvent plus recevoir.")
        )
    # Audited on refusal, before the transaction a refusal would roll back.
    mandates.require_mandate(actor, campaign.structure, PHISHING_MANDATE, ip=ip)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.purged_at or locked.status not in RELEASABLE:
            raise ReleaseError(_("Cette campagne vient d'être annulée ou purgée."))
        held = list(
            Recipient.objects.select_for_update()
            .filter(campaign=locked, state=SendState.HELD)
            .order_by("pk")
        )
        if not held:
            raise ReleaseError(_("Aucun destinataire n'est retenu dans cette campagne."))
        scope = scope_of(locked.structure, timezone.localdate(now))
        ready: list[Recipient] = []
        still: list[Recipient] = []
        for recipient in held:
            # An aggregate-only campaign forgets addresses once its sending ended.
            reason = (
                scope.reason_for(recipient.email)
                if recipient.email
                else _("Adresse effacée (campagne en mode agrégé terminée).")
            )
            if reason is None:
                ready.append(recipient)
            else:
                recipient.error = reason
                still.append(recipient)
        if ready:
            send_by = locked.send_by if locked.send_by and locked.send_by > now else None
            try:
                times = plan(len(ready), now, send_by, window_of(locked), throttle_of(locked), rng)
            except ScheduleError as exc:
                raise ReleaseError(
                    _("Aucun créneau d'envoi (jours et heures ouvrés) avant la date limite.")
                ) from exc
            for recipient, when in zip(ready, times, strict=True):
                recipient.state, recipient.error, recipient.scheduled_at = (
                    SendState.PENDING,
                    "",
                    when,
                )
        Recipient.objects.bulk_update(
            ready + still, ["state", "error", "scheduled_at"], batch_size=500
        )
        if ready and locked.status == CampaignStatus.DONE:
            locked.status, locked.finished_at = CampaignStatus.SENDING, None
            locked.save(update_fields=["status", "finished_at"])
            jobs.submit(
                "awareness.send",
                actor=actor,
                structure=locked.structure,
                params={"campaign": locked.pk},
                title=_("Envoi de la campagne « %(name)s »") % {"name": locked.name},
            )
        audit.record(
            actor,
            "awareness.recipients.release",
            locked,
            structure=locked.structure,
            changes={"released": len(ready), "still_held": len(still)},
            ip=ip,
        )
    campaign.status, campaign.finished_at = locked.status, locked.finished_at
    return ReleaseOutcome(len(ready), len(still))
