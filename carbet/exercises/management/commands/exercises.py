"""``carbet exercises check|import|export|poll|clock``: scenario files and the exercises' jobs.

``check FILE...`` reads scenario files (JSON) and chronograms (CSV, XLSX) and prints each
problem as ``file:line: message`` (exit status 1 if any); nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carbet.core.tenancy import SYSTEM


class Command(BaseCommand):
    help = (
        "Exercices de crise : « check FICHIER… » vérifie des scénarios (JSON) et chronogrammes "
        "(CSV, XLSX) et affiche fichier:ligne: message ; « import FICHIER » ajoute un scénario "
        "à la bibliothèque du centre ; « export CODE [VERSION] » l'écrit en JSON ; « poll » relève "
        "les réponses des joueurs (IMAP) ; « clock ID » relance l'horloge d'un exercice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check", "import", "export", "poll", "clock"])
        parser.add_argument("values", nargs="*", metavar="ARG")
        parser.add_argument("--now", action="store_true", help="faire le travail ici (poll)")

    def handle(self, *args, **options) -> None:
        action, values = options["action"], options["values"]
        handler = getattr(self, f"_{action}")
        handler(values, options)

    def _check(self, values: list[str], options) -> None:
        from carbet.engines.exercises.check import check_paths

        if not values:
            raise CommandError("check : donnez au moins un fichier.")
        problems = check_paths(values)
        for problem in problems:
            self.stdout.write(problem.render())
        if problems:
            sys.exit(1)
        self.stdout.write(f"OK : {len(values)} fichier(s) sans problème.")

    def _import(self, values: list[str], options) -> None:
        from carbet.exercises.services_scenarios import import_scenario

        if len(values) != 1:
            raise CommandError("import : donnez un fichier JSON.")
        path = Path(values[0])
        row, problems = import_scenario(SYSTEM, path.read_bytes(), str(path))
        for problem in problems:
            self.stdout.write(problem.render())
        if row is None:
            sys.exit(1)
        self.stdout.write(f"importé : {row.code} {row.version}")

    def _export(self, values: list[str], options) -> None:
        from carbet.exercises.models import ScenarioVersion
        from carbet.exercises.services_scenarios import export_scenario

        if not values:
            raise CommandError("export : donnez le code du scénario.")
        rows = ScenarioVersion.objects.filter(code=values[0])
        if len(values) > 1:
            rows = rows.filter(version=values[1])
        row = rows.order_by("-created_at").first()
        if row is None:
            raise CommandError("scénario inconnu")
        self.stdout.write(export_scenario(row), ending="")

    def _poll(self, values: list[str], options) -> None:
        if options["now"]:
            from carbet.exercises.replies import poll_all

            self.stdout.write(str(poll_all()))
            return
        from carbet.jobs import services as jobs

        job = jobs.submit("exercises.poll", actor=SYSTEM, title="Réponses des joueurs")
        self.stdout.write(f"exercises.poll: {job.pk}")

    def _clock(self, values: list[str], options) -> None:
        from carbet.exercises.models import Exercise
        from carbet.exercises.services_console import ensure_clock

        exercise = Exercise.objects.filter(pk=int(values[0]) if values else 0).first()
        if exercise is None:
            raise CommandError("exercice inconnu")
        ensure_clock(exercise, SYSTEM)
        self.stdout.write("horloge demandée")
