"""The filter form of the audit trail page."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.accounts.roles import Perm
from carbet.audit.presentation import action_label
from carbet.core.models import Structure


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(
        label=_("Auteur (adresse e-mail)"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    structure = forms.ModelChoiceField(
        label=_("Structure"), queryset=Structure.objects.none(), required=False
    )
    date_from = forms.DateField(
        label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Au"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, user: Any, entries: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only actions and structures the viewer may see are offered.
        actions = entries.order_by("action").values_list("action", flat=True).distinct()
        labelled = [(a, action_label(a)) for a in actions]
        self.fields["action"].choices = [("", _("Toutes")), *labelled]
        self.fields["structure"].queryset = Structure.objects.visible_to(
            user, Perm.AUDIT_VIEW_STRUCTURE
        ).only("pk", "name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("La date de fin précède la date de début."))
        return data

    def apply(self, entries: QuerySet) -> QuerySet:
        data = self.cleaned_data
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        if data.get("actor"):
            entries = entries.filter(actor_label__icontains=data["actor"].strip())
        if data.get("structure"):
            entries = entries.filter(structure_id=data["structure"].pk)
        zone = timezone.get_current_timezone()
        if data.get("date_from"):
            entries = entries.filter(at__gte=datetime.combine(data["date_from"], time.min, zone))
        if data.get("date_to"):
            next_day = data["date_to"] + timedelta(days=1)
            entries = entries.filter(at__lt=datetime.combine(next_day, time.min, zone))
        return entries
