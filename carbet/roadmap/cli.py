"""What the roadmap's commands share: a day argument and running now or through the queue."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from carbet.core.tenancy import SYSTEM
from carbet.jobs import services as jobs


def iso_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            _("Date invalide « %(value)s » : écrivez-la AAAA-MM-JJ.") % {"value": value}
        ) from exc


def add_day_action(actions: Any, name: str, *, help: str, description: str, day_help: str):
    """A sub-command taking ``--day`` and ``--queue``."""
    action = actions.add_parser(name, help=help, description=description)
    action.add_argument("--day", type=iso_day, help=day_help)
    action.add_argument(
        "--queue", action="store_true", help=_("Confier le travail aux processus de fond.")
    )
    return action


def queue(command: Any, kind: str, day: date | None, title: str) -> None:
    """Hand the day's work to the background workers and say which job carries it."""
    with transaction.atomic():
        job = jobs.submit(
            kind, actor=SYSTEM, params={"day": day.isoformat()} if day else {}, title=title
        )
    command.stdout.write(_("Tâche %(id)s mise en file.") % {"id": job.pk})
