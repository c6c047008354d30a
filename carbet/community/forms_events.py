"""Forms of the community events. They shape input; the services check rights and rules."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import EventKind
from carbet.community.models import Event
from carbet.community.services_events import EVENT_FIELDS
from carbet.community.targeting import SIZE_CHOICES
from carbet.core.choices import Category
from carbet.core.models import Ght, Structure
from carbet.core.tenancy import Actor


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def _words(text: str) -> list[str]:
    """``"972, 971"`` → ``["972", "971"]`` (commas, semicolons or new lines)."""
    return [w.strip() for w in re.split(r"[,;\n]", text or "") if w.strip()]


class EventForm(forms.ModelForm):
    """The centre's event: what, when, where, how many, and for whom."""

    categories = forms.MultipleChoiceField(
        label=_("Catégories de structures"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucune case cochée : toutes les catégories."),
    )
    departements = forms.CharField(
        label=_("Départements"),
        required=False,
        max_length=200,
        help_text=_("Numéros séparés par des virgules, par exemple 972, 971. Vide : tous."),
    )
    ghts = forms.ModelMultipleChoiceField(
        label=_("GHT"),
        queryset=Ght.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucune case cochée : avec ou sans GHT."),
    )
    sizes = forms.MultipleChoiceField(
        label=_("Tailles"),
        choices=SIZE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucune case cochée : toutes les tailles."),
    )
    products = forms.CharField(
        label=_("Produits utilisés"),
        required=False,
        max_length=500,
        help_text=_(
            "Réservé aux structures dont l'inventaire contient l'un de ces produits (séparés "
            "par des virgules). Vide : sans condition."
        ),
    )
    structures = forms.ModelMultipleChoiceField(
        label=_("Structures désignées"),
        queryset=Structure.objects.none(),
        required=False,
        help_text=_(
            "Si vous en choisissez, l'événement est pour elles seules et les autres critères "
            "sont ignorés."
        ),
    )

    class Meta:
        model = Event
        fields = list(EVENT_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 8}),
            "starts_at": DateTimeInput(),
            "ends_at": DateTimeInput(),
            "registration_closes_at": DateTimeInput(),
        }
        help_texts = {
            "description": _("Programme, public visé, prérequis. Mise en forme Markdown simple."),
            "location": _("Adresse, salle. Laisser vide pour un événement en ligne seulement."),
            "online_url": _("Le lien de la visioconférence, s'il y en a une."),
            "capacity": _("Au-delà, les inscrits passent sur une liste d'attente."),
            "registration_closes_at": _("Vide : jusqu'au début de l'événement."),
        }

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = EventKind.choices
        self.fields["ghts"].queryset = Ght.objects.visible_to(actor).order_by("code")
        self.fields["structures"].queryset = Structure.objects.visible_to(actor).order_by("name")
        self.fields["structures"].widget.attrs["size"] = 8
        if self.instance.pk:
            self.initial.update(
                categories=self.instance.categories,
                departements=", ".join(self.instance.departements),
                ghts=self.instance.ghts,
                sizes=self.instance.sizes,
                products=", ".join(self.instance.products),
                structures=self.instance.structures,
            )

    def values(self) -> dict[str, Any]:
        """The cleaned data as the services take it (targeting as plain lists)."""
        data = self.cleaned_data
        values = {name: data[name] for name in EVENT_FIELDS}
        values.update(
            categories=list(data["categories"]),
            departements=_words(data["departements"]),
            ghts=[g.pk for g in data["ghts"]],
            sizes=list(data["sizes"]),
            products=_words(data["products"]),
            structures=[s.pk for s in data["structures"]],
        )
        return values

    def _post_clean(self) -> None:
        """Model validation is the service's: the form only parses."""


class CancelEventForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif, dit aux personnes inscrites"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RegisterForm(forms.Form):
    """The structure a person registers for (among theirs the event is for)."""

    structure = forms.TypedChoiceField(label=_("Pour la structure"), coerce=int)

    def __init__(self, *args: Any, structures: list[Structure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["structure"].choices = [(s.pk, s.name) for s in structures]
