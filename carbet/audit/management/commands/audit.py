"""``carbet audit verify`` and ``carbet audit anchor``: prove the audit trail is intact."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from carbet.audit import anchor, services
from carbet.core.tenancy import SYSTEM


class Command(BaseCommand):
    # argparse needs a plain str at class level; the text is French, the source language.
    help = (
        "Journal d'audit. « verify » vérifie que rien n'a été modifié, supprimé ou réordonné ; "
        "« anchor » ré-ancre la fin du journal après un incident reconnu."
    )

    # An operator's tool must work even when an unrelated setting is off: no system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser(
            "verify",
            help=_("Vérifie la chaîne d'empreintes et l'ancre de fin du journal."),
            description=_(
                "Parcourt tout le journal d'audit : chaque entrée doit être intacte, chaînée à "
                "la précédente, sans trou, et la dernière doit correspondre à l'ancre de fin "
                "(fichier DATA_DIR/audit/head). Code de sortie 0 si le journal est intact, "
                "1 sinon, avec la liste des problèmes."
            ),
        )
        anchor_parser = actions.add_parser(
            "anchor",
            help=_("Ré-ancre la fin du journal sur sa dernière entrée (action tracée)."),
            description=_(
                "Remplace l'ancre de fin par la dernière entrée actuelle du journal. À n'utiliser "
                "qu'après avoir compris un problème signalé par « verify » (répertoire de "
                "données recréé, remise à zéro volontaire) : l'opération est elle-même inscrite "
                "au journal. Refusée si la chaîne est rompue, sauf avec --force."
            ),
        )
        anchor_parser.add_argument(
            "--force",
            action="store_true",
            help=_("Ré-ancrer même si la chaîne présente des anomalies."),
        )
        anchor_parser.add_argument(
            "--reason",
            default="",
            help=_("Raison, inscrite au journal."),
        )

    def handle(self, *args, action: str, **options) -> None:
        if action == "verify":
            self.verify()
        elif action == "anchor":
            self.anchor(options["force"], options["reason"])

    def verify(self) -> None:
        report = services.verify()
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

    def anchor(self, force: bool, reason: str) -> None:
        previous = None
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
