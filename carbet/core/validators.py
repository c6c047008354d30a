"""Django-side wrappers of the pure identifier checks in ``carbet.engines.identifiers``."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from carbet.core.choices import AssetKind
from carbet.engines import identifiers
from carbet.engines.identifiers import IdentifierError


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
