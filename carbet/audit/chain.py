"""The audit chain itself: what each entry's seal covers, and the walk that checks a whole chain.

Two schemes coexist in one chain:

- scheme 1 (``LEGACY``): ``entry_hash`` is the plain SHA-256 of the entry's canonical content.
  Anyone who can write the database can recompute it after editing a row, so it only proves
  accidental damage. Entries written before the keyed chain existed keep it and keep verifying.
- scheme 2 (``KEYED``): ``entry_hash`` is an HMAC-SHA256 of the same content plus the scheme
  and the key id, with a secret kept outside the database (``carbet.audit.keyring``). Without
  the key nobody can produce a valid seal, so a rewritten row cannot be re-sealed.

Each entry's content includes the previous entry's seal (``prev_hash``): the first keyed entry
thereby seals the whole legacy history behind it (migration 0004 appends one, ``audit.rekey``,
to every trail that had legacy entries). From then on a legacy entry after a keyed one, a
trail with legacy entries and no keyed one, an unknown key or a key older than the previous
entry's are all reported.

The walk works on plain rows (dicts) so that the same code checks the live database (through
the ORM) and a backup archive's database before it is restored (read without Django).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

GENESIS = "0" * 64
LEGACY = 1
KEYED = 2
_DOMAIN = b"carbet-audit-entry-v2\x00"

# The fields a row must carry (the database columns, by their attribute names).
FIELDS = (
    "sequence",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "structure_id",
    "changes",
    "source_ip",
    "prev_hash",
    "entry_hash",
    "scheme",
    "key_id",
)


def _utc_text(value: dt.datetime | str) -> str:
    if isinstance(value, str):  # as read from an archive: SQLite text or a pg_dump literal
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:  # SQLite keeps UTC without an offset
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes a seal covers. Scheme 1's payload is unchanged, so old entries still verify."""
    payload = {
        "sequence": row["sequence"],
        "at": _utc_text(row["at"]),
        "actor_id": row["actor_id"],
        "actor_label": row["actor_label"],
        "action": row["action"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "object_label": row["object_label"],
        "structure_id": row["structure_id"],
        "changes": row["changes"],
        "source_ip": row["source_ip"],
        "prev_hash": row["prev_hash"],
    }
    if row.get("scheme", LEGACY) != LEGACY:
        # Binding the scheme and key id stops a downgrade or a swap of keys on a sealed row.
        payload["scheme"] = row["scheme"]
        payload["key_id"] = row["key_id"]
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()


def legacy_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({**row, "scheme": LEGACY})).hexdigest()


def keyed_seal(row: Mapping[str, Any], secret: bytes) -> str:
    return hmac.new(secret, _DOMAIN + canonical(row), hashlib.sha256).hexdigest()


def seal(row: Mapping[str, Any], keys: Mapping[str, bytes]) -> str | None:
    """The seal ``row`` should carry, or ``None`` when its key is not available."""
    if row.get("scheme", LEGACY) == LEGACY:
        return legacy_hash(row)
    secret = keys.get(row.get("key_id") or "")
    return keyed_seal(row, secret) if secret is not None else None


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    problem: str


@dataclass
class WalkResult:
    """What walking a chain found, plus what the anchor checks need afterwards."""

    checked: int = 0
    last_sequence: int = 0
    last_seal: str = GENESIS
    keyed: int = 0
    legacy: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    seals: dict[int, str] = field(default_factory=dict)  # only for the sequences asked for


def walk(
    rows: Iterable[Mapping[str, Any]],
    keys: Mapping[str, bytes],
    key_order: list[str],
    *,
    require_keyed: bool = True,
    remember: set[int] | None = None,
) -> WalkResult:
    """Check every row in sequence order.

    ``keys`` maps key ids to secrets; ``key_order`` lists the ids newest first (a row sealed
    with an older key than the row before it is reported: someone holding a retired key must
    not be able to append after a rotation). ``require_keyed`` says the trail must carry at
    least one keyed entry when it has legacy ones (true since migration 0004). ``remember``
    lists sequences whose seals the caller wants back (anchors).
    """
    result = WalkResult()
    remember = remember or set()
    previous = GENESIS
    expected = 1
    rank_before: int | None = None
    missing_keys: dict[str, int] = {}
    for row in rows:
        sequence = int(row["sequence"])
        result.checked += 1
        problems = result.problems
        if sequence != expected:
            problems.append(
                ChainProblem(
                    sequence,
                    _("entrées %(first)d à %(last)d supprimées")
                    % {"first": expected, "last": sequence - 1},
                )
            )
        if row["prev_hash"] != previous:
            problems.append(
                ChainProblem(
                    sequence, _("chaînage rompu (entrée précédente modifiée ou supprimée)")
                )
            )
        scheme = row.get("scheme", LEGACY)
        if scheme == LEGACY:
            result.legacy += 1
            if result.keyed:
                problems.append(
                    ChainProblem(
                        sequence,
                        _(
                            "entrée sans clé après des entrées scellées par la clé (entrée "
                            "ajoutée ou réécrite par quelqu'un qui n'a pas la clé)"
                        ),
                    )
                )
            if legacy_hash(row) != row["entry_hash"]:
                problems.append(ChainProblem(sequence, _("contenu modifié après écriture")))
        elif scheme == KEYED:
            result.keyed += 1
            key_id = row.get("key_id") or ""
            if key_id not in keys:
                missing_keys.setdefault(key_id, sequence)
            else:
                if not hmac.compare_digest(keyed_seal(row, keys[key_id]), row["entry_hash"]):
                    problems.append(
                        ChainProblem(
                            sequence,
                            _("contenu modifié après écriture (sceau de la clé invalide)"),
                        )
                    )
                rank = key_order.index(key_id)
                if rank_before is not None and rank > rank_before:
                    problems.append(
                        ChainProblem(
                            sequence,
                            _(
                                "scellée avec une clé plus ancienne que l'entrée précédente "
                                "(clé retirée réutilisée ?)"
                            ),
                        )
                    )
                rank_before = rank
        else:
            problems.append(
                ChainProblem(sequence, _("format de sceau inconnu (%(s)s)") % {"s": scheme})
            )
        if sequence in remember:
            result.seals[sequence] = row["entry_hash"]
        previous = row["entry_hash"]
        expected = sequence + 1
    for key_id, first in missing_keys.items():
        result.problems.append(
            ChainProblem(
                first,
                _(
                    "clé du journal « %(id)s » introuvable : ces entrées ne peuvent pas être "
                    "vérifiées (clé perdue, supprimée, ou entrées fabriquées)"
                )
                % {"id": key_id or "?"},
            )
        )
    if require_keyed and result.legacy and not result.keyed:
        result.problems.append(
            ChainProblem(
                expected - 1,
                _(
                    "journal jamais scellé par la clé alors que cette version le fait à la mise "
                    "à jour (historique réécrit sans clé ?)"
                ),
            )
        )
    result.last_sequence = expected - 1
    result.last_seal = previous
    return result
