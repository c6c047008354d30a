"""``carbet scan``: a one-off exposure scan from the command line, without any database.

``carbet scan TARGET...`` scans addresses, host names, mail domains (or small networks, one
address at a time) straight away with the exposure engine and prints a table, or the JSON
contract with ``--json`` (see ``carbet.engines.exposure.report``; ``--lang en`` for English
titles). Nothing is written anywhere and no database is needed: ``carbet`` runs this path
through :func:`run_standalone`, without Carbet's settings or apps. The analyst is responsible
for being mandated to scan the targets.

``carbet scan --structure FINESS`` goes through the platform instead: only the structure's
proven assets covered by a valid "exposure scan" mandate are scanned, as a background job
(the mandate gate, the connect-time scope policy and the audit trail apply); ``--wait``
follows it to the end. Without ``--structure`` no policy applies: exactly the targets named
are scanned, loopback included (the analyst's lab tool).
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from carbet.core.tenancy import Actor
from carbet.engines.exposure.checks import LANGUAGES
from carbet.engines.exposure.core import DEFAULT_PORTS, ScanConfig

MAX_NETWORK_ADDRESSES = 1024
PROBES = (
    "http",
    "https",
    "rdp",
    "smb",
    "dicom",
    "hl7",
    "redis",
    "mongodb",
    "postgresql",
    "mssql",
    "oracle",
)


def parse_ports(value: str) -> tuple[tuple[int, ...], tuple[tuple[int, str], ...]]:
    """``22,80,8000-8010,8104:dicom,default`` → (ports, hints)."""
    ports: list[int] = []
    hints: list[tuple[int, str]] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if item.lower() == "default":
            ports += DEFAULT_PORTS
            continue
        spec, _sep, probe = item.partition(":")
        if probe and probe.lower() not in PROBES:
            raise argparse.ArgumentTypeError(
                _("Sonde inconnue « %(probe)s » : choisissez parmi %(probes)s.")
                % {"probe": probe, "probes": ", ".join(PROBES)}
            )
        low, dash, high = spec.partition("-")
        try:
            first, last = int(low), int(high if dash else low)
        except ValueError:
            raise argparse.ArgumentTypeError(
                _("Port invalide « %(item)s » : écrivez par exemple 22,80,8000-8010.")
                % {"item": item}
            ) from None
        if not (1 <= first <= last <= 65535) or last - first > 65535:
            raise argparse.ArgumentTypeError(
                _("Port hors limites « %(item)s » : de 1 à 65535.") % {"item": item}
            )
        for port in range(first, last + 1):
            ports.append(port)
            if probe:
                hints.append((port, probe.lower()))
    if not ports:
        raise argparse.ArgumentTypeError(_("Aucun port donné."))
    return tuple(dict.fromkeys(ports)), tuple(hints)


def parse_nameserver(value: str) -> str:
    """The engine's own parsing (ScanConfig.nameserver_address), as an argparse type."""
    try:
        host, number = ScanConfig(nameserver=value).nameserver_address()
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("Serveur DNS invalide « %(value)s » : donnez une adresse IP, ex. 127.0.0.53:5353.")
            % {"value": value}
        ) from None
    return f"[{host}]:{number}" if ":" in host else f"{host}:{number}"


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0
    if not 0 < number <= 3600:
        raise argparse.ArgumentTypeError(
            _("Durée invalide « %(value)s » : un nombre de secondes entre 0 et 3600.")
            % {"value": value}
        )
    return number


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 10000:
        raise argparse.ArgumentTypeError(
            _("Nombre invalide « %(value)s » : un entier entre 1 et 10000.") % {"value": value}
        )
    return number


def expand_targets(raw: list[str]) -> list[str]:
    """Targets as given; a network (CIDR) becomes its addresses, within a sane limit."""
    targets: list[str] = []
    for item in raw:
        if "/" in item and "://" not in item:
            try:
                network = ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise CommandError(
                    _("Réseau invalide « %(item)s ».") % {"item": item}, returncode=2
                ) from None
            if network.num_addresses > MAX_NETWORK_ADDRESSES:
                raise CommandError(
                    _("Le réseau %(item)s compte plus de %(max)d adresses : découpez-le.")
                    % {"item": item, "max": MAX_NETWORK_ADDRESSES},
                    returncode=2,
                )
            hosts = list(network.hosts()) or [network.network_address]
            targets += [str(address) for address in hosts]
        else:
            targets.append(item)
    return targets


