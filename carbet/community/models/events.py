"""Events of the community (trainings, webinars, exercises, meetings) and registrations."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import EventKind, EventStatus, RegistrationStatus
from carbet.community.models.targeting import Targeted
from carbet.core.tenancy import TenantQuerySet


class Event(Targeted):
    title = models.CharField(_("titre"), max_length=200)
    kind = models.CharField(_("type"), max_length=10, choices=EventKind.choices)
    description = models.TextField(_("programme (Markdown)"), max_length=10000, blank=True)
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))
    location = models.CharField(_("lieu"), max_length=300, blank=True)
    online_url = models.URLField(_("lien de connexion"), blank=True)
    capacity = models.PositiveIntegerField(_("places (0 : sans limite)"), default=0)
    registration_closes_at = models.DateTimeField(
        _("inscriptions jusqu'au"), null=True, blank=True
    )
    status = models.CharField(
        max_length=10, choices=EventStatus.choices, default=EventStatus.SCHEDULED
    )
    # Incremented on every change, so calendar programs update their copy (iCalendar SEQUENCE).
    sequence = models.PositiveIntegerField(default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("événement")
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return self.title


class Registration(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations"
    )
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="event_registrations"
    )
    status = models.CharField(
        max_length=10, choices=RegistrationStatus.choices, default=RegistrationStatus.REGISTERED
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    reminded_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("inscription")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="community_registration_once")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} – {self.user_id}"


class CalendarFeed(models.Model):
    """A person's private iCalendar address; only the token's digest is stored."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"agenda {self.user_id}"
