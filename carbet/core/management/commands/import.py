"""``carbet import structures|assets FILE [--dry-run]``: import a CSV/XLSX file as the system."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from carbet.core import imports
from carbet.core.tenancy import SYSTEM


class Command(BaseCommand):
    help = (
        "Importe des structures ou des actifs depuis un fichier CSV (UTF-8, « ; » ou « , ») "
        "ou XLSX. Rien n'est enregistré si une seule ligne est en erreur ; code de sortie 1."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=imports.KINDS, help="structures ou assets")
        parser.add_argument("file", type=Path, help="fichier CSV ou XLSX")
        parser.add_argument(
            "--dry-run", action="store_true", help="vérifier seulement, sans rien enregistrer"
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        try:
            size = path.stat().st_size
            if size > imports.MAX_BYTES:
                raise CommandError(
                    f"Fichier trop gros : {size} octets ({imports.MAX_BYTES} au plus)."
                )
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Impossible de lire {path} : {exc.strerror}") from exc
        report = imports.run_import(
            SYSTEM, options["kind"], data, filename=path.name, dry_run=options["dry_run"]
        )
        for error in report.errors:
            where = f"ligne {error.row}" if error.row else "fichier"
            column = f", colonne {error.column}" if error.column else ""
            self.stdout.write(f"{where}{column} : {error.message}")
        self.stdout.write(report.summary())
        if report.errors:
            sys.exit(1)
