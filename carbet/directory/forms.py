"""Forms of the directory pages: connection, upload, exception."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.core.choices import AssetKind
from carbet.core.crypto import SecretField, SecretInput
from carbet.core.forms import DateInput
from carbet.directory.models import AuditOrigin, DirectoryConnection
from carbet.directory.services import ConnectionData

MAX_UPLOAD_MB = 200


class ConnectionForm(forms.Form):
    label = forms.CharField(label=_("Libellé"), max_length=120)
    asset = forms.ModelChoiceField(
        label=_("Domaine Active Directory"),
        queryset=None,
        help_text=_(
            "Un actif de type « Domaine Active Directory », dont la propriété est prouvée et "
            "que le mandat couvre."
        ),
    )
    server = forms.CharField(
        label=_("Serveur (contrôleur de domaine)"),
        max_length=255,
        help_text=_(
            "Une adresse prouvée de la structure, ou un nom sous son domaine Active Directory "
            "prouvé (par exemple dc1.exemple.fr) qui désigne une de ces adresses. Le mot de "
            "passe ne part vers aucun autre serveur."
        ),
    )
    port = forms.IntegerField(label=_("Port"), required=False, min_value=1, max_value=65535)
    starttls = forms.BooleanField(
        label=_("StartTLS sur le port 389 (sinon LDAPS, 636)"), required=False
    )
    ca_pem = forms.CharField(
        label=_("Certificat de l'autorité (PEM)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20000,
    )
    insecure = forms.BooleanField(
        label=_("Ne pas vérifier le certificat (déconseillé)"), required=False
    )
    base_dn = forms.CharField(label=_("DN de base (facultatif)"), max_length=255, required=False)
    bind_user = forms.CharField(
        label=_("Compte de lecture"),
        max_length=255,
        help_text=_("Un compte sans privilège, par exemple audit-carbet@exemple.local."),
    )
    bind_password = SecretField(
        label=_("Mot de passe du compte de lecture"),
        required=False,
        widget=SecretInput(allow_clear=False),
    )

    def __init__(
        self, *args: Any, structure, connection: DirectoryConnection | None = None, **kwargs
    ):
        initial = kwargs.pop("initial", {}) or {}
        if connection is not None:
            initial.update(
                {
                    name: getattr(connection, name)
                    for name in (
                        "label",
                        "server",
                        "port",
                        "starttls",
                        "ca_pem",
                        "insecure",
                        "base_dn",
                        "bind_user",
                    )
                }
            )
            initial["asset"] = connection.asset_id
            initial["bind_password"] = connection.bind_password
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["asset"].queryset = structure.assets.filter(kind=AssetKind.AD_DOMAIN)
        self.creating = connection is None

    def clean(self) -> dict:
        data = super().clean()
        if data.get("insecure") and (data.get("ca_pem") or "").strip():
            self.add_error(
                "insecure", _("Choisissez : vérifier avec le certificat, ou ne pas vérifier.")
            )
        pem = (data.get("ca_pem") or "").strip()
        if pem and "-----BEGIN CERTIFICATE-----" not in pem:
            self.add_error(
                "ca_pem", _("Collez un certificat au format PEM (« -----BEGIN CERTIFICATE----- »).")
            )
        return data

    def connection_data(self) -> ConnectionData:
        data = self.cleaned_data
        return ConnectionData(
            label=data["label"],
            asset=data["asset"],
            server=data["server"].strip(),
            port=data.get("port"),
            starttls=bool(data.get("starttls")),
            ca_pem=(data.get("ca_pem") or "").strip(),
            insecure=bool(data.get("insecure")),
            base_dn=(data.get("base_dn") or "").strip(),
            bind_user=data["bind_user"].strip(),
            bind_password=data.get("bind_password") or "",
        )


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type de fichier"),
        choices=[
            (AuditOrigin.SNAPSHOT, _("Instantané collecté avec « carbet ad collect »")),
            (AuditOrigin.PINGCASTLE, _("Rapport PingCastle (fichier XML « ad_hc_… .xml »)")),
        ],
    )
    file = forms.FileField(label=_("Fichier"))
    passphrase = SecretField(
        label=_("Phrase de passe de l'instantané (s'il est chiffré)"),
        required=False,
        widget=SecretInput(allow_clear=False),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(_("Le fichier dépasse 200 Mo."))
        return upload


class ExceptionForm(forms.Form):
    rule = forms.ChoiceField(label=_("Règle"))
    object_name = forms.CharField(
        label=_("Objet concerné"),
        max_length=255,
        initial="*",
        help_text=_("Le nom du compte (par exemple svc-irm) ; « * » pour toute la règle."),
    )
    justification = forms.CharField(
        label=_("Justification"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text=_("Pourquoi ce risque est accepté et quelle mesure le compense."),
    )
    expires_on = forms.DateField(label=_("Jusqu'au"), widget=DateInput())

    def __init__(self, *args: Any, rules: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = rules
