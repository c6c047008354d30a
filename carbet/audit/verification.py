"""Checking the audit trail: the chain, the local anchor, and exported anchors.

``verify()`` walks the live chain (``carbet.audit.chain.walk``) and compares its end with the
local tail anchor and, when given, with anchors exported to an external sink. What each check
catches:

- an edited row: its seal no longer matches (and without the key it cannot be re-sealed);
- deleted or re-ordered rows in the middle: a gap, a broken link;
- deleted *last* rows: the anchor names an entry past the end, or one that changed;
- a wiped table with its anchor deleted: an anchor is missing although the key file exists or
  the database has accounts (every account is created through an audited action);
- a rewritten anchor: its tag does not verify with the key.

An attacker who can read the key *and* write the database and the data directory can still
rewrite everything locally: that is what the external anchors (``carbet audit anchor``,
``verify --anchor FILE``) are for, and why the key should live outside the data directory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from carbet.audit import anchor, chain, keyring
from carbet.audit.chain import ChainProblem


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    problems: list[ChainProblem]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def live_rows(batch: int = 5000) -> Iterator[dict[str, Any]]:
    from carbet.audit.models import AuditEntry

    last = 0
    while True:
        rows = list(
            AuditEntry.objects.filter(sequence__gt=last)
            .order_by("sequence")
            .values(*chain.FIELDS)[:batch]
        )
        if not rows:
            return
        yield from rows
        last = rows[-1]["sequence"]


def exported_problems(
    exported: Iterable[anchor.ExportedHead],
    seals: Mapping[int, str],
    last_sequence: int,
    keys: Mapping[str, bytes],
    *,
    source: str,
) -> list[ChainProblem]:
    """Each exported head must carry a valid tag and name an entry still in the chain."""
    problems = []
    for head in exported:
        where = _("%(source)s, ligne %(line)d (ancre du %(at)s)") % {
            "source": source,
            "line": head.line_number,
            "at": head.at,
        }
        if not anchor.export_tag_valid(head, keys):
            problems.append(
                ChainProblem(
                    head.sequence,
                    _("%(where)s : signature invalide (ancre falsifiée, ou clé inconnue)")
                    % {"where": where},
                )
            )
        elif head.sequence > last_sequence:
            problems.append(
                ChainProblem(
                    head.sequence,
                    _("entrées %(first)d à %(last)d supprimées (d'après %(where)s)")
                    % {"first": last_sequence + 1, "last": head.sequence, "where": where},
                )
            )
        elif seals.get(head.sequence) != head.entry_hash:
            problems.append(
                ChainProblem(
                    head.sequence,
                    _("l'entrée ne correspond plus à %(where)s (réécrite)") % {"where": where},
                )
            )
    return problems


def _local_anchor_problems(
    head: anchor.Head | None, result: chain.WalkResult, keys: Mapping[str, bytes]
) -> list[ChainProblem]:
    path = anchor.head_path()
    if head is None:
        if result.checked:
            return [
                ChainProblem(
                    result.last_sequence,
                    _(
                        "ancre de fin absente (%(path)s) : la suppression des dernières entrées "
                        "ne peut pas être exclue"
                    )
                    % {"path": path},
                )
            ]
        return _empty_trail_problems()
    if head.legacy:
        if result.keyed:
            return [
                ChainProblem(
                    head.sequence,
                    _(
                        "ancre de fin sans signature alors que le journal est scellé par la clé "
                        "(ancre remplacée ?)"
                    ),
                )
            ]
    elif not anchor.tag_valid(head, keys):
        return [
            ChainProblem(
                head.sequence,
                _(
                    "ancre de fin à la signature invalide (%(path)s) : fichier falsifié, ou "
                    "clé du journal remplacée"
                )
                % {"path": path},
            )
        ]
    if head.sequence > result.last_sequence:
        return [
            ChainProblem(
                head.sequence,
                _("entrées %(first)d à %(last)d supprimées (fin du journal, d'après l'ancre)")
                % {"first": result.last_sequence + 1, "last": head.sequence},
            )
        ]
    if result.seals.get(head.sequence) != head.entry_hash:
        return [ChainProblem(head.sequence, _("l'entrée ne correspond plus à l'ancre de fin"))]
    return []


def _empty_trail_problems() -> list[ChainProblem]:
    """An empty trail without an anchor is a fresh installation, or a wiped one."""
    if keyring.file_exists():
        return [
            ChainProblem(
                0,
                _(
                    "journal vide et ancre de fin absente alors que la clé du journal existe "
                    "(%(path)s) : journal et ancre effacés ?"
                )
                % {"path": keyring.key_file()},
            )
        ]
    accounts = get_user_model()._base_manager.count()
    if accounts:
        return [
            ChainProblem(
                0,
                _(
                    "journal vide et ancre de fin absente alors que la base contient "
                    "%(n)d compte(s), dont la création est toujours tracée : journal et ancre "
                    "effacés ?"
                )
                % {"n": accounts},
            )
        ]
    return []


def verify(*, check_anchor: bool = True, anchor_file: Path | None = None) -> VerifyReport:
    """Walk the whole chain; report every edited, deleted or re-ordered entry.

    With ``check_anchor`` (the default), also compare the chain's end with the local anchor,
    which is what reveals deleted *last* entries and a wiped table. ``anchor_file`` adds the
    heads exported to an external sink (``carbet audit anchor``): each must still be in the
    chain, unchanged.
    """
    problems: list[ChainProblem] = []
    notes: list[str] = []
    try:
        keys, order = keyring.as_mapping(keyring.load())
    except keyring.KeyringError as exc:
        keys, order = {}, []
        problems.append(ChainProblem(0, _("clé du journal illisible : %(e)s") % {"e": exc}))
    # Read before walking: entries appended meanwhile only extend the chain past the heads.
    head, unreadable = None, False
    if check_anchor:
        try:
            head = anchor.read()
        except anchor.AnchorError:
            unreadable = True
    exported: list[anchor.ExportedHead] = []
    if anchor_file is not None:
        try:
            text = anchor.anchor_file_text(Path(anchor_file).read_bytes())
        except OSError as exc:
            problems.append(ChainProblem(0, _("fichier d'ancres illisible : %(e)s") % {"e": exc}))
            text = None
        exported, damaged = anchor.parse_exports(text or "")
        for number in damaged:
            problems.append(
                ChainProblem(
                    0,
                    _("%(file)s, ligne %(line)d : ancre illisible (modifiée ?)")
                    % {"file": anchor_file, "line": number},
                )
            )
        if not exported and not damaged and text is not None:
            problems.append(
                ChainProblem(
                    0,
                    _("aucune ancre dans %(file)s (ce n'est pas un fichier d'ancres Carbet ?)")
                    % {"file": anchor_file},
                )
            )
    remember = {e.sequence for e in exported}
    if head is not None:
        remember.add(head.sequence)
    result = chain.walk(live_rows(), keys, order, remember=remember)
    problems.extend(result.problems)
    if unreadable:
        problems.append(
            ChainProblem(0, _("ancre de fin illisible (%(path)s)") % {"path": anchor.head_path()})
        )
    elif check_anchor:
        problems.extend(_local_anchor_problems(head, result, keys))
    if exported:
        problems.extend(
            exported_problems(
                exported, result.seals, result.last_sequence, keys, source=str(anchor_file)
            )
        )
        newest = max(exported, key=lambda e: e.sequence)
        notes.append(
            _(
                "%(n)d ancre(s) externe(s) comparée(s), la plus récente : entrée n° %(seq)d "
                "du %(at)s"
            )
            % {"n": len(exported), "seq": newest.sequence, "at": newest.at}
        )
    if result.legacy:
        notes.append(
            _(
                "%(n)d entrée(s) écrite(s) avant la clé (empreinte simple), scellées par la "
                "première entrée signée qui les suit."
            )
            % {"n": result.legacy}
        )
    return VerifyReport(checked=result.checked, problems=problems, notes=notes)
