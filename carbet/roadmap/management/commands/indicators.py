"""``carbet indicators compute``: tonight's indicator values and regional aggregates."""

from __future__ import annotations

import argparse
from datetime import date

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from carbet.core.tenancy import SYSTEM
from carbet.jobs import services as jobs
from carbet.roadmap import indicators


def iso_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            _("Date invalide « %(value)s » : écrivez-la AAAA-MM-JJ.") % {"value": value}
        ) from exc


class Command(BaseCommand):
    help = (
        "Indicateurs de la feuille de route. « compute » calcule les valeurs du jour de chaque "
        "structure et les agrégats régionaux (relancer le même jour remplace les valeurs)."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        compute = actions.add_parser(
            "compute",
            help=_("Calcule les indicateurs du jour (à lancer chaque nuit)."),
            description=_("Calcule les indicateurs de chaque structure et de la région."),
        )
        compute.add_argument("--day", type=iso_day, help=_("Jour (AAAA-MM-JJ)."))
        compute.add_argument(
            "--queue", action="store_true", help=_("Confier le travail aux processus de fond.")
        )

    def handle(self, *args, action: str, **options) -> None:
        day = options.get("day")
        if options.get("queue"):
            with transaction.atomic():
                job = jobs.submit(
                    "roadmap.indicators",
                    actor=SYSTEM,
                    params={"day": day.isoformat()} if day else {},
                    title=_("Indicateurs de la nuit"),
                )
            self.stdout.write(_("Tâche %(id)s mise en file.") % {"id": job.pk})
            return
        result = indicators.compute_all(day)
        self.stdout.write(
            self.style.SUCCESS(
                _("Indicateurs du %(day)s : %(values)d valeurs pour %(structures)d structure(s).")
                % result
            )
        )
