"""``carbet ownership recheck|conflicts``: proofs of ownership, for cron and for the centre."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from carbet.core import ownership
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM


class Command(BaseCommand):
    help = (
        "Propriété des actifs. « recheck » vérifie de nouveau chaque preuve par jeton (DNS, "
        "fichier web) et retire celles qui ont disparu (chaque semaine par cron) ; "
        "« conflicts » liste les actifs déclarés par plusieurs structures et les adresses "
        "que le centre doit encore vérifier."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["recheck", "conflicts"])
        parser.add_argument(
            "--structure", metavar="FINESS", help="une seule structure (FINESS géographique)"
        )

    def _structure(self, finess: str | None) -> Structure | None:
        if not finess:
            return None
        found = Structure.objects.visible_to(SYSTEM).filter(finess_et=finess.strip()).first()
        if found is None:
            raise CommandError(f"Aucune structure de FINESS géographique « {finess} ».")
        return found

    def handle(self, *args, **options) -> None:
        structure = self._structure(options.get("structure"))
        if options["action"] == "recheck":
            report = ownership.recheck(structure)
            for value in report.lapsed or []:
                self.stdout.write(f"preuve retirée : {value}")
            self.stdout.write(report.summary())
            return
        rows = ownership.region_conflicts()
        if structure is not None:
            rows = rows.filter(structure=structure)
        for asset in rows:
            where = f"{asset.structure.finess_et}\t{asset.structure.name}"
            self.stdout.write(f"conflit\t{asset.kind}\t{asset.value}\t{where}")
        self.stdout.write(f"{rows.count()} déclaration(s) en conflit.")
