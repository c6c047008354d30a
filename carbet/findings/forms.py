"""Forms of the findings pages: they parse and check input; the services decide and write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from carbet.core.forms import DateInput
from carbet.core.models import Asset
from carbet.findings.choices import Severity, Status, source_choices
from carbet.findings.models.acceptance import MAX_ACCEPTANCE_DAYS
from carbet.findings.selectors import GROUP_LABELS, SORTS, FindingFilters

YES_NO = [("", _("Indifférent")), ("1", _("Oui")), ("0", _("Non"))]


def _yes_no(value: str) -> bool | None:
    return {"1": True, "0": False}.get(value)


class FindingFilterForm(forms.Form):
    """GET filters of the findings list: bookmarkable, all optional, never an error page."""

    q = forms.CharField(
        label=_("Rechercher"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("titre, CVE, règle")}),
    )
    structure = forms.TypedChoiceField(label=_("Structure"), required=False, coerce=int)
    status = forms.ChoiceField(label=_("État"), required=False)
    severity = forms.TypedChoiceField(label=_("Gravité"), required=False, coerce=int)
    source = forms.ChoiceField(label=_("Origine"), required=False)
    kev = forms.ChoiceField(label=_("Exploitée activement"), required=False, choices=YES_NO)
    exposed = forms.ChoiceField(label=_("Exposée sur internet"), required=False, choices=YES_NO)
    overdue = forms.BooleanField(label=_("En retard seulement"), required=False)
    asset = forms.TypedChoiceField(label=_("Actif"), required=False, coerce=int)
    sort = forms.ChoiceField(label=_("Trier par"), required=False)

    def __init__(self, data: Any, *, structures: list[tuple[int, str]], assets: list) -> None:
        super().__init__(data)
        everything = [("", _("Toutes"))]
        self.fields["structure"].choices = everything + list(structures)
        self.fields["status"].choices = [
            *[(k, v) for k, v in GROUP_LABELS.items()],
            *[(s.value, s.label) for s in Status],
        ]
        self.fields["severity"].choices = everything + [
            (s.value, s.label) for s in reversed(Severity)
        ]
        self.fields["source"].choices = everything + source_choices()
        self.fields["asset"].choices = [("", _("Tous"))] + [(a.pk, a.value) for a in assets]
        self.fields["sort"].choices = [(k, label) for k, (_o, label) in SORTS.items()]
        if not assets:
            del self.fields["asset"]

    def filters(self) -> FindingFilters:
        """The filters asked for; an invalid value is ignored rather than refused."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return FindingFilters(
            q=data.get("q") or "",
            structure=data.get("structure") or None,
            severity=data.get("severity") if data.get("severity") != "" else None,
            status=data.get("status") or "open",
            source=data.get("source") or "",
            kev=_yes_no(data.get("kev") or ""),
            exposed=_yes_no(data.get("exposed") or ""),
            overdue=bool(data.get("overdue")),
            asset=data.get("asset") or None,
            sort=data.get("sort") or "severity",
        )


class StatusForm(forms.Form):
    """Change one finding's status (the choices are what this user may do on it)."""

    status = forms.ChoiceField(label=_("Nouvel état"))
    reason = forms.CharField(
        label=_("Motif"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Obligatoire : il reste dans l'historique de la vulnérabilité."),
    )
    duplicate_of = forms.IntegerField(
        label=_("Doublon de (n°)"),
        required=False,
        min_value=1,
        help_text=_("Seulement pour « Doublon » : le numéro de la vulnérabilité originale."),
    )

    def __init__(self, *args: Any, targets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, Status(s).label) for s in targets]
        if Status.DUPLICATE not in targets:
            del self.fields["duplicate_of"]


class BulkStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Passer les vulnérabilités cochées à l'état"))
    reason = forms.CharField(label=_("Motif"), max_length=4000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (s.value, s.label)
            for s in Status
            if s not in (Status.NEW, Status.DUPLICATE, Status.RISK_ACCEPTED)
        ]


