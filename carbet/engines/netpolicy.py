"""The connect-time scope policy: may a platform scan open a connection to this exact address?

A check made when an asset is declared, or when a name is resolved, proves nothing about the
connection made a moment later: DNS can answer differently (rebinding), an MX, NS, CNAME or
redirect can point anywhere. So every component that is about to connect on behalf of the
platform (the exposure engine, the directory collector, the ownership proof fetcher) asks this
policy about the **address it is about to use**, at that moment, and records the refusal.

Pure standard library, no Django: the apps build a policy from the registry and settings
(``carbet.core.ownership.connect_policy``), the engines only apply it.

The rules, in order:
1. ``unrestricted`` (the analyst's own ``carbet scan TARGET…`` on a lab): everything passes.
2. Addresses embedded in IPv6 transition forms (IPv4-mapped ``::ffff:a.b.c.d``, NAT64
   ``64:ff9b::/96``, 6to4 ``2002::/16``) are judged by the IPv4 address they carry.
3. Loopback is refused unless the lab setting allows it; private, link-local, shared (CGNAT),
   multicast, reserved and unspecified addresses are refused (but see 6).
4. The centre's own ranges are refused (the platform must never scan its own network).
5. An address declared by another structure is refused (another hospital's asset is never
   reached through a structure that does not own it).
6. When ``allowed_networks`` is set (a directory audit), only those addresses pass — and an
   internal (private or CGNAT) address passes only there, when it is explicitly listed: a
   structure's proven internal domain controller, reached through the centre's VPN.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT

# Reason codes → plain French, for the scan result a person reads.
REASONS: dict[str, str] = {
    "invalid": "adresse illisible",
    "loopback": "adresse de bouclage (la machine elle-même)",
    "private": "adresse privée (réseau interne, pas internet)",
    "link_local": "adresse locale au lien (réseau interne)",
    "shared": "adresse partagée d'opérateur (CGNAT, pas internet)",
    "multicast": "adresse de diffusion (multicast)",
    "reserved": "adresse réservée, non routée sur internet",
    "centre": "réseau du centre lui-même",
    "other_structure": "actif déclaré par une autre structure",
    "outside_scope": "adresse hors du périmètre prouvé de la structure",
    "name_other_structure": "nom déclaré par une autre structure",
}


@dataclass(frozen=True)
class Refusal:
    """A connection the policy refused: recorded on the result, never silently skipped."""

    address: str
    reason: str  # a key of REASONS
    port: int | None = None
    via: str = ""  # how the engine came to this address: "name", "mx", "redirect", "cname", ...
    name: str = ""  # the name that led there, when there was one

    @property
    def message(self) -> str:
        where = f"{self.address}:{self.port}" if self.port else self.address
        source = f" ({self.via} {self.name})" if self.via and self.name else ""
        return f"connexion refusée vers {where}{source} : {REASONS.get(self.reason, self.reason)}"

    def as_dict(self) -> dict[str, object]:
        return {
            "address": self.address,
            "port": self.port,
            "reason": self.reason,
            "via": self.via,
            "name": self.name,
            "message": self.message,
        }


class ScopeRefused(ConnectionRefusedError):
    """Raised instead of connecting; an OSError, so probes treat it as an unreachable port."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


# Internal (non-internet) classes a closed scope may explicitly allow: hospitals' own networks.
INTERNAL_CLASSES = frozenset({"private", "shared"})


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition form carries (mapped, NAT64, 6to4), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    return None


def address_class(address: IPAddress) -> str | None:
    """Why an address is not a public internet address (a REASONS key), or None if it is."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return address_class(inner)
    if address.is_loopback:
        return "loopback"
    if address.is_multicast:
        return "multicast"
    if address.is_link_local:
        return "link_local"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "private"  # fec0::/10: deprecated, yet still routed inside some networks
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared"
    if address.is_unspecified or address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return None


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Addresses and CIDR networks as networks; unreadable entries raise ValueError."""
    return tuple(ipaddress.ip_network(str(value).strip(), strict=False) for value in values)


