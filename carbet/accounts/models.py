"""Users, their memberships on structures/organisations/GHTs, and personal API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.accounts.roles import CENTRE_STAFF_ROLES, MFA_REQUIRED_ROLES, CentreRole, StructureRole


class User(AbstractUser):
    """A person with an account. The login is the e-mail address."""

    email = models.EmailField(_("adresse e-mail"), unique=True)
    full_name = models.CharField(_("nom complet"), max_length=200, blank=True)
    centre_role = models.CharField(
        _("rôle régional"), max_length=20, choices=CentreRole.choices, blank=True, default=""
    )
    language = models.CharField(_("langue"), max_length=5, choices=settings.LANGUAGES, default="fr")

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email or self.username

    @property
    def is_centre_staff(self) -> bool:
        return self.centre_role in CENTRE_STAFF_ROLES

    @property
    def mfa_required(self) -> bool:
        return self.is_superuser or self.centre_role in MFA_REQUIRED_ROLES


class Membership(models.Model):
    """A structure role held on exactly one of: a structure, an organisation or a GHT."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("rôle"), max_length=20, choices=StructureRole.choices)
    structure = models.ForeignKey(
        "core.Structure", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    ght = models.ForeignKey(
        "core.Ght", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("rattachement")
        constraints = [
            models.CheckConstraint(
                name="membership_exactly_one_scope",
                condition=(
                    models.Q(structure__isnull=False, organisation__isnull=True, ght__isnull=True)
                    | models.Q(structure__isnull=True, organisation__isnull=False, ght__isnull=True)
                    | models.Q(structure__isnull=True, organisation__isnull=True, ght__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.scope}"

    def clean(self) -> None:
        scopes = (self.structure_id, self.organisation_id, self.ght_id)
        if sum(x is not None for x in scopes) != 1:
            raise ValidationError(
                _("Choisissez une seule portée : structure, organisation ou GHT.")
            )

    @property
    def scope(self):
        return self.structure or self.organisation or self.ght


class LoginAttempt(models.Model):
    """Failed logins, kept to lock out password guessing (per account and per address)."""

    username = models.CharField(max_length=254, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def default_token_expiry() -> dt.datetime:
    """When a token expires if its owner chose no date: ``CARBET_API_TOKEN_DAYS`` from now."""
    return timezone.now() + dt.timedelta(days=settings.CARBET_API_TOKEN_DAYS)


class TokenState(models.TextChoices):
    """Why a presented token opens the API or not (the API says it in its 401 message)."""

    ACTIVE = "active"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    INACTIVE_USER = "inactive_user"


class ApiToken(models.Model):
    """A personal API token: it carries exactly its owner's rights, expires and can be revoked.

    Only a SHA-256 of the token is stored; the token itself is shown once, at creation. Every
    token has an end date (a stolen script's token must not work forever) and all of an
    account's tokens are revoked when its password changes (``carbet.accounts.passwords``).
    """

    PREFIX = "cbt_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nom"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expire le"), default=default_token_expiry)
    # Set on tokens created before expiry was mandatory: the upgrade gave them an end date, and
    # the profile page says so to their owner.
    expiry_added = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        verbose_name = _("jeton d'API")

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})"

    @classmethod
    def issue(
        cls, user: User, name: str, expires_at: dt.datetime | None = None
    ) -> tuple[ApiToken, str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            token_hash=_hash_token(raw),
            hint=raw[-6:],
            expires_at=expires_at or default_token_expiry(),
        )
        return token, raw

    @classmethod
    def lookup(cls, raw: str) -> tuple[TokenState, ApiToken | None]:
        """The token ``raw`` names and whether it opens the API now (last use is recorded)."""
        if not raw.startswith(cls.PREFIX):
            return TokenState.UNKNOWN, None
        token = cls.objects.select_related("user").filter(token_hash=_hash_token(raw)).first()
        now = timezone.now()
        if token is None:
            return TokenState.UNKNOWN, None
        if token.revoked_at is not None:
            return TokenState.REVOKED, token
        if token.expires_at <= now:
            return TokenState.EXPIRED, token
        if not token.user.is_active:
            return TokenState.INACTIVE_USER, token
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return TokenState.ACTIVE, token

    @classmethod
    def authenticate(cls, raw: str) -> User | None:
        state, token = cls.lookup(raw)
        return token.user if state == TokenState.ACTIVE and token is not None else None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
