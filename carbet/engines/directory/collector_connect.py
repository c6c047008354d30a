"""The collector's connection: where it may connect, and the bound, read-only LDAP session.

The bind password must reach only a server the structure has proven is its own. A check made
when the connection was saved proves nothing about the moment of the collection: DNS can answer
differently then (rebinding), or the row may have been written without the form. So, right
before the socket opens, the collector

1. resolves the server's name **once** (through the platform's nameserver when one is set),
2. asks the connect-time policy (``carbet.engines.netpolicy``) about each address, and keeps
   the first one it allows (none: ``ServerRefused``, before any packet),
3. hands ldap3 (and smbclient, for SYSVOL) that **IP literal**, so nothing resolves the name a
   second time, checks after ``open`` that the socket's peer is that address, and still checks
   the TLS certificate against the name that was typed before the password leaves.

Pure standard library, ldap3 and the exposure engine's resolver; no Django.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from dataclasses import dataclass, field
from typing import Any

import ldap3
from ldap3.core import exceptions as ldap_errors

from carbet.engines.netpolicy import REASONS, ConnectPolicy, Refusal

CONNECT_TIMEOUT = 10  # seconds to open the TCP+TLS connection
RECEIVE_TIMEOUT = 120  # seconds of silence tolerated on one LDAP operation
RESOLVE_TIMEOUT = 5.0  # seconds for the A/AAAA lookups of the server's name


class CollectError(Exception):
    """The collection cannot produce a snapshot (connection, TLS, bind, lost link...)."""


class ServerRefused(CollectError):
    """The connect-time policy refused the server: nothing was opened, no password sent."""

    def __init__(self, message: str, refusals: list[Refusal], resolved: list[str]) -> None:
        super().__init__(message)
        self.refusals = refusals
        self.resolved = resolved


@dataclass
class Choice:
    """The outcome of ``choose``: an address, or why there is none."""

    address: str | None = None
    resolved: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    problem: str = ""  # the name did not resolve

    def message(self, host: str, port: int) -> str:
        """Why nothing was contacted, in French, for the audit's error line."""
        if self.problem:
            return (
                f"le nom du serveur {host!r} ne se résout pas ({self.problem}) : aucune "
                f"connexion ouverte, le mot de passe n'a pas été envoyé"
            )
        reasons = "; ".join(
            f"{refusal.address} : {REASONS.get(refusal.reason, refusal.reason)}"
            for refusal in self.refusals[:4]
        )
        return (
            f"serveur hors du périmètre prouvé : {host}:{port} ({reasons}). Aucune connexion "
            f"ouverte, le mot de passe n'a pas été envoyé. Seule une adresse prouvée de la "
            f"structure peut être auditée (server out of the proven scope)"
        )


def ip_literal(text: str) -> str | None:
    """The canonical form of an IP literal, or None for a name."""
    try:
        return str(ipaddress.ip_address(text.strip().split("%", 1)[0]))
    except ValueError:
        return None


def resolve(name: str, nameserver: str | None = None) -> tuple[list[str], str]:
    """The name's addresses (IPv4 first) and, when there are none, why.

    The exposure engine's resolver: the platform's nameserver when ``nameserver`` is set (the
    setting every platform scan uses), else the system's.
    """
    from carbet.engines.exposure.core import ScanConfig
    from carbet.engines.exposure.runner import Resolver

    try:
        config = ScanConfig(nameserver=nameserver or None, dns_timeout=RESOLVE_TIMEOUT)
        config.nameserver_address()  # a malformed setting is a clear error, not a crash
    except ValueError as exc:
        return [], str(exc)
    resolver = Resolver(config)
    return asyncio.run(resolver.addresses(name))


def choose(host: str, port: int, policy: ConnectPolicy, *, nameserver: str | None = None) -> Choice:
    """The first address of ``host`` that ``policy`` allows (every refusal kept)."""
    literal = ip_literal(host)
    if literal is not None:
        choice = Choice(resolved=[literal])
        via = "target"
    else:
        addresses, problem = resolve(host, nameserver)
        choice = Choice(
            resolved=addresses, problem="" if addresses else problem or "aucune adresse"
        )
        via = "name"
    for address in choice.resolved:
        refusal = policy.check(address, port=port, via=via, name=host if via == "name" else "")
        if refusal is None:
            choice.address = address
            return choice
        choice.refusals.append(refusal)
    return choice


def _same_host(text: str) -> str | None:
    """An address in one form: an IPv4-mapped IPv6 peer is the IPv4 address it carries."""
    literal = ip_literal(text)
    if literal is None:
        return None
    parsed = ipaddress.ip_address(literal)
    mapped = getattr(parsed, "ipv4_mapped", None)
    return str(mapped or parsed)


def peer_refusal(policy: ConnectPolicy, peer: str, expected: str, port: int) -> Refusal | None:
    """After the socket opened: the peer must be the checked address, and still allowed."""
    refusal = policy.check(peer, port=port, via="socket")
    if refusal is None and _same_host(peer) != _same_host(expected):
        refusal = Refusal(address=peer, reason="outside_scope", port=port, via="socket")
    return refusal


def split_server(server: str, port: int | None) -> tuple[str, int | None]:
    """ "host", "host:636", "[::1]:636" → (host, port)."""
    host = server.strip()
    if host.startswith("["):
        closing = host.find("]")
        if closing < 0:
            raise CollectError(f"adresse de serveur invalide : {server!r}")
        rest, host = host[closing + 1 :], host[1:closing]
        if rest.startswith(":"):
            port = port or _port(rest[1:], server)
    elif host.count(":") == 1:
        host, text_port = host.split(":")
        port = port or _port(text_port, server)
    if not host:
        raise CollectError("aucun serveur indiqué / no server given")
    return host, port


