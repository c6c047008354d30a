"""``carbet roadmap nightly``: the roadmap service's night (automatic evidence windows,
evidence reminders, backup register findings, indicators), at once or queued."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from carbet.roadmap import cli
from carbet.roadmap.job_kinds import run_nightly


class Command(BaseCommand):
    help = (
        "Travaux de nuit de la feuille de route : preuves automatiques, rappels des "
        "justificatifs qui expirent, vulnérabilités du registre des sauvegardes, indicateurs."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        cli.add_day_action(
            actions,
            "nightly",
            help=_("Lance les travaux de nuit (idempotents)."),
            description=_("Lance les travaux de nuit ; les relancer ne double rien."),
            day_help=_("Jour de référence (AAAA-MM-JJ)."),
        )

    def handle(self, *args, action: str, **options) -> None:
        day = options.get("day")
        if options.get("queue"):
            cli.queue(self, "roadmap.nightly", day, _("Feuille de route : travaux de nuit"))
            return
        result = run_nightly(day)
        self.stdout.write(json.dumps(result, ensure_ascii=False, default=str, indent=2))
