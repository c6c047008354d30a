"""``carbet worker``: run background jobs (database backend or RQ), plus the reaper."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from carbet.jobs.reaper import Reaper
from carbet.jobs.services import DATABASE_BACKEND, RQ_BACKEND, backend_path
from carbet.ops import running


class Command(BaseCommand):
    help = (
        "Exécute les tâches de fond (analyses, imports, rapports). Avec la base de données "
        "comme file d'attente (par défaut), lance le processus de travail de django-tasks-db ; "
        "avec REDIS_URL, un processus RQ. Dans les deux cas, relance les tâches d'un processus "
        "arrêté en cours de route (toutes les 30 s au plus)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--queue",
            default="default",
            help="File d'attente à traiter (défaut : %(default)s).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Base de données seulement : secondes entre deux recherches de tâche "
            "quand la file est vide (défaut : %(default)s).",
        )

    def handle(self, *args, queue: str, interval: float, verbosity: int, **options) -> None:
        backend = backend_path()
        if backend not in (DATABASE_BACKEND, RQ_BACKEND):
            raise CommandError(
                _(
                    "Les tâches s'exécutent immédiatement dans le processus qui les crée "
                    "(%(backend)s) : aucun processus de travail n'est nécessaire."
                )
                % {"backend": backend}
            )
        try:
            # Held until this process ends: "carbet restore" refuses to run meanwhile.
            self._running_lock = running.hold_shared()
        except running.AlreadyRunning as exc:
            raise CommandError(_("Une restauration est en cours : attendez sa fin.")) from exc
        reaper = Reaper()
        reaper.start()
        try:
            if backend == RQ_BACKEND:
                # RQ forks one "work horse" per job from this process; the job class of
                # django-tasks-rq turns the RQ job back into a Django task call.
                call_command(
                    "rqworker",
                    queue,
                    job_class="django_tasks_rq.Job",
                    with_scheduler=True,
                    verbosity=verbosity,
                )
            else:
                call_command(
                    "db_worker",
                    queue_name=queue,
                    interval=interval,
                    reload=False,
                    startup_delay=False,
                    verbosity=verbosity,
                )
        finally:
            reaper.stop()
