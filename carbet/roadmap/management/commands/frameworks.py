"""``carbet frameworks list|check|load``: the versioned framework files (CaRE, ANSSI,
diagnostic), checked and loaded without any code change."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from carbet.engines.roadmap.frameworks import FrameworkError
from carbet.roadmap import frameworks


class Command(BaseCommand):
    help = (
        "Référentiels de la feuille de route. « check » vérifie les fichiers sans rien "
        "charger ; « load » les charge (tous ou aucun) ; « list » montre ceux de la base."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        for name, text in (
            ("check", _("Vérifie les fichiers (et leurs correspondances) sans rien charger.")),
            ("load", _("Vérifie puis charge les fichiers ; un fichier en erreur bloque tout.")),
        ):
            sub = actions.add_parser(name, help=text, description=text)
            sub.add_argument(
                "paths",
                nargs="*",
                type=Path,
                help=_("Fichiers ou dossiers (par défaut : les référentiels fournis)."),
            )
        actions.add_parser("list", help=_("Liste les référentiels chargés."))

    def handle(self, *args, action: str, **options) -> None:
        paths = options.get("paths") or None
        try:
            if action == "check":
                specs = frameworks.check(paths)
                for spec in specs:
                    self.stdout.write(
                        _("%(code)s %(version)s : %(n)d exigences, valide.")
                        % {"code": spec.code, "version": spec.version, "n": len(spec.requirements)}
                    )
            elif action == "load":
                for result in frameworks.load(paths):
                    state = (
                        _("inchangé")
                        if result.unchanged
                        else _("créé")
                        if result.created
                        else _("mis à jour")
                    )
                    self.stdout.write(
                        _("%(code)s %(version)s : %(state)s (%(n)d exigences, %(r)d retirées).")
                        % {
                            "code": result.code,
                            "version": result.version,
                            "state": state,
                            "n": result.requirements,
                            "r": result.retired,
                        }
                    )
            else:
                from carbet.roadmap.models import Framework

                for framework in Framework.objects.all():
                    self.stdout.write(f"{framework.code}\t{framework.version}\t{framework.title}")
        except FrameworkError as exc:
            message = _("Fichier de référentiel invalide :\n%(issues)s") % {"issues": exc}
            raise CommandError(message) from None
