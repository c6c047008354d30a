"""``carbet bydesign nightly|recompute``: automatic statuses, cyber indexes, the track, the
reminders of security decisions and vendor questionnaires. Idempotent: run it again, nothing
is doubled (reminders are claimed before they are sent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from carbet.bydesign import nightly


class Command(BaseCommand):
    help = _(
        "Sécurité dès la conception. « nightly » : statuts vérifiés par Carbet, indices cyber, "
        "parcours médico-social et rappels ; « recompute » : seulement les statuts et indices."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("nightly", help=_("Tout le travail de la nuit."))
        actions.add_parser("recompute", help=_("Statuts vérifiés par Carbet et indices cyber."))

    def handle(self, *args, action: str, **options) -> None:
        result = nightly.run(reminders=action == "nightly")
        for key, value in result.items():
            self.stdout.write(f"{key}: {value}")
