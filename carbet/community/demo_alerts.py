"""The matched alerts of the demo region (``carbet demo load``).

A real matching pass, through the same engine and the same writing functions as
``carbet community match``, but against a small feed bundled with the demo
(``data/demo/``: real KEV, NVD and CERT-FR entries for FortiOS, Ivanti, OpenSSH...) imported
into a temporary store: the demo never writes into the platform's own feed store, never reads
it, and touches only the demo structures' alerts and findings. Nothing is e-mailed (the
entries are years old: not news, see ``mail_alerts.NEWS_DAYS``)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from carbet.community import matching
from carbet.community.models import MatchRun, SoftwareLine, StructureAlert
from carbet.core.tenancy import SYSTEM
from carbet.engines.community.inventory import ProductLine
from carbet.engines.community.matcher import match_all
from carbet.engines.exposure.vulns.feeds import open_store
from carbet.engines.exposure.vulns.importer import import_file

FEED = Path(__file__).resolve().parent / "data" / "demo"


def _lines(structure_ids: list[int]) -> list[ProductLine]:
    rows = SoftwareLine.objects.visible_to(SYSTEM).filter(
        structure_id__in=structure_ids, active=True
    )
    return [
        ProductLine(pk, structure, vendor, product, version, cpe)
        for pk, structure, vendor, product, version, cpe in rows.values_list(
            "pk", "structure_id", "vendor", "product", "version", "cpe"
        )
    ]


def load(structures: dict[str, Any], users: list[Any], today: date | None = None) -> int:
    """Idempotent: demo structures that already have alerts are left as they are."""
    ids = [structure.pk for structure in structures.values()]
    if StructureAlert.objects.visible_to(SYSTEM).filter(structure_id__in=ids).exists():
        return 0
    now = timezone.now()
    with tempfile.TemporaryDirectory(prefix="carbet-demo-feed-") as folder:
        store = open_store(Path(folder) / "feeds.sqlite")
        try:
            for name in ("nvd.json", "kev.json", "certfr.json"):
                import_file(store, FEED / name)
            matches = list(match_all(store, _lines(ids), nvd_min_cvss=matching.nvd_min_cvss()))
        finally:
            store.close()
    with transaction.atomic():
        run = MatchRun.objects.create(kind="full", started_at=now)
        outcome, count = matching.record(matches, False, now)
        matching.write_findings(outcome, False, now)
        MatchRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(),
            lines=len(_lines(ids)),
            matches=count,
            new_alerts=len(outcome.new),
        )
    return len(outcome.new)