# Options that need the platform (its settings, database and apps): the full Django start-up.
PLATFORM_OPTIONS = ("--structure", "--wait", "--as", "--settings", "--pythonpath")


def run_standalone(argv: list[str]) -> bool:
    """``carbet scan TARGET…`` (and ``--list-checks``) as the analyst's lab tool: the engine and
    this command only, under minimal in-memory settings. Carbet's settings are never loaded, so
    no data directory, key file or database is created wherever the command runs, and no app
    is started. Returns False (nothing done) when the platform is needed (``--structure``...).
    """
    if any(arg.split("=", 1)[0] in PLATFORM_OPTIONS for arg in argv):
        return False
    from pathlib import Path

    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            USE_I18N=True,
            LANGUAGE_CODE="fr",
            LANGUAGES=[("fr", "Français"), ("en", "English")],
            LOCALE_PATHS=[Path(__file__).resolve().parents[3] / "locale"],
            INSTALLED_APPS=[],
        )
        django.setup()
    Command().run_from_argv(["carbet", "scan", *argv])
    return True


class ProgressBar:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.enabled = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, done: int, total: int, target: str) -> None:
        if not self.enabled or not total:
            return
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} {target[:40]:<40}")
        if done == total:
            self.stream.write("\r" + " " * (width + 60) + "\r")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Analyse ponctuelle de l'exposition sur internet de cibles (adresses, noms, domaines "
        "de messagerie), sans base de données : services ouverts, TLS, sites web, messagerie "
        "et DNS, vulnérabilités connues. Avec --structure, passe par la plateforme (mandat "
        "vérifié, tâche de fond, journal d'audit)."
    )
    # Works without a database: no system checks, no migration check, no ORM on this path.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "targets",
            nargs="*",
            metavar="TARGET",
            help=_("Adresse IP, nom d'hôte, domaine de messagerie ou petit réseau (CIDR)."),
        )
        parser.add_argument(
            "--ports",
            type=parse_ports,
            metavar="LIST",
            help=_(
                "Ports à analyser, ex. 22,80,8000-8010,8104:dicom (« default » : la liste "
                "par défaut)."
            ),
        )
        parser.add_argument(
            "--nameserver",
            type=parse_nameserver,
            metavar="IP[:PORT]",
            help=_("Serveur DNS à interroger (par défaut : celui du système)."),
        )
        parser.add_argument(
            "--ca-file",
            metavar="PEM",
            help=_("Magasin de certificats de confiance (PEM) pour vérifier les chaînes TLS."),
        )
        parser.add_argument(
            "--intermediates",
            metavar="PEM",
            help=_(
                "Certificats intermédiaires d'autorités (PEM) pour reconnaître une chaîne "
                "incomplète sans rien télécharger."
            ),
        )
        parser.add_argument(
            "--json", action="store_true", help=_("Résultat en JSON sur la sortie standard.")
        )
        parser.add_argument(
            "--lang",
            choices=LANGUAGES,
            default="fr",
            help=_("Langue des titres des constats (JSON et tableau) : fr (par défaut) ou en."),
        )
        parser.add_argument(
            "--timeout",
            type=positive_float,
            metavar="S",
            help=_("Durée maximale de l'analyse d'une cible, en secondes (180 par défaut)."),
        )
        parser.add_argument(
            "--concurrency",
            type=positive_int,
            metavar="N",
            help=_("Connexions simultanées au plus, toutes cibles confondues (512 par défaut)."),
        )
        parser.add_argument(
            "--list-checks",
            action="store_true",
            help=_("Afficher la référence de tous les contrôles (Markdown) et quitter."),
        )
        parser.add_argument(
            "--structure",
            metavar="FINESS",
            help=_(
                "Analyser, par la plateforme, les actifs couverts par le mandat de cette "
                "structure (FINESS géographique)."
            ),
        )
        parser.add_argument(
            "--wait",
            action="store_true",
            help=_("Avec --structure : attendre la fin de l'analyse et afficher le résultat."),
        )
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="EMAIL",
            help=_("Avec --structure : agir au nom de ce compte (ses droits s'appliquent)."),
        )

    def handle(self, *args, **options) -> None:
        if options["list_checks"]:
            from carbet.engines.exposure import report

            self.stdout.write(report.checks_reference(), ending="")
            return
        if options["structure"]:
            if options["targets"]:
                raise CommandError(
                    _("Donnez soit des cibles, soit --structure, pas les deux."), returncode=2
                )
            run_structure_scan(self, options)
            return
        if options["wait"] or options["as_user"]:
            raise CommandError(_("--wait et --as vont avec --structure."), returncode=2)
        if not options["targets"]:
            raise CommandError(
                _("Donnez au moins une cible (adresse, nom ou domaine), ou --structure FINESS."),
                returncode=2,
            )
        translation.activate(options["lang"])
        config = self.config(options)
        targets = expand_targets(options["targets"])
        from carbet.engines.exposure import report, runner

        started = time.monotonic()
        results = runner.scan(targets, config, progress=ProgressBar(sys.stderr))
        if options["json"]:
            for result in results:
                for error in result.errors:
                    self.stderr.write(f"{result.target}: {error}")
            self.stdout.write(report.to_json(results, lang=options["lang"]))
            return
        self.stdout.write(report.to_table(results, lang=options["lang"]))
        self.stdout.write(
            _("%(count)d cible(s) analysée(s) en %(seconds).1f s.")
            % {"count": len(results), "seconds": time.monotonic() - started}
        )

    @staticmethod
    def config(options: dict[str, Any]) -> ScanConfig:
        values: dict[str, Any] = {}
        if options["ports"]:
            values["ports"], values["port_hints"] = options["ports"]
        if options["nameserver"]:
            values["nameserver"] = options["nameserver"]
        if options["ca_file"]:
            try:
                with open(options["ca_file"], "rb") as handle:
                    if b"-----BEGIN CERTIFICATE-----" not in handle.read():
                        raise CommandError(
                            _("%(path)s ne contient aucun certificat PEM.")
                            % {"path": options["ca_file"]},
                            returncode=2,
                        )
            except OSError as exc:
                raise CommandError(
                    _("Magasin de certificats illisible : %(error)s") % {"error": exc},
                    returncode=2,
                ) from None
            values["ca_file"] = options["ca_file"]
        if options.get("intermediates"):
            values["known_intermediates"] = known_intermediates(options["intermediates"])
        if options["timeout"]:
            timeout = options["timeout"]
            values["target_timeout"] = timeout
            values["connect_timeout"] = min(ScanConfig.connect_timeout, timeout / 3)
            values["read_timeout"] = min(ScanConfig.read_timeout, timeout / 3)
        if options["concurrency"]:
            values["global_concurrency"] = options["concurrency"]
            values["per_target_concurrency"] = min(
                ScanConfig.per_target_concurrency, options["concurrency"]
            )
        return ScanConfig(**values)


