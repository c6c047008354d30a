"""Forms of the exchange page: what to export and in which format, and the feed to import."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from carbet.community import selectors_exchange as selectors
from carbet.community.choices import Tlp
from carbet.community.services_exchange import MAX_ARCHIVE_BYTES, MB, ExportRequest
from carbet.core.forms import DateInput
from carbet.core.tenancy import Actor

FORMAT_CHOICES = [
    ("stix", _("STIX 2.1 (un fichier .json)")),
    ("misp", _("MISP : une collection d'événements (un fichier .json)")),
    ("misp_feed", _("MISP : un flux (manifest.json et un fichier par événement, en .zip)")),
]
SHAREABLE_TLP = [(value, label) for value, label in Tlp.choices if value != Tlp.RED]


class BulletinChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.published_at:%d/%m/%Y} — {obj.title} ({obj.get_tlp_display()})"


class ExportForm(forms.Form):
    fmt = forms.ChoiceField(label=_("Format"), choices=FORMAT_CHOICES, initial="stix",
                            widget=forms.RadioSelect)  # fmt: skip
    bulletins = BulletinChoice(
        label=_("Bulletins choisis un par un"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Si vous en cochez, seuls ceux-là partent ; sinon, les bulletins publiés entre les "
            "deux dates."
        ),
    )
    since = forms.DateField(label=_("Depuis le"), required=False, widget=DateInput())
    until = forms.DateField(label=_("Jusqu'au"), required=False, widget=DateInput())
    vulnerabilities = forms.BooleanField(
        label=_("Ajouter les vulnérabilités rapprochées dans la région sur la période"),
        required=False,
        initial=True,
        help_text=_(
            "Le CVE, s'il est exploité activement et les produits concernés ; jamais les "
            "structures touchées."
        ),
    )
    vulnerability_tlp = forms.ChoiceField(
        label=_("Diffusion des vulnérabilités"),
        choices=SHAREABLE_TLP,
        initial=Tlp.AMBER,
    )

    def __init__(self, *args, actor: Actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bulletins"].queryset = selectors.exportable_bulletins(actor)

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("La date de fin précède la date de début."))
        return data

    def request(self) -> ExportRequest:
        data = self.cleaned_data
        return ExportRequest(
            fmt=data["fmt"],
            bulletin_ids=tuple(b.pk for b in data.get("bulletins") or ()),
            since=data.get("since"),
            until=data.get("until"),
            vulnerabilities=bool(data.get("vulnerabilities")),
            vulnerability_tlp=data.get("vulnerability_tlp") or Tlp.AMBER,
        )


class ImportForm(forms.Form):
    archive = forms.FileField(
        label=_("Flux MISP (.zip)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["archive"].help_text = gettext(
            "Une archive .zip contenant manifest.json et un fichier <uuid>.json par événement, "
            "%(mb)s Mo au plus."
        ) % {"mb": MAX_ARCHIVE_BYTES // MB}
