"""Forms of the account management pages; scope choices come from ``visible_to`` querysets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.accounts import user_admin
from carbet.accounts.roles import CentreRole, StructureRole
from carbet.core.tenancy import Actor


class UserSearchForm(forms.Form):
    q = forms.CharField(label=_("Rechercher (nom ou e-mail)"), required=False, max_length=200)


class MembershipForm(forms.Form):
    """A structure role on exactly one scope: a structure, an organisation or a GHT."""

    role = forms.ChoiceField(label=_("Rôle"), choices=StructureRole.choices)
    structure = forms.ModelChoiceField(
        label=_("Structure"),
        queryset=None,
        required=False,
        help_text=_("Le rôle vaut pour cette structure seulement."),
    )
    organisation = forms.ModelChoiceField(
        label=_("ou organisation"),
        queryset=None,
        required=False,
        help_text=_("Le rôle vaut pour toutes les structures de l'organisation."),
    )
    ght = forms.ModelChoiceField(
        label=_("ou GHT"),
        queryset=None,
        required=False,
        help_text=_("Le rôle vaut pour toutes les structures du GHT."),
    )

    def __init__(self, *args: Any, actor: Actor, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope_required = required
        self.fields["structure"].queryset = user_admin.manageable_structures(actor).order_by("name")
        self.fields["organisation"].queryset = user_admin.manageable_organisations(actor).order_by(
            "name"
        )
        self.fields["ght"].queryset = user_admin.manageable_ghts(actor).order_by("name")
        if not required:
            self.fields["role"].required = False
            self.fields["role"].choices = [
                ("", _("— aucun rattachement —")),
                *StructureRole.choices,
            ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = [name for name in ("structure", "organisation", "ght") if data.get(name)]
        if not self.scope_required and not data.get("role") and not chosen:
            return data
        if not data.get("role"):
            self.add_error("role", _("Choisissez le rôle de la personne."))
        if len(chosen) != 1:
            raise forms.ValidationError(
                _("Choisissez une seule portée : une structure, une organisation ou un GHT.")
            )
        return data

    def spec(self) -> user_admin.MembershipSpec | None:
        data = self.cleaned_data
        if not data.get("role"):
            return None
        return user_admin.MembershipSpec(
            role=data["role"],
            structure=data.get("structure"),
            organisation=data.get("organisation"),
            ght=data.get("ght"),
        )


class UserCreateForm(MembershipForm):
    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254)
    full_name = forms.CharField(label=_("Nom complet"), max_length=200, required=False)
    centre_role = forms.ChoiceField(
        label=_("Rôle régional"),
        choices=CentreRole.choices,
        required=False,
        help_text=_("Seulement pour l'équipe du centre et l'ARS ; sinon laissez « Aucun »."),
    )
    field_order = ["email", "full_name", "centre_role", "role", "structure", "organisation", "ght"]

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, required=False, **kwargs)
        if not user_admin.manages_region(actor):
            del self.fields["centre_role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("centre_role") and not data.get("role"):
            raise forms.ValidationError(
                _(
                    "Donnez un rôle régional ou un rattachement : sans cela le compte ne "
                    "verrait rien."
                )
            )
        return data


class UserUpdateForm(forms.Form):
    full_name = forms.CharField(label=_("Nom complet"), max_length=200, required=False)
    centre_role = forms.ChoiceField(
        label=_("Rôle régional"), choices=CentreRole.choices, required=False
    )
    is_active = forms.BooleanField(
        label=_("Compte actif"),
        required=False,
        help_text=_("Un compte désactivé ne peut plus se connecter ni utiliser ses jetons d'API."),
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not user_admin.manages_region(actor):
            self.fields["centre_role"].disabled = True
