"""``carbet tasks selftest``: an operator's check that background workers run."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from carbet.core.tenancy import SYSTEM
from carbet.jobs import services
from carbet.jobs.models import Job, JobStatus


class Command(BaseCommand):
    help = "Outils des tâches de fond. « selftest » vérifie qu'un processus de travail répond."

    # An operator's tool must work even when an unrelated setting is off: no system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        selftest = actions.add_parser(
            "selftest",
            help="Soumet une tâche de vérification et attend sa fin.",
            description=(
                "Soumet une tâche « platform.selftest » et attend son résultat. Code de sortie 0 "
                "si elle réussit, 1 sinon (aucun processus de travail ? lancez « carbet worker »)."
            ),
        )
        selftest.add_argument(
            "--wait",
            type=float,
            default=60.0,
            help="Secondes d'attente au plus (0 : ne pas attendre ; défaut : %(default)s).",
        )
        selftest.add_argument(
            "--seconds",
            type=float,
            default=0.0,
            help="Durée de la tâche elle-même, pour les exercices de reprise (défaut : 0).",
        )

    def handle(self, *args, action: str, **options) -> None:
        if action == "selftest":
            self.selftest(options["wait"], options["seconds"])

    def selftest(self, wait: float, seconds: float) -> None:
        if wait < 0 or seconds < 0:
            raise CommandError(_("--wait et --seconds doivent être positifs."))
        with transaction.atomic():
            job = services.submit(
                "platform.selftest",
                actor=SYSTEM,
                params={"seconds": seconds},
                title="Vérification des processus de travail",
            )
        # The first line carries the id, so scripts can follow the job.
        self.stdout.write(f"job {job.pk}")
        if wait == 0:
            return
        deadline = time.monotonic() + wait
        last_progress = -1
        while True:
            job = Job.objects.get(pk=job.pk)
            if job.progress != last_progress and job.status == JobStatus.RUNNING:
                self.stdout.write(f"  {job.progress} % {job.message}")
                last_progress = job.progress
            if job.is_finished:
                break
            if time.monotonic() >= deadline:
                raise CommandError(
                    _(
                        "La tâche est toujours « %(state)s » après %(wait)s s. Un processus de "
                        "travail tourne-t-il ? (« carbet worker », ou « carbet serve » qui en "
                        "lance un)."
                    )
                    % {"state": job.get_status_display(), "wait": f"{wait:g}"}
                )
            time.sleep(0.5)
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(_("La tâche a échoué : %(why)s") % {"why": job.error or job.message})
        self.stdout.write(
            self.style.SUCCESS(
                _("OK : tâche terminée par %(worker)s (essai n° %(attempt)d).")
                % {"worker": job.worker or "?", "attempt": job.attempts}
            )
        )
        self.stdout.write(json.dumps(job.result, ensure_ascii=False, sort_keys=True))
