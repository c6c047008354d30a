"""The region's correction deadlines (SLA), set by the centre admin."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core.tenancy import can
from carbet.findings import sla
from carbet.findings.models import SlaPolicy

POLICY_FIELDS = [
    "critical_days",
    "high_days",
    "medium_days",
    "low_days",
    "kev_max_days",
    "exposed_factor_percent",
]


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = POLICY_FIELDS

    def clean(self):
        data = super().clean()
        days = [
            data.get(name) for name in ("critical_days", "high_days", "medium_days", "low_days")
        ]
        if None not in days and (min(days) < 1 or days != sorted(days)):
            raise forms.ValidationError(
                _(
                    "Les délais doivent aller du plus court (critique) au plus long (faible), "
                    "d'au moins un jour."
                )
            )
        factor = data.get("exposed_factor_percent")
        if factor is not None and not 1 <= factor <= 100:
            self.add_error("exposed_factor_percent", _("Entre 1 et 100 %."))
        return data


@transaction.atomic
def save_policy(actor, form: SlaPolicyForm, ip: str | None) -> SlaPolicy:
    """Each change is a new row, so the deadlines in force at any date stay known."""
    before = sla.current_policy()
    policy = SlaPolicy(**{name: form.cleaned_data[name] for name in POLICY_FIELDS})
    policy.updated_at = timezone.now()
    policy.save()
    audit.record(
        actor,
        "sla.update",
        policy,
        changes={
            name: [getattr(before, name), getattr(policy, name)]
            for name in POLICY_FIELDS
            if getattr(before, name) != getattr(policy, name)
        },
        ip=ip,
    )
    return policy


@login_required
def sla_settings(request):
    if not can(request.user, Perm.SETTINGS_MANAGE):
        raise PermissionDenied
    current = sla.current_policy()
    form = SlaPolicyForm(
        request.POST or None,
        instance=SlaPolicy(**{name: getattr(current, name) for name in POLICY_FIELDS}),
    )
    if request.method == "POST" and form.is_valid():
        save_policy(request.user, form, audit.client_ip(request))
        messages.success(
            request,
            _(
                "Les nouveaux délais s'appliquent aux vulnérabilités "
                "détectées à partir de maintenant."
            ),
        )
        return redirect("findings:sla_settings")
    return render(
        request, "findings/findings/sla_settings.html", {"form": form, "current": current}
    )
