"""``carbet ad collect`` and ``carbet ad analyse``: the directory audit without a database.

A structure's IT runs ``collect`` on site with a read-only account and uploads the snapshot; the
centre (or the IT itself) runs ``analyse`` on it. Neither touches the database: no system checks,
no ORM. Progress goes to stderr, results to stdout; bad arguments or unreadable files exit with
status 2, a failed collection with status 1.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from carbet.engines.directory import collector, snapshot
from carbet.engines.netpolicy import ConnectPolicy

MAX_SECRET_FILE_BYTES = 4096


class Command(BaseCommand):
    # argparse needs a plain str at class level; the text is French, the source language.
    help = (
        "Audit d'annuaire Active Directory sans base de données : « collect » lit l'annuaire "
        "avec un compte en lecture seule et écrit un instantané ; « analyse » l'évalue."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        collect = actions.add_parser(
            "collect",
            help=_("Lit l'annuaire (lecture seule) et écrit un instantané."),
            description=_(
                "Se connecte en LDAPS (port 636) ou en StartTLS (port 389) avec un compte sans "
                "droit particulier, lit l'annuaire sans jamais rien y écrire et enregistre un "
                "instantané compressé, éventuellement chiffré et pseudonymisé."
            ),
        )
        collect.add_argument(
            "--server", required=True, help=_("Contrôleur de domaine : HÔTE ou HÔTE:PORT.")
        )
        collect.add_argument(
            "--user", required=True, help=_("Compte de lecture : nom@domaine ou DOMAINE\\nom.")
        )
        collect.add_argument(
            "--password-file",
            required=True,
            help=_("Fichier contenant le mot de passe (« - » : l'entrée standard)."),
        )
        collect.add_argument(
            "--starttls", action="store_true", help=_("StartTLS sur le port 389 au lieu de LDAPS.")
        )
        trust = collect.add_mutually_exclusive_group()
        trust.add_argument("--ca-file", help=_("Certificat PEM de l'autorité de l'annuaire."))
        trust.add_argument(
            "--insecure",
            action="store_true",
            help=_("Ne pas vérifier le certificat du serveur (déconseillé)."),
        )
        collect.add_argument("--base-dn", help=_("Base de recherche (par défaut : le domaine)."))
        collect.add_argument(
            "--auth",
            choices=("simple", "ntlm", "kerberos"),
            default="simple",
            help=_("Méthode d'authentification (simple par défaut)."),
        )
        collect.add_argument(
            "--no-sysvol",
            action="store_true",
            help=_("Ne pas chercher de mots de passe dans SYSVOL (partage SMB)."),
        )
        collect.add_argument("--out", required=True, help=_("Fichier d'instantané à écrire."))
        collect.add_argument(
            "--passphrase-file", help=_("Chiffrer l'instantané avec la phrase de passe du fichier.")
        )
        collect.add_argument(
            "--pseudonymise",
            action="store_true",
            help=_("Remplacer les noms de comptes par des pseudonymes."),
        )
        analyse = actions.add_parser(
            "analyse",
            help=_("Évalue un instantané : niveau ANSSI, score et faiblesses."),
            description=_(
                "Applique les règles d'audit à un instantané et affiche le niveau ANSSI (1 à 5), "
                "les scores par catégorie et chaque faiblesse avec les objets concernés."
            ),
        )
        analyse.add_argument("snapshot", help=_("Fichier d'instantané."))
        analyse.add_argument(
            "--now", help=_("Date d'évaluation ISO 8601 (par défaut : maintenant).")
        )
        analyse.add_argument("--json", action="store_true", help=_("Résultat en JSON."))
        analyse.add_argument(
            "--passphrase-file", help=_("Phrase de passe d'un instantané chiffré.")
        )

    def handle(self, *args, action: str, **options) -> None:
        if action == "collect":
            self.collect(options)
        else:
            self.analyse(options)

    # --- collect ---
    def collect(self, options: dict) -> None:
        password = read_secret(options["password_file"], _("mot de passe"))
        passphrase = (
            read_secret(options["passphrase_file"], _("phrase de passe"))
            if options.get("passphrase_file")
            else None
        )
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(
                _("Dossier inexistant : %(dir)s") % {"dir": out.parent}, returncode=2
            )
        if options.get("ca_file") and not Path(options["ca_file"]).is_file():
            raise CommandError(
                _("Certificat introuvable : %(file)s") % {"file": options["ca_file"]}, returncode=2
            )
        try:
            host, port = collector.split_server(options["server"], None)
        except collector.CollectError as exc:
            raise CommandError(str(exc), returncode=2) from None
        try:
            snap = collector.collect(
                host,
                port,
                options["user"],
                password,
                starttls=options["starttls"],
                ca_file=options.get("ca_file"),
                insecure=options["insecure"],
                base_dn=options.get("base_dn"),
                progress=self.progress,
                auth=options["auth"],
                sysvol=not options["no_sysvol"],
                # The on-site tool: it reaches exactly the server named on its command line.
                policy=ConnectPolicy.open(),
            )
        except collector.CollectError as exc:
            raise CommandError(_("Collecte impossible : %(why)s") % {"why": exc}) from None
        snapshot.write(snap, out, passphrase=passphrase, pseudonymise=options["pseudonymise"])
        self.stderr.write(
            _(
                "Instantané écrit : %(file)s — %(users)d utilisateurs, %(computers)d ordinateurs, "
                "%(groups)d groupes."
            )
            % {
                "file": out,
                "users": len(snap.users),
                "computers": len(snap.computers),
                "groups": len(snap.groups),
            }
        )
        for gap in snap.gaps:
            self.stderr.write(_("Non lu : %(gap)s") % {"gap": gap})

    def progress(self, stage: str, count: int) -> None:
        label = STAGES.get(stage, stage)
        if count:
            self.stderr.write(f"  {_(label)} … {count}")
        else:
            self.stderr.write(f"  {_(label)} …")

    # --- analyse ---
    def analyse(self, options: dict) -> None:
        from carbet.engines.directory import analysis

        now = parse_now(options.get("now"))
        passphrase = (
            read_secret(options["passphrase_file"], _("phrase de passe"))
            if options.get("passphrase_file")
            else None
        )
        path = Path(options["snapshot"])
        if not path.is_file():
            raise CommandError(_("Fichier introuvable : %(file)s") % {"file": path}, returncode=2)
        try:
            snap = snapshot.read(path, passphrase=passphrase)
        except snapshot.SnapshotError as exc:
            raise CommandError(
                _("Instantané illisible : %(why)s") % {"why": exc}, returncode=2
            ) from None
        result = analysis.analyse(snap, now=now)
        document = result.to_json()
        if options["json"]:
            document["gaps"] = list(snap.gaps)
            document["pseudonymised"] = snap.pseudonymised
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
            return
        self.stdout.write(summary(document, snap.gaps))


STAGES = {
    "domain": gettext_noop("Domaine et politique de mots de passe"),
    "users": gettext_noop("Utilisateurs"),
    "computers": gettext_noop("Ordinateurs"),
    "groups": gettext_noop("Groupes"),
    "trusts": gettext_noop("Relations d'approbation"),
    "gpos": gettext_noop("Stratégies de groupe"),
    "psos": gettext_noop("Stratégies de mots de passe affinées"),
    "descriptors": gettext_noop("Droits sur le domaine et AdminSDHolder"),
    "dns": gettext_noop("Zones DNS"),
    "pki": gettext_noop("Services de certificats"),
    "sysvol": gettext_noop("SYSVOL (mots de passe des préférences de stratégie)"),
    "done": gettext_noop("Terminé"),
}
CATEGORY_LABELS = {
    "stale_objects": gettext_noop("Objets obsolètes"),
    "privileged_accounts": gettext_noop("Comptes à privilèges"),
    "trusts": gettext_noop("Relations d'approbation"),
    "anomalies": gettext_noop("Anomalies"),
}


def read_secret(name: str, what: str) -> str:
    """First line of a secret file ("-": stdin); never echoed, never in the process list."""
    try:
        if name == "-":
            text = sys.stdin.readline()
        else:
            with open(name, encoding="utf-8") as handle:
                text = handle.read(MAX_SECRET_FILE_BYTES)
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(
            _("Lecture impossible du fichier de %(what)s %(file)s : %(why)s")
            % {"what": what, "file": name, "why": getattr(exc, "strerror", None) or exc},
            returncode=2,
        ) from None
    secret = text.splitlines()[0] if text else ""
    if not secret:
        raise CommandError(
            _("Le fichier de %(what)s %(file)s est vide.") % {"what": what, "file": name},
            returncode=2,
        )
    return secret


def parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("Date invalide pour --now : %(value)s (attendu : 2026-01-31 ou 2026-01-31T12:00)")
            % {"value": value},
            returncode=2,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def summary(document: dict, gaps: list[str]) -> str:
    """A readable French report: level and scores first, what is exploitable now, then the rest."""
    score = document["score"]
    lines = [
        _("Domaine : %(domain)s") % {"domain": document["domain"]},
        _("Niveau ANSSI : %(level)s sur 5 (1 = critique, 5 = état de l'art)")
        % {"level": document["anssi_level"]},
        _("Score global : %(score)s sur 100 (0 = aucun risque relevé)")
        % {"score": score["global"]},
    ]
    for key, label in CATEGORY_LABELS.items():
        lines.append(f"  {_(label)} : {score.get(key, 0)}")
    findings = document["findings"]
    urgent = [f for f in findings if f.get("exploitable_now")]
    for title, items in (
        (_("Exploitable immédiatement"), urgent),
        (_("Autres faiblesses"), [f for f in findings if not f.get("exploitable_now")]),
    ):
        if not items:
            continue
        lines += ["", f"{title} ({len(items)}) :"]
        for finding in items:
            anssi = f" [{finding['anssi']}]" if finding.get("anssi") else ""
            objects = finding["objects"]
            shown = ", ".join(objects[:5]) + (" …" if len(objects) > 5 else "")
            count = finding.get("objects_total", len(objects))
            lines.append(
                f"  • {finding['title']}{anssi} — {finding['points']} pts — "
                + ngettext("%(n)d objet", "%(n)d objets", count) % {"n": count}
                + (f" : {shown}" if shown else "")
            )
    if not findings:
        lines += ["", _("Aucune faiblesse relevée.")]
    skipped = document.get("not_evaluated") or []
    if skipped or gaps:
        lines += ["", _("Non évalué (données non lues par le compte de collecte) :")]
        lines += [f"  • {item['rule']} : {item['reason']}" for item in skipped]
        lines += [f"  • {gap}" for gap in gaps]
    return "\n".join(lines)
