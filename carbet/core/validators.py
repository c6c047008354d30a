"""Django-side wrappers of the pure identifier checks in ``carbet.engines.identifiers``, and the
one way free text typed in a form is made a single clean line (``one_line``)."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from carbet.core.choices import AssetKind
from carbet.engines import identifiers
from carbet.engines.identifiers import IdentifierError


def one_line(value: Any) -> str:
    """Free text as one line: control characters and line breaks become spaces, runs of spaces
    collapse, nothing before or after. ``None`` is the empty string."""
    text = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char
        for char in str(value if value is not None else "")
    )
    return " ".join(text.split())


def address_policy() -> identifiers.AddressPolicy:
    return identifiers.AddressPolicy(
        allow_loopback=settings.CARBET_ALLOW_LOOPBACK_ASSETS,
        max_addresses=settings.CARBET_MAX_CIDR_ADDRESSES,
    )


def validate_finess(value: str) -> None:
    try:
        identifiers.normalize_finess(value)
    except IdentifierError as exc:
        raise ValidationError(str(exc), code="finess") from exc


def validate_departement(value: str) -> None:
    try:
        identifiers.normalize_departement(value)
    except IdentifierError as exc:
        raise ValidationError(str(exc), code="departement") from exc


def normalize_asset_value(kind: str, value: str, internet_exposed: bool) -> str:
    """Return the canonical value of an asset, or raise ``ValidationError`` saying why not."""
    policy = address_policy()
    try:
        match kind:
            case (
                AssetKind.DOMAIN | AssetKind.HOSTNAME | AssetKind.MAIL_DOMAIN | AssetKind.AD_DOMAIN
            ):
                return identifiers.normalize_domain(value)
            case AssetKind.IPV4 | AssetKind.IPV6:
                normalized = identifiers.normalize_ip(
                    value, internet=internet_exposed, policy=policy
                )
                if (":" in normalized) != (kind == AssetKind.IPV6):
                    raise IdentifierError("Cette adresse n'est pas du type choisi (IPv4 ou IPv6).")
                return normalized
            case AssetKind.CIDR:
                return identifiers.normalize_cidr(value, internet=internet_exposed, policy=policy)
            case AssetKind.APPLICATION:
                cleaned = " ".join(str(value).split())
                if not cleaned:
                    raise IdentifierError("Donnez le nom de l'application.")
                return cleaned[:255]
    except IdentifierError as exc:
        raise ValidationError({"value": str(exc)}, code="asset_value") from exc
    raise ValidationError({"kind": "Type d'actif inconnu."}, code="asset_kind")
