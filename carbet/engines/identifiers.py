"""Validation and normalisation of the identifiers Carbet's registry holds.

Pure Python (no Django): used by the models' validators, the importers, the API and the CLI, and
tested with property-based tests since every value here may come from an untrusted file.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

FINESS_RE = re.compile(r"^(?:\d{2}|2[AB]|9[0-9A-Z])[0-9A-Z]\d{6}$")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_DOMAIN_LENGTH = 253


class IdentifierError(ValueError):
    """A value that is not a valid identifier; the message is meant for a person (French)."""


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalize_finess(value: str) -> str:
    """Return the canonical 9-character FINESS number or raise ``IdentifierError``.

    All-digit numbers carry a Luhn check digit over the first eight. Corsica (2A/2B) and some
    overseas numbers contain letters: for those only the shape is checked.
    """
    if not isinstance(value, str):
        raise IdentifierError("Le numéro FINESS doit être du texte.")
    candidate = re.sub(r"[\s.\-]", "", value).upper()
    if len(candidate) != 9:
        raise IdentifierError("Un numéro FINESS compte 9 caractères.")
    if not FINESS_RE.match(candidate):
        raise IdentifierError("Ce numéro FINESS n'a pas la forme attendue (ex. 750712184).")
    if candidate.isdigit() and not luhn_valid(candidate):
        raise IdentifierError("La clé de contrôle de ce numéro FINESS est fausse.")
    return candidate


def normalize_domain(value: str) -> str:
    """Return the ASCII (IDNA/punycode) lower-case form of a domain name or raise."""
    if not isinstance(value, str):
        raise IdentifierError("Le nom de domaine doit être du texte.")
    candidate = value.strip().rstrip(".").lower()
    if not candidate:
        raise IdentifierError("Le nom de domaine est vide.")
    if any(ch.isspace() for ch in candidate) or "/" in candidate or ":" in candidate:
        raise IdentifierError("Un nom de domaine ne contient ni espace, ni « / », ni « : ».")
    labels = candidate.split(".")
    if len(labels) < 2:
        raise IdentifierError("Un nom de domaine a au moins deux parties (ex. chu-exemple.fr).")
    ascii_labels = []
    for label in labels:
        if not label:
            raise IdentifierError("Un nom de domaine ne peut pas contenir deux points de suite.")
        try:
            encoded = label.encode("idna").decode("ascii") if not label.isascii() else label
        except UnicodeError as exc:
            raise IdentifierError(f"La partie « {label} » n'est pas un nom valide.") from exc
        if not _LABEL_RE.match(encoded):
            raise IdentifierError(f"La partie « {label} » n'est pas un nom valide.")
        ascii_labels.append(encoded)
    if ascii_labels[-1].isdigit():
        raise IdentifierError("Le dernier élément d'un nom de domaine ne peut pas être un nombre.")
    result = ".".join(ascii_labels)
    if len(result) > MAX_DOMAIN_LENGTH:
        raise IdentifierError("Ce nom de domaine est trop long (253 caractères au plus).")
    return result


@dataclass(frozen=True)
class AddressPolicy:
    """What an internet asset may be: public addresses only, unless a lab allows loopback."""

    allow_loopback: bool = False
    max_addresses: int = 1024


def _refusal_reason(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
    if network.is_loopback:
        return "loopback"
    if network.is_private or network.is_link_local or network.is_multicast:
        return "private"
    if network.is_reserved or network.is_unspecified or not network.is_global:
        return "reserved"
    return None


def check_internet_network(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network, policy: AddressPolicy
) -> None:
    reason = _refusal_reason(network)
    if reason == "loopback" and policy.allow_loopback:
        return
    if reason == "loopback":
        raise IdentifierError(
            "Une adresse de bouclage (127.0.0.0/8, ::1) n'est pas une adresse exposée sur internet."
        )
    if reason == "private":
        raise IdentifierError(
            "Cette adresse est privée : elle n'est pas joignable depuis internet."
        )
    if reason == "reserved":
        raise IdentifierError(
            "Cette plage d'adresses est réservée et n'est pas routée sur internet."
        )


def normalize_ip(value: str, *, internet: bool, policy: AddressPolicy) -> str:
    try:
        address = ipaddress.ip_address(value.strip())
    except (ValueError, AttributeError) as exc:
        raise IdentifierError("Ce n'est pas une adresse IP valide.") from exc
    if internet:
        check_internet_network(ipaddress.ip_network(address), policy)
    return str(address)


def normalize_cidr(value: str, *, internet: bool, policy: AddressPolicy) -> str:
    try:
        network = ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        if isinstance(value, str) and "/" in value:
            raise IdentifierError(
                "Ce réseau n'est pas valide : l'adresse doit être le début du réseau "
                "(ex. 192.0.2.0/24)."
            ) from exc
        raise IdentifierError("Ce n'est pas un réseau CIDR valide (ex. 192.0.2.0/24).") from exc
    except AttributeError as exc:
        raise IdentifierError("Ce n'est pas un réseau CIDR valide (ex. 192.0.2.0/24).") from exc
    if network.num_addresses > policy.max_addresses:
        raise IdentifierError(
            f"Ce réseau compte {network.num_addresses} adresses ; "
            f"{policy.max_addresses} au plus sont acceptées par actif."
        )
    if internet:
        check_internet_network(network, policy)
    return str(network)


def normalize_departement(value: str) -> str:
    candidate = (value or "").strip().upper()
    if re.fullmatch(r"0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[1-6]|98[6-8]", candidate):
        return candidate
    raise IdentifierError("Code de département inconnu (ex. 75, 2A, 972).")
