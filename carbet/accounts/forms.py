"""Forms of the account pages: sign-in, second factor, profile and API tokens."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from carbet.accounts.services import check_token_end, default_token_days, max_token_days


class LoginForm(forms.Form):
    login = forms.CharField(
        label=_("Adresse e-mail"),
        max_length=254,
        help_text=_("Celle que le centre a enregistrée pour vous (ou votre identifiant)."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code à 6 chiffres (ou code de secours)"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class EnrolCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code à 6 chiffres affiché par l'application"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Votre mot de passe, pour confirmer"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Langue de l'interface"), choices=settings.LANGUAGES)


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Nom du jeton"),
        max_length=100,
        help_text=_("Pour vous souvenir de son usage, par exemple « script d'inventaire »."),
    )
    expires_on = forms.DateField(
        label=_("Expire le (facultatif)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Built per form: the lifetimes are settings, and the text must follow them.
        self.fields["expires_on"].help_text = _(
            "Au plus %(max)d jours. Sans date, le jeton expire au bout de %(default)d jours. "
            "Un changement de mot de passe révoque tous vos jetons."
        ) % {"max": max_token_days(), "default": default_token_days()}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Donnez un nom au jeton."))
        return name

    def clean_expires_on(self) -> dt.date | None:
        value = self.cleaned_data.get("expires_on")
        check_token_end(value)
        return value


class ProfilePasswordForm(PasswordChangeForm):
    """Django's password change, without grabbing the focus of the whole profile page."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].widget.attrs.pop("autofocus", None)
