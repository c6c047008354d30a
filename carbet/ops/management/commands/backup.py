"""``carbet backup``: write a verifiable archive of the database and the uploads."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from carbet.audit import keyring
from carbet.ops.archive import BackupError
from carbet.ops.backup import create_backup


class Command(BaseCommand):
    help = (
        "Sauvegarde Carbet dans une archive .tar.gz : copie cohérente de la base de données, "
        "fichiers déposés (mandats signés, preuves…) et un manifeste avec l'empreinte SHA-256 "
        "de chaque fichier. Les clés de chiffrement ne sont PAS incluses (voir --include-keys) : "
        "conservez-les à part, comme la clé du journal d'audit (--include-audit-key). "
        "Copiez ensuite l'archive hors du serveur (règle 3-2-1)."
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
        parser.add_argument(
            "--include-audit-key",
            action="store_true",
            help="Inclure aussi la clé du journal d'audit (qui la détient peut réécrire le "
            "journal de cette archive sans que cela se voie : à ne faire que pour une copie "
            "de reprise gardée sous clé).",
        )

    def handle(
        self,
        *args,
        output: Path | None,
        include_keys: bool,
        include_audit_key: bool,
        **options,
    ) -> None:
        try:
            result = create_backup(
                output, include_keys=include_keys, include_audit_key=include_audit_key
            )
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
        if result.includes_audit_key:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Attention : cette archive contient la clé du journal d'audit. Rangez-la "
                        "sous clé : qui la détient peut réécrire le journal sans que cela se voie."
                    )
                )
            )
        else:
            self.stdout.write(
                _(
                    "La clé du journal d'audit (%(where)s) n'est pas dans l'archive : gardez-en "
                    "une copie à part, jamais avec les sauvegardes de la base. Sans elle, une "
                    "restauration sur une autre machine est refusée, faute de pouvoir vérifier "
                    "le journal."
                )
                % {
                    "where": "CARBET_AUDIT_KEYS"
                    if keyring.from_environment()
                    else keyring.key_file()
                }
            )
        if not include_keys:
            self.stdout.write(
                _(
                    "Les clés (DATA_DIR/keys ou CARBET_ENCRYPTION_KEYS) ne sont pas dans "
                    "l'archive : sans elles, les identifiants enregistrés ne pourront pas être "
                    "déchiffrés après restauration sur une autre machine. Gardez-en une copie "
                    "à part, en lieu sûr."
                )
            )
