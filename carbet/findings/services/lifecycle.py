"""The life of a finding: which status may follow which, who may move it, and the record left.

Every decision carries a reason, leaves a ``STATUS`` event in the finding's history and an
``finding.status`` entry in the audit trail. The table ``TRANSITIONS`` is the whole rule book:

* an open finding is confirmed, put in remediation, or decided (false positive, duplicate, out
  of scope) by whoever triages the structure's findings;
* a claimed fix is closed as *verified* only by those who verify fixes (centre staff) — a
  complete rescan that no longer sees it closes it too, through the ingest service;
* decisions and verified closures are undone (back to *confirmed*) by centre staff only;
* *risk accepted* is entered and left only through the risk-acceptance workflow
  (``carbet.findings.services.acceptance``), never by a plain status change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core.tenancy import Actor, can
from carbet.findings import sla
from carbet.findings.choices import CLOSED_STATUSES, DECIDED_STATUSES, EventKind, Status
from carbet.findings.models import Finding, FindingEvent

MAX_REASON = 4000
MAX_BULK = 1000

S = Status
# Where each status may go by a status change (risk acceptance has its own workflow).
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset(
        {S.CONFIRMED, S.IN_REMEDIATION, S.FALSE_POSITIVE, S.DUPLICATE, S.OUT_OF_SCOPE}
    ),
    S.CONFIRMED: frozenset({S.IN_REMEDIATION, S.FALSE_POSITIVE, S.DUPLICATE, S.OUT_OF_SCOPE}),
    S.IN_REMEDIATION: frozenset(
        {S.MITIGATION_CLAIMED, S.CONFIRMED, S.FALSE_POSITIVE, S.DUPLICATE, S.OUT_OF_SCOPE}
    ),
    S.MITIGATION_CLAIMED: frozenset({S.VERIFIED_CLOSED, S.IN_REMEDIATION}),
    S.VERIFIED_CLOSED: frozenset({S.CONFIRMED}),
    S.FALSE_POSITIVE: frozenset({S.CONFIRMED}),
    S.DUPLICATE: frozenset({S.CONFIRMED}),
    S.OUT_OF_SCOPE: frozenset({S.CONFIRMED}),
    S.RISK_ACCEPTED: frozenset(),
}
# Undoing a decision or a verified closure is the centre's call.
STAFF_ONLY_FROM = frozenset(DECIDED_STATUSES | CLOSED_STATUSES) - {S.RISK_ACCEPTED}


def _label(status: str) -> str:
    try:
        return str(Status(status).label)
    except ValueError:
        return str(status)


def _refuse(field_name: str, message: str) -> None:
    raise ValidationError({field_name: message}, code="invalid_transition")


def required_perm(current: str, new_status: str) -> Perm:
    """The permission the actor needs, on the finding's structure, for this transition."""
    if new_status == S.VERIFIED_CLOSED:
        return Perm.ACTION_VERIFY
    if current in STAFF_ONLY_FROM:
        return Perm.FINDINGS_WRITE
    return Perm.FINDINGS_TRIAGE


def check_transition(actor: Actor, finding: Finding, new_status: str) -> None:
    """Raise ``ValidationError``/``PermissionDenied`` (French message) unless allowed."""
    current = finding.status
    if new_status not in Status.values:
        _refuse("status", _("État inconnu : « %(s)s ».") % {"s": new_status})
    if new_status == current:
        _refuse(
            "status",
            _("La vulnérabilité est déjà dans l'état « %(s)s ».") % {"s": _label(current)},
        )
    if new_status == S.RISK_ACCEPTED:
        _refuse(
            "status",
            _(
                "Un risque ne s'accepte que par une demande d'acceptation signée par la "
                "direction de la structure, avec une date de fin : utilisez « Demander "
                "l'acceptation du risque »."
            ),
        )
    if current == S.RISK_ACCEPTED:
        _refuse(
            "status",
            _(
                "Ce risque a été accepté par la direction : il redevient ouvert à la fin de "
                "l'acceptation, ou plus tôt si la direction ou le centre lève l'acceptation."
            ),
        )
    allowed = TRANSITIONS.get(current, frozenset())
    if new_status not in allowed:
        choices = ", ".join(f"« {_label(s)} »" for s in Status.values if s in allowed)
        _refuse(
            "status",
            _("On ne peut pas passer de « %(a)s » à « %(b)s ». Depuis « %(a)s » : %(c)s.")
            % {"a": _label(current), "b": _label(new_status), "c": choices or "—"},
        )
    perm = required_perm(current, new_status)
    if not can(actor, perm, finding.structure):
        if perm == Perm.ACTION_VERIFY:
            raise PermissionDenied(
                _(
                    "Seule l'équipe du centre peut déclarer une correction vérifiée (ou une "
                    "nouvelle analyse complète qui ne voit plus la vulnérabilité)."
                )
            )
        if perm == Perm.FINDINGS_WRITE:
            raise PermissionDenied(
                _("Seule l'équipe du centre peut revenir sur une décision ou une clôture.")
            )
        raise PermissionDenied(
            _("Vous n'avez pas le droit de changer l'état de cette vulnérabilité.")
        )


def allowed_targets(actor: Actor, finding: Finding) -> list[str]:
    """The statuses ``actor`` may move ``finding`` to, in the order of ``Status``."""
    targets = []
    for status in Status.values:
        try:
            check_transition(actor, finding, status)
        except (ValidationError, PermissionDenied):
            continue
        targets.append(status)
    return targets


