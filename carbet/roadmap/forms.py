"""Forms of the roadmap pages. They only shape input; the services check rights and rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.core.forms import DateInput
from carbet.roadmap.models import BackupSystem, FundingDomain, ItemStatus, Requirement, Result
from carbet.roadmap.models.backups import RestoreResult

MAX_UPLOAD_MB = 20


class AnswerForm(forms.Form):
    requirement = forms.CharField(widget=forms.HiddenInput, max_length=60)
    result = forms.ChoiceField(label=_("Où en êtes-vous ?"), choices=Result.choices)
    justification = forms.CharField(
        label=_("Justification"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EvidenceForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=200)
    document = forms.FileField(
        label=_("Fichier"),
        help_text=_("PDF, image ou document bureautique, 20 Mo au plus."),
    )
    issued_on = forms.DateField(label=_("Date du document"), widget=DateInput())
    valid_until = forms.DateField(
        label=_("Valable jusqu'au"),
        required=False,
        widget=DateInput(),
        help_text=_("Carbet vous préviendra 30 jours avant, puis à l'expiration."),
    )
    requirements = forms.ModelMultipleChoiceField(
        label=_("Ce document prouve"),
        queryset=Requirement.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    share_with = forms.ModelMultipleChoiceField(
        label=_("Il vaut aussi pour"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Un même plan de continuité pour plusieurs établissements de l'organisation ou du GHT."
        ),
    )
    note = forms.CharField(
        label=_("Commentaire"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, share_targets, requirements, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["share_with"].queryset = share_targets
        self.fields["requirements"].queryset = requirements
        self.fields["requirements"].label_from_instance = lambda r: f"{r.framework.code} · {r}"
        if not share_targets.exists():
            del self.fields["share_with"]


class ShareForm(forms.Form):
    share_with = forms.ModelMultipleChoiceField(
        label=_("Structures couvertes en plus de la vôtre"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, share_targets, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["share_with"].queryset = share_targets


class ItemForm(forms.Form):
    title = forms.CharField(label=_("Chantier"), max_length=200)
    why = forms.CharField(
        label=_("Pourquoi"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    how = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    year = forms.IntegerField(label=_("Année"), min_value=2000, max_value=2100)
    priority = forms.TypedChoiceField(
        label=_("Priorité"),
        coerce=int,
        choices=[(1, _("1 — d'abord")), (2, _("2 — ensuite")), (3, _("3 — plus tard"))],
    )
    status = forms.ChoiceField(label=_("État"), choices=ItemStatus.choices)
    owner_label = forms.CharField(label=_("Responsable"), max_length=200, required=False)
    budget = forms.DecimalField(
        label=_("Budget (€)"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    funding_domain = forms.ChoiceField(
        label=_("Financement"), choices=FundingDomain.choices, required=False
    )
    funding_amount = forms.DecimalField(
        label=_("Montant financé (€)"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    funding_deadline = forms.DateField(
        label=_("Échéance du financement"), required=False, widget=DateInput()
    )
    findings = forms.ModelMultipleChoiceField(
        label=_("Vulnérabilités liées"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    action_items = forms.ModelMultipleChoiceField(
        label=_("Actions correctives liées"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args: Any, findings, actions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["findings"].queryset = findings
        self.fields["action_items"].queryset = actions

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("findings", None)
        data.pop("action_items", None)
        data["funding_domain"] = data.get("funding_domain") or ""
        for name in ("why", "how", "owner_label"):
            data[name] = data.get(name) or ""
        return data


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Jalon"), max_length=200)
    due_on = forms.DateField(label=_("Prévu le"), widget=DateInput())


class BackupSystemForm(forms.ModelForm):
    class Meta:
        model = BackupSystem
        fields = [
            "name",
            "criticality",
            "method",
            "frequency_days",
            "copies",
            "media",
            "offsite",
            "immutable_offline",
            "supervised",
            "last_success_on",
            "notes",
        ]
        widgets = {"last_success_on": DateInput(), "notes": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "copies": _("Règle 3-2-1 : trois copies…"),
            "media": _("… sur deux supports différents…"),
            "offsite": _("… dont une hors du bâtiment."),
            "immutable_offline": _(
                "Une copie débranchée ou non modifiable : le rançongiciel ne l'atteint pas."
            ),
        }


class RestoreTestForm(forms.Form):
    tested_on = forms.DateField(label=_("Date du test"), widget=DateInput())
    scope = forms.CharField(label=_("Ce qui a été restauré"), max_length=300)
    result = forms.ChoiceField(label=_("Résultat"), choices=RestoreResult.choices)
    to_production = forms.BooleanField(label=_("Restauré jusqu'en production"), required=False)
    business_referent = forms.CharField(
        label=_("Référent métier qui a vérifié"),
        max_length=200,
        required=False,
        help_text=_("Une personne du service concerné (soins, administration) : CaRE le demande."),
    )
    duration_hours = forms.DecimalField(
        label=_("Durée (heures)"), required=False, min_value=0, max_digits=6, decimal_places=1
    )
    notes = forms.CharField(
        label=_("Remarques"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ManualIndicatorForm(forms.Form):
    code = forms.ChoiceField(label=_("Indicateur"))
    value = forms.FloatField(label=_("Valeur"), min_value=0)
    note = forms.CharField(label=_("Commentaire"), required=False, max_length=300)

    def __init__(self, *args: Any, choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = choices


class FrameworkUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier de référentiel (JSON)"),
        help_text=_(
            "Format décrit dans docs/frameworks.md ; rien n'est chargé si le fichier a une erreur."
        ),
    )