def known_intermediates(path: str) -> Any:
    """The analyst's own bundle of intermediates, as the platform's store would give them."""
    from carbet.engines.exposure.tls.bundle import BundleError, parse_bundle
    from carbet.engines.exposure.tls.intermediates import KnownIntermediates

    try:
        with open(path, "rb") as handle:
            bundle = parse_bundle(handle.read())
    except (OSError, BundleError) as exc:
        raise CommandError(
            _("Certificats intermédiaires illisibles : %(error)s") % {"error": exc}, returncode=2
        ) from None
    return KnownIntermediates(item.der for _line, item in bundle.intermediates)


# --- through the platform (this path needs the database) -----------------------------------------

WAIT_BASE = 600  # seconds --wait gives a scan, plus some per target
WAIT_PER_TARGET = 60


def run_structure_scan(command: BaseCommand, options: dict[str, Any]) -> None:
    """Queue (and with --wait, follow) a mandate-gated scan of a structure's assets."""
    from django.core.exceptions import PermissionDenied

    from carbet.core.models import Structure
    from carbet.core.tenancy import SYSTEM
    from carbet.exposure.services import NothingToScan, request_structure_scan

    finess = options["structure"].strip()
    structure = Structure.objects.filter(finess_et=finess).first()
    if structure is None:
        raise CommandError(
            _("Aucune structure de FINESS géographique %(finess)s.") % {"finess": finess},
            returncode=2,
        )
    actor: Actor = SYSTEM
    if options["as_user"]:
        from carbet.accounts.models import User

        actor = User.objects.filter(email__iexact=options["as_user"], is_active=True).first()
        if actor is None:
            raise CommandError(
                _("Aucun compte actif « %(email)s ».") % {"email": options["as_user"]},
                returncode=2,
            )
    try:
        scan = request_structure_scan(structure, actor=actor, on_demand=True)
    except NothingToScan as exc:
        raise CommandError(str(exc)) from None
    except PermissionDenied as exc:
        raise CommandError(str(exc) or _("Action refusée.")) from None
    except PermissionError as exc:  # the mandate gate (MandateRefused)
        raise CommandError(str(exc)) from None
    if not options["wait"]:
        command.stdout.write(
            _(
                "Analyse n°%(id)s de %(name)s demandée : %(count)d cible(s) couverte(s) par le "
                "mandat. Suivez-la dans l'application (Exposition)."
            )
            % {"id": scan.pk, "name": structure.name, "count": scan.targets_total}
        )
        return
    _wait_for(scan, ProgressBar(sys.stderr))
    from carbet.engines.exposure import report

    targets = scan_targets(scan, options.get("lang") or "fr")
    if options["json"]:
        command.stdout.write(report.document(targets))
        return
    command.stdout.write(
        _("Analyse n°%(id)s de %(name)s : %(status)s, note %(grade)s (%(score)s/100).")
        % {
            "id": scan.pk,
            "name": structure.name,
            "status": scan.get_status_display(),
            "grade": scan.grade or "—",
            "score": scan.score if scan.score is not None else "—",
        }
    )
    for target in targets:
        command.stdout.write(f"{target['target']} — {target['grade'] or '—'}")
        for finding in target["findings"]:
            command.stdout.write(
                f"  {finding['severity']:<9} {finding['check']:<32} "
                f"{finding['port'] or '':<6} {finding['title']}"
            )


