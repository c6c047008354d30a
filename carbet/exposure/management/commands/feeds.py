"""``carbet feeds import FILE... | status``: the local vulnerability feeds, without a database.

The feeds (NVD CVE 2.0 JSON, CISA KEV JSON, EPSS CSV, CERT-FR JSON) are downloaded elsewhere
and imported here into a standalone SQLite file (``CARBET_FEEDS_DB``, or ``feeds.sqlite`` in
``CARBET_DATA_DIR``); the scanner reads it to match detected versions. Works without the
platform's database. Each file is imported in one transaction: a bad file changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from carbet.engines.exposure.vulns.feeds import KINDS, FeedError, feeds_path, open_store
from carbet.engines.exposure.vulns.importer import import_file

KIND_LABELS = {"nvd": "NVD (CVE)", "kev": "CISA KEV", "epss": "EPSS", "certfr": "CERT-FR"}


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = (
        "Bases de vulnérabilités locales utilisées par le scanner d'exposition (NVD, CISA KEV, "
        "EPSS, CERT-FR). « import » charge un fichier téléchargé ailleurs (type reconnu tout "
        "seul) ; « status » affiche ce qui est chargé et de quand. Sans base de données."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser(
            "import",
            help=_("Importe un ou plusieurs fichiers de flux (NVD, KEV, EPSS, CERT-FR)."),
            description=_(
                "Importe des fichiers de flux de vulnérabilités : NVD CVE 2.0 (JSON, "
                "éventuellement compressé en .gz), catalogue CISA KEV (JSON), scores EPSS "
                "(CSV) ou alertes CERT-FR (JSON). Le type est reconnu tout seul ; --kind le "
                "force. Réimporter le même fichier ne change rien ; un fichier invalide est "
                "refusé en entier."
            ),
        )
        load.add_argument("files", nargs="+", metavar="FILE", help=_("Fichier(s) à importer."))
        load.add_argument("--kind", choices=KINDS, help=_("Type de flux, s'il faut le forcer."))
        load.add_argument(
            "--db",
            help=_("Fichier SQLite des flux (par défaut : %(default)s)."),
            default=str(feeds_path()),
        )
        status = actions.add_parser(
            "status", help=_("Affiche le nombre d'entrées et la date de chaque flux.")
        )
        status.add_argument(
            "--db",
            default=str(feeds_path()),
            help=_("Fichier SQLite des flux (par défaut : %(default)s)."),
        )
        status.add_argument("--json", action="store_true", help=_("Sortie JSON."))

    def handle(self, *args, action: str, **options) -> None:
        if action == "import":
            self.do_import(options["files"], options.get("kind"), options["db"])
        else:
            self.do_status(options["db"], options.get("json", False))

    def do_import(self, files: list[str], kind: str | None, db: str) -> None:
        store = open_store(db)
        failed = []
        try:
            for name in files:
                try:
                    result = import_file(store, Path(name), kind)
                except FeedError as exc:
                    failed.append(name)
                    self.stderr.write(
                        _("Refusé, rien n'a été importé de ce fichier : %(reason)s")
                        % {"reason": exc}
                    )
                    continue
                self.stdout.write(
                    _("%(kind)s : %(count)s entrées importées depuis %(file)s (flux du %(date)s).")
                    % {
                        "kind": KIND_LABELS[result.kind],
                        "count": result.records,
                        "file": Path(name).name,
                        "date": result.source_date or "?",
                    }
                )
        finally:
            store.close()
        if failed:
            raise CommandError(
                _("%(count)s fichier(s) refusé(s) : %(files)s")
                % {"count": len(failed), "files": ", ".join(failed)}
            )

    def do_status(self, db: str, as_json: bool) -> None:
        if not Path(db).is_file():
            if as_json:
                self.stdout.write(json.dumps({"db": db, "feeds": {}}))
                return
            self.stdout.write(
                _("Aucun flux importé (%(db)s n'existe pas). Utilisez « carbet feeds import ».")
                % {"db": db}
            )
            return
        store = open_store(db)
        try:
            counts, imports = store.counts(), store.last_imports()
        finally:
            store.close()
        if as_json:
            feeds = {kind: {"count": counts[kind], **imports.get(kind, {})} for kind in KINDS}
            self.stdout.write(json.dumps({"db": db, "feeds": feeds}, indent=2))
            return
        self.stdout.write(_("Flux de vulnérabilités dans %(db)s :") % {"db": db})
        for kind in KINDS:
            last = imports.get(kind)
            when = (
                _("flux du %(date)s, importé le %(at)s")
                % {"date": last["source_date"] or "?", "at": last["imported_at"]}
                if last
                else _("jamais importé")
            )
            self.stdout.write(f"  {KIND_LABELS[kind]:<10} {counts[kind]:>8}  {when}")
