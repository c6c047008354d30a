"""Forms of the security-by-design pages. They shape input; the services check rights and rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.bydesign.choices import (
    Availability,
    DataKind,
    DecisionOutcome,
    Hosting,
    MeasureStatus,
    ServiceKind,
)
from carbet.bydesign.models import DigitalService
from carbet.engines.bydesign.track import ESSENTIALS

HDS_CHOICES = [("", _("Je ne sais pas / sans objet")), ("yes", _("Oui")), ("no", _("Non"))]


class ServiceForm(forms.ModelForm):
    hds = forms.TypedChoiceField(
        label=_("L'hébergeur est-il certifié HDS ?"),
        choices=HDS_CHOICES,
        required=False,
        coerce=lambda v: {"yes": True, "no": False}.get(v),
        empty_value=None,
        help_text=_(
            "Obligatoire quand un tiers (prestataire, éditeur en ligne) garde des données de santé."
        ),
    )

    class Meta:
        model = DigitalService
        fields = [
            "name",
            "kind",
            "description",
            "users",
            "data_kind",
            "hosting",
            "internet_exposed",
            "availability",
            "vendor_name",
            "vendor_email",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "internet_exposed": _(
                "Cochez si on peut s'y connecter depuis l'extérieur de la structure (site, "
                "portail, accès à distance)."
            ),
            "availability": _("Au-delà, la prise en charge des résidents est mise en difficulté."),
        }

    field_order = [
        "name",
        "kind",
        "description",
        "users",
        "data_kind",
        "hosting",
        "hds",
        "internet_exposed",
        "availability",
        "vendor_name",
        "vendor_email",
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ServiceKind.choices
        self.fields["data_kind"].choices = DataKind.choices
        self.fields["hosting"].choices = Hosting.choices
        self.fields["availability"].choices = Availability.choices
        if self.instance.pk and self.instance.hds_certified is not None:
            self.initial["hds"] = "yes" if self.instance.hds_certified else "no"

    def values(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["hds_certified"] = self.cleaned_data.get("hds")
        return data


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("État"), choices=MeasureStatus.choices)
    reason = forms.CharField(
        label=_("Pourquoi sans objet"),
        required=False,
        max_length=500,
        help_text=_("Obligatoire si la mesure est sans objet."),
    )
    evidence = forms.CharField(
        label=_("Preuve ou commentaire"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Votre décision"), choices=DecisionOutcome.choices)
    months = forms.TypedChoiceField(
        label=_("Durée de validité"),
        coerce=int,
        choices=[(6, _("6 mois")), (12, _("1 an")), (24, _("2 ans")), (36, _("3 ans"))],
        initial=12,
        help_text=_("Plus le service est sensible ou incomplet, plus la durée doit être courte."),
    )
    conditions = forms.CharField(
        label=_("Conditions"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Obligatoires pour une acceptation sous conditions : ce qui doit être fait, et quand."
        ),
    )
    residual_risks = forms.CharField(
        label=_("Risques que vous acceptez"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_("Je signe cette décision en tant que directeur ou directrice de la structure."),
    )


class VendorRequestForm(forms.Form):
    email = forms.EmailField(label=_("E-mail du fournisseur"))
    days = forms.TypedChoiceField(
        label=_("Lien valable"),
        coerce=int,
        choices=[(14, _("14 jours")), (30, _("30 jours")), (60, _("60 jours"))],
        initial=30,
    )


class MarkForm(forms.Form):
    code = forms.ChoiceField(choices=[(c, c) for c in ESSENTIALS], widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("Où en êtes-vous ?"),
        choices=[c for c in MeasureStatus.choices if c[0] != MeasureStatus.NA],
    )
    note = forms.CharField(label=_("Commentaire"), required=False, max_length=500)


class PushForm(forms.Form):
    code = forms.ChoiceField(label=_("Étape à pousser"), choices=())
    categories = forms.MultipleChoiceField(
        label=_("Catégories de structures"),
        choices=(),
        widget=forms.CheckboxSelectMultiple,
    )
    departement = forms.CharField(label=_("Département (facultatif)"), required=False, max_length=3)
    message = forms.CharField(label=_("Message aux structures"), required=False, max_length=500)