def _wait_for(scan: Any, progress: ProgressBar, poll: float = 1.0) -> None:
    """Follow the scan until it ends; give up (the scan goes on) past a generous limit."""
    finished = {"succeeded", "failed"}
    limit = WAIT_BASE + WAIT_PER_TARGET * max(1, scan.targets_total)
    deadline = time.monotonic() + limit
    while True:
        scan.refresh_from_db()
        progress(scan.targets_done, max(1, scan.targets_total), scan.structure.name)
        if scan.status in finished:
            return
        if time.monotonic() > deadline:
            raise CommandError(
                _(
                    "L'analyse n°%(id)s n'est pas finie après %(minutes)d minutes (les processus "
                    "de fond tournent-ils ? « carbet worker »). Elle continue : suivez-la dans "
                    "l'application."
                )
                % {"id": scan.pk, "minutes": limit // 60}
            )
        time.sleep(poll)


def scan_targets(scan: Any, lang: str = "fr") -> list[dict[str, Any]]:
    """The JSON contract's targets read back from the platform's scan rows, built by the same
    engine functions as a direct scan (``report.target_entry``/``finding_entry``)."""
    from carbet.engines.exposure import report

    targets = []
    for row in scan.targets.order_by("target"):
        findings = [
            report.finding_entry(
                check=obs.check_id,
                severity=obs.severity,
                title=report.localised_title(obs.check_id, obs.title, lang),
                port=obs.port,
                evidence=obs.evidence if isinstance(obs.evidence, dict) else {},
                detail=obs.detail,
                cve=obs.cve,
                cvss=obs.cvss,
                epss=obs.epss,
                kev=obs.kev,
                product=obs.product,
            )
            for obs in row.observations.all()
        ]
        targets.append(
            report.target_entry(
                target=row.target,
                addresses=row.addresses or [],
                score=row.score,
                grade=row.grade,
                services=[
                    report.service_entry(s) for s in row.services or [] if isinstance(s, dict)
                ],
                findings=findings,
                refused=row.refused or [],
            )
        )
    return targets
