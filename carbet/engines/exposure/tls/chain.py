"""Certificate chains and revocation proofs: what the server sends beyond its leaf.

* **Incomplete chain vs unknown CA.** OpenSSL says "unable to get local issuer certificate"
  both when the server forgot an intermediate and when the issuing authority is simply not
  trusted; the fixes differ entirely (install the full chain vs get another certificate). When
  the sent chain stops below a root, the missing issuer is looked for first among the
  intermediates Carbet knows offline (``tls.intermediates``: learnt from trusted chains,
  imported by the centre; matched by issuer name and key identifier), then where the
  certificate says it lives (its Authority Information Access "CA Issuers" URL), **only when
  that URL names the asset itself** (the scanned host name or address) and through the scan's
  connect policy: Carbet never fetches anything from a third party on a target's behalf. With
  the issuer in hand, OpenSSL verifies again (the issuer is a path candidate, never an anchor):
  trusted now means ``tls.cert.chain_incomplete``; still untrusted stays
  ``tls.cert.untrusted``, with the reason in plain words (an issuer unknown to Carbet can be
  taught by importing the authority's intermediates). Chains trusted as sent report their
  intermediates (``trusted_intermediates``) for the platform to learn.
* **OCSP stapling.** One crafted TLS ≤ 1.2 ClientHello offering ``status_request`` (RFC 6066
  §8): a CertificateStatus message in the server's first flight is a stapled response.
  TLS 1.3 carries it encrypted, so a TLS 1.3-only server's stapling stays unknown (None).
* **Must-Staple** (RFC 7633): a leaf whose TLS Feature extension lists ``status_request``
  served without a staple is refused by strict clients: ``tls.ocsp.must_staple_missing``.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.parse
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

from carbet.engines.exposure.core import BudgetExceeded, ScanContext, TargetResult, close_quietly
from carbet.engines.exposure.tls.checks import (
    TLS_CERT_CHAIN_INCOMPLETE,
    TLS_CERT_UNTRUSTED,
    TLS_OCSP_MUST_STAPLE_MISSING,
    TLS_OCSP_STAPLING_MISSING,
)
from carbet.engines.exposure.tls.hello import TLSParseError, _Cursor, build_client_hello
from carbet.engines.exposure.tls.intermediates import sent_path
from carbet.engines.exposure.tls.suites import DEFAULT_GROUPS, TLS13

HS_CERTIFICATE_STATUS = 22
STATUS_TYPE_OCSP = 1
MAX_ISSUER_BYTES = 64 * 1024  # a CA certificate is a few kilobytes
MAX_FETCHES = 3  # levels of missing intermediates looked for (store or fetch), at most
MISSING_ISSUER = ("unable to get local issuer certificate", "unable to get issuer certificate")


class ChainError(ValueError):
    """Bytes that are not what a CA Issuers URL or a CertificateStatus should hold."""


# -- parsers of server bytes -------------------------------------------------------------------


def parse_certificate_status(body: bytes) -> bytes:
    """The OCSP response (DER) of a CertificateStatus message body (RFC 6066 §8)."""
    cursor = _Cursor(body)
    status_type = cursor.u8()
    if status_type != STATUS_TYPE_OCSP:
        raise TLSParseError(f"unknown certificate status type {status_type}")
    response = cursor.take(cursor.u24())
    if cursor.remaining():
        raise TLSParseError("trailing bytes after CertificateStatus")
    if not response:
        raise TLSParseError("empty OCSP response")
    return response


def describe_ocsp(response_der: bytes) -> dict[str, Any]:
    """What a stapled OCSP response says: its status and the certificate's (never raises)."""
    try:
        response = ocsp.load_der_ocsp_response(response_der)
        summary: dict[str, Any] = {"response_status": response.response_status.name.lower()}
        if response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL:
            summary["certificate_status"] = response.certificate_status.name.lower()
            next_update = response.next_update_utc
            summary["next_update"] = next_update.isoformat() if next_update else None
        return summary
    except Exception as exc:  # a malformed staple is itself worth saying
        return {"response_status": "unreadable", "error": f"{type(exc).__name__}"[:80]}