def _clean_reason(reason: Any) -> str:
    text = str(reason or "").strip()
    if not text:
        _refuse("reason", _("Indiquez le motif de ce changement : il reste dans l'historique."))
    if len(text) > MAX_REASON:
        _refuse("reason", _("Le motif fait %(n)s caractères au plus.") % {"n": MAX_REASON})
    return text


def _check_duplicate_of(finding: Finding, new_status: str, duplicate_of: Finding | None) -> None:
    if new_status != S.DUPLICATE:
        return
    if duplicate_of is None:
        _refuse("duplicate_of", _("Indiquez de quelle vulnérabilité celle-ci est le doublon."))
    if duplicate_of.structure_id != finding.structure_id:
        _refuse(
            "duplicate_of",
            _("Le doublon doit désigner une vulnérabilité de la même structure."),
        )
    if duplicate_of.pk == finding.pk:
        _refuse("duplicate_of", _("Une vulnérabilité ne peut pas être son propre doublon."))
    if duplicate_of.status == S.DUPLICATE:
        _refuse(
            "duplicate_of",
            _("La vulnérabilité désignée est elle-même un doublon : désignez l'originale."),
        )


def apply_status(
    actor: Actor,
    finding: Finding,
    new_status: str,
    reason: str,
    *,
    now: datetime,
    ip: str | None = None,
    kind: str = EventKind.STATUS,
    duplicate_of: Finding | None = None,
    restart_sla: bool = False,
) -> FindingEvent:
    """Write a status change that has already been checked: row, event and audit entry.

    Used by ``change_status`` and by the acceptance workflow (which has its own rules).
    """
    previous = finding.status
    user = actor if getattr(actor, "pk", None) else None
    finding.status = new_status
    finding.status_reason = reason
    finding.status_changed_at = now
    finding.status_changed_by = user
    finding.closed_at = now if new_status in CLOSED_STATUSES else None
    finding.duplicate_of = duplicate_of if new_status == S.DUPLICATE else None
    fields = [
        "status",
        "status_reason",
        "status_changed_at",
        "status_changed_by",
        "closed_at",
        "duplicate_of",
    ]
    if restart_sla:
        finding.sla_due = sla.due_date(
            sla.current_policy(),
            finding.severity,
            timezone.localdate(now),
            kev=finding.kev,
            exposed=finding.internet_exposed,
        )
        fields.append("sla_due")
    finding.save(update_fields=fields)
    event = FindingEvent.objects.create(
        finding=finding,
        kind=kind,
        at=now,
        actor=user,
        from_status=previous,
        to_status=new_status,
        note=reason,
    )
    changes: dict[str, Any] = {"status": [previous, new_status], "reason": reason}
    if duplicate_of is not None and new_status == S.DUPLICATE:
        changes["duplicate_of"] = duplicate_of.pk
    audit.record(actor, "finding.status", finding, changes=changes, ip=ip)
    return event


@transaction.atomic
def change_status(
    actor: Actor,
    finding: Finding,
    new_status: str,
    reason: str,
    duplicate_of: Finding | None = None,
    now: datetime | None = None,
    *,
    ip: str | None = None,
) -> Finding:
    """Move ``finding`` to ``new_status`` for ``actor``, or raise with a French message.

    Raises ``PermissionDenied`` when the actor may not make this move on this structure and
    ``ValidationError`` (keyed by ``status``, ``reason`` or ``duplicate_of``) when the move or
    its reason is not acceptable. A verified closure reopened by hand starts a new deadline.
    """
    now = now or timezone.now()
    locked = (
        Finding.objects.select_for_update(of=("self",))
        .select_related("structure__organisation")
        .get(pk=finding.pk)
    )
    check_transition(actor, locked, new_status)
    text = _clean_reason(reason)
    _check_duplicate_of(locked, new_status, duplicate_of)
    apply_status(
        actor,
        locked,
        new_status,
        text,
        now=now,
        ip=ip,
        duplicate_of=duplicate_of,
        restart_sla=locked.status in CLOSED_STATUSES,
    )
    # The caller's instance reflects the change too.
    for name in (
        "status",
        "status_reason",
        "status_changed_at",
        "status_changed_by",
        "closed_at",
        "duplicate_of",
        "sla_due",
    ):
        setattr(finding, name, getattr(locked, name))
    return finding


@dataclass
class BulkOutcome:
    """What a bulk change did: the findings moved and, for the others, why not."""

    changed: list[int] = field(default_factory=list)
    refused: list[tuple[Finding, str]] = field(default_factory=list)


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or _("Vous n'avez pas le droit de faire cette action.")


def bulk_change_status(
    actor: Actor,
    findings: Iterable[Finding],
    new_status: str,
    reason: str,
    *,
    now: datetime | None = None,
    ip: str | None = None,
) -> BulkOutcome:
    """Apply the same change, with the same reason, to each of ``findings``.

    The reason is checked once (nothing changes without one); then each finding is moved if
    its own status and the actor's rights allow it, and listed as refused with the reason
    otherwise — one finding's refusal never blocks the others.
    """
    text = _clean_reason(reason)
    selected = list(findings)
    if len(selected) > MAX_BULK:
        _refuse(
            "findings",
            _("Sélectionnez au plus %(n)s vulnérabilités à la fois.") % {"n": MAX_BULK},
        )
    if new_status == S.DUPLICATE:
        _refuse(
            "status",
            _("Un doublon se déclare une vulnérabilité à la fois, en désignant l'originale."),
        )
    now = now or timezone.now()
    outcome = BulkOutcome()
    for finding in selected:
        try:
            change_status(actor, finding, new_status, text, now=now, ip=ip)
        except (ValidationError, PermissionDenied) as exc:
            outcome.refused.append((finding, _message_of(exc)))
        else:
            outcome.changed.append(finding.pk)
    return outcome
