"""Real ``openssl s_server`` processes on ephemeral loopback ports, for the issue 19 tests.

The system's OpenSSL plays the old appliance (``-tls1``, ``@SECLEVEL=0``,
``-legacy_renegotiation``, 1024-bit keys...), and the chains the scanner must judge (leaf only
vs full chain, a stapled OCSP response). Each server binds port 0 and its port is read from
the ``ACCEPT`` line it prints; ``-www`` answers ``GET /`` so the web probe has something to
read. Processes are stopped by their own handle (never by name).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from .servers import NOW, Issued, _name, _pem, make_ca, rsa_key


@dataclass
class SServer:
    name: str
    address: str
    port: int
    process: subprocess.Popen[bytes]
    meta: dict[str, object] = field(default_factory=dict)


class SServers:
    """Start ``openssl s_server`` processes; ``close()`` stops each by its own handle."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.started: dict[str, SServer] = {}

    def write(self, filename: str, data: bytes) -> str:
        path = os.path.join(self.directory, filename)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def start(
        self,
        name: str,
        issued: Issued,
        *options: str,
        chain: tuple[Issued, ...] = (),
        address: str = "127.0.0.1",
        www: bool = True,
    ) -> SServer:
        """``www=False``: no ``-www`` (``-early_data`` refuses it); the server then echoes, and
        its stdin is a pipe kept open, since an end of file there would end its session."""
        cert = self.write(f"{name}.crt", issued.cert_pem)
        key = self.write(f"{name}.key", issued.key_pem)
        command = ["openssl", "s_server", "-accept", f"{address}:0", "-cert", cert, "-key", key]
        if www:
            command.append("-www")
        if chain:
            command += ["-cert_chain", self.write(f"{name}-chain.pem",
                                                  b"".join(c.cert_pem for c in chain))]  # fmt: skip
        command += list(options)
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL if www else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        deadline = time.monotonic() + 20
        port = 0
        while time.monotonic() < deadline:
            line = process.stdout.readline().decode("latin-1")
            if not line:
                break
            if line.startswith("ACCEPT"):
                port = int(line.strip().rsplit(":", 1)[1])
                break
        if not port:
            process.kill()
            raise RuntimeError(f"openssl s_server {name} did not start: {command}")
        if not www:  # it logs what it reads: drain its output so that it never blocks
            threading.Thread(target=process.stdout.read, daemon=True).start()
        server = SServer(name, address, port, process)
        self.started[name] = server
        return server

    def close(self) -> None:
        for server in self.started.values():
            if server.process.stdin:
                server.process.stdin.close()
            server.process.terminate()
        for server in self.started.values():
            try:
                server.process.wait(5)
            except subprocess.TimeoutExpired:
                server.process.kill()
            if server.process.stdout:
                server.process.stdout.close()


# -- certificates for chains -------------------------------------------------------------------


CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def make_intermediate(root: Issued, name: str = "Carbet Test Intermediate CA") -> Issued:
    key = rsa_key(2048)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=20))
        .not_valid_after(NOW + dt.timedelta(days=1000))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_KEY_USAGE, critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()),  # type: ignore[attr-defined]
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(root.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return _pem(certificate, key)


def make_chain_leaf(
    issuer: Issued,
    names: list[str],
    *,
    aia: str | None = None,
    must_staple: bool = False,
) -> Issued:
    """A leaf signed by ``issuer`` with an optional CA Issuers URL and Must-Staple."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sans = [x509.DNSName(name) for name in names]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=5))
        .not_valid_after(NOW + dt.timedelta(days=200))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),  # type: ignore[attr-defined]
            critical=False,
        )
    )
    if aia:
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                        x509.UniformResourceIdentifier(aia))]
            ),
            critical=False,
        )  # fmt: skip
    if must_staple:
        builder = builder.add_extension(
            x509.TLSFeature([x509.TLSFeatureType.status_request]), critical=False
        )
    certificate = builder.sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]
    return _pem(certificate, key)


def ocsp_good_response(leaf: Issued, issuer: Issued) -> bytes:
    """A DER OCSP response saying ``leaf`` is good, signed by its issuer."""
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=leaf.certificate,
        issuer=issuer.certificate,
        algorithm=hashes.SHA256(),
        cert_status=ocsp.OCSPCertStatus.GOOD,
        this_update=NOW - dt.timedelta(hours=1),
        next_update=NOW + dt.timedelta(days=3),
        revocation_time=None,
        revocation_reason=None,
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.certificate)
    response = builder.sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]
    return response.public_bytes(serialization.Encoding.DER)


__all__ = ["SServers", "make_ca", "make_chain_leaf", "make_intermediate", "ocsp_good_response"]
