"""Secrets at rest: credentials Carbet must keep (LDAP bind, SMTP password...) are encrypted.

The keys come from ``settings.CARBET_ENCRYPTION_KEYS`` (``CARBET_ENCRYPTION_KEYS`` in the
environment, or the 0600 key file that ``carbet.conf`` creates in ``DATA_DIR/keys``). They are
never stored in the database, so a stolen database dump or backup archive does not reveal the
secrets. Several keys allow rotation: the first one encrypts, every one decrypts
(``cryptography``'s MultiFernet), and ``carbet keys rotate`` re-encrypts with the newest.

Three pieces:
- ``encrypt``/``decrypt`` for services that handle a secret directly;
- ``EncryptedTextField``, a model field that stores ciphertext and hands plaintext to Python;
- ``SecretField``/``SecretInput``, a form field whose widget never sends the stored value back
  to the browser and keeps it when the input is left empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.forms.boundfield import BoundField
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

# Fernet tokens are URL-safe base64 and always start with the version byte 0x80.
_FERNET_PREFIX = "gAAAAA"


class DecryptionError(ImproperlyConfigured):
    """A stored secret cannot be decrypted with any configured key (key lost or replaced)."""


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("CARBET_ENCRYPTION_KEYS is empty: no key to encrypt secrets.")
    try:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    except (ValueError, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured(
            "CARBET_ENCRYPTION_KEYS holds a malformed key (expected 32 url-safe base64 bytes, "
            "as printed by `carbet keys generate`)."
        ) from exc


def _fernet() -> MultiFernet:
    # Keyed on the current key list, so a settings change (tests, rotation) takes effect.
    return _fernet_for(tuple(settings.CARBET_ENCRYPTION_KEYS))


def generate_key() -> str:
    """A fresh random key in the format CARBET_ENCRYPTION_KEYS expects."""
    return Fernet.generate_key().decode("ascii")


def encrypt(plaintext: str) -> str:
    """Encrypt ``plaintext`` with the first (newest) key; the result is ASCII text."""
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt a value produced by :func:`encrypt` with any configured key."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured keys "
            "(CARBET_ENCRYPTION_KEYS or DATA_DIR/keys/encryption.key): was a key removed "
            "or replaced? Put the old key back after the new one."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the newest key (decrypting with whichever key fits)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured keys."
        ) from exc


def decrypts_with(token: str, keys: list[str]) -> bool:
    """Whether ``token`` can be decrypted with ``keys`` alone (before retiring older keys)."""
    try:
        _fernet_for(tuple(keys)).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True


class EncryptedTextField(models.TextField):
    """Text stored encrypted; Python code only ever sees the plaintext.

    Encryption is randomised, so the database cannot compare values: only ``isnull`` lookups
    are allowed (an ``exact`` filter would silently never match). Empty strings are stored
    empty, so "no password configured" stays visible to the code without a key.
    """

    description = _("Texte chiffré")

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def get_lookup(self, lookup_name: str):
        if lookup_name != "isnull":
            raise NotImplementedError(
                f"{self.__class__.__name__} cannot be filtered with {lookup_name!r}: "
                "values are encrypted with a random nonce."
            )
        return super().get_lookup(lookup_name)

    def formfield(self, **kwargs: Any) -> forms.Field:
        kwargs.setdefault("form_class", SecretField)
        kwargs.setdefault("widget", SecretInput)
        return super().formfield(**kwargs)


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    """Every (model, field) pair of the project that stores an encrypted value."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


CLEAR_SUFFIX = "__clear"


class SecretInput(forms.PasswordInput):
    """A password-like input that never renders the stored secret.

    When a value is stored, the page says so ("•••• enregistré") and explains that leaving the
    input empty keeps it; an optional "effacer" checkbox removes it (for optional secrets).
    """

    def __init__(self, attrs: dict | None = None, *, allow_clear: bool = True) -> None:
        super().__init__(
            attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False
        )
        self.allow_clear = allow_clear
        self.is_stored = False

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        # The value is dropped here, whatever the caller passed: it never reaches the HTML.
        return super().get_context(name, None, attrs)

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None):
        html = super().render(name, None, attrs, renderer)
        if not self.is_stored:
            return html
        widget_id = (attrs or {}).get("id") or self.attrs.get("id") or name
        parts = [
            html,
            format_html(
                '<span class="help" id="{}-stored">{} {}</span>',
                widget_id,
                "••••",
                _("enregistré — laissez vide pour le conserver, ou saisissez-en un nouveau."),
            ),
        ]
        if self.allow_clear:
            parts.append(
                format_html(
                    '<span class="checkbox"><input type="checkbox" name="{}" id="{}"> '
                    '<label for="{}">{}</label></span>',
                    name + CLEAR_SUFFIX,
                    widget_id + CLEAR_SUFFIX,
                    widget_id + CLEAR_SUFFIX,
                    _("Effacer la valeur enregistrée"),
                )
            )
        return format_html("".join(["{}"] * len(parts)), *parts)


class _SecretBoundField(BoundField):
    """Submitted empty means "keep what is stored"; the clear checkbox means "remove it"."""

    @property
    def data(self) -> Any:
        submitted = super().data
        if submitted:
            return submitted
        if self.form.is_bound and self.form.data.get(self.html_name + CLEAR_SUFFIX):
            return ""
        return self.initial if self.initial is not None else submitted

    def as_widget(self, widget=None, attrs=None, only_initial=False):
        widget = widget or self.field.widget
        if isinstance(widget, SecretInput):
            widget.is_stored = bool(self.initial)
            widget.allow_clear = widget.allow_clear and not self.field.required
        return super().as_widget(widget, attrs, only_initial)


class SecretField(forms.CharField):
    """A form field for a credential: see ``SecretInput``."""

    widget = SecretInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Spaces may be part of a password: keep them.
        kwargs.setdefault("strip", False)
        super().__init__(*args, **kwargs)

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> BoundField:
        return _SecretBoundField(form, self, field_name)


def looks_encrypted(value: str) -> bool:
    """Whether ``value`` has the shape of a Fernet token (used by checks and tests)."""
    return value.startswith(_FERNET_PREFIX)
