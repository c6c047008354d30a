"""Forms of the registry pages. They parse and check input; the services write."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from carbet.core.choices import Category, Sector, mandate_kinds
from carbet.core.models import Asset, Contact, Ght, Mandate, Organisation, Structure
from carbet.core.selectors import MandateFilter, RegionFilters


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to ``form``, on the right field when it has one."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


# --- Region table filters -------------------------------------------------------------------


class FastSelect(forms.Select):
    """A <select> rendered in Python rather than through the widget templates.

    The region filters list every organisation (hundreds): Django's template-based option
    rendering made that one drop-down cost more than all the page's queries together.
    """

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (str(key), mark_safe(" selected") if str(key) == chosen else "", label)
                for key, label in self.choices
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final_attrs), options)


class RegionFilterForm(forms.Form):
    """GET filters of the region table: bookmarkable, all optional, never an error page."""

    q = forms.CharField(
        label=_("Rechercher"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("nom, FINESS, commune")}),
    )
    category = forms.ChoiceField(label=_("Catégorie"), required=False, widget=FastSelect)
    sector = forms.ChoiceField(label=_("Secteur"), required=False, widget=FastSelect)
    departement = forms.ChoiceField(label=_("Département"), required=False, widget=FastSelect)
    ght = forms.ModelChoiceField(
        label=_("GHT"),
        required=False,
        queryset=Ght.objects.none(),
        empty_label=_("Tous"),
        widget=FastSelect,
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        required=False,
        queryset=Organisation.objects.none(),
        empty_label=_("Toutes"),
        widget=FastSelect,
    )
    mandate = forms.ChoiceField(label=_("Mandat"), required=False, widget=FastSelect)

    def __init__(
        self,
        data: Any,
        *,
        ghts: Any,
        organisations: Any,
        departements: list[str],
        full: bool = True,
    ) -> None:
        super().__init__(data)
        everything = [("", _("Toutes"))]
        self.fields["category"].choices = everything + list(Category.choices)
        self.fields["sector"].choices = [("", _("Tous")), *Sector.choices]
        self.fields["departement"].choices = [("", _("Tous"))] + [(d, d) for d in departements]
        self.fields["mandate"].choices = [("", _("Tous")), *MandateFilter.CHOICES]
        self.fields["ght"].queryset = ghts
        self.fields["organisation"].queryset = organisations
        if not full:
            for name in ("ght", "organisation", "departement"):
                del self.fields[name]

    def filters(self) -> RegionFilters:
        """The valid filters; an invalid value (stale bookmark) is simply ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        ght = data.get("ght")
        organisation = data.get("organisation")
        return RegionFilters(
            q=data.get("q") or "",
            category=data.get("category") or "",
            sector=data.get("sector") or "",
            departement=data.get("departement") or "",
            ght_id=ght.pk if ght else None,
            organisation_id=organisation.pk if organisation else None,
            mandate=data.get("mandate") or "",
        )

    def _clean_fields(self) -> None:
        super()._clean_fields()
        # Drop invalid values rather than failing: the table shows, unfiltered on that field.
        for name in list(self.errors):
            self.cleaned_data.pop(name, None)


# --- Registry objects -------------------------------------------------------------------------


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["finess_ej", "name", "legal_status", "ght"]


class StructureForm(forms.ModelForm):
    class Meta:
        model = Structure
        fields = [
            "finess_et",
            "name",
            "organisation",
            "category",
            "departement",
            "beds",
            "places",
            "activity_weight",
            "address",
            "postal_code",
            "city",
        ]


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["role", "name", "email", "phone", "organisation_name"]


