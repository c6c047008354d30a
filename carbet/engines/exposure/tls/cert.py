"""What a certificate says about itself: names, dates, key, signature, self-signature.

Chain trust is decided by OpenSSL against the configured store (see ``tls.verify_chain``); this
module only reads certificates (untrusted DER from the wire, parsed by ``cryptography``) and
matches host names the RFC 6125 way (one left-most wildcard label, no partial wildcards).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

EXPIRY_WARNING_DAYS = 30


class CertificateError(ValueError):
    """The bytes are not a certificate we can read."""


@dataclass
class CertificateSummary:
    subject: str
    issuer: str
    common_names: list[str]
    dns_names: list[str]
    ip_addresses: list[str]
    not_before: dt.datetime
    not_after: dt.datetime
    key_type: str  # RSA, EC, Ed25519, Ed448, DSA
    key_bits: int
    signature_algorithm: str  # sha256WithRSAEncryption, ecdsa-with-SHA256, ...
    signature_hash: str  # sha256, sha1, md5, "" (EdDSA)
    self_signed: bool
    serial: str
    fingerprint_sha256: str
    extra: dict[str, Any] = field(default_factory=dict)

    def days_left(self, now: dt.datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "sans": self.dns_names + self.ip_addresses,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "key_type": self.key_type,
            "key_bits": self.key_bits,
            "signature_algorithm": self.signature_algorithm,
            "self_signed": self.self_signed,
            "serial": self.serial,
            "sha256": self.fingerprint_sha256,
        }


def _key_description(certificate: x509.Certificate) -> tuple[str, int]:
    try:
        key = certificate.public_key()
    except (ValueError, TypeError, x509.UnsupportedGeneralNameType) as exc:
        raise CertificateError(f"unreadable public key: {exc}") from exc
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return type(key).__name__, 0


def _is_self_signed(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, Exception):
        return _signature_matches_own_key(certificate)
    return True


def _signature_matches_own_key(certificate: x509.Certificate) -> bool:
    """Fallback for what verify_directly_issued_by refuses (e.g. a CA:FALSE self-signed leaf)."""
    try:
        key = certificate.public_key()
        hash_algorithm = certificate.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey) and hash_algorithm is not None:
            key.verify(
                certificate.signature,
                certificate.tbs_certificate_bytes,
                padding.PKCS1v15(),
                hash_algorithm,
            )
            return True
        if isinstance(key, ec.EllipticCurvePublicKey) and hash_algorithm is not None:
            key.verify(
                certificate.signature, certificate.tbs_certificate_bytes, ec.ECDSA(hash_algorithm)
            )
            return True
    except Exception:
        return False
    return False


def summarise(der: bytes) -> CertificateSummary:
    """Read one DER certificate; raise CertificateError on anything unreadable."""
    try:
        certificate = x509.load_der_x509_certificate(der)
        subject = certificate.subject.rfc4514_string()
        issuer = certificate.issuer.rfc4514_string()
        common_names = [
            str(attribute.value)
            for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        ]
        not_before = certificate.not_valid_before_utc
        not_after = certificate.not_valid_after_utc
        signature_oid = certificate.signature_algorithm_oid
        signature_algorithm = getattr(signature_oid, "_name", None) or signature_oid.dotted_string
        try:
            hash_algorithm = certificate.signature_hash_algorithm
            signature_hash = hash_algorithm.name if hash_algorithm else ""
        except UnsupportedAlgorithm:
            signature_hash = "unknown"
        dns_names: list[str] = []
        ip_addresses: list[str] = []
        try:
            san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns_names = [str(name) for name in san.get_values_for_type(x509.DNSName)]
            ip_addresses = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
        except x509.ExtensionNotFound:
            pass
        key_type, key_bits = _key_description(certificate)
        serial = format(certificate.serial_number, "x")
        fingerprint = certificate.fingerprint(_sha256()).hex()
        self_signed = _is_self_signed(certificate)
    except CertificateError:
        raise
    except Exception as exc:
        raise CertificateError(f"malformed certificate: {exc}") from exc
    return CertificateSummary(
        subject=subject,
        issuer=issuer,
        common_names=common_names,
        dns_names=dns_names,
        ip_addresses=ip_addresses,
        not_before=not_before,
        not_after=not_after,
        key_type=key_type,
        key_bits=key_bits,
        signature_algorithm=signature_algorithm,
        signature_hash=signature_hash,
        self_signed=self_signed,
        serial=serial,
        fingerprint_sha256=fingerprint,
    )


def _sha256() -> hashes.SHA256:
    return hashes.SHA256()


def _dns_match(pattern: str, host: str) -> bool:
    pattern = pattern.lower().rstrip(".")
    host = host.lower().rstrip(".")
    if pattern == host:
        return True
    if not pattern.startswith("*."):
        return False
    # A wildcard covers exactly one label, never a public suffix-like two-label name.
    suffix = pattern[1:]
    if suffix.count(".") < 2:
        return False
    head, _, rest = host.partition(".")
    return bool(head) and "." + rest == suffix


def hostname_matches(summary: CertificateSummary, host: str) -> bool:
    """RFC 6125: SANs when present (CN only when the certificate has no SAN at all)."""
    host = host.strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return any(ipaddress.ip_address(ip) == address for ip in summary.ip_addresses)
    try:
        host_ascii = host.encode("idna").decode("ascii")
    except UnicodeError:
        host_ascii = host
    names = summary.dns_names
    if not names and not summary.ip_addresses:
        names = summary.common_names
    return any(_dns_match(name, host_ascii) for name in names)


def key_is_weak(summary: CertificateSummary) -> bool:
    """ANSSI: RSA/DSA under 2048 bits, elliptic curves under 256 bits."""
    if summary.key_type in ("RSA", "DSA"):
        return summary.key_bits < 2048
    if summary.key_type == "EC":
        return summary.key_bits < 256
    return False


def signature_is_weak(summary: CertificateSummary) -> bool:
    return summary.signature_hash in ("sha1", "md5", "md2", "md4", "unknown")
