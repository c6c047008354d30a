"""``carbet permissions-doc``: print (or write) docs/permissions.md from the roles matrix."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from carbet.accounts.permdoc import render_markdown

DEFAULT_PATH = Path(settings.BASE_DIR).parent / "docs" / "permissions.md"


class Command(BaseCommand):
    help = _("Affiche la matrice des rôles et permissions en Markdown, ou l'écrit avec --write.")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--write", action="store_true", help=_("Écrire le fichier au lieu de l'afficher.")
        )
        parser.add_argument(
            "--output", type=Path, default=DEFAULT_PATH, help=_("Fichier à écrire avec --write.")
        )

    def handle(self, *args, write: bool, output: Path, **options):
        text = render_markdown()
        if not write:
            self.stdout.write(text, ending="")
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        self.stdout.write(_("Écrit : %(path)s") % {"path": output})
