"""Writing and verifying the hash-chained audit trail.

Each entry's hash covers its own fields and the previous entry's hash, so editing, deleting or
re-ordering any entry breaks the chain from that point on. Appends are serialised (a database
lock) so that two writers never chain onto the same predecessor.

A chain alone cannot notice that its *last* entries were deleted: what remains is still a valid
chain. So after each append commits, the head of the chain (sequence and hash) is written to a
file outside the database (``DATA_DIR/audit/head``, see ``carbet.audit.anchor``); ``verify``
checks that the entry it names is still there, unchanged. Someone who can rewrite the database
must now also rewrite a file on the server, and the database itself refuses UPDATE and DELETE
on the table (triggers, migration 0003).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from carbet.audit import anchor
from carbet.audit.models import AuditEntry
from carbet.conf import env_bool, env_list
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
        _anchor_after_commit(entry.sequence)
    return entry


def _anchor_after_commit(sequence: int) -> None:
    """Advance the tail anchor once the transaction that appended ``sequence`` commits.

    Only committed entries may move the anchor. One anchor write per transaction, however
    many entries it appends (an import records one per row): every append registers a
    callback, the first one to run after the commit handles them all and the others find
    nothing left to do. Callbacks of a rolled-back savepoint never run, and the entries they
    stood for are looked up in the database, so a rolled-back append is never anchored.
    """
    owner = connection.atomic_blocks[0] if connection.atomic_blocks else None
    pending = getattr(connection, "_carbet_audit_pending", None)
    if pending is None or pending["owner"] is not owner or pending["done"]:
        pending = {"owner": owner, "sequences": [], "done": False}
        connection._carbet_audit_pending = pending
    pending["sequences"].append(sequence)
    transaction.on_commit(lambda: _advance_anchor(pending))


def _advance_anchor(pending: dict) -> None:
    if pending["done"]:
        return
    pending["done"] = True
    pending["owner"] = None  # do not keep the finished transaction's objects alive
    rows = list(
        AuditEntry.objects.filter(sequence__in=pending["sequences"])
        .order_by("sequence")
        .values_list("sequence", "entry_hash", "prev_hash")
    )
    if not rows:
        return
    first_sequence, _first_hash, first_prev = rows[0]
    last_sequence, last_hash, _last_prev = rows[-1]

    def still_valid(head: anchor.Head) -> bool:
        if head.sequence == first_sequence - 1:
            return head.entry_hash == first_prev  # the usual case: no query needed
        stored = AuditEntry.objects.filter(sequence=head.sequence).values_list(
            "entry_hash", flat=True
        )
        return list(stored) == [head.entry_hash]

    anchor.advance(last_sequence, last_hash, still_valid=still_valid)


def _trusted_proxies() -> set[str]:
    configured = getattr(settings, "CARBET_TRUSTED_PROXIES", None)
    if configured is None:
        configured = env_list("CARBET_FORWARDED_ALLOW_IPS", ["127.0.0.1", "::1"])
    return {str(address).strip() for address in configured}


def client_ip(request) -> str | None:
    """The caller's address, for the audit trail and the login lockout.

    Behind the reverse proxy (``CARBET_BEHIND_PROXY=1``) every request comes from the proxy:
    the caller is then the last address the proxy appended to ``X-Forwarded-For``, believed
    only when the request really comes from a trusted proxy (``CARBET_FORWARDED_ALLOW_IPS``),
    so nobody can forge it by sending the header directly.
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR")
    if not env_bool("CARBET_BEHIND_PROXY", False) or remote not in _trusted_proxies():
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    try:
        return str(ipaddress.ip_address(hops[-1])) if hops[-1] else remote
    except ValueError:
        return remote


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


def verify(*, check_anchor: bool = True) -> VerifyReport:
    """Walk the whole chain; report every edited, deleted or re-ordered entry.

    With ``check_anchor`` (the default), also compare the chain's end with the head anchor
    file, which is what reveals deleted *last* entries.
    """
    problems: list[ChainProblem] = []
    previous_hash = GENESIS
    expected_sequence = 1
    checked = 0
    hashes_at: dict[int, str] = {}
    # Read before walking: entries appended meanwhile only extend the chain past the head.
    head, unreadable = None, False
    if check_anchor:
        try:
            head = anchor.read()
        except anchor.AnchorError:
            unreadable = True
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
        if head is not None and entry.sequence == head.sequence:
            hashes_at[entry.sequence] = entry.entry_hash
        previous_hash = entry.entry_hash
        expected_sequence = entry.sequence + 1
    if unreadable:
        problems.append(ChainProblem(0, f"ancre de fin illisible ({anchor.head_path()})"))
    elif check_anchor:
        problems.extend(_anchor_problems(head, checked, expected_sequence - 1, hashes_at))
    return VerifyReport(checked=checked, problems=problems)


def _anchor_problems(
    head: anchor.Head | None, checked: int, last_sequence: int, hashes_at: dict[int, str]
) -> list[ChainProblem]:
    if head is None:
        if checked == 0:
            return []
        return [
            ChainProblem(
                last_sequence,
                f"ancre de fin absente ({anchor.head_path()}) : la suppression des dernières "
                "entrées ne peut pas être exclue",
            )
        ]
    if head.sequence > last_sequence:
        first = last_sequence + 1
        return [
            ChainProblem(
                head.sequence,
                f"entrées {first} à {head.sequence} supprimées (fin du journal, d'après l'ancre)",
            )
        ]
    if hashes_at.get(head.sequence) != head.entry_hash:
        return [ChainProblem(head.sequence, "l'entrée ne correspond plus à l'ancre de fin")]
    return []


def last_entry() -> tuple[int, str] | None:
    """Sequence and hash of the newest entry, or ``None`` on an empty trail."""
    row = AuditEntry.objects.order_by("-sequence").values_list("sequence", "entry_hash").first()
    return (row[0], row[1]) if row else None


def reanchor() -> tuple[int, str] | None:
    """Point the head anchor at the current end of the chain (after a restore, or after an
    operator acknowledged an anchor problem). Returns the new head, or ``None`` if empty."""
    last = last_entry()
    if last is None:
        anchor.clear()
        return None
    anchor.advance(last[0], last[1], force=True)
    return last