class AssetForm(forms.ModelForm):
    """Declare or change an asset; the model normalises the value and explains refusals."""

    class Meta:
        model = Asset
        fields = ["kind", "value", "label", "criticality", "internet_exposed"]
        help_texts = {
            "value": _(
                "Par exemple : ehpad-exemple.fr, 203.0.113.10 ou 203.0.113.0/28. "
                "Pour une adresse exposée sur internet, les adresses privées sont refusées."
            ),
            "internet_exposed": _(
                "Cochez si cet élément est joignable depuis internet (site web, messagerie, "
                "accès à distance)."
            ),
        }

    def __init__(self, *args: Any, structure: Structure, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.structure = structure

    def _post_clean(self) -> None:
        # The model's clean() normalises the value here; the unique constraint includes the
        # structure, which is not a form field, so Django skips it: check it ourselves.
        super()._post_clean()
        asset = self.instance
        if self.errors or not asset.value:
            return
        duplicate = Asset.objects.filter(
            structure=asset.structure, kind=asset.kind, value=asset.value
        ).exclude(pk=asset.pk)
        if duplicate.exists():
            self.add_error("value", _("Cet actif est déjà déclaré pour cette structure."))


class MandateForm(forms.Form):
    """Record a mandate signed by the director, with its scanned or PDF document."""

    SCOPE_ALL = "all"
    SCOPE_CHOSEN = "chosen"

    services = forms.MultipleChoiceField(
        label=_("Services couverts"),
        choices=mandate_kinds,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Cochez au moins un service couvert par le mandat.")},
    )
    scope = forms.ChoiceField(
        label=_("Actifs couverts"),
        choices=[
            (SCOPE_ALL, _("Tous les actifs prouvés de la structure")),
            (SCOPE_CHOSEN, _("Seulement les actifs cochés ci-dessous")),
        ],
        initial=SCOPE_ALL,
        widget=forms.RadioSelect,
    )
    assets = forms.ModelMultipleChoiceField(
        label=_("Actifs choisis"),
        queryset=Asset.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reference = forms.CharField(label=_("Référence"), max_length=60, required=False)
    signed_by_name = forms.CharField(label=_("Signé par (nom)"), max_length=200)
    signed_by_title = forms.CharField(
        label=_("Qualité du signataire"),
        max_length=200,
        required=False,
        help_text=_("Par exemple : directrice, directeur général."),
    )
    signed_on = forms.DateField(label=_("Signé le"), widget=DateInput())
    valid_from = forms.DateField(label=_("Valable du"), widget=DateInput())
    valid_until = forms.DateField(label=_("Valable jusqu'au"), widget=DateInput())
    document = forms.FileField(
        label=_("Document signé (PDF, PNG ou JPEG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )

    def __init__(self, *args: Any, structure: Structure, assets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.structure = structure
        self.fields["assets"].queryset = assets
        self.fields["assets"].label_from_instance = self._asset_label
        limit_mib = settings.CARBET_MAX_UPLOAD_BYTES // (1024 * 1024)
        self.fields["document"].help_text = _(
            "Le fichier est conservé avec son empreinte SHA-256 (%(mib)s Mo au plus)."
        ) % {"mib": limit_mib}
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("signed_on", today)
            self.initial.setdefault("valid_from", today)
            self.initial.setdefault("valid_until", today + timedelta(days=365))

    @staticmethod
    def _asset_label(asset: Asset) -> str:
        suffix = "" if asset.validated else f" ({_('non validé')})"
        label = f" — {asset.label}" if asset.label else ""
        return f"{asset.value}{label}{suffix}"

    def clean_document(self) -> Any:
        document = self.cleaned_data["document"]
        if document.size > settings.CARBET_MAX_UPLOAD_BYTES:
            raise ValidationError(_("Le fichier dépasse la taille maximale autorisée."))
        return document

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("scope") == self.SCOPE_CHOSEN and not data.get("assets"):
            self.add_error("assets", _("Cochez au moins un actif, ou choisissez « Tous »."))
        return data

    def build_mandate(self) -> Mandate:
        data = self.cleaned_data
        mandate = Mandate(
            structure=self.structure,
            reference=data.get("reference", ""),
            all_assets=data["scope"] == self.SCOPE_ALL,
            signed_by_name=data["signed_by_name"],
            signed_by_title=data.get("signed_by_title", ""),
            signed_on=data["signed_on"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            services=list(data["services"]),
        )
        return mandate

    def chosen_assets(self) -> list[Asset]:
        if self.cleaned_data["scope"] == self.SCOPE_ALL:
            return []
        return list(self.cleaned_data["assets"])


class RevokeMandateForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de la révocation"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Par exemple : demande écrite de la direction du 12/03, changement de gérant."),
    )


class ImportForm(forms.Form):
    KIND_CHOICES = [
        ("structures", _("Structures (et leurs organisations, GHT)")),
        ("assets", _("Actifs des structures")),
    ]

    kind = forms.ChoiceField(
        label=_("Que contient le fichier ?"), choices=KIND_CHOICES, widget=forms.RadioSelect
    )
    file = forms.FileField(
        label=_("Fichier CSV ou Excel (XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    dry_run = forms.BooleanField(
        label=_("Vérifier seulement, sans rien enregistrer"),
        required=False,
    )

    def __init__(self, *args: Any, max_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > self.max_bytes:
            raise ValidationError(
                _("Le fichier est trop gros (%(mib)s Mo au plus).")
                % {"mib": self.max_bytes // (1024 * 1024)}
            )
        if upload.size == 0:
            raise ValidationError(_("Le fichier est vide."))
        return upload
