"""Proof of ownership of an asset, and which declarations collide: pure logic, no Django.

A structure proves that a name is its own by publishing its token, either as a DNS TXT record
(``_carbet-verification.<name>`` or the name itself) or as a file on the web site
(``/.well-known/carbet-verification.txt``). Addresses and networks cannot carry a token: the
centre reviews them (registry of the address space, hosting contract) and records who checked
what. Two structures declaring the same name, or overlapping addresses, are in conflict until the
centre decides.

The network side (asking DNS, fetching the file) lives here too, so that it can be tested
against real servers on loopback and always goes through the connect-time policy: the proof
fetch must never become a way to reach the centre's network or another hospital.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from carbet.engines.netpolicy import ConnectPolicy, Refusal, ScopeRefused

PROOF_PREFIX = "carbet-verification="
TXT_LABEL = "_carbet-verification"
WELL_KNOWN_PATH = "/.well-known/carbet-verification.txt"
MAX_FILE_BYTES = 4096  # the file holds one line; never read a large body

NAME_KINDS = frozenset({"domain", "hostname", "mail_domain", "ad_domain"})
ADDRESS_KINDS = frozenset({"ipv4", "ipv6", "cidr"})


def new_token() -> str:
    """A fresh per-structure token: 32 url-safe characters, unguessable."""
    return secrets.token_urlsafe(24)


def expected_value(token: str) -> str:
    return f"{PROOF_PREFIX}{token}"


def txt_names(name: str) -> list[str]:
    """Where a TXT proof of ``name`` may stand, the dedicated label first."""
    return [f"{TXT_LABEL}.{name}", name]


def txt_proves(records: Iterable[str], token: str) -> bool:
    """Whether one of the TXT strings is exactly this structure's proof (spaces tolerated)."""
    wanted = expected_value(token)
    return any(record.strip().strip('"').strip() == wanted for record in records)


def file_proves(body: bytes, token: str) -> bool:
    """Whether the well-known file's first non-empty line is the token (bare or prefixed)."""
    try:
        text = body[:MAX_FILE_BYTES].decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            return stripped in (token, expected_value(token))
    return False


def parent_names(name: str) -> list[str]:
    """``a.b.example.fr`` → ``b.example.fr``, ``example.fr`` (never the bare top-level label)."""
    labels = name.split(".")
    return [".".join(labels[index:]) for index in range(1, len(labels) - 1)]


# --- Conflicts -----------------------------------------------------------------------------------


def _network(kind: str, value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if kind not in ADDRESS_KINDS:
        return None
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def is_internal(kind: str, value: str) -> bool:
    """An address or network of a private range: every hospital reuses 10.x or 192.168.x, so
    such declarations never collide between structures and never bar another's scans."""
    network = _network(kind, value)
    if network is None:
        return False
    from carbet.engines.netpolicy import INTERNAL_CLASSES, address_class

    return address_class(network.network_address) in INTERNAL_CLASSES | {"link_local"}


def overlaps(kind_a: str, value_a: str, kind_b: str, value_b: str) -> bool:
    """Whether two declarations designate (part of) the same thing on the internet.

    Names collide when equal whatever their kind (a web domain and a mail domain of the same
    name are one zone) or when one lies under the other (``vpn.ch.fr`` inside ``ch.fr``);
    public addresses when their networks overlap (private ranges never: every hospital reuses
    them). Applications never collide.
    """
    if kind_a in NAME_KINDS and kind_b in NAME_KINDS:
        a, b = value_a.rstrip(".").lower(), value_b.rstrip(".").lower()
        # A name under another's zone is that zone holder's: claiming it is a conflict too.
        return a == b or a.endswith("." + b) or b.endswith("." + a)
    net_a, net_b = _network(kind_a, value_a), _network(kind_b, value_b)
    if net_a is None or net_b is None or net_a.version != net_b.version:
        return False
    if is_internal(kind_a, value_a) or is_internal(kind_b, value_b):
        return False
    return net_a.overlaps(net_b)


# --- Checking a proof over the network --------------------------------------------------------


@dataclass
class ProofCheck:
    """What a proof attempt found, told to a person (French)."""

    proven: bool = False
    method: str = ""  # "dns_txt" | "web_file"
    detail: str = ""
    tried: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


async def _read_http(
    address: str,
    port: int,
    host: str,
    use_tls: bool,
    timeout: float,
) -> tuple[int, bytes]:
    import ssl

    context = None
    if use_tls:
        # The token is the proof, not the certificate: a self-signed site can prove its name.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(
            address, port, ssl=context, server_hostname=host if use_tls else None
        ),
        timeout,
    )
    try:
        request = (
            f"GET {WELL_KNOWN_PATH} HTTP/1.1\r\nHost: {host}\r\n"
            "User-Agent: Carbet-Ownership/1.0\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
        )
        writer.write(request.encode("ascii"))
        await asyncio.wait_for(writer.drain(), timeout)
        raw = b""
        while len(raw) < MAX_FILE_BYTES + 2048:
            chunk = await asyncio.wait_for(reader.read(4096), timeout)
            if not chunk:
                break
            raw += chunk
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    return status, body