def _port(text: str, server: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise CollectError(f"port invalide dans {server!r} / invalid port")
    return int(text)


def connect(
    server: str,
    port: int | None,
    user: str,
    password: str,
    *,
    starttls: bool = False,
    ca_file: str | None = None,
    insecure: bool = False,
    auth: str = "simple",
    policy: ConnectPolicy,
    nameserver: str | None = None,
) -> ldap3.Connection:
    """An open, bound, read-only connection; CollectError with a clear message otherwise.

    The socket goes to the one address of ``server`` that ``policy`` allows (ServerRefused,
    before any packet, when there is none); the certificate must still name ``server``.
    """
    host, port = split_server(server, port)
    port = port or (389 if starttls else 636)
    if auth not in {"simple", "ntlm", "kerberos"}:
        raise CollectError(f"authentification inconnue : {auth} (simple, ntlm ou kerberos)")
    choice = choose(host, port, policy, nameserver=nameserver)
    if choice.address is None:
        raise ServerRefused(choice.message(host, port), choice.refusals, choice.resolved)
    is_name = ip_literal(host) is None
    tls = ldap3.Tls(
        validate=ssl.CERT_NONE if insecure else ssl.CERT_REQUIRED,
        ca_certs_file=ca_file,
        version=ssl.PROTOCOL_TLS_CLIENT,
        # ldap3's own name check ignores IP addresses in the certificate: we check below.
        valid_names=["*"],
        # ldap3 connects to the address: SNI still carries the name the certificate must bear.
        sni=host if is_name else None,
    )
    target = ldap3.Server(
        choice.address,
        port=port,
        use_ssl=not starttls,
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=CONNECT_TIMEOUT,
    )
    options: dict[str, Any] = {"authentication": ldap3.SIMPLE, "user": user, "password": password}
    if auth == "ntlm":
        # Windows domains only: ldap3's NTLM does not work against Samba (REFERENCE.md).
        options = {"authentication": ldap3.NTLM, "user": user, "password": password}
    elif auth == "kerberos":
        try:
            import gssapi  # noqa: F401  (ldap3's SASL/GSSAPI needs it)
        except ImportError:
            raise CollectError(
                "Kerberos indisponible : le module Python « gssapi » n'est pas installé "
                "(Kerberos unavailable: install gssapi)"
            ) from None
        options = {"authentication": ldap3.SASL, "sasl_mechanism": ldap3.KERBEROS}
        if is_name:  # the ticket is for ldap/<name>, not for the address ldap3 was given
            options["sasl_credentials"] = (host,)
    connection = ldap3.Connection(
        target,
        read_only=True,
        receive_timeout=RECEIVE_TIMEOUT,
        raise_exceptions=False,
        auto_referrals=False,
        check_names=False,
        **options,
    )
    try:
        connection.open()
        refusal = peer_refusal(
            policy, str(connection.socket.getpeername()[0]), choice.address, port
        )
        if refusal is not None:  # the socket is not the one that was checked: stop here
            raise ServerRefused(refusal.message, [refusal], choice.resolved)
        if starttls and not connection.start_tls():
            raise CollectError(f"StartTLS refusé par {host}:{port} / StartTLS refused")
        if not insecure:
            # Before the bind: the password goes only to the server the certificate names.
            check_peer_name(connection.socket.getpeercert() or {}, host)
        if not connection.bind():
            result = connection.result or {}
            raise CollectError(
                f"connexion refusée par l'annuaire (bind refused): "
                f"{result.get('description', '')} {result.get('message', '')}".strip()
            )
    except ldap_errors.LDAPException as exc:
        _close(connection)
        raise CollectError(explain(exc)) from None
    except CollectError:
        _close(connection)
        raise
    return connection


def _close(connection: ldap3.Connection) -> None:
    try:
        connection.unbind()
    except (ldap_errors.LDAPException, OSError):
        pass


def check_peer_name(certificate: dict[str, Any], host: str) -> None:
    """The verified certificate must name ``host`` (DNS name, wildcard label or IP address)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    names = certificate.get("subjectAltName", ())
    for kind, value in names:
        if address is not None and kind == "IP Address":
            try:
                if ipaddress.ip_address(value.strip()) == address:
                    return
            except ValueError:
                continue
        elif address is None and kind == "DNS" and _dns_match(value, host):
            return
    if not names and address is None:
        for rdn in certificate.get("subject", ()):
            for key, value in rdn:
                if key == "commonName" and _dns_match(value, host):
                    return
    raise CollectError(
        f"échec TLS : le certificat du serveur ne porte pas le nom {host!r} "
        f"(TLS failure: certificate does not match the host name)"
    )


def _dns_match(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def explain(exc: Exception) -> str:
    text = str(exc)
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return (
            "échec TLS : certificat non reconnu ou négociation impossible (--ca-file PEM, "
            f"ou --insecure en connaissance de cause) / TLS failure: {text[:300]}"
        )
    if "timed out" in lowered or "timeout" in lowered:
        return f"délai dépassé : l'annuaire ne répond pas / timeout: {text[:300]}"
    if "refused" in lowered or "unreachable" in lowered or "socket" in lowered:
        return f"connexion impossible au serveur / connection failed: {text[:300]}"
    return f"erreur LDAP / LDAP error: {text[:300]}"
