"""DNSSEC of the MX hosts' zones and DANE for SMTP (RFC 7672, RFC 6698) on each MX.

For every MX host: the DNSSEC status of the zone that holds its name (:mod:`.dnssec`), the
TLSA records at ``_25._tcp.<mx>``, whether they are DNSSEC-validated (the resolver's AD bit,
or their RRSIG verifying with keys of a zone that itself validates), and whether one usable
record matches the certificate chain the MX presents after STARTTLS.

Usable for SMTP (RFC 7672 3.1): usage 2 (DANE-TA: an issuer the server sends) and 3
(DANE-EE: the server's own certificate), selector 0 (whole certificate) or 1 (its public
key), matching type 0 (exact), 1 (SHA-256) or 2 (SHA-512). Usages 0 and 1 (PKIX) are not
usable for SMTP. The chain is read with a non-verifying TLS context: DANE replaces the
public trust store, so a self-signed DANE-EE certificate is right, not wrong.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from carbet.engines.exposure.core import BudgetExceeded, Observation, ScanContext, close_quietly
from carbet.engines.exposure.mail.checks_transport import (
    MAIL_DANE_MISMATCH,
    MAIL_DANE_MISSING,
    MAIL_DANE_UNVALIDATED,
    MAIL_MX_DNSSEC_BOGUS,
    MAIL_MX_DNSSEC_MISSING,
)
from carbet.engines.exposure.mail.dnsclient import DnsClient
from carbet.engines.exposure.mail.dnssec import verify_rrset, zone_apex, zone_status
from carbet.engines.exposure.mail.smtp import EHLO_NAME, _smtp_reply

DANE_USAGES = (2, 3)
SELECTORS = (0, 1)
MATCHING = (0, 1, 2)
MAX_CHAIN = 10
ENCODING_DER = 2  # _ssl.ENCODING_DER: the format argument of Certificate.public_bytes


@dataclass(frozen=True)
class Tlsa:
    usage: int
    selector: int
    mtype: int
    data: bytes

    @property
    def usable(self) -> bool:
        return self.usage in DANE_USAGES and self.selector in SELECTORS and self.mtype in MATCHING

    def text(self) -> str:
        return f"{self.usage} {self.selector} {self.mtype} {self.data.hex()[:64]}"


def _selected(der: bytes, selector: int) -> bytes | None:
    if selector == 0:
        return der
    try:
        key = x509.load_der_x509_certificate(der).public_key()
        return key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (ValueError, TypeError):  # unreadable certificate, unsupported key type
        return None


def _digest(data: bytes, mtype: int) -> bytes:
    if mtype == 1:
        return hashlib.sha256(data).digest()
    if mtype == 2:
        return hashlib.sha512(data).digest()
    return data


def tlsa_matches(record: Tlsa, chain: list[bytes]) -> bool:
    """Does ``record`` match the chain (DER certificates, the server's own first)? Never
    raises: garbage certificates or unusable parameters simply do not match."""
    if not record.usable or not chain:
        return False
    candidates = chain[:1] if record.usage == 3 else chain[1:MAX_CHAIN]
    for der in candidates:
        selected = _selected(der, record.selector)
        if selected is not None and _digest(selected, record.mtype) == record.data:
            return True
    return False


async def starttls_chain(ctx: ScanContext, host: str, address: str) -> tuple[list[bytes], str]:
    """The certificate chain an MX presents after STARTTLS (DER, its own first), read without
    verifying it; or an error. Through the scan's connect policy, slots and timeouts."""
    timeout = ctx.config.read_timeout
    try:
        async with ctx.slot(host):
            reader, writer = await ctx.open_connection(host, address, ctx.config.smtp_port)
            try:
                for command in (None, f"EHLO {EHLO_NAME}", "STARTTLS"):
                    if command is not None:
                        writer.write(command.encode() + b"\r\n")
                        await writer.drain()
                    code, _lines = await _smtp_reply(reader, timeout)
                    if code not in (220, 250):
                        return [], f"SMTP dialogue stopped ({code or 'no reply'})"
                await asyncio.wait_for(
                    writer.start_tls(ctx.insecure_ssl_context(), server_hostname=host), timeout
                )
                return _chain_of(writer.get_extra_info("ssl_object")), ""
            finally:
                await close_quietly(writer)
    except BudgetExceeded:
        return [], "request budget exhausted"
    except (TimeoutError, OSError, ssl.SSLError) as exc:
        return [], f"{type(exc).__name__}: {exc}"[:200]


def _chain_of(ssl_object: Any) -> list[bytes]:
    if ssl_object is None:
        return []
    leaf = ssl_object.getpeercert(binary_form=True)
    # The chain as sent (Python 3.13: get_unverified_chain; 3.12: on the inner object).
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    chain: list[bytes] = []
    if getter is not None:
        for cert in (getter() or [])[:MAX_CHAIN]:
            der = cert if isinstance(cert, bytes) else cert.public_bytes(ENCODING_DER)
            chain.append(bytes(der))
    if leaf and (not chain or chain[0] != leaf):
        chain.insert(0, bytes(leaf))
    return chain


async def _one_mx(
    ctx: ScanContext, client: DnsClient, host: str, probe: dict[str, Any]
) -> dict[str, Any]:
    apex = await zone_apex(client, host)
    (zone, keys), tlsa = await asyncio.gather(
        zone_status(client, apex), client.query(f"_25._tcp.{host}", "TLSA", dnssec=True)
    )
    info: dict[str, Any] = {"host": host, "zone": apex, "dnssec": zone["status"]}
    if zone.get("problems"):
        info["dnssec_problems"] = zone["problems"]
    if tlsa.error:
        info["tlsa_error"] = tlsa.error
        return info
    records = [
        Tlsa(r.usage, r.selector, r.mtype, bytes(r.cert))
        for r in tlsa.rdatas()
        if hasattr(r, "usage")
    ]
    info["tlsa"] = [r.text() for r in records][:10]
    if not records:
        return info
    signature = verify_rrset(tlsa, keys, apex)
    info["tlsa_validated"] = zone["status"] == "validated" and not signature
    if not info["tlsa_validated"]:
        info["tlsa_problem"] = signature or f"zone {apex} is {zone['status']}"
        return info
    if probe.get("refused") or not probe.get("reachable"):
        info["match"] = None  # not contacted: nothing concluded
        return info
    if not probe.get("starttls"):
        info["match"] = False
        info["match_problem"] = "TLSA published but the server offers no STARTTLS"
        return info
    chain, error = await starttls_chain(ctx, host, str(probe.get("address", "")))
    if error:
        info["match"] = None
        info["chain_error"] = error
        return info
    usable = [r for r in records if r.usable]
    info["usable"] = len(usable)
    info["match"] = any(tlsa_matches(r, chain) for r in usable)
    if not info["match"]:
        info["match_problem"] = (
            "no usable TLSA record (usages 2/3 only)"
            if not usable
            else "no TLSA record matches the certificate presented"
        )
    return info


async def mx_dane(
    ctx: ScanContext,
    client: DnsClient,
    probes: list[dict[str, Any]],
    evidence: dict[str, Any],
) -> list[Observation]:
    """DNSSEC of each MX zone and DANE on each MX (``probes``: the STARTTLS probes' evidence,
    one per MX host)."""
    port = ctx.config.smtp_port
    infos = await asyncio.gather(*(_one_mx(ctx, client, p["host"], p) for p in probes))
    evidence["mx_dane"] = list(infos)
    found: list[Observation] = []

    def hosts(predicate: Any) -> list[str]:
        return [i["host"] for i in infos if predicate(i)]

    unsigned = hosts(lambda i: i["dnssec"] == "unsigned")
    bogus = hosts(lambda i: i["dnssec"] == "bogus")
    missing = hosts(lambda i: "tlsa" in i and not i["tlsa"])
    unvalidated = hosts(lambda i: i.get("tlsa_validated") is False)
    mismatch = [i for i in infos if i.get("match") is False]
    if unsigned:
        found.append(
            MAIL_MX_DNSSEC_MISSING.observe(
                None, "unsigned zone: " + ", ".join(unsigned), {"hosts": unsigned}
            )
        )
    if bogus:
        found.append(
            MAIL_MX_DNSSEC_BOGUS.observe(None, "bogus: " + ", ".join(bogus), {"hosts": bogus})
        )
    if missing:
        found.append(
            MAIL_DANE_MISSING.observe(port, "no TLSA: " + ", ".join(missing), {"hosts": missing})
        )
    if unvalidated:
        found.append(
            MAIL_DANE_UNVALIDATED.observe(
                port, "TLSA not validated: " + ", ".join(unvalidated), {"hosts": unvalidated}
            )
        )
    if mismatch:
        detail = "; ".join(f"{i['host']}: {i['match_problem']}" for i in mismatch)[:300]
        found.append(
            MAIL_DANE_MISMATCH.observe(port, detail, {"hosts": [i["host"] for i in mismatch]})
        )
    return found
