"""Forms of the action-plan and campaign pages. They parse and check input; services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.core.forms import DateInput
from carbet.core.models import Structure
from carbet.findings.models import ActionItem, Campaign, Finding, Priority
from carbet.findings.models.plans import Effort
from carbet.findings.plans.selectors import (
    OWNER_FILTER_CHOICES,
    STATUS_FILTER_CHOICES,
    STATUS_OPEN,
    PlanFilters,
)
from carbet.findings.plans.services import EDITABLE, PROGRESS_STATUSES

FUNDING_LIST_ID = "funding-suggestions"
ROLE_LIST_ID = "role-suggestions"


class FindingChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Finding) -> str:
        return f"{obj.get_severity_display()} — {obj.title}"


class ActionForm(forms.ModelForm):
    """Define or change an action: what, why, how, who, when, how much."""

    findings = FindingChoiceField(
        label=_("Vulnérabilités corrigées par cette action"),
        queryset=Finding.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ActionItem
        fields = list(EDITABLE)
        labels = {
            "title": _("Action à mener"),
            "why": _("Pourquoi (en mots simples)"),
            "how": _("Comment (les étapes)"),
            "owner_kind": _("Qui s'en charge"),
            "owner_user": _("Personne responsable"),
            "owner_label": _("Rôle ou nom du prestataire"),
        }
        help_texts = {
            "why": _("Le risque pour l'établissement si rien n'est fait."),
            "how": _("Ce qu'il faut faire, étape par étape, pour qui le fera."),
            "owner_label": _(
                "Pour un rôle : par exemple « Direction ». Pour le prestataire : son nom."
            ),
            "funding_source": _(
                "Par exemple : CaRE domaine 1, CaRE domaine 2, budget propre, GHT."
            ),
        }
        widgets = {
            "why": forms.Textarea(attrs={"rows": 4}),
            "how": forms.Textarea(attrs={"rows": 5}),
            "due_date": DateInput(),
            "owner_label": forms.TextInput(attrs={"list": ROLE_LIST_ID}),
            "funding_source": forms.TextInput(attrs={"list": FUNDING_LIST_ID}),
            "cost_estimate": forms.NumberInput(attrs={"min": "0", "step": "0.01"}),
        }

    def __init__(self, *args: Any, owners: Any, findings: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_user"].queryset = owners
        self.fields["owner_user"].required = False
        self.fields["owner_user"].empty_label = _("— personne —")
        self.fields["findings"].queryset = findings
        self.fields["effort"].choices = [("", _("— non estimé —")), *Effort.choices]
        if self.instance.pk:
            self.fields["findings"].initial = list(
                self.instance.findings.values_list("pk", flat=True)
            )


class ProgressForm(forms.Form):
    status = forms.ChoiceField(
        label=_("État"),
        choices=[(s.value, s.label) for s in PROGRESS_STATUSES],
    )
    progress = forms.IntegerField(label=_("Avancement (%)"), min_value=0, max_value=100)
    note = forms.CharField(
        label=_("Commentaire (facultatif)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Pourquoi abandonner cette action ?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EvidenceForm(forms.Form):
    note = forms.CharField(
        label=_("Ce qui a été fait"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Par exemple : « mise à jour installée le 12/03 par le prestataire »."),
    )
    document = forms.FileField(
        label=_("Document (facultatif)"),
        required=False,
        help_text=_("PDF, PNG, JPEG ou texte : capture d'écran, facture, rapport du prestataire."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.txt"}),
    )
    claim_done = forms.BooleanField(
        label=_("L'action est terminée : la déclarer faite"), required=False, initial=True
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not (data.get("note") or "").strip() and not data.get("document"):
            raise forms.ValidationError(_("Décrivez ce qui a été fait ou joignez un document."))
        return data


class FromFindingsForm(forms.Form):
    """Selected findings (posted by the findings list) and how to turn them into actions."""

    GROUPED, EACH = "grouped", "each"

    findings = forms.TypedMultipleChoiceField(
        label=_("Vulnérabilités"), coerce=int, widget=forms.MultipleHiddenInput
    )
    mode = forms.ChoiceField(
        label=_("Créer"),
        choices=[
            (GROUPED, _("une seule action pour toutes ces vulnérabilités")),
            (EACH, _("une action par vulnérabilité")),
        ],
        initial=GROUPED,
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        if data is not None and not data.getlist("findings") and data.getlist("finding"):
            # The findings list names its checkboxes "finding": accept its selection as is.
            data = data.copy()
            data.setlist("findings", data.getlist("finding"))
        super().__init__(data, **kwargs)
        posted = self.data.getlist("findings") if hasattr(self.data, "getlist") else []
        self.fields["findings"].choices = [(v, v) for v in posted if str(v).isdigit()]

    def clean_mode(self) -> str:
        return self.cleaned_data.get("mode") or self.GROUPED


class PlanFilterForm(forms.Form):
    """GET filters of the plan page: bookmarkable, all optional, never an error page."""

    structure = forms.ModelChoiceField(
        label=_("Structure"),
        required=False,
        queryset=Structure.objects.none(),
        empty_label=_("Toutes"),
    )
    status = forms.ChoiceField(label=_("État"), required=False, choices=STATUS_FILTER_CHOICES)
    priority = forms.TypedChoiceField(
        label=_("Priorité"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Toutes")), *Priority.choices],
    )
    owner = forms.ChoiceField(label=_("Responsable"), required=False, choices=OWNER_FILTER_CHOICES)
    overdue = forms.BooleanField(label=_("En retard seulement"), required=False)

    def __init__(self, data: Any, *, structures: Any) -> None:
        super().__init__(data)
        self.fields["structure"].queryset = structures

    def filters(self) -> PlanFilters:
        if not self.is_valid():
            return PlanFilters()
        data = self.cleaned_data
        structure = data.get("structure")
        return PlanFilters(
            structure=structure.pk if structure else None,
            status=data.get("status") or STATUS_OPEN,
            priority=data.get("priority"),
            owner=data.get("owner") or "",
            overdue=bool(data.get("overdue")),
        )


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["title", "description", "notice", "match_cve", "match_rule", "match_product"]
        labels = {
            "title": _("Titre de la campagne (il devient le titre de l'action)"),
            "description": _("Pourquoi c'est important"),
            "match_cve": _("CVE concernée"),
            "match_rule": _("Identifiant de règle"),
            "match_product": _("Produit (partie du nom)"),
        }
        help_texts = {
            "match_cve": _("Par exemple CVE-2024-3400."),
            "match_rule": _("Par exemple tls.cert.expired."),
            "match_product": _("Par exemple « FortiOS » : trouve tous les produits qui le citent."),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "notice": forms.Textarea(attrs={"rows": 6}),
        }
