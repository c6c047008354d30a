"""Forms of the crisis pages. They only check what a person typed; the services do the rest.

The incident report is short on purpose: a director on a phone, in the middle of the night,
must get through it in a minute (four questions, one button).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.crisis.choices import (
    ActivityMode,
    AssetState,
    CustodyAction,
    EntryKind,
    IndicatorType,
    LessonKind,
    Priority,
    Qualification,
    Severity,
    StakeholderKind,
    TaskStatus,
    Tlp,
    Workstream,
)

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=LOCAL_INPUT)


def when_field(label: Any, *, required: bool = False, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
    )


def _not_future(value: dt.datetime | None) -> dt.datetime | None:
    if value and value > timezone.now() + dt.timedelta(minutes=5):
        raise forms.ValidationError(_("Cette heure est dans le futur."))
    return value


class ReportForm(forms.Form):
    what = forms.CharField(
        label=_("Que se passe-t-il ?"),
        help_text=_(
            "Avec vos mots : ce que vous voyez, ce qu'on vous a dit. "
            "Exemple : « les écrans affichent une demande de rançon »."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
    )
    since = when_field(
        _("Depuis quand ?"),
        help_text=_("L'heure à laquelle on s'en est aperçu, même approximative."),
    )
    affected = forms.CharField(
        label=_("Qu'est-ce qui est touché ?"),
        help_text=_("Logiciels, services de soins, messagerie, téléphones…"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )
    contact_name = forms.CharField(label=_("Qui rappeler ?"), max_length=200)
    contact_phone = forms.CharField(
        label=_("À quel numéro ?"),
        help_text=_("Un portable de préférence : le standard peut être en panne."),
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    contact_email = forms.EmailField(
        label=_("E-mail personnel ou de secours (facultatif)"),
        help_text=_("Pas la messagerie de la structure si elle est peut-être compromise."),
        required=False,
    )

    def clean_since(self) -> dt.datetime | None:
        return _not_future(self.cleaned_data.get("since"))

    def clean_contact_phone(self) -> str:
        phone = self.cleaned_data["contact_phone"].strip()
        if sum(ch.isdigit() for ch in phone) < 6:
            raise forms.ValidationError(_("Ce numéro semble incomplet."))
        return phone


class QualifyForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Suite donnée"),
        choices=[("open", _("Ouvrir un dossier")), ("dismiss", _("Classer sans suite"))],
        widget=forms.RadioSelect,
        initial="open",
    )
    qualification = forms.ChoiceField(label=_("Qualification"), choices=Qualification.choices)
    severity = forms.TypedChoiceField(
        label=_("Gravité"), choices=Severity.choices, coerce=int, initial=Severity.HIGH
    )
    personal_data = forms.TypedChoiceField(
        label=_("Des données personnelles sont-elles en cause ?"),
        choices=[("yes", _("Oui ou probablement")), ("no", _("Non"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        help_text=_("Oui déclenche la notification à la CNIL sous 72 heures."),
    )
    category = forms.ChoiceField(label=_("Modèle de dossier"))
    aware_at = when_field(
        _("Heure de prise de connaissance"),
        help_text=_(
            "Les 72 heures de la CNIL courent à partir de là. "
            "Vide : l'heure indiquée par la structure."
        ),
    )
    note = forms.CharField(
        label=_("Motif de la qualification"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(self, *args: Any, templates: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = templates


class PhaseForm(forms.Form):
    to_phase = forms.ChoiceField(label=_("Nouvelle phase"))
    reason = forms.CharField(
        label=_("Motif"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )

    def __init__(self, *args: Any, phases: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_phase"].choices = phases


class EntryForm(forms.Form):
    event_at = when_field(
        _("Heure de l'événement"),
        help_text=_("Vide : maintenant. L'heure d'enregistrement est notée à part."),
    )
    kind = forms.ChoiceField(label=_("Nature"), choices=EntryKind.choices, initial=EntryKind.FACT)
    text = forms.CharField(
        label=_("Texte"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )
    source = forms.CharField(
        label=_("Source"),
        required=False,
        max_length=200,
        help_text=_("Qui l'a dit ou vu : une personne, un outil, un appel."),
    )
    verified = forms.BooleanField(label=_("Information vérifiée (double contrôle)"), required=False)

    def clean_event_at(self) -> dt.datetime | None:
        return _not_future(self.cleaned_data.get("event_at"))


class CorrectionForm(forms.Form):
    text = forms.CharField(
        label=_("Texte corrigé"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )
    source = forms.CharField(label=_("Source"), required=False, max_length=200)
    verified = forms.BooleanField(label=_("Information vérifiée (double contrôle)"), required=False)


class LogFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Nature"), required=False, choices=[("", _("Toutes")), *EntryKind.choices]
    )
    author = forms.CharField(label=_("Auteur"), required=False, max_length=100)
    verified = forms.ChoiceField(
        label=_("Vérification"),
        required=False,
        choices=[("", _("Toutes")), ("yes", _("Vérifiées")), ("no", _("Non vérifiées"))],
    )
    since = when_field(_("Depuis"))
    until = when_field(_("Jusqu'à"))


class DecisionForm(forms.Form):
    title = forms.CharField(label=_("Objet de la décision"), max_length=200)
    options = forms.CharField(
        label=_("Options envisagées"),
        help_text=_("Une option par ligne."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    chosen = forms.CharField(label=_("Décision prise"), widget=forms.Textarea(attrs={"rows": 2}))
    rationale = forms.CharField(label=_("Justification"), widget=forms.Textarea(attrs={"rows": 2}))
    decided_by = forms.CharField(label=_("Décidé par"), max_length=200)
    decided_at = when_field(_("Décidé le"), help_text=_("Vide : maintenant."))

    def clean_options(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["options"].splitlines()]
        options = [line for line in lines if line]
        if not options:
            raise forms.ValidationError(_("Indiquez au moins une option."))
        return options[:20]


class TaskForm(forms.Form):
    workstream = forms.ChoiceField(label=_("Chantier"), choices=Workstream.choices)
    title = forms.CharField(label=_("Tâche"), max_length=300)
    owner = forms.CharField(label=_("Responsable"), max_length=200, required=False)
    priority = forms.TypedChoiceField(
        label=_("Priorité"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    due_at = when_field(_("Échéance"))


class TaskUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("État"), choices=TaskStatus.choices)
    owner = forms.CharField(label=_("Responsable"), max_length=200, required=False)


class SitrepForm(forms.Form):
    body = forms.CharField(label=_("Contenu"), widget=forms.Textarea(attrs={"rows": 16}))


class ObligationSentForm(forms.Form):
    sent_at = when_field(_("Envoyée le"), help_text=_("Vide : maintenant."))
    reference = forms.CharField(
        label=_("Référence reçue"),
        required=False,
        max_length=200,
        help_text=_("Le numéro d'accusé de réception du portail, de la CNIL, du dépôt de plainte…"),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_sent_at(self) -> dt.datetime | None:
        return _not_future(self.cleaned_data.get("sent_at"))


class StakeholderForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=StakeholderKind.choices)
    name = forms.CharField(label=_("Nom"), max_length=200)
    organisation = forms.CharField(label=_("Organisme"), required=False, max_length=200)
    phone = forms.CharField(label=_("Téléphone"), required=False, max_length=30)
    email = forms.EmailField(label=_("E-mail"), required=False)
    qualification_ref = forms.CharField(
        label=_("Référence de qualification (PRIS)"), required=False, max_length=100
    )


class CallForm(forms.Form):
    text = forms.CharField(
        label=_("Ce qui a été dit"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )
    event_at = when_field(_("Heure de l'appel"), help_text=_("Vide : maintenant."))


class ActivityForm(forms.Form):
    mode = forms.ChoiceField(label=_("Fonctionnement"), choices=ActivityMode.choices)
    procedure = forms.CharField(label=_("Procédure en vigueur"), required=False, max_length=300)
    impact = forms.CharField(
        label=_("Impact"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class NewActivityForm(forms.Form):
    name = forms.CharField(label=_("Activité"), max_length=120)
    mode = forms.ChoiceField(label=_("Fonctionnement"), choices=ActivityMode.choices)


class AssetForm(forms.Form):
    label = forms.CharField(label=_("Système"), max_length=200)
    state = forms.ChoiceField(label=_("État"), choices=AssetState.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class AssetStateForm(forms.Form):
    state = forms.ChoiceField(label=_("État"), choices=AssetState.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("Fichier"))
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    holder = forms.CharField(label=_("Détenteur"), max_length=200)
    collected_at = when_field(_("Collectée le"), help_text=_("Vide : maintenant."))


class CustodyForm(forms.Form):
    holder = forms.CharField(label=_("Détenteur"), max_length=200)
    action = forms.ChoiceField(label=_("Acte"), choices=CustodyAction.choices)
    reason = forms.CharField(label=_("Motif"), max_length=300)


class IndicatorForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), choices=IndicatorType.choices)
    value = forms.CharField(label=_("Valeur"), max_length=2000)
    tlp = forms.ChoiceField(label=_("Diffusion (TLP)"), choices=Tlp.choices, initial=Tlp.AMBER)
    source = forms.CharField(label=_("Source"), required=False, max_length=200)


class LessonForm(forms.Form):
    kind = forms.ChoiceField(label=_("Nature"), choices=LessonKind.choices)
    workstream = forms.ChoiceField(
        label=_("Chantier"), required=False, choices=[("", "—"), *Workstream.choices]
    )
    text = forms.CharField(label=_("Constat"), widget=forms.Textarea(attrs={"rows": 2}))
    recommendation = forms.CharField(
        label=_("Recommandation"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    severity = forms.TypedChoiceField(
        label=_("Importance"),
        coerce=int,
        initial=2,
        choices=[(1, _("Faible")), (2, _("Moyenne")), (3, _("Élevée")), (4, _("Critique"))],
    )


class ProviderAccessForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Durée de l'accès"),
        coerce=int,
        initial=14,
        choices=[(3, _("3 jours")), (7, _("7 jours")), (14, _("14 jours")), (30, _("30 jours"))],
    )


class ProviderEntryForm(EntryForm):
    """The PRIS provider's entry: "verified" is the cell's double check, not the provider's."""

    verified = None  # type: ignore[assignment]
