"""``carbet exposure run-due|spread|scan-region``: the exposure service's scheduled work.

``run-due`` (from cron, every hour) starts the weekly scans whose slot has come, once per slot;
``spread`` gives every structure without one a weekly night slot; ``scan-region`` queues a scan
of every structure covered by a mandate (one background task per structure).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from carbet.core.tenancy import SYSTEM
from carbet.exposure import services, services_schedule


class Command(BaseCommand):
    help = (
        "Travaux planifiés de l'exposition sur internet. « run-due » lance les analyses "
        "hebdomadaires dont le créneau est venu (à lancer chaque heure) ; « spread » donne un "
        "créneau aux structures qui n'en ont pas ; « scan-region » lance l'analyse de toute la "
        "région."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser(
            "run-due",
            help=_("Lance les analyses dont le créneau hebdomadaire est venu."),
            description=_(
                "Lance, pour chaque structure dont le créneau hebdomadaire est passé depuis "
                "moins d'un jour et n'a pas encore été lancé, une analyse de ses actifs couverts "
                "par un mandat. Relancer la commande ne lance jamais deux fois le même créneau."
            ),
        )
        actions.add_parser(
            "spread",
            help=_("Donne un créneau hebdomadaire aux structures qui n'en ont pas."),
        )
        actions.add_parser(
            "scan-region",
            help=_("Lance l'analyse de toute la région (une tâche par structure)."),
        )

    def handle(self, *args, action: str, **options) -> None:
        if action == "run-due":
            result = services_schedule.run_due()
            self.stdout.write(
                self.style.SUCCESS(
                    _("%(started)d analyse(s) lancée(s), %(refused)d structure(s) sans actif "
                      "couvert par un mandat.") % result
                )
            )  # fmt: skip
        elif action == "spread":
            created = services_schedule.ensure_schedules(SYSTEM)
            self.stdout.write(_("%(n)d créneau(x) attribué(s).") % {"n": created})
        elif action == "scan-region":
            regional = services.request_regional_scan(SYSTEM)
            self.stdout.write(
                _("Analyse régionale %(id)s mise en file (tâche %(job)s).")
                % {"id": regional.pk, "job": regional.job_id}
            )
