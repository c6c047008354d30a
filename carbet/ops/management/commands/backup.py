"""``carbet backup``: write a verifiable archive of the database and the uploads."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from carbet.ops.archive import BackupError
from carbet.ops.backup import create_backup


class Command(BaseCommand):
    help = (
        "Sauvegarde Carbet dans une archive .tar.gz : copie cohérente de la base de données, "
        "fichiers déposés (mandats signés, preuves…) et un manifeste avec l'empreinte SHA-256 "
        "de chaque fichier. Les clés de chiffrement ne sont PAS incluses (voir --include-keys) : "
        "conservez-les à part. Copiez ensuite l'archive hors du serveur (règle 3-2-1)."
    )

    # An operator's tool must work even when an unrelated setting is off: no system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="Fichier à écrire (défaut : DATA_DIR/backups/carbet-AAAAMMJJ-HHMMSS.tar.gz).",
        )
        parser.add_argument(
            "--include-keys",
            action="store_true",
            help="Inclure la clé secrète et les clés de chiffrement (l'archive devient aussi "
            "sensible que les mots de passe qu'elles protègent).",
        )

    def handle(self, *args, output: Path | None, include_keys: bool, **options) -> None:
        try:
            result = create_backup(output, include_keys=include_keys)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(_("Sauvegarde écrite : %(path)s") % {"path": result.path})
        )
        self.stdout.write(
            _("  %(files)d fichier(s), %(size)d octets, SHA-256 %(sha)s")
            % {"files": result.file_count, "size": result.size, "sha": result.sha256}
        )
        for skipped in result.skipped:
            self.stdout.write(
                self.style.WARNING(
                    _("  ignoré (lien ou fichier spécial) : %(name)s") % {"name": skipped}
                )
            )
        if include_keys:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Attention : cette archive contient les clés de chiffrement. Quiconque "
                        "la lit peut déchiffrer les identifiants enregistrés : chiffrez-la ou "
                        "rangez-la sous clé."
                    )
                )
            )
        else:
            self.stdout.write(
                _(
                    "Les clés (DATA_DIR/keys ou CARBET_ENCRYPTION_KEYS) ne sont pas dans "
                    "l'archive : sans elles, les identifiants enregistrés ne pourront pas être "
                    "déchiffrés après restauration sur une autre machine. Gardez-en une copie "
                    "à part, en lieu sûr."
                )
            )
