"""``carbet demo``: load the fictional demo region and print its logins."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from carbet.demo import region
from carbet.demo.findings import FindingsReport
from carbet.demo.services import (
    DemoRefused,
    choose_password,
    load_demo,
    password_file,
    reset_demo,
)

LOGIN_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = _(
        "Charge la région de démonstration (structures, actifs, mandats, un compte par rôle, "
        "vulnérabilités, plans d'action et trois mois d'historique). Relancer la commande ne "
        "change rien ; --reset repart de zéro."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "action",
            nargs="?",
            choices=("load", "lab"),
            default="load",
            help=_(
                "« load » (par défaut) charge la région ; « lab » démarre le laboratoire de "
                "démonstration (serveur DNS des zones de démo et services faibles ou sains sur "
                "127.97.x.x) jusqu'à Ctrl-C."
            ),
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_(
                "Efface d'abord le registre, les comptes, les vulnérabilités et les plans "
                "d'action de démonstration. Refusé si la base contient autre chose que la "
                "démonstration."
            ),
        )
        parser.add_argument(
            "--password",
            help=_(
                "Mot de passe commun des comptes de démonstration (12 caractères au moins). "
                "Sans cette option, un mot de passe est tiré au sort et conservé dans le "
                "répertoire de données."
            ),
        )

    def handle(
        self,
        *args,
        action: str = "load",
        reset: bool = False,
        password: str | None = None,
        **options,
    ):
        if action == "lab":
            self._run_lab()
            return
        try:
            chosen, generated = choose_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if reset:
            try:
                removed = reset_demo()
            except DemoRefused as exc:
                raise CommandError(
                    _(
                        "Remise à zéro refusée : la base contient des données qui ne viennent "
                        "pas de la démonstration (%(what)s). Utilisez une base vide."
                    )
                    % {"what": exc}
                ) from exc
            self.stdout.write(
                _("Démonstration effacée : %(n)s structure(s), %(u)s compte(s).")
                % {"n": removed["structure"], "u": removed["user"]}
            )
        report = load_demo(chosen)
        if report.created:
            parts = ", ".join(
                f"{report.created[kind]} {label}"
                for kind, label in self._labels().items()
                if report.created[kind]
            )
            self.stdout.write(self.style.SUCCESS(_("Région de démonstration créée : %s.") % parts))
        elif not report.findings.loaded:
            self.stdout.write(_("La région de démonstration est déjà en place : rien à changer."))
        self._print_findings(report.findings)
        if report.passwords_set:
            self.stdout.write(
                _("Mot de passe commun appliqué à %d compte(s) de démonstration.")
                % report.passwords_set
            )
        self._print_logins(chosen, generated)
        self._print_mail_folder()

    def _print_mail_folder(self) -> None:
        from django.conf import settings

        folder = settings.MAILERS["default"].get("OPTIONS", {}).get("file_path")
        if folder:
            self.stdout.write(
                _("Les e-mails de la démonstration sont écrits dans %s (un fichier par envoi).")
                % folder
            )

    def _print_findings(self, findings: FindingsReport) -> None:
        if findings.foreign:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Vulnérabilités et plans d'action de démonstration non chargés : la base "
                        "contient d'autres données (%s)."
                    )
                    % ", ".join(findings.foreign)
                )
            )
            return
        if findings.loaded:
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "Vulnérabilités de démonstration chargées : %(f)s vulnérabilités dans "
                        "%(s)s structures, %(a)s actions correctives, %(c)s campagne(s) "
                        "régionale(s), %(d)s jours de suivi pour les courbes d'évolution."
                    )
                    % {
                        "f": findings.findings,
                        "s": findings.structures,
                        "a": findings.actions,
                        "c": findings.campaigns,
                        "d": findings.snapshot_days,
                    }
                )
            )
        if findings.mail_error:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Un courriel de notification n'a pas pu partir (%s) ; les données sont "
                        "bien enregistrées."
                    )
                    % findings.mail_error
                )
            )

    def _run_lab(self) -> None:
        from carbet.demo.lab.runner import Lab

        lab = Lab().start()
        served = sorted({what for _address, _port, what in lab.listening})
        self.stdout.write(
            _(
                "Laboratoire de démonstration démarré : %(n)s services sur 127.97.x.x (%(what)s), "
                "serveur DNS des zones de démonstration sur %(dns)s. Ctrl-C l'arrête."
            )
            % {"n": len(lab.listening), "what": ", ".join(served), "dns": lab.nameserver}
        )
        if not lab.privileged:
            self.stdout.write(
                _(
                    "Sans droits d'administration : ports 8080 (web), 8443 (web chiffré) et 11112 "
                    "(imagerie) au lieu de 80, 443 et 104 ; pas de messagerie, FTP ni partage de "
                    "fichiers (ports réservés)."
                )
            )
        self.stdout.flush()
        try:
            lab.wait()
        except KeyboardInterrupt:
            pass
        finally:
            lab.stop()

    @staticmethod
    def _labels() -> dict[str, str]:
        return {
            "ght": _("GHT"),
            "organisation": _("organisations"),
            "structure": _("structures"),
            "contact": _("contacts"),
            "asset": _("actifs"),
            "mandate": _("mandats"),
            "user": _("comptes"),
            "directory_audit": _("audits d'annuaire"),
            "exposure_scan": _("analyses d'exposition"),
            "roadmap": _("feuilles de route"),
            "awareness_campaign": _("simulations d'hameçonnage"),
        }

    def _print_logins(self, password: str, generated: bool) -> None:
        rows = [(u.email, password, u.role_label) for u in region.USERS]
        headers = (_("E-mail"), _("Mot de passe"), _("Rôle"))
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

        def line(cells) -> str:
            padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            return "│ " + " │ ".join(padded) + " │"

        def rule(left: str, middle: str, right: str) -> str:
            return left + middle.join("─" * (w + 2) for w in widths) + right

        # The logins in a box, apart from everything else the first run prints.
        self.stdout.write("")
        self.stdout.write(_("Connectez-vous sur %s avec l'un de ces comptes :") % LOGIN_URL)
        self.stdout.write(rule("┌", "┬", "┐"))
        self.stdout.write(line(headers))
        self.stdout.write(rule("├", "┼", "┤"))
        for row in rows:
            self.stdout.write(line(row))
        self.stdout.write(rule("└", "┴", "┘"))
        if generated:
            self.stdout.write(
                _("Mot de passe tiré au sort et conservé dans %s (lisible par vous seul).")
                % password_file()
            )
        self.stdout.write(
            _(
                "Les comptes du centre et de l'ARS doivent activer la double authentification à "
                "la première connexion : gardez une application d'authentification (TOTP) à "
                "portée de main."
            )
        )
