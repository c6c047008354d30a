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
        "Phishing simulations: 'poll' reads the reporting mailboxes, 'maintenance' settles "
        "bot flags, refreshes results and findings and purges expired individual results. "
        "Submits a background job (run by 'carbet worker'); --now runs it here instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=sorted(KINDS))
        parser.add_argument("--now", action="store_true", help="run in this process")

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
