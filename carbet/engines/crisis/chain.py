"""The main courante's seals: canonical form, keyed HMAC-SHA256, and the verification walk.

Each entry's seal covers its content, its case, its sequence number and the previous entry's
seal, with a secret kept outside the database (the audit keyring): editing, removing or
re-ordering an entry breaks the chain from that entry on, and nobody without the key can
re-seal a rewritten entry. ``verify`` names the **first** broken entry and why.

Rows are plain mappings (the database columns by attribute name), so this module knows nothing
of the ORM.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
_DOMAIN = b"carbet-crisis-log-v1\x00"

FIELDS: tuple[str, ...] = (
    "case_id",
    "sequence",
    "event_at",
    "recorded_at",
    "author_id",
    "author_label",
    "source",
    "kind",
    "text",
    "verified",
    "supersedes_id",
    "stakeholder_id",
    "prev_hash",
    "key_id",
)

# Why an entry breaks the chain (codes; the app words them for people).
GAP = "gap"  # a sequence number is missing: entries removed
LINK = "link"  # prev_hash is not the previous entry's seal: an entry before it changed or went
SEAL = "seal"  # the entry's seal does not match its content: the entry was rewritten
UNKNOWN_KEY = "unknown_key"  # sealed with a key Carbet does not hold

MESSAGES = {
    GAP: "entrées manquantes avant celle-ci (supprimées)",
    LINK: "chaînage rompu : l'entrée précédente a été modifiée ou supprimée",
    SEAL: "contenu modifié après l'enregistrement (sceau invalide)",
    UNKNOWN_KEY: "scellée avec une clé inconnue : impossible de la vérifier",
}


def _utc(value: dt.datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes a seal covers: every field, times in UTC, keys sorted, UTF-8."""
    payload = {name: row.get(name) for name in FIELDS}
    payload["event_at"] = _utc(row["event_at"])
    payload["recorded_at"] = _utc(row["recorded_at"])
    payload["verified"] = bool(row.get("verified"))
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def seal(row: Mapping[str, Any], secret: bytes) -> str:
    return hmac.new(secret, _DOMAIN + canonical(row), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Verification:
    """The result of a walk: ``first_broken`` is the sequence of the first bad entry."""

    checked: int
    first_broken: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken is None

    @property
    def message(self) -> str:
        return MESSAGES.get(self.problem, "")


def verify(rows: Iterable[Mapping[str, Any]], keys: Mapping[str, bytes]) -> Verification:
    """Walk one case's entries in sequence order; stop at the first broken one."""
    previous = GENESIS
    expected = 1
    checked = 0
    for row in rows:
        checked += 1
        sequence = int(row["sequence"])
        if sequence != expected:
            return Verification(checked, sequence, GAP)
        if row["prev_hash"] != previous:
            return Verification(checked, sequence, LINK)
        secret = keys.get(str(row.get("key_id") or ""))
        if secret is None:
            return Verification(checked, sequence, UNKNOWN_KEY)
        if not hmac.compare_digest(seal(row, secret), str(row["entry_hash"])):
            return Verification(checked, sequence, SEAL)
        previous = str(row["entry_hash"])
        expected = sequence + 1
    return Verification(checked)