def parse_issuer_response(raw: bytes) -> bytes:
    """The DER certificate in an HTTP reply to a CA Issuers URL (DER, or PEM as some serve).

    Raises ChainError on anything else: not HTTP 200, no body, not a certificate."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        raise ChainError("réponse HTTP incomplète")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/") or status_line[1] != b"200":
        raise ChainError("réponse HTTP sans succès")
    if not body or len(body) > MAX_ISSUER_BYTES:
        raise ChainError("corps vide ou trop grand")
    try:
        if body.lstrip().startswith(b"-----BEGIN"):
            certificate = x509.load_pem_x509_certificate(body)
        else:
            certificate = x509.load_der_x509_certificate(body)
        return certificate.public_bytes(serialization.Encoding.DER)
    except Exception as exc:
        raise ChainError(f"pas un certificat ({type(exc).__name__})") from exc


# -- certificate extensions --------------------------------------------------------------------


def _load(der: bytes) -> x509.Certificate | None:
    try:
        return x509.load_der_x509_certificate(der)
    except Exception:
        return None


def ca_issuer_urls(der: bytes) -> list[str]:
    """The "CA Issuers" URLs of a certificate's Authority Information Access."""
    certificate = _load(der)
    if certificate is None:
        return []
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [
        str(description.access_location.value)
        for description in access.value
        if description.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(description.access_location, x509.UniformResourceIdentifier)
    ]


def must_staple(der: bytes) -> bool:
    """Does the certificate carry the TLS Feature extension with status_request (RFC 7633)?"""
    certificate = _load(der)
    if certificate is None:
        return False
    try:
        features = certificate.extensions.get_extension_for_class(x509.TLSFeature).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return x509.TLSFeatureType.status_request in list(features)


def _self_issued(der: bytes) -> bool:
    certificate = _load(der)
    return certificate is not None and certificate.issuer == certificate.subject


# -- completing a chain from the asset's own hosts ---------------------------------------------


@dataclass
class Completion:
    """The outcome of trying to complete a chain the server sent short."""

    completed: bool = False  # the issuer(s) found made OpenSSL trust the chain
    fetched: int = 0
    urls: tuple[str, ...] = ()
    reason: str = ""  # why it could not be completed (French, for the evidence)
    source: str = ""  # "known" (Carbet's store, nothing fetched) or "aia" (the asset's own URL)
    missing: tuple[str, ...] = ()  # subjects of the intermediates the server should send

    def as_dict(self) -> dict[str, Any]:
        return {
            "completed": self.completed,
            "fetched": self.fetched,
            "urls": list(self.urls),
            "reason": self.reason,
            "source": self.source,
            "missing": list(self.missing),
        }


def own_url(url: str, server_name: str | None, address: str) -> tuple[str, int, str] | None:
    """(host, port, path) when ``url`` is plain HTTP to the asset itself, else None."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or 80
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    own = {address.lower()} | ({server_name.lower().rstrip(".")} if server_name else set())
    if parts.scheme != "http" or host not in own:
        return None
    return host, port, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


async def fetch_issuer(
    ctx: ScanContext, target: str, address: str, host: str, port: int, path: str
) -> bytes:
    """GET one CA Issuers URL of the asset (on the already-vetted ``address``, through the
    connect policy); the issuer's DER. Raises ChainError/OSError/TimeoutError on failure."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ctx.config.user_agent}\r\n"
        "Accept: application/pkix-cert, */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii", "replace")
    async with ctx.slot(target):
        reader, writer = await ctx.open_connection(target, address, port)
        try:
            writer.write(request)
            await asyncio.wait_for(writer.drain(), ctx.config.read_timeout)
            raw = b""
            while len(raw) <= MAX_ISSUER_BYTES + 4096:
                chunk = await asyncio.wait_for(reader.read(16384), ctx.config.read_timeout)
                if not chunk:
                    break
                raw += chunk
        finally:
            await close_quietly(writer)
    return parse_issuer_response(raw)


