"""``carbet audit verify|anchor|reanchor|rekey``: prove the audit trail is intact and keep it so."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from carbet.audit import anchor, keyring, services, sinks
from carbet.core.tenancy import SYSTEM


class Command(BaseCommand):
    # argparse needs a plain str at class level; the text is French, the source language.
    help = (
        "Journal d'audit. « verify » vérifie que rien n'a été modifié, supprimé ou réordonné ; "
        "« anchor » envoie la fin du journal hors du serveur (courriel, fichier) ; « reanchor » "
        "replace l'ancre locale après un incident compris ; « rekey » change de clé."
    )

    # An operator's tool must work even when an unrelated setting is off: no system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        verify_parser = actions.add_parser(
            "verify",
            help=_("Vérifie les sceaux du journal et ses ancres."),
            description=_(
                "Parcourt tout le journal d'audit : chaque entrée doit porter un sceau valide "
                "(clé du journal), être chaînée à la précédente, sans trou, et la dernière doit "
                "correspondre à l'ancre de fin signée (DATA_DIR/audit/head). Avec --anchor, "
                "chaque ancre envoyée hors du serveur doit aussi s'y retrouver. Code de sortie "
                "0 si le journal est intact, 1 sinon, avec la liste des problèmes."
            ),
        )
        verify_parser.add_argument(
            "--anchor",
            type=Path,
            metavar="FICHIER",
            help=_(
                "Fichier d'ancres exportées (CARBET_AUDIT_ANCHOR_FILE, ou les courriels "
                "d'ancrage enregistrés dans un fichier texte)."
            ),
        )
        publish_parser = actions.add_parser(
            "anchor",
            help=_("Envoie la fin du journal aux destinations d'ancrage (à lancer par cron)."),
            description=_(
                "Vérifie le journal puis envoie sa dernière entrée, datée et signée, à "
                "CARBET_AUDIT_ANCHOR_EMAIL et/ou l'ajoute à CARBET_AUDIT_ANCHOR_FILE. Rien "
                "n'est renvoyé si le journal n'a pas bougé depuis le dernier envoi. Si le "
                "journal est altéré, rien n'est envoyé et les destinataires reçoivent une alerte."
            ),
        )
        publish_parser.add_argument(
            "--force", action="store_true", help=_("Envoyer même si rien n'a changé.")
        )
        reanchor_parser = actions.add_parser(
            "reanchor",
            help=_("Replace l'ancre locale sur la dernière entrée (action tracée)."),
            description=_(
                "Remplace l'ancre de fin par la dernière entrée actuelle du journal. À n'utiliser "
                "qu'après avoir compris un problème signalé par « verify » (répertoire de "
                "données recréé, remise à zéro volontaire) : l'opération est elle-même inscrite "
                "au journal. Refusée si la chaîne est rompue, sauf avec --force."
            ),
        )
        reanchor_parser.add_argument(
            "--force",
            action="store_true",
            help=_("Ré-ancrer même si la chaîne présente des anomalies."),
        )
        reanchor_parser.add_argument("--reason", default="", help=_("Raison, inscrite au journal."))
        rekey_parser = actions.add_parser(
            "rekey",
            help=_("Crée une nouvelle clé du journal ; les suivantes entrées sont scellées avec."),
            description=_(
                "Ajoute une nouvelle clé en tête du fichier de clés (les anciennes restent : "
                "elles vérifient les entrées qu'elles ont scellées) et inscrit « audit.rekey », "
                "scellée avec la nouvelle clé. Si les clés viennent de CARBET_AUDIT_KEYS, "
                "ajoutez d'abord la nouvelle en tête de la variable : la commande inscrit alors "
                "seulement le changement."
            ),
        )
        rekey_parser.add_argument("--reason", default="", help=_("Raison, inscrite au journal."))

    def handle(self, *args, action: str, **options) -> None:
        if action == "verify":
            self.verify(options["anchor"])
        elif action == "anchor":
            self.publish(options["force"])
        elif action == "reanchor":
            self.reanchor(options["force"], options["reason"])
        elif action == "rekey":
            self.rekey(options["reason"])

    def verify(self, anchor_file: Path | None) -> None:
        report = services.verify(anchor_file=anchor_file)
        for note in report.notes:
            self.stdout.write(f"  {note}")
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Journal d'audit intact : %(n)d entrée(s) vérifiée(s).")
                    % {"n": report.checked}
                )
            )
            return
        self.stdout.write(
            self.style.ERROR(
                _("Journal d'audit ALTÉRÉ : %(p)d problème(s) sur %(n)d entrées.")
                % {"p": len(report.problems), "n": report.checked}
            )
        )
        for problem in report.problems:
            self.stdout.write(f"  #{problem.sequence} : {problem.problem}")
        sys.exit(1)

    def publish(self, force: bool) -> None:
        try:
            result = sinks.publish(force=force)
        except sinks.AnchorSinkError as exc:
            raise CommandError(str(exc)) from exc
        if result.skipped:
            self.stdout.write(
                _("Rien de nouveau depuis le dernier envoi (entrée n° %(seq)d).")
                % {"seq": result.sequence}
            )
            return
        if result.file:
            self.stdout.write(_("Ancre ajoutée à %(path)s") % {"path": result.file})
        if result.emailed:
            self.stdout.write(_("Ancre envoyée à %(to)s") % {"to": ", ".join(result.emailed)})
        self.stdout.write(result.line or "")
        if result.errors:
            raise CommandError(
                _("Envoi incomplet, à relancer : %(errors)s") % {"errors": "; ".join(result.errors)}
            )

    def reanchor(self, force: bool, reason: str) -> None:
        try:
            previous = anchor.read()
        except anchor.AnchorError:
            previous = None
        report = services.verify(check_anchor=False)
        if not report.ok and not force:
            raise CommandError(
                _(
                    "La chaîne du journal est rompue (%(p)d problème(s)) : lancez "
                    "« carbet audit verify » et comprenez-les avant de ré-ancrer (ou --force)."
                )
                % {"p": len(report.problems)}
            )
        services.reanchor()
        services.record(
            SYSTEM,
            "audit.reanchor",
            changes={
                "previous_head": [previous.sequence, previous.entry_hash] if previous else None,
                "chain_ok": report.ok,
                "reason": reason,
            },
            actor_label=_("ligne de commande"),
        )
        head = anchor.read()
        self.stdout.write(
            self.style.SUCCESS(
                _("Ancre de fin placée sur l'entrée n° %(seq)s.")
                % {"seq": head.sequence if head else 0}
            )
        )

    def rekey(self, reason: str) -> None:
        from carbet.audit.models import AuditEntry

        # The key of the newest entry: with CARBET_AUDIT_KEYS the new key is already first.
        previous = AuditEntry.objects.order_by("-sequence").values_list("key_id", flat=True).first()
        if keyring.from_environment():
            key = previous
            if key is None:
                raise CommandError(_("CARBET_AUDIT_KEYS ne contient aucune clé."))
        else:
            key = keyring.rotate()
        entry = services.record(
            SYSTEM,
            services.REKEY_ACTION,
            changes={
                "previous_key": previous or None,
                "key": key.id,
                "reason": reason,
            },
            actor_label=_("ligne de commande"),
        )
        self.stdout.write(
            self.style.SUCCESS(
                _("Clé du journal « %(id)s » en service depuis l'entrée n° %(seq)d.")
                % {"id": key.id, "seq": entry.sequence}
            )
        )
        if not keyring.from_environment():
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Copiez le nouveau fichier %(path)s en lieu sûr, hors du serveur : sans "
                        "lui, le journal ne peut plus être vérifié."
                    )
                    % {"path": keyring.key_file()}
                )
            )
