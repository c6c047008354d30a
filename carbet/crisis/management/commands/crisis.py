"""``carbet crisis verify CASE | reminders | templates check FILE``.

- ``verify CASE`` (reference ``CR-2026-0001`` or number): walks the case's main courante chain
  and names the first altered entry; exit status 1 when the chain is broken.
- ``reminders``: sends the regulatory reminders due (cron, every 15 minutes; idempotent: each
  stage of each declaration is sent once).
- ``templates check FILE``: checks a crisis template file, every problem with its line; exit
  status 1 when the file is not valid.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carbet.core.tenancy import SYSTEM


class Command(BaseCommand):
    help = (
        "Gestion de crise : « verify CASE » vérifie le chaînage de la main courante d'un "
        "dossier, « reminders » envoie les rappels des déclarations obligatoires, "
        "« templates check FICHIER » contrôle un modèle de crise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="vérifier la main courante d'un dossier")
        verify.add_argument("case", help="référence (CR-2026-0001) ou numéro du dossier")
        sub.add_parser("reminders", help="envoyer les rappels de déclaration dus")
        templates = sub.add_parser("templates", help="modèles de crise")
        templates.add_argument("templates_action", choices=["check"])
        templates.add_argument("file", type=Path)

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "verify":
            self._verify(options["case"])
        elif action == "reminders":
            from carbet.crisis.services_clock import send_reminders

            self.stdout.write(f"rappels envoyés : {send_reminders()}")
        else:
            self._check(options["file"])

    def _verify(self, reference: str) -> None:
        from carbet.crisis.models import CrisisCase
        from carbet.crisis.services_log import problem_text, verify_log

        cases = CrisisCase.objects.visible_to(SYSTEM)
        case = cases.filter(reference=reference).first()
        if case is None and reference.isdigit():
            case = cases.filter(pk=int(reference)).first()
        if case is None:
            raise CommandError(f"dossier introuvable : {reference}")
        result = verify_log(case)
        self.stdout.write(f"{case.reference} : {problem_text(result)}")
        if not result.ok:
            raise SystemExit(1)

    def _check(self, path: Path) -> None:
        from carbet.engines.crisis import templates

        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path} : illisible ({exc})") from None
        try:
            template = templates.loads(text)
        except templates.TemplateError as exc:
            for problem in exc.problems:
                self.stderr.write(f"{path}:{problem.line}: {problem.message}")
            raise SystemExit(1) from None
        self.stdout.write(
            f"{path} : modèle « {template.code} » valide "
            f"({len(template.tasks)} tâches, {len(template.checklists)} listes de contrôle)"
        )