def missing_issuer(trust_error: str) -> bool:
    return any(marker in trust_error for marker in MISSING_ISSUER)


async def complete_chain(
    ctx: ScanContext,
    target: str,
    address: str,
    port: int,
    server_name: str | None,
    chain_der: list[bytes],
    trust_error: str,
    verify: Any,
) -> Completion:
    """Try to complete a chain OpenSSL could not anchor; ``verify(extra_pem)`` re-runs the
    verifying handshake with ``extra_pem`` as extra issuers and returns trusted?.

    Carbet's known intermediates first (offline), then the asset's own AIA URL."""
    if not chain_der or not missing_issuer(trust_error) or _self_issued(chain_der[-1]):
        return Completion(reason="")
    store = ctx.config.known_intermediates
    known = store.candidates(chain_der[-1], MAX_FETCHES) if store else []
    if known:
        pem = "".join(ssl.DER_cert_to_PEM_cert(item.der) for item in known)
        if await verify(pem) is True:
            return Completion(
                completed=True, source="known", missing=tuple(item.subject for item in known)
            )
    completion = await _complete_from_aia(ctx, target, address, server_name, chain_der[-1], verify)
    if not completion.completed:
        completion.reason = "; ".join(
            part for part in (completion.reason, _unknown_issuer(chain_der[-1], known)) if part
        )
    return completion


def _unknown_issuer(der: bytes, known: list[Any]) -> str:
    """Why the chain stays untrusted, in plain words, and what the centre can do."""
    certificate = _load(der)
    issuer = certificate.issuer.rfc4514_string()[:200] if certificate is not None else "?"
    if known:
        return (
            f"l'émetteur « {issuer} » est connu de Carbet, mais la chaîne ne mène toujours à "
            "aucune autorité de confiance : l'autorité elle-même n'est pas reconnue"
        )
    return (
        f"émetteur « {issuer} » inconnu de Carbet (ni envoyé par le serveur, ni parmi les "
        "certificats intermédiaires connus) : si cette autorité est reconnue, importez ses "
        "certificats intermédiaires (carbet intermediates import) et relancez l'analyse"
    )


async def _complete_from_aia(
    ctx: ScanContext,
    target: str,
    address: str,
    server_name: str | None,
    last: bytes,
    verify: Any,
) -> Completion:
    """Follow the AIA "CA Issuers" URLs from ``last``, only those naming the asset itself."""
    fetched: list[bytes] = []
    urls: list[str] = []
    current = last
    reason = ""
    while len(fetched) < MAX_FETCHES:
        candidates = ca_issuer_urls(current)
        if not candidates:
            reason = "aucune adresse « CA Issuers » (AIA) dans le certificat"
            break
        own = [(url, own_url(url, server_name, address)) for url in candidates]
        allowed = [(url, where) for url, where in own if where is not None]
        if not allowed:
            reason = (
                "intermédiaire non téléchargé : son adresse (AIA) n'est pas celle de l'actif "
                f"({candidates[0][:120]})"
            )
            break
        url, (host, http_port, path) = allowed[0]
        urls.append(url)
        try:
            issuer = await fetch_issuer(ctx, target, address, host, http_port, path)
        except BudgetExceeded:
            raise
        except (ChainError, OSError, TimeoutError, ConnectionError) as exc:
            reason = f"intermédiaire non obtenu ({url[:120]} : {exc or type(exc).__name__})"
            break
        fetched.append(issuer)
        if _self_issued(issuer):
            reason = "l'adresse AIA donne une racine"
            break
        current = issuer
        reason = ""
    if not fetched:
        return Completion(urls=tuple(urls), reason=reason)
    intermediates = [der for der in fetched if not _self_issued(der)]
    pem = "".join(ssl.DER_cert_to_PEM_cert(der) for der in intermediates)
    trusted = bool(pem) and await verify(pem) is True
    return Completion(
        completed=trusted,
        fetched=len(fetched),
        urls=tuple(urls),
        reason="" if trusted else (reason or "chaîne toujours non reconnue avec l'intermédiaire"),
        source="aia" if trusted else "",
        missing=tuple(_subject(der) for der in intermediates) if trusted else (),
    )


