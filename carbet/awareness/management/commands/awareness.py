"""``carbet awareness poll|maintenance``: submit the awareness background jobs (for cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from carbet.core.tenancy import SYSTEM

KINDS = {
    "poll": ("awareness.poll", "Relevé des boîtes de signalement"),
    "maintenance": ("awareness.maintenance", "Maintenance de la sensibilisation"),
}


class Command(BaseCommand):
    help = (
        "Simulations d'hameçonnage : « poll » relève les boîtes de signalement, "
        "« maintenance » tranche les clics de robots, met à jour résultats et vulnérabilités et "
        "purge les résultats individuels échus. Confie le travail aux tâches de fond "
        "(« carbet worker ») ; --now le fait ici."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=sorted(KINDS))
        parser.add_argument("--now", action="store_true", help="faire le travail dans ce processus")

    def handle(self, *args, **options) -> None:
        kind, title = KINDS[options["action"]]
        if options["now"]:
            if options["action"] == "poll":
                from carbet.awareness.imap_reporting import poll_all

                self.stdout.write(str(poll_all()))
            else:
                from carbet.awareness.maintenance import run

                self.stdout.write(str(run()))
            return
        from carbet.jobs import services as jobs

        job = jobs.submit(kind, actor=SYSTEM, title=title)
        self.stdout.write(f"{kind}: {job.pk}")
