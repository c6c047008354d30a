"""``carbet findings snapshot|digest|sweep``: the findings store's scheduled work (cron or by hand).

``snapshot`` writes tonight's posture snapshot of every structure (idempotent: run it twice
the same day and the day's rows are rewritten); ``digest`` sends the week's e-mail digest to
referents (idempotent per week); ``sweep`` sends the risk-acceptance reminders and expires
the acceptances whose end date has come (idempotent). All run at once and print what they
did; with ``--queue`` they are handed to the background workers instead (job kinds
``findings.snapshot``, ``findings.digest`` and ``findings.acceptance_sweep``).
"""

from __future__ import annotations

import argparse
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from carbet.core.tenancy import SYSTEM
from carbet.findings.posture import digest, snapshots
from carbet.findings.services import sweep_command
from carbet.jobs import services as jobs


def _iso_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            _("Date invalide « %(value)s » : écrivez-la AAAA-MM-JJ, par exemple 2025-03-31.")
            % {"value": value}
        ) from exc


class Command(BaseCommand):
    # argparse needs a plain str at class level; the text is French, the source language.
    help = (
        "Travaux planifiés des vulnérabilités. « snapshot » prend la photo nocturne de la "
        "posture de chaque structure ; « digest » envoie le résumé hebdomadaire aux référents ; "
        "« sweep » envoie les rappels des acceptations de risque et clôt celles qui arrivent à "
        "leur fin."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        snap = actions.add_parser(
            "snapshot",
            help=_("Photo de la posture de chaque structure (une par jour, à lancer la nuit)."),
            description=_(
                "Compte pour chaque structure les vulnérabilités ouvertes par gravité, les "
                "retards, les corrections faites dans les délais sur 90 jours et le score de "
                "posture, et l'enregistre pour le jour donné (aujourd'hui par défaut). Relancer "
                "la commande le même jour remplace la photo du jour."
            ),
        )
        snap.add_argument("--day", type=_iso_day, help=_("Jour de la photo (AAAA-MM-JJ)."))
        snap.add_argument(
            "--queue", action="store_true", help=_("Confier le travail aux processus de fond.")
        )
        mail = actions.add_parser(
            "digest",
            help=_("Résumé hebdomadaire par e-mail aux référents cyber (à lancer chaque lundi)."),
            description=_(
                "Envoie à chaque référent cyber le point de la semaine de sa structure : "
                "nouvelles failles critiques, retards, acceptations de risque qui se terminent "
                "dans les 30 jours. Rien n'est envoyé quand il n'y a rien à dire, et un même "
                "destinataire ne reçoit qu'un résumé par structure et par semaine."
            ),
        )
        mail.add_argument(
            "--today", type=_iso_day, help=_("Jour de référence (AAAA-MM-JJ), aujourd'hui sinon.")
        )
        mail.add_argument(
            "--queue", action="store_true", help=_("Confier le travail aux processus de fond.")
        )

        sweep_command.add_parser(actions, _iso_day)

    def handle(self, *args, action: str, **options) -> None:
        if action == "sweep":
            sweep_command.run(self, options["today"], options["queue"])
        elif action == "snapshot":
            self.snapshot(options["day"], options["queue"])
        elif action == "digest":
            self.digest(options["today"], options["queue"])

    def _queue(self, kind: str, params: dict, title: str) -> None:
        with transaction.atomic():
            job = jobs.submit(kind, actor=SYSTEM, params=params, title=title)
        self.stdout.write(_("Tâche %(id)s mise en file.") % {"id": job.pk})

    def snapshot(self, day: date | None, queue: bool) -> None:
        if queue:
            params = {"day": day.isoformat()} if day else {}
            self._queue("findings.snapshot", params, _("Photo nocturne de la posture"))
            return
        result = snapshots.take_snapshots(day)
        self.stdout.write(
            self.style.SUCCESS(
                _("Photo du %(day)s enregistrée pour %(n)d structure(s).")
                % {"day": result.day.isoformat(), "n": result.structures}
            )
        )

    def digest(self, today: date | None, queue: bool) -> None:
        if queue:
            params = {"today": today.isoformat()} if today else {}
            self._queue("findings.digest", params, _("Résumé hebdomadaire des vulnérabilités"))
            return
        try:
            result = digest.send_weekly_digests(today)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("Semaine du %(week)s : %(sent)d résumé(s) envoyé(s), %(skipped)d déjà envoyé(s).")
                % result
            )
        )