async def fetch_web_proof(
    name: str,
    addresses: list[str],
    token: str,
    policy: ConnectPolicy,
    *,
    https_port: int = 443,
    http_port: int = 80,
    timeout: float = 5.0,
) -> ProofCheck:
    """Look for the token at ``https://name/.well-known/...`` then over plain HTTP.

    Every address is checked against ``policy`` right before its connection; a refused address
    is reported, never contacted. Redirects are not followed (the file must be on the name).
    """
    check = ProofCheck()
    for use_tls, port in ((True, https_port), (False, http_port)):
        for address in addresses:
            refusal = policy.check(address, port=port, via="name", name=name)
            if refusal is not None:
                if refusal not in check.refusals:
                    check.refusals.append(refusal)
                continue
            scheme = "https" if use_tls else "http"
            check.tried.append(f"{scheme}://{name}:{port}{WELL_KNOWN_PATH} ({address})")
            try:
                status, body = await _read_http(address, port, name, use_tls, timeout)
            except (OSError, TimeoutError, ScopeRefused, ValueError):
                continue
            if status == 200 and file_proves(body, token):
                check.proven, check.method = True, "web_file"
                check.detail = f"fichier trouvé sur {scheme}://{name}{WELL_KNOWN_PATH}"
                return check
    return check


async def check_name(
    name: str,
    token: str,
    policy: ConnectPolicy,
    *,
    nameserver: str | None = None,
    https_port: int = 443,
    http_port: int = 80,
    timeout: float = 5.0,
    web: bool = True,
) -> ProofCheck:
    """DNS TXT first (``_carbet-verification.<name>``, then the name), then the web file."""
    from carbet.engines.exposure.core import ScanConfig
    from carbet.engines.exposure.runner import Resolver

    resolver = Resolver(ScanConfig(nameserver=nameserver, dns_timeout=timeout))
    for candidate in txt_names(name):
        records = await resolver.txt(candidate)
        if txt_proves(records, token):
            return ProofCheck(
                proven=True,
                method="dns_txt",
                detail=f"enregistrement TXT trouvé sur {candidate}",
                tried=[f"DNS TXT {candidate}"],
            )
    tried = [f"DNS TXT {candidate}" for candidate in txt_names(name)]
    if not web:
        return ProofCheck(tried=tried, detail="aucun enregistrement TXT ne porte le jeton")
    addresses, reason = await resolver.addresses(name)
    check = await fetch_web_proof(
        name,
        addresses[:4],
        token,
        policy,
        https_port=https_port,
        http_port=http_port,
        timeout=timeout,
    )
    check.tried = tried + check.tried
    if not check.proven:
        check.detail = "ni enregistrement TXT ni fichier portant le jeton" + (
            f" ({reason})" if reason and not addresses else ""
        )
    return check
