"""``carbet createadmin``: create the first centre administrator from the command line."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from carbet.accounts.models import User
from carbet.accounts.roles import CentreRole
from carbet.audit.services import record
from carbet.core.tenancy import SYSTEM

PROMPT_ATTEMPTS = 3


class Command(BaseCommand):
    help = _(
        "Crée un compte d'administrateur du centre. Le mot de passe est lu dans un fichier "
        "(--password-file) ou demandé deux fois au clavier."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True, help=_("Adresse e-mail (identifiant)."))
        parser.add_argument("--name", default="", help=_("Nom complet."))
        parser.add_argument(
            "--password-file",
            type=Path,
            help=_("Fichier dont la première ligne est le mot de passe (à supprimer ensuite)."),
        )

    def handle(self, *args, email: str, name: str, password_file: Path | None, **options):
        email = User.objects.normalize_email(email.strip()).lower()
        if not email or "@" not in email:
            raise CommandError(_("Adresse e-mail invalide : %(email)s") % {"email": email})
        if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
            raise CommandError(
                _("Un compte existe déjà avec l'adresse %(email)s : rien n'a été créé.")
                % {"email": email}
            )
        candidate = User(username=email, email=email, full_name=name.strip())
        if password_file is not None:
            password = self._from_file(password_file)
            self._validate(password, candidate)
        else:
            password = self._prompt(candidate)
        with transaction.atomic():
            candidate.centre_role = CentreRole.ADMIN
            candidate.set_password(password)
            candidate.full_clean()
            candidate.save()
            record(
                SYSTEM,
                "user.create",
                candidate,
                actor_label="carbet createadmin",
                changes={"email": [None, email], "centre_role": [None, CentreRole.ADMIN.value]},
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Compte administrateur du centre créé pour %(email)s.") % {"email": email}
            )
        )
        self.stdout.write(
            _(
                "À la première connexion, il faudra activer la double authentification : "
                "prévoyez un téléphone avec une application comme FreeOTP, Google Authenticator "
                "ou Microsoft Authenticator."
            )
        )

    def _from_file(self, path: Path) -> str:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(
                _("Impossible de lire %(path)s : %(error)s") % {"path": path, "error": error}
            ) from error
        lines = text.splitlines()
        password = lines[0] if lines else ""
        if not password:
            raise CommandError(_("Le fichier de mot de passe est vide."))
        return password

    def _validate(self, password: str, user: User) -> None:
        try:
            validate_password(password, user=user)
        except ValidationError as error:
            raise CommandError(
                _("Mot de passe refusé :") + "\n- " + "\n- ".join(error.messages)
            ) from error

    def _prompt(self, user: User) -> str:
        if not sys.stdin.isatty():
            raise CommandError(
                _("Pas de terminal pour demander le mot de passe : utilisez --password-file.")
            )
        for _attempt in range(PROMPT_ATTEMPTS):
            first = getpass.getpass(_("Mot de passe (12 caractères au moins) : "))
            second = getpass.getpass(_("Confirmez le mot de passe : "))
            if first != second:
                self.stderr.write(_("Les deux saisies diffèrent, recommencez."))
                continue
            try:
                validate_password(first, user=user)
            except ValidationError as error:
                self.stderr.write(_("Mot de passe refusé :") + "\n- " + "\n- ".join(error.messages))
                continue
            return first
        raise CommandError(_("Trop d'essais : aucun compte n'a été créé."))
