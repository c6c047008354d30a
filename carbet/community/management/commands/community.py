"""``carbet community match|reminders|import-misp``: the community service's periodic work.

``match`` refreshes every inventory from the services' latest results, matches the feed
entries that arrived since the last run (all of them with ``--full``) and sends the day's
targeted alerts, each once. ``reminders`` reminds structures of critical bulletins they have not
acknowledged and people of the events they registered for. Both are idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from carbet.community import matching, services_bulletins, services_events, services_exchange
from carbet.core.tenancy import SYSTEM


class Command(BaseCommand):
    help = _(
        "Communauté. « match » : inventaires et alertes ciblées ; « reminders » : rappels des "
        "bulletins et des événements ; « import-misp » : importe un flux MISP."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        match = actions.add_parser(
            "match", help=_("Rapproche les nouvelles vulnérabilités des inventaires.")
        )
        match.add_argument(
            "--full",
            action="store_true",
            help=_("Rapproche toutes les entrées des flux, pas seulement les nouvelles."),
        )
        actions.add_parser("reminders", help=_("Envoie les rappels du jour."))
        misp = actions.add_parser("import-misp", help=_("Importe un flux MISP (dossier)."))
        misp.add_argument(
            "path", help=_("Dossier du flux : manifest.json et un fichier par événement.")
        )

    def handle(self, *args, action: str, **options) -> None:
        if action == "match":
            result = matching.run(full=options["full"])
        elif action == "reminders":
            result = {
                "bulletins": services_bulletins.send_reminders(),
                "events": services_events.send_reminders(),
            }
        else:
            try:
                feed = services_exchange.import_misp_directory(SYSTEM, options["path"])
            except services_exchange.ExchangeImportError as exc:
                raise CommandError(str(exc)) from None
            result = {"events": feed.events, "attributes": feed.attributes}
        for key, value in result.items():
            self.stdout.write(f"{key}: {value}")
