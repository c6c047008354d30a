"""``carbet keys``: generate, rotate and retire the keys that encrypt stored credentials."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carbet.audit.services import record
from carbet.core import crypto
from carbet.core.tenancy import SYSTEM
from carbet.ops import keys
from carbet.ops.backup import cli_actor_label

ENVIRONMENT_STEPS = gettext_lazy(
    "Les clés viennent de CARBET_ENCRYPTION_KEYS : Carbet ne peut pas les modifier. "
    "Pour une rotation : 1) « carbet keys generate » ; 2) mettez la nouvelle clé EN PREMIER "
    "dans CARBET_ENCRYPTION_KEYS (gardez les anciennes après) et redémarrez Carbet ; "
    "3) « carbet keys reencrypt » ; 4) retirez les anciennes clés et redémarrez."
)


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = (
        "Clés de chiffrement des identifiants enregistrés (LDAP, SMTP…). « generate » affiche "
        "une nouvelle clé ; « rotate » en place une nouvelle dans DATA_DIR/keys et rechiffre "
        "tout ; « reencrypt » rechiffre tout avec la première clé ; « retire » supprime les "
        "anciennes clés devenues inutiles. Redémarrez Carbet après une rotation."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("generate", help=_("Affiche une nouvelle clé (rien n'est modifié)."))
        actions.add_parser(
            "rotate",
            help=_("Nouvelle clé en tête du fichier de clés, puis rechiffrement de tout."),
        )
        actions.add_parser(
            "reencrypt", help=_("Rechiffre toutes les valeurs avec la première clé.")
        )
        actions.add_parser(
            "retire",
            help=_("Retire les anciennes clés du fichier, si plus rien n'en a besoin."),
        )

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"do_{action}")()

    def do_generate(self) -> None:
        self.stdout.write(crypto.generate_key())

    def do_rotate(self) -> None:
        try:
            _new_key, report = keys.rotate()
        except keys.KeysManagedElsewhere as exc:
            raise CommandError(str(ENVIRONMENT_STEPS)) from exc
        record(
            SYSTEM,
            "keys.rotate",
            changes={"values": report.values, "fields": report.fields},
            actor_label=cli_actor_label(),
        )
        self.stdout.write(
            self.style.SUCCESS(
                _("Nouvelle clé en place ; %(n)d valeur(s) rechiffrée(s).") % {"n": report.values}
            )
        )
        self.stdout.write(
            _(
                "Redémarrez Carbet (serve et workers) pour qu'ils lisent la nouvelle clé. Les "
                "anciennes restent dans le fichier : retirez-les ensuite avec « carbet keys "
                "retire ». Pensez à mettre à jour la copie de secours des clés."
            )
        )

    def do_reencrypt(self) -> None:
        report = keys.reencrypt_all()
        record(
            SYSTEM,
            "keys.reencrypt",
            changes={"values": report.values, "fields": report.fields},
            actor_label=cli_actor_label(),
        )
        self.stdout.write(
            self.style.SUCCESS(
                _("%(n)d valeur(s) rechiffrée(s) avec la première clé.") % {"n": report.values}
            )
        )

    def do_retire(self) -> None:
        try:
            removed = keys.retire_old_keys()
        except keys.KeysManagedElsewhere as exc:
            raise CommandError(str(ENVIRONMENT_STEPS)) from exc
        except ValueError as exc:
            raise CommandError(
                _(
                    "Des valeurs sont encore chiffrées avec une ancienne clé : lancez d'abord "
                    "« carbet keys reencrypt »."
                )
            ) from exc
        if removed:
            record(
                SYSTEM, "keys.retire", changes={"removed": removed}, actor_label=cli_actor_label()
            )
        self.stdout.write(
            self.style.SUCCESS(_("%(n)d ancienne(s) clé(s) retirée(s).") % {"n": removed})
        )
