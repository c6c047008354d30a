"""``carbet setpassword-link``: print a one-time link for someone to choose a password."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import gettext as _

from carbet.accounts.models import User
from carbet.accounts.user_admin import set_password_path
from carbet.audit.services import record
from carbet.core.links import absolute_url
from carbet.core.tenancy import SYSTEM


class Command(BaseCommand):
    help = _(
        "Affiche un lien à usage unique pour choisir un mot de passe (premier accès ou oubli). "
        "L'adresse du site vient de la variable CARBET_BASE_URL."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True, help=_("Adresse e-mail du compte."))

    def handle(self, *args, email: str, **options):
        user = User.objects.filter(Q(email__iexact=email.strip())).first()
        if user is None:
            raise CommandError(_("Aucun compte avec l'adresse %(email)s.") % {"email": email})
        if not user.is_active:
            raise CommandError(_("Ce compte est désactivé : réactivez-le d'abord."))
        record(SYSTEM, "user.password_link", user, actor_label="carbet setpassword-link")
        self.stdout.write(absolute_url(set_password_path(user)))
        self.stderr.write(
            _("Lien valable une seule fois et quelques jours ; remettez-le par un moyen sûr.")
        )
