"""Forms of the bulletin pages. They shape input; ``services_bulletins`` checks rights and
rules (the same validators serve the API)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from carbet.community import selectors_bulletins as sel
from carbet.community import services_bulletins as services
from carbet.community.choices import Acknowledgement, Severity, Tlp
from carbet.community.models import Bulletin
from carbet.community.targeting import SIZE_CHOICES
from carbet.core.choices import Category


class BulletinForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=200)
    summary = forms.CharField(
        label=_("En une phrase"),
        max_length=300,
        help_text=_("Ce qu'un directeur doit retenir s'il ne lit que cette ligne."),
    )
    body = forms.CharField(
        label=_("Texte"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_(
            "Markdown : # titre, **gras**, - liste, [lien](https://…). Le HTML n'est pas "
            "interprété."
        ),
    )
    severity = forms.ChoiceField(label=_("Gravité"), choices=Severity.choices)
    tlp = forms.ChoiceField(
        label=_("Diffusion (TLP)"),
        choices=Tlp.choices,
        initial=Tlp.GREEN,
        help_text=_(
            "En TLP:RED et TLP:AMBER+STRICT, l'e-mail dit seulement qu'un bulletin attend dans "
            "Carbet, sans son contenu."
        ),
    )
    references = forms.CharField(
        label=_("Références"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Une adresse web par ligne (avis CERT-FR, éditeur…)."),
    )
    cves = forms.CharField(
        label=_("CVE"),
        required=False,
        help_text=_("Séparées par des virgules ou des espaces, par exemple CVE-2024-21762."),
    )
    remind_after_days = forms.IntegerField(
        label=_("Rappel après (jours)"),
        min_value=0,
        max_value=60,
        initial=3,
        help_text=_(
            "Pour les bulletins critiques ou de gravité élevée : un rappel aux structures qui "
            "n'ont pas répondu, trois au plus. 0 : jamais."
        ),
    )
    categories = forms.MultipleChoiceField(
        label=_("Catégories"),
        required=False,
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucune case cochée : toutes les catégories."),
    )
    departements = forms.MultipleChoiceField(
        label=_("Départements"), required=False, widget=forms.CheckboxSelectMultiple
    )
    ghts = forms.MultipleChoiceField(
        label=_("GHT"), required=False, widget=forms.CheckboxSelectMultiple
    )
    sizes = forms.MultipleChoiceField(
        label=_("Tailles"),
        required=False,
        choices=SIZE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    products = forms.CharField(
        label=_("Produits"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Un produit par ligne (par exemple FortiOS) : seules les structures dont "
            "l'inventaire logiciel le contient recevront le bulletin."
        ),
    )
    structures = forms.MultipleChoiceField(
        label=_("Structures désignées"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Si vous en choisissez, les autres critères sont ignorés."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departements"].choices = sel.departement_choices()
        self.fields["ghts"].choices = sel.ght_choices()
        self.fields["structures"].choices = sel.structure_choices()

    @classmethod
    def for_bulletin(cls, bulletin: Bulletin) -> BulletinForm:
        return cls(
            initial={
                "title": bulletin.title,
                "summary": bulletin.summary,
                "body": bulletin.body,
                "severity": bulletin.severity,
                "tlp": bulletin.tlp,
                "references": "\n".join(bulletin.references),
                "cves": ", ".join(bulletin.cves),
                "remind_after_days": bulletin.remind_after_days,
                "categories": bulletin.categories,
                "departements": bulletin.departements,
                "ghts": [str(g) for g in bulletin.ghts],
                "sizes": bulletin.sizes,
                "products": "\n".join(bulletin.products),
                "structures": [str(s) for s in bulletin.structures],
            }
        )

    def clean_references(self) -> list[str]:
        return services.clean_references(self.cleaned_data["references"].splitlines())

    def clean_cves(self) -> list[str]:
        return services.clean_cves(services.split_list(self.cleaned_data["cves"]))

    def clean_products(self) -> list[str]:
        return [p for p in self.cleaned_data["products"].splitlines() if p.strip()]

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


def targeting_values(data: Any) -> dict[str, Any]:
    """The targeting criteria of a (possibly incomplete) form submission, for the live count."""
    return {
        "categories": data.getlist("categories"),
        "departements": data.getlist("departements"),
        "ghts": data.getlist("ghts"),
        "sizes": data.getlist("sizes"),
        "products": [p for p in data.get("products", "").splitlines() if p.strip()],
        "structures": data.getlist("structures"),
    }


class AcknowledgeForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Votre réponse"),
        choices=[
            (Acknowledgement.APPLIED, _("Appliqué : nous avons fait ce que dit le bulletin")),
            (Acknowledgement.NOT_CONCERNED, _("Pas concerné (dites pourquoi)")),
            (Acknowledgement.READ, _("Lu, pas encore appliqué")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Pourquoi la structure n'est pas concernée"),
        required=False,
        max_length=500,
        help_text=_("Par exemple : nous n'utilisons pas ce produit."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("status") == Acknowledgement.NOT_CONCERNED
            and not (data.get("reason") or "").strip()
        ):
            raise ValidationError(
                {"reason": _("Dites en quelques mots pourquoi la structure n'est pas concernée.")}
            )
        return data
