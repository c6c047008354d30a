"""Writing the keyed, chained audit trail (checking it: ``carbet.audit.verification``).

Each entry's seal covers its own fields and the previous entry's seal, so editing, deleting or
re-ordering any entry breaks the chain from that point on. The seal is an HMAC-SHA256 with the
audit key, kept apart from the database (``carbet.audit.keyring``): someone who can write the
database but not read the key cannot re-seal what they changed. Appends are serialised (a
database lock) so that two writers never chain onto the same predecessor.

A chain alone cannot notice that its *last* entries were deleted: what remains is still a valid
chain. So after each append commits, the head of the chain, signed with the key, is written to
a file outside the database (``DATA_DIR/audit/head``, see ``carbet.audit.anchor``); ``verify``
checks that the entry it names is still there, unchanged. ``carbet audit anchor`` also sends it
to sinks off the server. The database itself refuses UPDATE and DELETE on the table (triggers,
migration 0003).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from carbet.audit import anchor, chain, keyring
from carbet.audit.chain import GENESIS, ChainProblem  # noqa: F401 - re-exported
from carbet.audit.models import AuditEntry
from carbet.audit.verification import VerifyReport, verify  # noqa: F401 - re-exported
from carbet.conf import env_bool, env_list
from carbet.core.tenancy import SYSTEM, Actor, SystemActor

_PG_LOCK_KEY = 0x0CA2BE7A
REKEY_ACTION = "audit.rekey"


def row_of(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in chain.FIELDS}


def compute_hash(entry: AuditEntry, key: keyring.AuditKey | None = None) -> str | None:
    """The seal ``entry`` should carry (``None``: its key is not available)."""
    if key is not None:
        return chain.keyed_seal(row_of(entry), key.secret)
    keys, _order = keyring.as_mapping(keyring.load())
    return chain.seal(row_of(entry), keys)


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _actor_fields(actor: Actor) -> tuple[int | None, str]:
    if actor is None:
        return None, "anonyme"
    if isinstance(actor, SystemActor):
        return None, str(actor)
    if not getattr(actor, "is_authenticated", False):
        return None, "anonyme"
    return actor.pk, getattr(actor, "email", "") or str(actor)


def record(
    actor: Actor,
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
    key = keyring.current(create=True)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        last = (
            AuditEntry.objects.order_by("-sequence")
            .values("sequence", "entry_hash", "scheme", "key_id")
            .first()
        )
        if last and action != REKEY_ACTION and last["key_id"] != key.id:
            # First entry under a new key (rotation, or legacy entries before it): say so,
            # so that the change of key is itself a sealed, readable event.
            rekey = _append(
                key,
                last,
                actor_id=None,
                actor_label=str(SYSTEM),
                action=REKEY_ACTION,
                changes={"previous_key": last["key_id"] or None, "key": key.id},
            )
            last = {"sequence": rekey.sequence, "entry_hash": rekey.entry_hash}
        entry = _append(
            key,
            last,
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
        )
    return entry


def _append(key: keyring.AuditKey, last: dict | None, **fields: Any) -> AuditEntry:
    entry = AuditEntry(
        sequence=(last["sequence"] + 1) if last else 1,
        at=timezone.now(),
        prev_hash=last["entry_hash"] if last else GENESIS,
        scheme=chain.KEYED,
        key_id=key.id,
        **fields,
    )
    entry.entry_hash = chain.keyed_seal(row_of(entry), key.secret)
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
