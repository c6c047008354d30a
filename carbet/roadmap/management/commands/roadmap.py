"""``carbet roadmap nightly``: the roadmap service's night (automatic evidence windows,
evidence reminders, backup register findings, indicators), at once or queued."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from carbet.core.tenancy import SYSTEM
from carbet.jobs import services as jobs
from carbet.roadmap.job_kinds import run_nightly
from carbet.roadmap.management.commands.indicators import iso_day


class Command(BaseCommand):
    help = (
        "Travaux de nuit de la feuille de route : preuves automatiques, rappels des "
        "justificatifs qui expirent, vulnérabilités du registre des sauvegardes, indicateurs."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        nightly = actions.add_parser(
            "nightly",
            help=_("Lance les travaux de nuit (idempotents)."),
            description=_("Lance les travaux de nuit ; les relancer ne double rien."),
        )
        nightly.add_argument("--day", type=iso_day, help=_("Jour de référence (AAAA-MM-JJ)."))
        nightly.add_argument(
            "--queue", action="store_true", help=_("Confier le travail aux processus de fond.")
        )

    def handle(self, *args, action: str, **options) -> None:
        day = options.get("day")
        if options.get("queue"):
            with transaction.atomic():
                job = jobs.submit(
                    "roadmap.nightly",
                    actor=SYSTEM,
                    params={"day": day.isoformat()} if day else {},
                    title=_("Feuille de route : travaux de nuit"),
                )
            self.stdout.write(_("Tâche %(id)s mise en file.") % {"id": job.pk})
            return
        result = run_nightly(day)
        self.stdout.write(json.dumps(result, ensure_ascii=False, default=str, indent=2))
