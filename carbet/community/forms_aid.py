"""Forms of the mutual-aid pages. They shape input; ``services_aid`` checks rights and rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import Audience, PostKind, PostStatus, PostTopic
from carbet.core.forms import DateInput


class StructureChoiceMixin:
    """A "for which structure" field, shown only when the person acts for several."""

    def set_structures(self, structures: Any, label: Any) -> None:
        field = self.fields["structure"]  # type: ignore[attr-defined]
        field.queryset = structures
        field.label = label
        if structures.count() == 1:
            field.initial = structures.first().pk
            field.widget = forms.HiddenInput()


class PostForm(StructureChoiceMixin, forms.Form):
    structure = forms.ModelChoiceField(queryset=None, empty_label=None)
    kind = forms.ChoiceField(label=_("Vous publiez"), choices=PostKind.choices)
    topic = forms.ChoiceField(label=_("Sujet"), choices=PostTopic.choices)
    title = forms.CharField(
        label=_("Titre"),
        max_length=200,
        help_text=_("Par exemple : « Disque de sauvegarde à prêter deux semaines »."),
    )
    body = forms.CharField(
        label=_("Détails"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Ce qu'il faut savoir pour répondre. N'écrivez ni mot de passe ni donnée de patient."
        ),
    )
    audience = forms.ChoiceField(
        label=_("Qui voit votre annonce"), choices=Audience.choices, initial=Audience.COMMUNITY
    )
    expires_on = forms.DateField(
        label=_("Jusqu'au"),
        required=False,
        widget=DateInput(),
        help_text=_("Après cette date, l'annonce n'est plus montrée aux autres structures."),
    )

    def __init__(self, *args: Any, structures: Any, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.set_structures(structures, _("Au nom de"))
        if editing:
            del self.fields["structure"]


class AnswerForm(StructureChoiceMixin, forms.Form):
    structure = forms.ModelChoiceField(queryset=None, empty_label=None)
    body = forms.CharField(
        label=_("Votre message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Seules les deux structures lisent cette conversation. Vos adresses e-mail ne sont "
            "jamais montrées."
        ),
    )

    def __init__(self, *args: Any, structures: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.set_structures(structures, _("Au nom de"))


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Votre message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )


class PostStatusForm(forms.Form):
    status = forms.ChoiceField(choices=PostStatus.choices)


class HideForm(forms.Form):
    reason = forms.CharField(
        label=_("Raison, dite à la structure"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BoardFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Toutes")), *PostKind.choices]
    )
    topic = forms.ChoiceField(
        label=_("Sujet"), required=False, choices=[("", _("Tous")), *PostTopic.choices]
    )


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Compétence ou logiciel"), required=False, max_length=100)
    remote = forms.BooleanField(label=_("Peut aider à distance"), required=False)
    on_site = forms.BooleanField(label=_("Peut se déplacer"), required=False)


class ProfileForm(StructureChoiceMixin, forms.Form):
    structure = forms.ModelChoiceField(queryset=None, empty_label=None)
    skills = forms.CharField(
        label=_("Vos compétences"),
        required=False,
        max_length=2000,
        help_text=_("Séparées par des virgules : sauvegardes, pare-feu, RGPD, Active Directory…"),
    )
    software = forms.CharField(
        label=_("Logiciels que vous connaissez bien"),
        required=False,
        max_length=2000,
        help_text=_("Séparés par des virgules : dossier de soins, messagerie, logiciel RH…"),
    )
    description = forms.CharField(
        label=_("Présentation"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    remote = forms.BooleanField(label=_("Je peux aider à distance"), required=False)
    on_site = forms.BooleanField(label=_("Je peux me déplacer"), required=False)
    visible = forms.BooleanField(
        label=_("Apparaître dans l'annuaire des compétences"),
        required=False,
        help_text=_(
            "Les autres structures voient votre nom, votre structure et ce que vous savez faire, "
            "jamais votre adresse e-mail. Décochez pour disparaître de l'annuaire."
        ),
    )

    def __init__(self, *args: Any, structures: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.set_structures(structures, _("Votre structure"))
