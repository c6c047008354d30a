"""Forms of the awareness staff pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.awareness.models import (
    AwarenessSettings,
    Campaign,
    EmailTemplate,
    ReportingMailbox,
    SmtpProfile,
    TargetGroup,
)
from carbet.awareness.service import AwarenessPerm
from carbet.core.forms import DateInput
from carbet.core.models import Structure
from carbet.core.tenancy import Actor


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


class TimeInput(forms.TimeInput):
    input_type = "time"


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "structure",
            "name",
            "template",
            "smtp_profile",
            "groups",
            "training",
            "privacy",
            "dpo_reference",
            "representatives_informed_on",
            "launch_at",
            "send_by",
            "business_hours_only",
            "day_start",
            "day_end",
            "per_minute",
            "retention_days",
            "include_bots",
        ]
        widgets = {
            "representatives_informed_on": DateInput,
            "launch_at": DateTimeInput,
            "send_by": DateTimeInput,
            "day_start": TimeInput,
            "day_end": TimeInput,
            "groups": forms.CheckboxSelectMultiple,
        }
        labels = {
            "structure": _("Structure"),
            "template": _("Modèle de message"),
            "smtp_profile": _("Serveur d'envoi"),
            "groups": _("Groupes de destinataires"),
            "training": _("Formation proposée après un clic"),
        }
        help_texts = {
            "groups": _("Aucun groupe coché : tout le personnel importé de la structure."),
            "privacy": _(
                "Pseudonyme par défaut. La direction ne voit jamais que des chiffres par service."
            ),
            "training": _("Attribué automatiquement après un clic."),
        }

    def __init__(
        self, *args: Any, actor: Actor = None, structure_id: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        structures = Structure.objects.visible_to(actor, AwarenessPerm.MANAGE)
        self.fields["structure"].queryset = structures
        # Only the chosen structure's groups are offered (never another structure's staff):
        # the structure comes from the posted form, the ``?structure=`` of the first step,
        # the campaign being edited, or is the only one the user manages.
        chosen = self.data.get("structure") or structure_id or self.instance.structure_id
        if not chosen:
            only = list(structures.values_list("pk", flat=True)[:2])
            chosen = only[0] if len(only) == 1 else None
        try:
            self.chosen_structure = structures.filter(pk=int(chosen)).first() if chosen else None
        except (TypeError, ValueError):
            self.chosen_structure = None
        groups = TargetGroup.objects.visible_to(actor, AwarenessPerm.MANAGE)
        if self.chosen_structure is None:
            groups = groups.none()
        else:
            groups = groups.filter(structure=self.chosen_structure)
            self.initial.setdefault("structure", self.chosen_structure.pk)
        self.fields["groups"].queryset = groups

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        structure = data.get("structure")
        for group in data.get("groups") or []:
            if structure is not None and group.structure_id != structure.pk:
                self.add_error("groups", _("Ce groupe appartient à une autre structure."))
        start, end = data.get("day_start"), data.get("day_end")
        if start and end and end <= start:
            self.add_error("day_end", _("L'heure de fin doit suivre l'heure de début."))
        launch, send_by = data.get("launch_at"), data.get("send_by")
        if launch and send_by and send_by <= launch:
            self.add_error("send_by", _("La date limite doit suivre le début des envois."))
        return data


class TargetImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier du personnel (CSV ou XLSX)"),
        help_text=_(
            "Colonnes : nom, e-mail, service, fonction, groupes (séparés par des virgules)."
        ),
    )


class EmlImportForm(forms.Form):
    name = forms.CharField(label=_("Nom du modèle"), max_length=150)
    file = forms.FileField(label=_("Message (.eml)"))


class TemplateForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = [
            "name",
            "subject",
            "sender_name",
            "text_body",
            "html_body",
            "landing_page",
            "cues",
            "premise_process",
            "premise_relevance",
            "premise_events",
            "premise_concern",
            "premise_training",
        ]
        labels = {
            "premise_process": _("Imite un processus de l'établissement (0–8)"),
            "premise_relevance": _("Concerne le métier des destinataires (0–8)"),
            "premise_events": _("Colle à l'actualité (0–8)"),
            "premise_concern": _("Inquiète si l'on n'agit pas (0–8)"),
            "premise_training": _("Déjà vu en formation ou en alerte (0–8)"),
        }
        help_texts = {"text_body": _("Repères : {{nom}}, {{prenom}}, {{lien}}.")}

    clues_text = forms.CharField(
        label=_("Indices expliqués au débriefing (un par ligne)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["clues_text"].initial = "\n".join(self.instance.clues)
        for name in self.Meta.fields:
            if name.startswith("premise_"):
                self.fields[name].widget.attrs.update({"min": 0, "max": 8})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in self.Meta.fields:
            if name.startswith("premise_") and (data.get(name) or 0) > 8:
                self.add_error(name, _("De 0 à 8."))
        self.instance.clues = [
            line.strip() for line in data.get("clues_text", "").splitlines() if line.strip()
        ]
        return data


class LandingPageForm(forms.Form):
    name = forms.CharField(label=_("Nom"), max_length=150)
    html = forms.CharField(
        label=_("Contenu HTML"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "Les champs de mot de passe perdent leur nom et aucun formulaire n'envoie ailleurs "
            "que vers Carbet : rien de ce qui est saisi n'est transmis ni conservé."
        ),
    )


class SmtpProfileForm(forms.ModelForm):
    class Meta:
        model = SmtpProfile
        fields = [
            "name",
            "host",
            "port",
            "security",
            "username",
            "password",
            "from_address",
            "per_minute",
        ]


class TestSendForm(forms.Form):
    to = forms.EmailField(label=_("Adresse de test"))
    template = forms.ModelChoiceField(EmailTemplate.objects.all(), label=_("Modèle"))


class MailboxForm(forms.ModelForm):
    class Meta:
        model = ReportingMailbox
        fields = ["name", "host", "port", "security", "username", "password", "folder"]


class SettingsForm(forms.ModelForm):
    class Meta:
        model = AwarenessSettings
        fields = [
            "public_url",
            "scanner_networks",
            "scanner_agents",
            "fast_click_seconds",
            "retention_days",
        ]

    def clean_scanner_networks(self) -> str:
        import ipaddress

        text = self.cleaned_data["scanner_networks"]
        for line in filter(None, (raw.strip() for raw in text.splitlines())):
            try:
                ipaddress.ip_network(line, strict=False)
            except ValueError:
                raise forms.ValidationError(
                    _("« %(line)s » n'est pas un réseau (ex. 40.92.0.0/15).") % {"line": line}
                ) from None
        return text


class ManualReportForm(forms.Form):
    recipient = forms.IntegerField(widget=forms.HiddenInput)
    reported_at = forms.DateTimeField(label=_("Signalé le"), widget=DateTimeInput)


class AssignTrainingForm(forms.Form):
    group = forms.ModelChoiceField(TargetGroup.objects.none(), label=_("Groupe"), required=False)

    def __init__(self, *args: Any, structure: Any = None, actor: Actor = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = TargetGroup.objects.visible_to(
            actor, AwarenessPerm.TRAINING
        ).filter(structure=structure)
