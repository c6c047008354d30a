"""``carbet restore FILE``: check a backup archive completely, then restore it."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from carbet.ops.archive import BackupError
from carbet.ops.restore import restore, verify_archive


class Command(BaseCommand):
    help = (
        "Restaure une sauvegarde faite par « carbet backup ». L'archive est d'abord vérifiée "
        "en entier (empreintes, fichiers manquants ou ajoutés, chemins suspects) : si quoi que "
        "ce soit cloche, y compris son journal d'audit (vérifié avec la clé du journal), rien "
        "n'est modifié. Arrêtez « carbet serve » et « carbet worker » "
        "avant. L'état actuel est d'abord sauvegardé dans DATA_DIR/backups, puis la base et "
        "les fichiers déposés sont remplacés et le journal d'audit est vérifié."
    )

    # An operator's tool must work even when an unrelated setting is off: no system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", type=Path, help="Archive .tar.gz à restaurer.")
        parser.add_argument("--yes", action="store_true", help="Ne pas demander de confirmation.")
        parser.add_argument(
            "--no-safety-backup",
            action="store_true",
            help="Ne pas sauvegarder l'état actuel avant de le remplacer (si la base actuelle "
            "est inutilisable).",
        )
        parser.add_argument(
            "--accept-audit-problems",
            action="store_true",
            help="Restaurer même si le journal d'audit de l'archive ne se vérifie pas (clé "
            "perdue, journal altéré). Ce choix et les problèmes sont inscrits au journal.",
        )

    def handle(
        self,
        *args,
        archive: Path,
        yes: bool,
        no_safety_backup: bool,
        accept_audit_problems: bool,
        **options,
    ) -> None:
        self.stdout.write(_("Vérification de l'archive %(path)s…") % {"path": archive})
        try:
            verified = verify_archive(archive, accept_audit_problems=accept_audit_problems)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if verified.audit_problems:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Le journal d'audit de l'archive NE SE VÉRIFIE PAS ; restauration "
                        "acceptée à votre demande (inscrit au journal) :"
                    )
                )
            )
            for problem in verified.audit_problems:
                self.stdout.write(f"  - {problem}")
        manifest = verified.manifest
        self.stdout.write(
            _(
                "Archive intacte : sauvegarde du %(created)s (Carbet %(version)s, base %(vendor)s, "
                "%(files)d fichier(s))."
            )
            % {
                "created": manifest.get("created_at"),
                "version": manifest.get("carbet_version"),
                "vendor": manifest["database"]["vendor"],
                "files": len(manifest["files"]),
            }
        )
        if not yes and not self._confirmed():
            verified.cleanup()
            raise CommandError(_("Restauration annulée : rien n'a été modifié."))
        try:
            result = restore(verified, safety_backup=not no_safety_backup)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if result.safety_backup:
            self.stdout.write(
                _("État précédent sauvegardé dans %(path)s") % {"path": result.safety_backup.path}
            )
        if result.migrations_applied:
            self.stdout.write(
                _("Base mise à niveau (%(n)d migration(s)).") % {"n": result.migrations_applied}
            )
        for key in result.keys_restored:
            self.stdout.write(self.style.WARNING(_("Clé restaurée : %(name)s") % {"name": key}))
        if result.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Restauration terminée. Journal d'audit vérifié : intact. Redémarrez Carbet.")
                )
            )
            return
        self.stdout.write(
            self.style.ERROR(
                _("Restauration terminée, mais le journal d'audit présente des anomalies :")
            )
        )
        for problem in result.problems:
            self.stdout.write(f"  - {problem}")
        sys.exit(1)

    def _confirmed(self) -> bool:
        if not sys.stdin.isatty():
            raise CommandError(
                _("Confirmation impossible sans terminal : relancez avec --yes pour restaurer.")
            )
        answer = input(
            _(
                "La base de données et les fichiers déposés actuels vont être REMPLACÉS. "
                "Tapez « oui » pour continuer : "
            )
        )
        return answer.strip().lower() in {"oui", "yes"}
