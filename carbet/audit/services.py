"""Writing and verifying the hash-chained audit trail.

Each entry's hash covers its own fields and the previous entry's hash, so editing, deleting or
re-ordering any entry breaks the chain from that point on. Appends are serialised (a database
lock) so that two writers never chain onto the same predecessor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from carbet.audit.models import AuditEntry
from carbet.core.tenancy import SystemActor

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x0CA2BE7A


def _canonical(entry: AuditEntry) -> bytes:
    payload = {
        "sequence": entry.sequence,
        "at": entry.at.astimezone(timezone.UTC).isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_label": entry.object_label,
        "structure_id": entry.structure_id,
        "changes": entry.changes,
        "source_ip": entry.source_ip,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()


def compute_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _actor_fields(actor: Any) -> tuple[int | None, str]:
    if actor is None:
        return None, "anonyme"
    if isinstance(actor, SystemActor):
        return None, str(actor)
    if not getattr(actor, "is_authenticated", False):
        return None, "anonyme"
    return actor.pk, getattr(actor, "email", "") or str(actor)


def record(
    actor: Any,
    action: str,
    obj: Any = None,
    *,
    structure: Any = None,
    changes: dict | None = None,
    ip: str | None = None,
    label: str | None = None,
    actor_label: str | None = None,
) -> AuditEntry:
    """Append one entry. ``action`` is a dotted verb such as ``mandate.create``."""
    actor_id, default_label = _actor_fields(actor)
    if structure is None and obj is not None:
        structure = getattr(obj, "structure", None)
        if structure is None and obj.__class__.__name__ == "Structure":
            structure = obj
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        last = AuditEntry.objects.order_by("-sequence").values("sequence", "entry_hash").first()
        entry = AuditEntry(
            sequence=(last["sequence"] + 1) if last else 1,
            at=timezone.now(),
            actor_id=actor_id,
            actor_label=(actor_label or default_label)[:254],
            action=action,
            object_type=obj._meta.label if obj is not None and hasattr(obj, "_meta") else "",
            object_id=str(obj.pk) if obj is not None and getattr(obj, "pk", None) else "",
            object_label=(label if label is not None else (str(obj) if obj is not None else ""))[
                :255
            ],
            structure_id=getattr(structure, "pk", None),
            changes=_json_safe(changes or {}),
            source_ip=ip,
            prev_hash=last["entry_hash"] if last else GENESIS,
        )
        entry.entry_hash = compute_hash(entry)
        entry.save(force_insert=True)
    return entry


def client_ip(request) -> str | None:
    """The caller's address as seen by Django (the proxy sets REMOTE_ADDR when trusted)."""
    return request.META.get("REMOTE_ADDR") if request is not None else None


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    problem: str


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _iter_entries(batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = list(AuditEntry.objects.filter(sequence__gt=last).order_by("sequence")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].sequence


def verify() -> VerifyReport:
    """Walk the whole chain; report every edited, deleted or re-ordered entry."""
    problems: list[ChainProblem] = []
    previous_hash = GENESIS
    expected_sequence = 1
    checked = 0
    for entry in _iter_entries():
        checked += 1
        if entry.sequence != expected_sequence:
            problems.append(
                ChainProblem(
                    entry.sequence,
                    f"entrées {expected_sequence} à {entry.sequence - 1} supprimées",
                )
            )
        if entry.prev_hash != previous_hash:
            problems.append(
                ChainProblem(
                    entry.sequence, "chaînage rompu (entrée précédente modifiée ou supprimée)"
                )
            )
        if compute_hash(entry) != entry.entry_hash:
            problems.append(ChainProblem(entry.sequence, "contenu modifié après écriture"))
        previous_hash = entry.entry_hash
        expected_sequence = entry.sequence + 1
    return VerifyReport(checked=checked, problems=problems)
