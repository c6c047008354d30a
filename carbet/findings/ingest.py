"""The ingest service: the only way services write findings.

Given a stream (structure + source + scope), a batch of findings and whether the run covered the
stream's whole scope, it deduplicates by fingerprint within the structure (never across
structures), creates what is new, refreshes what changed, reopens closed findings that reappear
(configurable), leaves people's decisions (false positive, accepted risk, duplicate, out of
scope) alone while recording that the finding was seen, and — for complete runs only — closes
open findings of the stream that the run no longer saw. Partial runs never close anything.

Built for volume: one pass over the structure's existing fingerprints, ``bulk_create`` for new
rows, chunked ``UPDATE ... WHERE id IN`` for sightings, and ``executemany`` for changed rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from carbet.audit import services as audit
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import SYSTEM, Actor
from carbet.findings import correlation, sla
from carbet.findings.choices import (
    CLOSED_STATUSES,
    DECIDED_STATUSES,
    OPEN_STATUSES,
    EventKind,
    Severity,
    Status,
    source_codes,
)
from carbet.findings.models import Finding, FindingEvent, Run, Stream

CHUNK = 5000
MAX_TITLE = 300
# The columns a producer controls; a change in any of them is a "changed" finding.
_CONTENT_FIELDS = (
    "title",
    "description",
    "remediation",
    "severity",
    "cvss",
    "epss",
    "kev",
    "cve",
    "references",
    "product",
    "evidence",
    "rule",
    "tool_id",
    "asset_id",
)


class IngestError(ValueError):
    """The batch is invalid; nothing was written. ``errors`` lists (index, message)."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        super().__init__("; ".join(f"#{i}: {m}" for i, m in errors[:10]))


@dataclass(slots=True)
class FindingInput:
    """One finding as a producer reports it. ``fingerprint`` identifies it across runs; when
    empty it is derived from the source, the rule (or tool id), the asset and the title."""

    title: str
    severity: int | str = Severity.MEDIUM
    fingerprint: str = ""
    tool_id: str = ""
    rule: str = ""
    description: str = ""
    remediation: str = ""
    asset_id: int | None = None
    cvss: float | None = None
    epss: float | None = None
    kev: bool = False
    cve: str = ""
    references: list[Any] = field(default_factory=list)
    product: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    internet_exposed: bool | None = None


@dataclass
class IngestReport:
    stream_id: int
    run_id: int
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reopened: int = 0
    closed: int = 0
    decided_seen: int = 0
    duplicates_in_batch: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass(slots=True)
class _Prepared:
    fingerprint: str
    content_hash: str
    severity: int
    item: FindingInput
    exposed: bool
    correlation_key: str | None = None


