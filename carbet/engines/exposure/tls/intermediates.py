"""Known intermediate CA certificates: completing a chain a server sent short, offline.

Browsers preload the intermediates of the public authorities so that a server that forgets
its own still works for them (while failing for phones, mail clients and business software).
Carbet does the same with a store the platform keeps: intermediates learnt from chains that
OpenSSL verified as trusted in earlier scans, and those the centre imported from an authority's
bundle. Nothing is ever fetched from a third party to complete a chain.

A known intermediate is only ever a *path candidate* handed to OpenSSL for one verification,
never a trust anchor: OpenSSL still has to reach a root of the scan's trust store through it,
so importing (or learning) an intermediate of an unknown authority trusts nothing. Roots
(self-issued certificates) and non-CA certificates are never candidates for that reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

MAX_CANDIDATES = 16  # certificates handed to OpenSSL for one chain, at most
MAX_PATH = 5  # intermediates between a leaf and its root, at most, when learning


class IntermediateError(ValueError):
    """Bytes that are not a certificate Carbet can read."""


@dataclass(frozen=True)
class Intermediate:
    """One CA certificate and what it is indexed by."""

    der: bytes
    sha256: str
    subject: str  # RFC 4514, for people
    subject_key: bytes  # the subject Name's DER: what an issuer field is compared with
    ski: bytes | None  # Subject Key Identifier, when the certificate has one
    not_after: dt.datetime
    is_ca: bool  # basicConstraints CA=true
    self_issued: bool  # a root (or a self-issued key rollover): never a path candidate

    def as_evidence(self) -> dict[str, Any]:
        """What a scan reports of an intermediate the platform may learn (DER in base64)."""
        return {
            "subject": self.subject,
            "sha256": self.sha256,
            "not_after": self.not_after.isoformat(),
            "der": base64.b64encode(self.der).decode("ascii"),
        }


def _ski(certificate: x509.Certificate) -> bytes | None:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except (x509.ExtensionNotFound, ValueError):
        return None
    return extension.value.digest


def _aki(certificate: x509.Certificate) -> bytes | None:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except (x509.ExtensionNotFound, ValueError):
        return None
    return extension.value.key_identifier


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def describe(der: bytes) -> Intermediate:
    """Read one DER certificate; IntermediateError on anything unreadable."""
    try:
        certificate = x509.load_der_x509_certificate(der)
        canonical = certificate.public_bytes(serialization.Encoding.DER)
        return Intermediate(
            der=canonical,
            sha256=hashlib.sha256(canonical).hexdigest(),
            subject=certificate.subject.rfc4514_string(),
            subject_key=certificate.subject.public_bytes(),
            ski=_ski(certificate),
            not_after=certificate.not_valid_after_utc,
            is_ca=_is_ca(certificate),
            self_issued=certificate.issuer == certificate.subject,
        )
    except Exception as exc:  # cryptography raises several types on malformed input
        raise IntermediateError(f"certificat illisible ({type(exc).__name__})") from exc


def _issued_by(certificate: x509.Certificate, candidate: Intermediate) -> bool:
    """Could ``candidate`` have issued ``certificate``: same name, and same key identifier
    when both say one (names alone collide across an authority's key rollovers)."""
    if certificate.issuer.public_bytes() != candidate.subject_key:
        return False
    aki = _aki(certificate)
    return aki is None or candidate.ski is None or aki == candidate.ski


class KnownIntermediates:
    """The store a scan is given, indexed by subject name. Hashed by identity: a frozen
    ``ScanConfig`` holds one, built once per scan run (not per target)."""

    def __init__(self, ders: Iterable[bytes] = ()) -> None:
        self._by_subject: dict[bytes, list[Intermediate]] = {}
        self._seen: set[str] = set()
        self.unreadable = 0
        for der in ders:
            try:
                item = describe(der)
            except IntermediateError:
                self.unreadable += 1
                continue
            if item.self_issued or not item.is_ca or item.sha256 in self._seen:
                continue
            self._seen.add(item.sha256)
            self._by_subject.setdefault(item.subject_key, []).append(item)

    def __len__(self) -> int:
        return len(self._seen)

    def __bool__(self) -> bool:
        return bool(self._seen)

    def issuers_of(self, der: bytes) -> list[Intermediate]:
        """Known intermediates that could have issued the certificate ``der``."""
        try:
            certificate = x509.load_der_x509_certificate(der)
        except Exception:
            return []
        candidates = self._by_subject.get(certificate.issuer.public_bytes(), [])
        return [candidate for candidate in candidates if _issued_by(certificate, candidate)]

    def candidates(self, der: bytes, levels: int) -> list[Intermediate]:
        """Issuers of ``der``, then their issuers, ``levels`` deep (nearest first, at most
        MAX_CANDIDATES): OpenSSL picks the path that reaches a trusted root, if any."""
        found: list[Intermediate] = []
        seen: set[str] = set()
        frontier = [der]
        for _level in range(levels):
            following: list[bytes] = []
            for current in frontier:
                for issuer in self.issuers_of(current):
                    if issuer.sha256 in seen or len(found) >= MAX_CANDIDATES:
                        continue
                    seen.add(issuer.sha256)
                    found.append(issuer)
                    following.append(issuer.der)
            if not following:
                break
            frontier = following
        return found


def sent_path(chain_der: list[bytes]) -> list[Intermediate]:
    """The intermediates of a sent chain that link its leaf towards a root, each checked by
    signature (what a server sends beyond that path — strays, its root — is not learnt).

    Only call it on a chain OpenSSL verified as trusted: the platform learns from it."""
    if len(chain_der) < 2:
        return []
    try:
        current = x509.load_der_x509_certificate(chain_der[0])
    except Exception:
        return []
    others: list[tuple[Intermediate, x509.Certificate]] = []
    for der in chain_der[1:]:
        try:
            others.append((describe(der), x509.load_der_x509_certificate(der)))
        except (IntermediateError, ValueError):
            continue
    path: list[Intermediate] = []
    while len(path) < MAX_PATH:
        step = _next_link(current, others, {item.sha256 for item in path})
        if step is None:
            break
        path.append(step[0])
        current = step[1]
    return path


def _next_link(
    current: x509.Certificate,
    others: list[tuple[Intermediate, x509.Certificate]],
    taken: set[str],
) -> tuple[Intermediate, x509.Certificate] | None:
    for item, certificate in others:
        if item.sha256 in taken or item.self_issued or not item.is_ca:
            continue
        if _issued_by(current, item) and _signed_by(current, certificate):
            return item, certificate
    return None


def _signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except Exception:  # wrong key, unsupported algorithm: not a link we can vouch for
        return False
    return True
