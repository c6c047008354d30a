"""Tables of the security-by-design service: digital services, their measures' states,
security decisions, vendor questionnaires and the medico-social track."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.bydesign.choices import (
    Availability,
    DataKind,
    DecisionOutcome,
    Hosting,
    MeasureStatus,
    ServiceKind,
)
from carbet.core.tenancy import TenantQuerySet


class DigitalService(models.Model):
    """One digital service a structure uses or deploys (care record, mail, telemedicine…)."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="digital_services"
    )
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=ServiceKind.choices)
    description = models.TextField(_("à quoi il sert"), blank=True, max_length=4000)
    users = models.CharField(_("qui l'utilise"), max_length=300, blank=True)
    data_kind = models.CharField(_("données traitées"), max_length=10, choices=DataKind.choices)
    hosting = models.CharField(_("hébergement"), max_length=12, choices=Hosting.choices)
    hds_certified = models.BooleanField(_("hébergeur certifié HDS"), null=True, blank=True)
    internet_exposed = models.BooleanField(_("accessible depuis internet"), default=False)
    availability = models.CharField(
        _("combien de temps les soins peuvent s'en passer"),
        max_length=8,
        choices=Availability.choices,
    )
    vendor_name = models.CharField(_("éditeur ou prestataire"), max_length=200, blank=True)
    vendor_email = models.EmailField(_("e-mail du fournisseur"), blank=True)
    # The cyber index (0–5) as last computed, for lists and the region's figures.
    index_value = models.DecimalField(max_digits=2, decimal_places=1, null=True, blank=True)
    essentials_missing = models.PositiveSmallIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)
    # Why the current decision no longer covers the service (hosting or exposure changed).
    review_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("service numérique")
        ordering = ["structure__name", "name"]

    def __str__(self) -> str:
        return self.name


class MeasureState(models.Model):
    """The state of one measure for one service: what people declared and what Carbet measured."""

    service = models.ForeignKey(DigitalService, on_delete=models.CASCADE, related_name="states")
    code = models.CharField(max_length=40)
    status = models.CharField(
        max_length=12, choices=MeasureStatus.choices, default=MeasureStatus.NOT_DONE
    )
    reason = models.CharField(_("pourquoi sans objet"), max_length=500, blank=True)
    evidence = models.TextField(_("preuve ou commentaire"), blank=True, max_length=4000)
    auto_status = models.CharField(max_length=12, choices=MeasureStatus.choices, blank=True)
    auto_source = models.CharField(max_length=20, blank=True)
    auto_reason = models.CharField(max_length=40, blank=True)
    auto_on = models.DateField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "service__structure"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="bydesign_state_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"

    @property
    def effective(self) -> str:
        """Not applicable (declared, with a reason) wins; then what Carbet measured."""
        if self.status == MeasureStatus.NA:
            return self.status
        return self.auto_status or self.status


class Decision(models.Model):
    """The director's security decision (homologation) on a service, for a limited time."""

    service = models.ForeignKey(DigitalService, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(_("décision"), max_length=12, choices=DecisionOutcome.choices)
    conditions = models.TextField(_("conditions"), blank=True, max_length=4000)
    residual_risks = models.TextField(_("risques acceptés"), blank=True, max_length=4000)
    valid_from = models.DateField(_("valable à partir du"))
    valid_until = models.DateField(_("valable jusqu'au"))
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    signer_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    # What the service was when decided: a change of these asks for a new decision.
    snapshot = models.JSONField(default=dict)
    index_value = models.DecimalField(max_digits=2, decimal_places=1, null=True, blank=True)
    # The dossier as signed (PDF, stored once through ``carbet.core.uploads``) and its digest.
    dossier = models.CharField(max_length=300, blank=True)
    dossier_sha256 = models.CharField(max_length=64, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    reminded_before_on = models.DateField(null=True, blank=True)
    reminded_after_on = models.DateField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "service__structure"

    class Meta:
        ordering = ["-signed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.service} — {self.get_outcome_display()}"

    def in_force(self, today: date) -> bool:
        return (
            self.outcome != DecisionOutcome.REFUSE
            and self.superseded_at is None
            and self.valid_from <= today <= self.valid_until
        )


class VendorRequest(models.Model):
    """A questionnaire sent to a vendor or IT provider by signed link (no account)."""

    service = models.ForeignKey(
        DigitalService, on_delete=models.CASCADE, related_name="vendor_requests"
    )
    email = models.EmailField(_("e-mail du fournisseur"))
    token_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    reminders = models.PositiveSmallIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "service__structure"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.created_at:%d/%m/%Y})"


class VendorAttachment(models.Model):
    request = models.ForeignKey(VendorRequest, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=200)
    stored = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()

    objects = TenantQuerySet.as_manager()
    tenant_path = "request__service__structure"

    def __str__(self) -> str:
        return self.name


class TrackMark(models.Model):
    """One of the ten essentials declared done (or in progress) by the structure."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="track_marks"
    )
    code = models.CharField(max_length=40)
    status = models.CharField(
        max_length=12, choices=MeasureStatus.choices, default=MeasureStatus.NOT_DONE
    )
    note = models.CharField(_("commentaire"), max_length=500, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["structure", "code"], name="bydesign_mark_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"


class TrackPush(models.Model):
    """A step the centre pushed to a group of structures ("this month: backups")."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="track_pushes"
    )
    code = models.CharField(max_length=40)
    message = models.CharField(_("message"), max_length=500, blank=True)
    pushed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    pushed_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        ordering = ["-pushed_at", "-pk"]

    def __str__(self) -> str:
        return self.code


class TrackStatus(models.Model):
    """Where a medico-social structure stands on the track, as last computed (nightly and after
    each change): the region's progress reads these rows, never recomputes the whole region."""

    structure = models.OneToOneField(
        "core.Structure", on_delete=models.CASCADE, related_name="track_status"
    )
    step = models.CharField(max_length=12)
    progress = models.PositiveSmallIntegerField(default=0)
    next_step = models.CharField(max_length=40, blank=True)
    essentials = models.JSONField(default=dict)  # code → done / in_progress / not_done
    essentials_done = models.PositiveSmallIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        indexes = [models.Index(fields=["step"])]

    def __str__(self) -> str:
        return f"{self.structure_id}: {self.step}"
