"""Forms of the shared-solutions pages. They shape input; ``services_solutions`` checks rights
and rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import InterestKind, NeedCategory, OfferKind, OfferStatus
from carbet.community.forms_aid import StructureChoiceMixin
from carbet.community.models import Offer
from carbet.community.service import CommunityPerm
from carbet.community.targeting import SIZE_CHOICES
from carbet.core.choices import Category
from carbet.core.forms import DateInput
from carbet.core.models import Ght, Structure

TEXT_FIELDS = ("title", "description", "provider", "eligibility", "how_to_join", "price_note")
LIST_FIELDS = ("categories", "sizes")


class OfferForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=200)
    kind = forms.ChoiceField(label=_("Type d'offre"), choices=OfferKind.choices)
    category = forms.ChoiceField(label=_("Domaine"), choices=NeedCategory.choices)
    description = forms.CharField(
        label=_("Description"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Markdown : **gras**, listes avec des tirets, liens [texte](https://…)."),
    )
    provider = forms.CharField(label=_("Prestataire ou porteur"), max_length=200, required=False)
    eligibility = forms.CharField(
        label=_("Qui peut en bénéficier (en clair)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    how_to_join = forms.CharField(
        label=_("Comment y adhérer"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    price_note = forms.CharField(label=_("Coût"), max_length=300, required=False)
    url = forms.URLField(label=_("Lien"), required=False, max_length=200)
    opens_on = forms.DateField(label=_("Ouverte le"), required=False, widget=DateInput())
    closes_on = forms.DateField(label=_("Close le"), required=False, widget=DateInput())
    status = forms.ChoiceField(
        label=_("État"),
        choices=OfferStatus.choices,
        help_text=_(
            "Un brouillon n'est vu que du centre ; une offre ouverte par les structures éligibles."
        ),
    )
    categories = forms.MultipleChoiceField(
        label=_("Éligibles : catégories"),
        required=False,
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucune case cochée : toutes les catégories."),
    )
    departements = forms.CharField(
        label=_("Éligibles : départements"),
        required=False,
        max_length=100,
        help_text=_("Séparés par des virgules (971, 972…). Vide : tous."),
    )
    ghts = forms.ModelMultipleChoiceField(
        label=_("Éligibles : GHT"), required=False, queryset=Ght.objects.none()
    )
    sizes = forms.MultipleChoiceField(
        label=_("Éligibles : tailles"),
        required=False,
        choices=SIZE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    products = forms.CharField(
        label=_("Éligibles : structures qui utilisent ces produits"),
        required=False,
        max_length=500,
        help_text=_(
            "Séparés par des virgules, d'après l'inventaire logiciel. Vide : sans condition."
        ),
    )
    structures = forms.ModelMultipleChoiceField(
        label=_("Ou seulement ces structures"),
        required=False,
        queryset=Structure.objects.none(),
        help_text=_("Si vous en choisissez, les autres critères ne comptent plus."),
    )

    def __init__(self, *args: Any, actor: Any, offer: Offer | None = None, **kwargs: Any):
        if offer is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(offer)
        super().__init__(*args, **kwargs)
        self.fields["ghts"].queryset = Ght.objects.visible_to(actor, CommunityPerm.PUBLISH)
        self.fields["structures"].queryset = Structure.objects.visible_to(
            actor, CommunityPerm.PUBLISH
        ).order_by("name")


def initial_of(offer: Offer) -> dict[str, Any]:
    initial: dict[str, Any] = {name: getattr(offer, name) for name in TEXT_FIELDS}
    initial.update(
        kind=offer.kind,
        category=offer.category,
        url=offer.url,
        opens_on=offer.opens_on,
        closes_on=offer.closes_on,
        status=offer.status,
        categories=list(offer.categories),
        sizes=list(offer.sizes),
        departements=", ".join(offer.departements),
        products=", ".join(offer.products),
        ghts=list(offer.ghts),
        structures=list(offer.structures),
    )
    return initial


class InterestForm(StructureChoiceMixin, forms.Form):
    structure = forms.ModelChoiceField(queryset=None, empty_label=None)
    kind = forms.ChoiceField(
        label=_("Votre réponse"), choices=InterestKind.choices, widget=forms.RadioSelect
    )
    quantity = forms.IntegerField(
        label=_("Quantité (postes, licences, jours…)"),
        min_value=0,
        max_value=1_000_000,
        initial=0,
        required=False,
    )
    comment = forms.CharField(
        label=_("Commentaire pour le centre"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, structures: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.set_structures(structures, _("Pour la structure"))


class NeedForm(StructureChoiceMixin, forms.Form):
    structure = forms.ModelChoiceField(queryset=None, empty_label=None)
    category = forms.ChoiceField(label=_("Domaine"), choices=NeedCategory.choices)
    description = forms.CharField(
        label=_("Votre besoin"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Par exemple : « une sauvegarde hors ligne pour 40 postes »."),
    )

    def __init__(self, *args: Any, structures: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.set_structures(structures, _("Pour la structure"))