def _subject(der: bytes) -> str:
    certificate = _load(der)
    return certificate.subject.rfc4514_string() if certificate is not None else "?"


def record_chain(
    result: TargetResult,
    port: int,
    evidence: dict[str, Any],
    chain_der: list[bytes],
    completion: Completion | None,
    trust_error: str,
) -> None:
    """The chain's verdict beyond the leaf: incomplete (which intermediate, from where), or
    why it stays untrusted (added to the untrusted finding's detail)."""
    certificate = evidence["certificate"]
    if completion is None:
        return
    if completion.urls or completion.reason or completion.source:
        certificate["chain_completion"] = completion.as_dict()
    if completion.completed:
        certificate["chain_incomplete"] = True
        names = ", ".join(f"« {name[:120]} »" for name in completion.missing[:3])
        where = (
            "connu de Carbet, rien n'a été téléchargé"
            if completion.source == "known"
            else "obtenu sur l'actif lui-même"
        )
        result.observations.append(
            TLS_CERT_CHAIN_INCOMPLETE.observe(
                port,
                f"intermédiaire non envoyé par le serveur : {names or '?'} ({where})",
                {
                    "sent": len(chain_der),
                    "aia": list(completion.urls),
                    "source": completion.source,
                    "missing": list(completion.missing),
                },
            )
        )
        return
    if not completion.reason:
        return
    for observation in result.observations:
        if observation.check == TLS_CERT_UNTRUSTED.id and observation.port == port:
            observation.detail = f"{trust_error[:80]} — {completion.reason}"[:600]
            observation.evidence["chain_completion"] = completion.reason


def learnable(
    result: TargetResult,
    chain_der: list[bytes],
    trusted: bool | None,
    verified_leaf: bytes | None,
) -> None:
    """Report the intermediates of a sent chain OpenSSL verified as trusted, for the platform
    to learn (``evidence["trusted_intermediates"]``). Only a chain trusted as sent, whose leaf
    is the one the verifying handshake saw: never an untrusted or completed chain."""
    if trusted is not True or len(chain_der) < 2 or verified_leaf != chain_der[0]:
        return
    reported = result.evidence.setdefault("trusted_intermediates", [])
    known = {entry.get("sha256") for entry in reported}
    for item in sent_path(chain_der):
        if item.sha256 not in known:
            known.add(item.sha256)
            reported.append(item.as_evidence())


# -- OCSP stapling ---------------------------------------------------------------------------


async def stapling(
    scan: Any,
    result: TargetResult,
    evidence: dict[str, Any],
    accepted: dict[int, list[int]],
    chain_der: list[bytes],
    trusted: bool | None,
) -> None:
    """One TLS ≤ 1.2 probe asking for a stapled OCSP response; Must-Staple honoured."""
    legacy = [version for version in accepted if version < TLS13]
    if not legacy or not chain_der:
        evidence["ocsp_stapling"] = None  # TLS 1.3 only: the staple travels encrypted
        return
    version = max(legacy)
    wire = build_client_hello(
        version, accepted[version], scan.server_name, groups=DEFAULT_GROUPS, status_request=True
    )
    try:
        probe = await scan.probe(wire, want_flight=True)
    except BudgetExceeded:
        return
    if probe.hello is None:
        evidence["ocsp_stapling"] = None
        return
    stapled = probe.ocsp is not None
    evidence["ocsp_stapling"] = stapled
    if stapled:
        evidence["ocsp"] = describe_ocsp(probe.ocsp or b"")
    leaf = chain_der[0]
    evidence["must_staple"] = must_staple(leaf)
    if evidence["must_staple"] and not stapled:
        result.observations.append(
            TLS_OCSP_MUST_STAPLE_MISSING.observe(
                scan.port, "certificat « Must-Staple », aucune réponse OCSP agrafée"
            )
        )
    elif not stapled and trusted:
        result.observations.append(
            TLS_OCSP_STAPLING_MISSING.observe(scan.port, "aucune réponse OCSP agrafée")
        )
