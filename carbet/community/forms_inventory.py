"""Forms of the software inventory pages. They shape input; the services check rights, lengths
and the product (``services_inventory.clean_declared``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import Hosting
from carbet.community.selectors_inventory import RegionFilters
from carbet.core.choices import Category
from carbet.core.forms import FastSelect
from carbet.core.validators import one_line


class DeclaredLineForm(forms.Form):
    """A business application the structure runs, as the director knows it."""

    name = forms.CharField(
        label=_("À quoi sert-il ?"),
        max_length=200,
        required=False,
        help_text=_("Par exemple « Dossier de soins », « Facturation », « Accès à distance »."),
    )
    vendor = forms.CharField(
        label=_("Éditeur ou fabricant"),
        max_length=200,
        required=False,
        help_text=_("Par exemple « Fortinet », « Microsoft ». Laissez vide si vous ne savez pas."),
    )
    product = forms.CharField(
        label=_("Produit"),
        max_length=200,
        help_text=_("Le nom du logiciel ou de l'équipement, par exemple « FortiOS »."),
        error_messages={
            "required": _(
                "Indiquez le produit (par exemple « FortiOS » ou « Windows Server 2012 R2 ») : "
                "c'est lui que le centre compare aux alertes."
            )
        },
    )
    version = forms.CharField(
        label=_("Version"),
        max_length=100,
        required=False,
        help_text=_(
            "Elle est souvent dans le menu « À propos » ou sur la facture de maintenance. "
            "Sans version, le centre vous prévient quand même, en vous demandant de vérifier."
        ),
    )
    hosting = forms.ChoiceField(
        label=_("Où est-il installé ?"), choices=Hosting.choices, initial=Hosting.UNKNOWN
    )
    maintainer = forms.CharField(
        label=_("Qui le maintient ?"),
        max_length=200,
        required=False,
        help_text=_("L'éditeur, votre prestataire informatique, une personne de la structure…"),
    )

    def __init__(self, *args: Any, line: Any = None, **kwargs: Any) -> None:
        if line is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(line, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class RegionFilterForm(forms.Form):
    """GET filters of the regional view: bookmarkable, all optional, never an error page."""

    q = forms.CharField(
        label=_("Produit ou éditeur"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("fortios, windows…")}),
    )
    category = forms.ChoiceField(label=_("Catégorie"), required=False, widget=FastSelect)
    departement = forms.ChoiceField(label=_("Département"), required=False, widget=FastSelect)

    def __init__(self, data: Any, *, departements: list[str]) -> None:
        super().__init__(data)
        self.fields["category"].choices = [("", _("Toutes")), *Category.choices]
        self.fields["departement"].choices = [("", _("Tous"))] + [(d, d) for d in departements]

    def filters(self) -> RegionFilters:
        """The valid filters; an invalid value (stale bookmark) is simply ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return RegionFilters(
            q=one_line(data.get("q") or ""),
            category=data.get("category") or "",
            departement=data.get("departement") or "",
        )
