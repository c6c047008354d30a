"""The audit trail: append-only entries, each sealed (keyed HMAC) over the one before."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.tenancy import TenantQuerySet


class AuditEntryQuerySet(TenantQuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only.")

    def delete(self):
        raise PermissionError("The audit trail is append-only.")


class AuditEntry(models.Model):
    """One sensitive action. Never updated nor deleted: ``carbet audit verify`` proves it."""

    sequence = models.PositiveBigIntegerField(unique=True)
    # The actor and structure ids are part of the sealed content: deleting a user or a
    # structure must leave them as they were (DO_NOTHING, no database constraint); the labels
    # keep the entry readable afterwards.
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(_("acteur"), max_length=254)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("type d'objet"), max_length=80, blank=True)
    object_id = models.CharField(_("objet"), max_length=80, blank=True)
    object_label = models.CharField(_("libellé"), max_length=255, blank=True)
    structure = models.ForeignKey(
        "core.Structure",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    changes = models.JSONField(_("changements"), default=dict, blank=True)
    source_ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    # The seal: plain SHA-256 for scheme 1 (entries written before the keyed chain), an
    # HMAC-SHA256 with the audit key ``key_id`` for scheme 2 (see ``carbet.audit.chain``).
    entry_hash = models.CharField(max_length=64, unique=True)
    scheme = models.PositiveSmallIntegerField(default=1)
    key_id = models.CharField(max_length=32, blank=True, default="")

    objects = AuditEntryQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("entrée du journal d'audit")
        ordering = ["-sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only.")