class ManualFindingForm(forms.Form):
    structure = forms.TypedChoiceField(label=_("Structure"), coerce=int)
    asset = forms.TypedChoiceField(
        label=_("Actif concerné"),
        required=False,
        coerce=int,
        help_text=_("Facultatif : le site, l'adresse ou le domaine où le constat a été fait."),
    )
    title = forms.CharField(label=_("Titre"), max_length=300)
    severity = forms.TypedChoiceField(
        label=_("Gravité"),
        coerce=int,
        choices=[(s.value, s.label) for s in reversed(Severity)],
        initial=Severity.MEDIUM,
    )
    description = forms.CharField(
        label=_("Ce qui a été constaté"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "En mots simples : ce que la direction doit comprendre, et pourquoi c'est un risque."
        ),
    )
    remediation = forms.CharField(
        label=_("Comment corriger"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Les étapes concrètes, dans l'ordre, pour la structure ou son prestataire."),
    )
    cve = forms.RegexField(
        label=_("CVE principale"),
        required=False,
        regex=r"^(?i:CVE-\d{4}-\d{4,})$",
        max_length=30,
        error_messages={"invalid": _("Format attendu : CVE-2024-12345.")},
    )
    rule = forms.CharField(
        label=_("Point de contrôle"),
        required=False,
        max_length=120,
        help_text=_("Facultatif : l'identifiant du contrôle ou de la mesure ANSSI concernée."),
    )
    references = forms.CharField(
        label=_("Références"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Une par ligne (ou séparées par « ; ») : mesure ANSSI, objectif CaRE, lien."),
    )
    cvss = forms.DecimalField(
        label=_("CVSS"), required=False, min_value=0, max_value=10, decimal_places=1
    )
    kev = forms.BooleanField(label=_("Exploitée activement (CISA KEV)"), required=False)

    def __init__(self, *args: Any, structures: list, assets: list[Asset], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["structure"].choices = [("", "—"), *structures]
        self.fields["structure"].widget.attrs.update(
            {
                "hx-get": reverse_lazy("findings:manual_assets"),
                "hx-target": "#asset-field",
                "hx-trigger": "change",
            }
        )
        self.fields["asset"].choices = [("", _("Aucun"))] + [(a.pk, a.value) for a in assets]

    def clean_references(self) -> list[str]:
        raw = self.cleaned_data.get("references") or ""
        return [part.strip() for part in raw.replace(";", "\n").splitlines() if part.strip()]


class FindingImportForm(forms.Form):
    structure = forms.TypedChoiceField(label=_("Structure"), coerce=int)
    file = forms.FileField(
        label=_("Fichier"),
        help_text=_("CSV (UTF-8), JSON ou XLSX, au format décrit ci-dessous."),
    )
    complete = forms.BooleanField(
        label=_("Ce fichier est un rapport complet"),
        required=False,
        help_text=_(
            "Cochez si le rapport couvre tout ce que l'outil analyse pour cette structure : les "
            "vulnérabilités de cet outil absentes du fichier seront alors fermées. Sinon, rien "
            "n'est fermé."
        ),
    )

    def __init__(self, *args: Any, structures: list, max_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["structure"].choices = [("", "—"), *structures]
        self.max_bytes = max_bytes

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((".csv", ".json", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Déposez un fichier .csv, .json ou .xlsx."))
        if upload.size > self.max_bytes:
            raise forms.ValidationError(
                _("Le fichier dépasse %(n)s Mo.") % {"n": self.max_bytes // 2**20}
            )
        return upload


class AcceptanceRequestForm(forms.Form):
    findings = forms.TypedMultipleChoiceField(
        label=_("Vulnérabilités concernées"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    justification = forms.CharField(
        label=_("Pourquoi accepter ce risque plutôt que le corriger ?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Par exemple : correction impossible avant le remplacement de l'appareil."),
    )
    compensating_measures = forms.CharField(
        label=_("Mesures compensatoires"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Ce qui limite le risque en attendant : isolement réseau, surveillance…"),
    )
    expires_on = forms.DateField(
        label=_("Fin de l'acceptation"),
        widget=DateInput(),
        help_text=_(
            "Au plus un an. À cette date, les vulnérabilités redeviennent à corriger ; un rappel "
            "est envoyé 30 jours avant."
        ),
    )

    def __init__(self, *args: Any, findings: list, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["findings"].choices = [
            (f.pk, f"#{f.pk} — {f.title} ({f.get_severity_display()})") for f in findings
        ]
        widget = self.fields["expires_on"].widget
        widget.attrs["min"] = (today + dt.timedelta(days=1)).isoformat()
        widget.attrs["max"] = (today + dt.timedelta(days=MAX_ACCEPTANCE_DAYS)).isoformat()


class AcceptanceDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Signer")), ("reject", _("Refuser")), ("revoke", _("Lever"))]
    )
    note = forms.CharField(
        label=_("Commentaire"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_(
            "J'accepte ce risque au nom de la structure, jusqu'à la date indiquée, en "
            "connaissance des mesures compensatoires décrites."
        ),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "approve" and not data.get("confirm"):
            self.add_error("confirm", _("Cochez cette case pour signer."))
        return data