class _NetworkSet:
    """Networks to test addresses against, in constant time whatever their number (a region
    declares thousands): for each prefix length present, the set of network numbers, so that
    an address is masked once per prefix length and looked up. Embedded IPv4 forms are tested
    as their IPv4 address too."""

    def __init__(self, networks: tuple[IPNetwork, ...]) -> None:
        by_prefix: dict[tuple[int, int], set[int]] = {}
        for network in networks:
            key = (network.version, network.prefixlen)
            by_prefix.setdefault(key, set()).add(int(network.network_address))
        self.tables = [
            (version, _mask(version, prefix), frozenset(numbers))
            for (version, prefix), numbers in sorted(by_prefix.items())
        ]

    def __contains__(self, address: IPAddress) -> bool:
        candidates = [address]
        inner = embedded_ipv4(address)
        if inner is not None:
            candidates.append(inner)
        for candidate in candidates:
            number = int(candidate)
            for version, mask, numbers in self.tables:
                if version == candidate.version and number & mask in numbers:
                    return True
        return False


def _mask(version: int, prefix: int) -> int:
    bits = 32 if version == 4 else 128
    return ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1)


@dataclass(frozen=True)
class ConnectPolicy:
    """Where a scan made through the platform may connect (see the module docstring)."""

    allow_loopback: bool = False
    centre_networks: tuple[IPNetwork, ...] = ()
    foreign_networks: tuple[IPNetwork, ...] = ()
    foreign_names: frozenset[str] = field(default_factory=frozenset)
    allowed_networks: tuple[IPNetwork, ...] | None = None
    unrestricted: bool = False

    @cached_property
    def _centre(self) -> _NetworkSet:
        return _NetworkSet(self.centre_networks)

    @cached_property
    def _foreign(self) -> _NetworkSet:
        return _NetworkSet(self.foreign_networks)

    @cached_property
    def _allowed(self) -> _NetworkSet:
        return _NetworkSet(self.allowed_networks or ())

    @classmethod
    def open(cls) -> ConnectPolicy:
        """The analyst's lab tool: connect to what was named, loopback included."""
        return cls(unrestricted=True)

    def address_refusal(self, address: str) -> str | None:
        """The REASONS key refusing ``address``, or None when the connection may proceed."""
        if self.unrestricted:
            return None
        try:
            parsed = ipaddress.ip_address(str(address).split("%", 1)[0])
        except ValueError:
            return "invalid"
        kind = address_class(parsed)
        if (
            kind in INTERNAL_CLASSES
            and self.allowed_networks is not None
            and parsed in self._allowed
        ):
            # An internal address the structure proved (the centre reviewed it), in a closed
            # scope: a domain controller reached through the centre's VPN.
            kind = None
        if kind == "loopback" and not self.allow_loopback:
            return kind
        if kind is not None and kind != "loopback":
            return kind
        if parsed in self._centre:
            return "centre"
        if parsed in self._foreign:
            return "other_structure"
        if self.allowed_networks is not None and parsed not in self._allowed:
            return "outside_scope"
        return None

    def name_refusal(self, name: str) -> str | None:
        """A name (MX host, CNAME target, redirect host) that another structure declared."""
        if self.unrestricted or not self.foreign_names:
            return None
        candidate = name.strip().rstrip(".").lower()
        return "name_other_structure" if candidate in self.foreign_names else None

    def check(
        self, address: str, *, port: int | None = None, via: str = "", name: str = ""
    ) -> Refusal | None:
        """A ``Refusal`` to record, or None: the single question every connector asks."""
        reason = self.address_refusal(address)
        if reason is None and name and via not in ("", "target"):
            reason = self.name_refusal(name)
        if reason is None:
            return None
        return Refusal(address=str(address), reason=reason, port=port, via=via, name=name)

    def require(
        self, address: str, *, port: int | None = None, via: str = "", name: str = ""
    ) -> None:
        """Raise ``ScopeRefused`` unless the connection is allowed."""
        refusal = self.check(address, port=port, via=via, name=name)
        if refusal is not None:
            raise ScopeRefused(refusal)
