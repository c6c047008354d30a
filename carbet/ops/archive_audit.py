"""Checking a backup archive's audit chain BEFORE anything of the installation is replaced.

``carbet restore`` used to restore the database first and then notice that its audit chain was
broken. Now the archive's ``audit_auditentry`` rows are read straight from the extracted copy
(SQLite: the file, read-only; PostgreSQL: the table's data that ``pg_restore`` prints, without
connecting to any database) and walked with the audit keys (the installation's, plus the
archive's own key file if it was saved with ``--include-audit-key``). The manifest's signed
head must name an entry still in that chain. Any problem refuses the restore unless the
operator explicitly accepts it (``--accept-audit-problems``, itself recorded in the trail).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from carbet.audit import anchor, chain, keyring
from carbet.audit.verification import exported_problems
from carbet.ops import dbdump
from carbet.ops.archive import KEYS, BackupError

TABLE = "audit_auditentry"
KEYED_MIGRATION = "0004_keyed_chain"
_INT_FIELDS = {"sequence", "actor_id", "structure_id", "scheme"}
_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _row(values: dict[str, Any]) -> dict[str, Any]:
    """A row as ``chain.walk`` expects it, from the raw column texts of either vendor."""
    row: dict[str, Any] = {}
    for name in chain.FIELDS:
        value = values.get(name)
        if name in _INT_FIELDS and value is not None:
            value = int(value)
        row[name] = value
    row["changes"] = json.loads(row["changes"]) if isinstance(row["changes"], str) else {}
    if row["scheme"] is None:  # a backup made before the keyed chain
        row["scheme"] = chain.LEGACY
    row["key_id"] = row["key_id"] or ""
    return row


def sqlite_rows(path: Path) -> Iterator[dict[str, Any]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        columns = [row[1] for row in connection.execute(f"PRAGMA table_info({TABLE})")]
        wanted = [name for name in chain.FIELDS if name in columns]
        cursor = connection.execute(
            f"SELECT {', '.join(wanted)} FROM {TABLE} ORDER BY sequence"  # noqa: S608
        )
        for values in cursor:
            yield _row(dict(zip(wanted, values, strict=True)))
    finally:
        connection.close()


def _copy_value(raw: str) -> str | None:
    """One field of PostgreSQL's COPY text format (only the escapes COPY TO writes)."""
    if raw == r"\N":
        return None
    if "\\" not in raw:
        return raw
    out, index = [], 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            following = raw[index + 1]
            out.append(_COPY_ESCAPES.get(following, following))
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def parse_copy(text: str) -> Iterator[dict[str, Any]]:
    """The rows of the audit table in a ``pg_restore --data-only`` script."""
    columns: list[str] | None = None
    for line in text.splitlines():
        if columns is None:
            if line.startswith("COPY ") and f"{TABLE} (" in line and line.endswith("FROM stdin;"):
                inside = line[line.index("(") + 1 : line.rindex(")")]
                columns = [name.strip().strip('"') for name in inside.split(",")]
            continue
        if line == "\\.":
            return
        values = [_copy_value(field) for field in line.split("\t")]
        if len(values) != len(columns):
            raise ValueError("malformed COPY line")
        yield _row(dict(zip(columns, values, strict=True)))


def postgresql_rows(dump: Path, workdir: Path) -> Iterator[dict[str, Any]]:
    script = workdir / "audit-data.sql"
    dbdump.pg_audit_data(dump, TABLE, script)
    yield from parse_copy(script.read_text(encoding="utf-8"))
    script.unlink(missing_ok=True)


def _keys(files_dir: Path, problems: list[str]) -> tuple[dict[str, bytes], list[str]]:
    try:
        keys = keyring.load()
    except keyring.KeyringError as exc:
        problems.append(_("clé du journal de cette installation illisible : %(e)s") % {"e": exc})
        keys = []
    archived = files_dir / KEYS / "audit.key"
    if archived.is_file():
        try:
            known = {key.id for key in keys}
            keys += [key for key in keyring.parse_file(archived) if key.id not in known]
        except (keyring.KeyringError, OSError, UnicodeDecodeError) as exc:
            problems.append(_("clé du journal de l'archive illisible : %(e)s") % {"e": exc})
    return keyring.as_mapping(keys)


def check(vendor: str, database_file: Path, files_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """Every problem of the archive's audit chain, in French (empty: the chain is intact)."""
    problems: list[str] = []
    keys, order = _keys(files_dir, problems)
    head = manifest.get("audit_head") if isinstance(manifest.get("audit_head"), dict) else None
    exported: list[anchor.ExportedHead] = []
    if head and isinstance(head.get("anchor"), str):
        exported, damaged = anchor.parse_exports(head["anchor"])
        if damaged or not exported:
            problems.append(_("manifest.json : ancre du journal d'audit illisible (modifiée ?)"))
    remember = {e.sequence for e in exported}
    if head and isinstance(head.get("sequence"), int):
        remember.add(head["sequence"])
    migrations = manifest.get("migrations") or {}
    require_keyed = KEYED_MIGRATION in (migrations.get("audit") or [])
    try:
        if vendor == "sqlite":
            rows: Iterator[dict[str, Any]] = sqlite_rows(database_file)
        else:
            rows = postgresql_rows(database_file, files_dir.parent)
        result = chain.walk(rows, keys, order, require_keyed=require_keyed, remember=remember)
    except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
        return [*problems, _("journal d'audit de l'archive illisible : %(e)s") % {"e": exc}]
    except BackupError as exc:
        return [*problems, str(exc)]
    problems += [
        _("journal d'audit de l'archive, entrée n° %(seq)s : %(problem)s")
        % {"seq": p.sequence, "problem": p.problem}
        for p in result.problems
    ]
    problems += [
        _("journal d'audit de l'archive : %(problem)s") % {"problem": p.problem}
        for p in exported_problems(
            exported, result.seals, result.last_sequence, keys, source="manifest.json"
        )
    ]
    if head and not exported and isinstance(head.get("sequence"), int):
        # A backup made before the signed head: at least the entry it named must be there.
        if result.seals.get(head["sequence"]) != head.get("entry_hash"):
            problems.append(
                _(
                    "la base sauvegardée ne contient plus l'entrée n° %(seq)s que son ancre "
                    "désignait (journal tronqué avant la sauvegarde ?)"
                )
                % {"seq": head["sequence"]}
            )
    return problems
