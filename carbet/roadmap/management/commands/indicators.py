"""``carbet indicators compute``: tonight's indicator values and regional aggregates."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from carbet.roadmap import cli, indicators


class Command(BaseCommand):
    help = (
        "Indicateurs de la feuille de route. « compute » calcule les valeurs du jour de chaque "
        "structure et les agrégats régionaux (relancer le même jour remplace les valeurs)."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        cli.add_day_action(
            actions,
            "compute",
            help=_("Calcule les indicateurs du jour (à lancer chaque nuit)."),
            description=_("Calcule les indicateurs de chaque structure et de la région."),
            day_help=_("Jour (AAAA-MM-JJ)."),
        )

    def handle(self, *args, action: str, **options) -> None:
        day = options.get("day")
        if options.get("queue"):
            cli.queue(self, "roadmap.indicators", day, _("Indicateurs de la nuit"))
            return
        result = indicators.compute_all(day)
        self.stdout.write(
            self.style.SUCCESS(
                _("Indicateurs du %(day)s : %(values)d valeurs pour %(structures)d structure(s).")
                % result
            )
        )