def derive_fingerprint(source: str, item: FindingInput) -> str:
    key = "\x1f".join(
        [source, item.rule or item.tool_id, str(item.asset_id or ""), item.title.strip().lower()]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def _content_hash(item: FindingInput, severity: int) -> str:
    payload = [
        item.title,
        item.description,
        item.remediation,
        severity,
        None if item.cvss is None else round(float(item.cvss), 1),
        item.epss,
        bool(item.kev),
        item.cve,
        item.references,
        item.product,
        item.evidence,
        item.rule,
        item.tool_id,
        item.asset_id,
    ]
    encoded = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


def _score_error(item: FindingInput) -> str | None:
    """Why the CVSS/EPSS of ``item`` is unusable (normalising them to floats), or ``None``."""
    for name, upper, label in (("cvss", 10, "CVSS hors de 0–10"), ("epss", 1, "EPSS hors de 0–1")):
        value = getattr(item, name)
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            return f"{name.upper()} n'est pas un nombre : {value!r}"
        if not 0 <= number <= upper:  # also refuses NaN
            return label
        setattr(item, name, number)
    return None


def _key(structure_id: int, item: FindingInput, asset_values: dict[int, str]) -> str | None:
    """The finding's correlation key (``carbet.findings.correlation``), ``None`` for none."""
    return (
        correlation.correlation_key(
            structure_id,
            rule=item.rule,
            cve=item.cve,
            title=item.title,
            evidence=item.evidence,
            asset_value=asset_values.get(item.asset_id, "") if item.asset_id else "",
        )
        or None
    )


def _prepare(
    source: str,
    items: Iterable[FindingInput],
    exposed_assets: dict[int, bool],
    keyed: tuple[int, dict[int, str]] | None = None,
) -> tuple[dict[str, _Prepared], int, int]:
    errors: list[tuple[int, str]] = []
    prepared: dict[str, _Prepared] = {}
    received = 0
    for index, item in enumerate(items):
        received += 1
        if not isinstance(item, FindingInput):
            errors.append((index, "not a FindingInput"))
            continue
        title = (item.title or "").strip()
        if not title:
            errors.append((index, "titre manquant"))
            continue
        item.title = title[:MAX_TITLE]
        try:
            severity = int(Severity.parse(item.severity))
        except ValueError:
            errors.append((index, f"gravité inconnue : {item.severity!r}"))
            continue
        score_error = _score_error(item)
        if score_error:
            errors.append((index, score_error))
            continue
        if item.asset_id is not None and item.asset_id not in exposed_assets:
            errors.append((index, "actif d'une autre structure ou inconnu"))
            continue
        fingerprint = (item.fingerprint or derive_fingerprint(source, item))[:64]
        exposed = (
            item.internet_exposed
            if item.internet_exposed is not None
            else exposed_assets.get(item.asset_id, False)
            if item.asset_id
            else False
        )
        prepared[fingerprint] = _Prepared(
            fingerprint,
            _content_hash(item, severity),
            severity,
            item,
            bool(exposed),
            _key(keyed[0], item, keyed[1]) if keyed else None,
        )
    if errors:
        raise IngestError(errors)
    return prepared, received, received - len(prepared)


def _chunks(values: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _lock_structure(structure_id: int) -> None:
    """Serialise ingests into one structure (SQLite's IMMEDIATE transactions already do)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x0F1D, structure_id])


def _existing(structure_id: int, fingerprints: list[str], stream_id: int, complete: bool):
    """Fingerprint → (id, status, content_hash, correlation key) of the structure's findings
    we need."""
    rows = Finding.objects.filter(structure_id=structure_id)
    if len(fingerprints) < 2000 and not complete:
        found = {}
        for chunk in _chunks(fingerprints, 900):
            found.update(
                (fp, (pk, st, ch, key))
                for pk, fp, st, ch, key in rows.filter(fingerprint__in=chunk).values_list(
                    "id", "fingerprint", "status", "content_hash", "correlation_key"
                )
            )
        return found, {}
    found, open_in_stream = {}, {}
    for pk, fp, st, ch, key, sid in rows.values_list(
        "id", "fingerprint", "status", "content_hash", "correlation_key", "stream_id"
    ).iterator(chunk_size=CHUNK):
        found[fp] = (pk, st, ch, key)
        if sid == stream_id and st in OPEN_STATUSES:
            open_in_stream[fp] = pk
    return found, open_in_stream


def _json_param() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def _rewrite_content(changed: list[tuple[int, _Prepared]], now: datetime, run: Run) -> None:
    """Rewrite changed rows in one executemany (only our own column names are interpolated)."""
    table = Finding._meta.db_table
    j = _json_param()
    columns = (
        *_CONTENT_FIELDS,
        "internet_exposed",
        "content_hash",
        "correlation_key",
        "last_seen",
        "last_run_id",
    )
    json_columns = {"references", "evidence"}
    assignments = ", ".join(
        f"{connection.ops.quote_name(c)}={j if c in json_columns else '%s'}" for c in columns
    )
    sql = f"UPDATE {table} SET {assignments} WHERE id=%s"  # noqa: S608
    rows = []
    for pk, p in changed:
        it = p.item
        rows.append(
            (
                it.title,
                it.description,
                it.remediation,
                p.severity,
                None if it.cvss is None else round(float(it.cvss), 1),
                it.epss,
                bool(it.kev),
                it.cve[:30],
                json.dumps(it.references, default=str),
                it.product[:200],
                json.dumps(it.evidence, default=str),
                it.rule[:120],
                it.tool_id[:200],
                it.asset_id,
                p.exposed,
                p.content_hash,
                p.correlation_key,
                now,
                run.pk,
                pk,
            )
        )
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, 2000):
            cursor.executemany(sql, chunk)


def ingest(
    structure: Structure,
    source: str,
    items: Iterable[FindingInput],
    *,
    complete: bool,
    scope: str = "",
    label: str = "",
    actor: Actor = SYSTEM,
    reopen: bool = True,
    now: datetime | None = None,
) -> IngestReport:
    """Write one run of findings into ``structure``'s stream ``(source, scope)``."""
    if source not in source_codes():
        raise IngestError([(-1, f"source inconnue : {source!r}")])
    now = now or timezone.now()
    exposed_assets: dict[int, bool] = {}
    asset_values: dict[int, str] = {}
    for pk, exposed, value in Asset.objects.filter(structure=structure).values_list(
        "id", "internet_exposed", "value"
    ):
        exposed_assets[pk], asset_values[pk] = exposed, value
    prepared, received, duplicates = _prepare(
        source, items, exposed_assets, (structure.pk, asset_values)
    )
    policy = sla.current_policy()
    today = timezone.localdate(now)
    with transaction.atomic():
        _lock_structure(structure.pk)
        stream, _ = Stream.objects.get_or_create(structure=structure, source=source, scope=scope)
        run = Run.objects.create(stream=stream, label=label, complete=complete, started_at=now)
        report = IngestReport(stream.pk, run.pk, received=received, duplicates_in_batch=duplicates)
        existing, open_in_stream = _existing(structure.pk, list(prepared), stream.pk, complete)
        to_create: list[Finding] = []
        touched: list[int] = []
        changed: list[tuple[int, _Prepared]] = []
        reopened: list[int] = []
        rekeyed: dict[str | None, list[int]] = {}
        events: list[FindingEvent] = []
        for fp, p in prepared.items():
            found = existing.get(fp)
            if found is None:
                it = p.item
                to_create.append(
                    Finding(
                        structure_id=structure.pk,
                        stream_id=stream.pk,
                        source=source,
                        fingerprint=fp,
                        tool_id=it.tool_id[:200],
                        rule=it.rule[:120],
                        title=it.title,
                        description=it.description,
                        remediation=it.remediation,
                        severity=p.severity,
                        cvss=None if it.cvss is None else round(float(it.cvss), 1),
                        epss=it.epss,
                        kev=bool(it.kev),
                        cve=it.cve[:30],
                        references=it.references,
                        product=it.product[:200],
                        asset_id=it.asset_id,
                        internet_exposed=p.exposed,
                        evidence=it.evidence,
                        content_hash=p.content_hash,
                        correlation_key=p.correlation_key,
                        first_seen=now,
                        last_seen=now,
                        first_run_id=run.pk,
                        last_run_id=run.pk,
                        status=Status.NEW,
                        sla_due=sla.due_date(
                            policy, p.severity, today, kev=bool(it.kev), exposed=p.exposed
                        ),
                    )
                )
                continue
            pk, status, content_hash, key = found
            open_in_stream.pop(fp, None)
            if content_hash == p.content_hash and key != p.correlation_key:
                # Same content, key missing (written before correlation) or rule refined.
                rekeyed.setdefault(p.correlation_key, []).append(pk)
            if content_hash != p.content_hash:
                changed.append((pk, p))
                events.append(
                    FindingEvent(finding_id=pk, run_id=run.pk, kind=EventKind.CHANGED, at=now)
                )
            else:
                touched.append(pk)
            if status in CLOSED_STATUSES and reopen:
                reopened.append(pk)
                events.append(
                    FindingEvent(
                        finding_id=pk,
                        run_id=run.pk,
                        kind=EventKind.REOPENED,
                        at=now,
                        from_status=status,
                        to_status=Status.NEW,
                    )
                )
            elif status in DECIDED_STATUSES:
                report.decided_seen += 1
        Finding.objects.bulk_create(to_create, batch_size=2000)
        for chunk in _chunks(touched):
            Finding.objects.filter(id__in=chunk).update(last_seen=now, last_run_id=run.pk)
        _rewrite_content(changed, now, run)
        for key, ids in rekeyed.items():
            for chunk in _chunks(ids):
                Finding.objects.filter(id__in=chunk).update(correlation_key=key)
        if reopened:
            _reopen(reopened, now, run, policy, today)
        gone = list(open_in_stream.values()) if complete else []
        for chunk in _chunks(gone):
            Finding.objects.filter(id__in=chunk).update(
                status=Status.VERIFIED_CLOSED,
                status_reason=f"Plus vue lors de l'analyse complète « {label or run.pk} ».",
                status_changed_at=now,
                closed_at=now,
                status_changed_by=None,
            )
        events.extend(
            FindingEvent(
                finding_id=pk,
                run_id=run.pk,
                kind=EventKind.CLOSED_NOT_SEEN,
                at=now,
                from_status="open",
                to_status=Status.VERIFIED_CLOSED,
            )
            for pk in gone
        )
        FindingEvent.objects.bulk_create(events, batch_size=5000)
        report.created = len(to_create)
        report.updated = len(changed)
        report.unchanged = len(touched)
        report.reopened = len(reopened)
        report.closed = len(gone)
        Run.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(),
            received=received,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            reopened=report.reopened,
            closed=report.closed,
            duplicates_in_batch=duplicates,
        )
        audit.record(
            actor,
            "findings.ingest",
            structure,
            structure=structure,
            label=f"{source}:{scope or '*'}",
            changes={"complete": complete, **report.as_dict()},
        )
    return report


def _reopen(ids: list[int], now: datetime, run: Run, policy, today) -> None:
    """Reopened findings start a new deadline from today, by their (possibly new) severity."""
    rows = Finding.objects.filter(id__in=ids).values_list(
        "id", "severity", "kev", "internet_exposed"
    )
    for pk, severity, kev, exposed in rows:
        Finding.objects.filter(pk=pk).update(
            status=Status.NEW,
            status_reason=f"Réapparue lors de « {run.label or run.pk} ».",
            status_changed_at=now,
            closed_at=None,
            sla_due=sla.due_date(policy, severity, today, kev=kev, exposed=exposed),
        )
