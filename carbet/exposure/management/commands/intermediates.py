"""``carbet intermediates import FILE | list``: the intermediate certificates Carbet knows.

With them, the exposure scan tells a server that forgets to send its intermediate certificate
(« chaîne incomplète ») from a certificate of an unknown authority, without ever fetching
anything from the authority. Carbet learns them by itself from the servers whose chain is
complete and trusted; ``import`` adds an authority's bundle (PEM) that the centre downloaded
itself, e.g. the CCADB/Mozilla export of intermediate certificates.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from carbet.core.tenancy import SYSTEM
from carbet.engines.exposure.tls.bundle import MAX_BUNDLE_BYTES, BundleError
from carbet.exposure import intermediates

SHOWN_PROBLEMS = 50


class Command(BaseCommand):
    help = (
        "Certificats intermédiaires connus de Carbet, qui permettent de reconnaître un serveur "
        "qui oublie d'envoyer son certificat intermédiaire sans rien télécharger chez "
        "l'autorité. « import » ajoute un fichier PEM d'autorités intermédiaires ; « list » "
        "affiche ce qui est connu."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser(
            "import",
            help=_("Importe un fichier PEM de certificats intermédiaires."),
            description=_(
                "Importe les certificats intermédiaires d'un fichier PEM téléchargé par le "
                "centre (par exemple l'export des intermédiaires de la CCADB/Mozilla, ou le "
                "fichier d'une autorité). Seules les autorités intermédiaires (basicConstraints "
                "CA=true, pas les racines) sont acceptées ; les autres blocs sont signalés avec "
                "leur numéro de ligne. Réimporter le même fichier n'ajoute rien."
            ),
        )
        load.add_argument("file", metavar="FILE", help=_("Fichier PEM à importer."))
        shown = actions.add_parser(
            "list",
            help=_("Affiche le nombre de certificats connus, par origine, et les échéances."),
        )
        shown.add_argument("--json", action="store_true", help=_("Sortie JSON."))

    def handle(self, *args, action: str, **options) -> None:
        if action == "import":
            self.do_import(options["file"])
        else:
            self.do_list(options.get("json", False))

    def do_import(self, name: str) -> None:
        path = Path(name)
        try:
            if path.stat().st_size > MAX_BUNDLE_BYTES:
                raise CommandError(_("Fichier trop gros : %(file)s") % {"file": name})
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Fichier illisible : %(file)s (%(error)s)")
                % {"file": name, "error": exc.strerror or exc}
            ) from exc
        try:
            report = intermediates.import_bundle(data, SYSTEM, path.name)
        except BundleError as exc:
            raise CommandError(
                _("Refusé, rien n'a été importé : %(reason)s") % {"reason": exc}
            ) from exc
        for problem in report.problems[:SHOWN_PROBLEMS]:
            self.stderr.write(
                _("%(file)s, ligne %(line)d : %(message)s")
                % {"file": path.name, "line": problem.line, "message": problem.message}
            )
        if len(report.problems) > SHOWN_PROBLEMS:
            self.stderr.write(
                _("… et %(n)d autre(s) bloc(s) refusé(s).")
                % {"n": len(report.problems) - SHOWN_PROBLEMS}
            )
        self.stdout.write(
            _(
                "%(added)d certificat(s) intermédiaire(s) ajouté(s), %(known)d déjà connu(s), "
                "%(refused)d bloc(s) refusé(s)."
            )
            % {
                "added": report.added,
                "known": report.already_known,
                "refused": len(report.problems),
            }
        )

    def do_list(self, as_json: bool) -> None:
        summary = intermediates.summary()
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))
            return
        self.stdout.write(
            _(
                "Certificats intermédiaires connus et valides : %(learned)d appris de chaînes "
                "reconnues, %(imported)d importés."
            )
            % summary
        )
        self.stdout.write(
            _(
                "%(expiring)d expirent dans les %(days)d jours ; %(expired)d expirés (plus "
                "utilisés)."
            )
            % {**summary, "days": intermediates.EXPIRING_DAYS}
        )
        for entry in summary["expiring_soon"]:
            self.stdout.write(f"  {entry['not_after'][:10]}  {entry['subject']}")
