"""The main courante: appending sealed entries, correcting by superseding, verifying the chain.

There is no function that edits or deletes an entry, and the table refuses it (model, and
database triggers). Appends to one case are serialised: on PostgreSQL the case row is locked
(``SELECT ... FOR UPDATE``) before reading the last entry; on SQLite Carbet's transactions are
``IMMEDIATE``, so the write lock is taken before the read. Two writers can therefore never chain
onto the same predecessor, and the unique (case, sequence) constraint would refuse it anyway.

Seals use the audit trail's keyring (``carbet.audit.keyring``): the key is kept outside the
database and rotates with the audit key; old keys stay to verify what they sealed.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import keyring
from carbet.audit import services as audit
from carbet.core.tenancy import Actor
from carbet.crisis.choices import EntryKind
from carbet.crisis.models import CrisisCase, LogEntry, Stakeholder
from carbet.crisis.service import CrisisPerm
from carbet.crisis.services import actor_label, require_case
from carbet.engines.crisis import chain

MAX_TEXT = 20000


def _lock_case(case_id: int) -> None:
    if connection.vendor == "postgresql":
        list(CrisisCase.objects.select_for_update().filter(pk=case_id).values_list("pk"))


@contextmanager
def _queue() -> Iterator[None]:
    """On SQLite, writers queue on an OS file lock before opening their transaction.

    SQLite's own wait for the write lock is a retry loop with growing sleeps (up to 100 ms),
    so twenty processes appending at once spend most of their time asleep; a blocking
    ``flock`` wakes the next writer as soon as the previous one commits. Only taken outside an
    enclosing transaction (inside one, the write lock is already held: waiting here could
    deadlock against a writer waiting for that lock)."""
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "sqlite" or connection.in_atomic_block or "memory" in name:
        yield
        return
    descriptor = os.open(f"{name}.crisis-log.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _row(entry: LogEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in chain.FIELDS}


def append_entry(
    actor: Actor,
    case: CrisisCase,
    *,
    text: str,
    kind: str,
    event_at: dt.datetime | None = None,
    source: str = "",
    verified: bool = False,
    supersedes: LogEntry | None = None,
    stakeholder: Stakeholder | None = None,
    author_label: str | None = None,
    now: dt.datetime | None = None,
    check: bool = True,
) -> LogEntry:
    """Append one entry to the case's main courante (sealed, chained)."""
    if check:
        require_case(actor, case, CrisisPerm.CONTRIBUTE)
    text = text.strip()
    if not text:
        raise ValueError(_("Le texte de l'entrée est vide."))
    if len(text) > MAX_TEXT:
        raise ValueError(_("Le texte dépasse %(n)d caractères.") % {"n": MAX_TEXT})
    if kind not in EntryKind.values:
        raise ValueError(_("Nature d'entrée inconnue."))
    if supersedes is not None and supersedes.case_id != case.pk:
        raise ValueError(_("L'entrée corrigée appartient à un autre dossier."))
    if stakeholder is not None and stakeholder.case_id != case.pk:
        raise ValueError(_("Cette partie prenante appartient à un autre dossier."))
    key = keyring.current(create=True)
    if key is None:
        raise RuntimeError("no audit key available to seal the main courante")
    now = now or timezone.now()
    with _queue(), transaction.atomic():
        _lock_case(case.pk)
        last = (
            LogEntry.objects.filter(case_id=case.pk)
            .order_by("-sequence")
            .values("sequence", "entry_hash")
            .first()
        )
        entry = LogEntry(
            case_id=case.pk,
            sequence=(last["sequence"] + 1) if last else 1,
            event_at=event_at or now,
            recorded_at=now,
            author_id=getattr(actor, "pk", None),
            author_label=(author_label or actor_label(actor))[:255],
            source=source.strip()[:200],
            kind=kind,
            text=text,
            verified=verified,
            supersedes_id=supersedes.pk if supersedes else None,
            stakeholder_id=stakeholder.pk if stakeholder else None,
            prev_hash=last["entry_hash"] if last else chain.GENESIS,
            key_id=key.id,
        )
        entry.entry_hash = chain.seal(_row(entry), key.secret)
        entry.save(force_insert=True)
    return entry


def correct_entry(
    actor: Actor,
    entry: LogEntry,
    *,
    text: str,
    verified: bool = False,
    source: str = "",
    now: dt.datetime | None = None,
) -> LogEntry:
    """A correction (or a verification) is a new entry superseding ``entry``."""
    case = entry.case
    correction = append_entry(
        actor,
        case,
        text=text,
        kind=entry.kind,
        event_at=entry.event_at,
        source=source or entry.source,
        verified=verified,
        supersedes=entry,
        stakeholder=entry.stakeholder,
        now=now,
    )
    audit.record(
        actor,
        "crisis.log_correct",
        case,
        changes={"entry": entry.sequence, "by": correction.sequence},
    )
    return correction


def chain_rows(case: CrisisCase) -> Iterator[dict[str, Any]]:
    fields = (*chain.FIELDS, "entry_hash")
    return (
        LogEntry.objects.filter(case_id=case.pk)
        .order_by("sequence")
        .values(*fields)
        .iterator(chunk_size=2000)
    )


def verify_log(case: CrisisCase) -> chain.Verification:
    """Walk the case's chain with every key of the keyring; first broken entry, if any."""
    keys, _order = keyring.as_mapping(keyring.load())
    return chain.verify(chain_rows(case), keys)


def problem_text(result: chain.Verification) -> str:
    """The walk's finding in plain words."""
    if result.ok:
        return _("Main courante intacte : %(n)d entrées vérifiées.") % {"n": result.checked}
    reason = {
        chain.GAP: _("des entrées manquent avant celle-ci (supprimées)"),
        chain.LINK: _("le chaînage est rompu : l'entrée précédente a été modifiée ou supprimée"),
        chain.SEAL: _("son contenu a été modifié après l'enregistrement"),
        chain.UNKNOWN_KEY: _("elle est scellée par une clé inconnue"),
    }.get(result.problem, result.problem)
    return _("Main courante altérée à partir de l'entrée n° %(seq)d : %(reason)s.") % {
        "seq": result.first_broken,
        "reason": reason,
    }
