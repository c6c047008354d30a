"""The known intermediates store: learnt from trusted chains, imported from bundles, handed to
every scan (``carbet.engines.exposure.tls.intermediates``).

Why: a server that forgets its intermediate certificate works in a browser (browsers carry the
public authorities' intermediates) and fails for phones, mail clients and business software.
Without knowing the intermediate, Carbet could only say "unknown authority", whose fix is
entirely different. It never fetches the intermediate from the authority (a third party):
it learns it from the chains of other servers that OpenSSL verified as trusted, or the centre
imports the authority's bundle it downloaded itself.

Learning is bulk and idempotent (one query to find what is known, one insert, one update per
chunk of results); the store is loaded once per scan run, not per target.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Max
from django.utils import timezone

from carbet.audit import services as audit
from carbet.core.tenancy import Actor
from carbet.engines.exposure.core import TargetResult
from carbet.engines.exposure.tls.bundle import Problem, parse_bundle
from carbet.engines.exposure.tls.intermediates import (
    Intermediate,
    IntermediateError,
    KnownIntermediates,
    describe,
)
from carbet.exposure.models import IntermediateSource, KnownIntermediate

EVIDENCE_KEY = "trusted_intermediates"
EXPIRING_DAYS = 90


# The last store built in this process, by (rows, last id, day): rows are only ever added (or
# removed by hand), so an unchanged signature means an unchanged store. Indexing the ~3,000
# intermediates of a CCADB export takes about 0.2 s; a regional scan runs one job per
# structure, which then pays one cheap query each instead.
_CACHE: dict[tuple[int, int, dt.date], KnownIntermediates] = {}


def load_store(now: dt.datetime | None = None) -> KnownIntermediates:
    """Every known intermediate still valid, indexed for the engine."""
    moment = now or timezone.now()
    valid = KnownIntermediate.objects.filter(not_after__gt=moment)
    shape = valid.aggregate(rows=Count("pk"), last=Max("pk"))
    key = (shape["rows"] or 0, shape["last"] or 0, moment.date())
    store = _CACHE.get(key)
    if store is None:
        store = KnownIntermediates(bytes(der) for der in valid.values_list("der", flat=True))
        _CACHE.clear()
        _CACHE[key] = store
    return store


def reported(results: Iterable[TargetResult]) -> dict[str, Intermediate]:
    """The intermediates the engine reported from chains it verified as trusted, by SHA-256.

    The engine's word is checked again here (readable, a CA, not a root): the store must never
    hold what could not serve as an intermediate."""
    found: dict[str, Intermediate] = {}
    for result in results:
        for entry in result.evidence.get(EVIDENCE_KEY) or []:
            try:
                item = describe(base64.b64decode(str(entry.get("der", "")), validate=True))
            except (IntermediateError, binascii.Error, ValueError):
                continue
            if item.is_ca and not item.self_issued:
                found.setdefault(item.sha256, item)
    return found


def _row(item: Intermediate, source: str, now: dt.datetime) -> KnownIntermediate:
    return KnownIntermediate(
        der=item.der,
        sha256=item.sha256,
        subject=item.subject[:1000],
        subject_key_id=item.ski.hex()[:128] if item.ski else "",
        not_after=item.not_after,
        source=source,
        first_seen=now,
        last_seen=now,
        seen_count=1,
    )


def learn(results: Iterable[TargetResult], now: dt.datetime | None = None) -> int:
    """Record the intermediates of trusted chains (new ones added, known ones seen again);
    the number added. The DER is then dropped from the results' evidence (kept: subject and
    fingerprint), so the pages do not show base64 blocks."""
    results = list(results)
    moment = now or timezone.now()
    found = reported(results)
    for result in results:
        for entry in result.evidence.get(EVIDENCE_KEY) or []:
            if isinstance(entry, dict):
                entry.pop("der", None)
    if not found:
        return 0
    known = set(
        KnownIntermediate.objects.filter(sha256__in=list(found)).values_list("sha256", flat=True)
    )
    new = [_row(item, IntermediateSource.LEARNED, moment) for sha, item in found.items()
           if sha not in known]  # fmt: skip
    # ignore_conflicts: two workers learning the same certificate at once is not an error.
    KnownIntermediate.objects.bulk_create(new, ignore_conflicts=True)
    if known:
        KnownIntermediate.objects.filter(sha256__in=known).update(
            last_seen=moment, seen_count=F("seen_count") + 1
        )
    return len(new)


@dataclass
class ImportReport:
    added: int = 0
    already_known: int = 0
    duplicates: int = 0
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "already_known": self.already_known,
            "duplicates": self.duplicates,
            "refused": len(self.problems),
        }


def import_bundle(data: bytes, actor: Actor, name: str = "") -> ImportReport:
    """Import a PEM bundle of intermediate CAs (audited); importing it again adds nothing.

    Raises ``carbet.engines.exposure.tls.bundle.BundleError`` when the file is unusable."""
    moment = timezone.now()
    bundle = parse_bundle(data, now=moment)
    items = {item.sha256: item for _line, item in bundle.intermediates}
    known = set(
        KnownIntermediate.objects.filter(sha256__in=list(items)).values_list("sha256", flat=True)
    )
    new = [_row(item, IntermediateSource.IMPORTED, moment) for sha, item in items.items()
           if sha not in known]  # fmt: skip
    KnownIntermediate.objects.bulk_create(new, ignore_conflicts=True)
    report = ImportReport(
        added=len(new),
        already_known=len(known),
        duplicates=bundle.duplicates,
        problems=bundle.problems,
    )
    audit.record(
        actor,
        "exposure.intermediates.import",
        label=name[:255] or "bundle",
        changes={**report.as_dict(), "file_sha256": hashlib.sha256(data).hexdigest()},
    )
    return report


def summary(now: dt.datetime | None = None) -> dict[str, Any]:
    """Counts by origin, how many expire soon or have expired (for ``intermediates list``)."""
    moment = now or timezone.now()
    soon = moment + dt.timedelta(days=EXPIRING_DAYS)
    rows = KnownIntermediate.objects
    by_source = dict(
        rows.filter(not_after__gt=moment).values_list("source").annotate(n=Count("pk"))
    )
    return {
        "learned": by_source.get(IntermediateSource.LEARNED, 0),
        "imported": by_source.get(IntermediateSource.IMPORTED, 0),
        "expiring": rows.filter(not_after__gt=moment, not_after__lte=soon).count(),
        "expired": rows.filter(not_after__lte=moment).count(),
        "expiring_soon": [
            {"subject": subject, "not_after": not_after.isoformat(), "source": source}
            for subject, not_after, source in rows.filter(not_after__gt=moment, not_after__lte=soon)
            .order_by("not_after")
            .values_list("subject", "not_after", "source")[:20]
        ],
    }
