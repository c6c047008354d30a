"""The ``sweep`` action of ``carbet findings``: risk-acceptance reminders and expiries.

Kept here, beside the acceptance service, so the shared ``findings`` command only wires it in.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from carbet.core.tenancy import SYSTEM
from carbet.findings.services import acceptance
from carbet.jobs import services as jobs


def add_parser(actions: Any, iso_day: Any) -> None:
    """Declare ``sweep [--today AAAA-MM-JJ] [--queue]`` on the command's subparsers."""
    sweep = actions.add_parser(
        "sweep",
        help=_("Rappels et fins des acceptations de risque (à lancer chaque jour)."),
        description=_(
            "Envoie le rappel des acceptations de risque qui se terminent dans 30 jours (une "
            "seule fois par acceptation) et, pour celles dont la date de fin est arrivée, les "
            "marque expirées et rouvre leurs vulnérabilités. Sans effet si on la relance le "
            "même jour."
        ),
    )
    sweep.add_argument(
        "--today", type=iso_day, help=_("Jour de référence (AAAA-MM-JJ), aujourd'hui sinon.")
    )
    sweep.add_argument(
        "--queue", action="store_true", help=_("Confier le travail aux processus de fond.")
    )


def run(command: Any, today: date | None, queue: bool) -> None:
    """Run the sweep now (and print what it did), or queue it as a job."""
    if queue:
        params = {"today": today.isoformat()} if today else {}
        with transaction.atomic():
            job = jobs.submit(
                "findings.acceptance_sweep",
                actor=SYSTEM,
                params=params,
                title=_("Rappels et fins des acceptations de risque"),
            )
        command.stdout.write(_("Tâche %(id)s mise en file.") % {"id": job.pk})
        return
    result = acceptance.sweep(today=today)
    command.stdout.write(
        command.style.SUCCESS(
            _(
                "%(reminders)d rappel(s) envoyé(s), %(expired)d acceptation(s) expirée(s), "
                "%(reopened)d vulnérabilité(s) rouverte(s), %(stale_requests)d demande(s) non "
                "signée(s) close(s)."
            )
            % result
        )
    )
    if result["reminders_failed"]:
        command.stderr.write(
            _("%(n)d rappel(s) non envoyé(s) : ils seront retentés au prochain passage.")
            % {"n": result["reminders_failed"]}
        )
