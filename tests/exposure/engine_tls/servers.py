"""Real TLS and HTTP servers on loopback for the exposure engine tests (and the TLS benchmark).

Everything runs in one background thread with its own event loop, started once: real OpenSSL
servers (Python's ``ssl``) with distinct configurations, plain HTTP responders, and hostile
peers. OpenSSL 3 here refuses to *serve* SSLv3 at all (no SSLv3 in the build), so the SSLv3
server is a crafted responder that answers a minimal SSLv3 ServerHello/Certificate flight:
enough for a scanner that never finishes the handshake, and said so where it is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import ssl
import struct
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
NOW = dt.datetime.now(dt.UTC)


# -- certificates ---------------------------------------------------------------------------


@dataclass
class Issued:
    cert_pem: bytes
    key_pem: bytes
    certificate: x509.Certificate
    key: object


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Carbet tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(certificate: x509.Certificate, key) -> Issued:  # type: ignore[no-untyped-def]
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Issued(certificate.public_bytes(serialization.Encoding.PEM), key_pem, certificate, key)


def make_ca(common_name: str = "Carbet Test Root CA") -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _pem(certificate, key)


_RSA_KEYS: dict[int, rsa.RSAPrivateKey] = {}


def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make: one per size for the whole session."""
    if bits not in _RSA_KEYS:
        _RSA_KEYS[bits] = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _RSA_KEYS[bits]


def make_leaf(
    issuer: Issued | None,
    names: list[str],
    *,
    key_bits: int = 2048,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    hash_algorithm: hashes.HashAlgorithm | None = None,
    elliptic: bool = False,
) -> Issued:
    """A server certificate for ``names`` signed by ``issuer`` (self-signed when None)."""
    key = ec.generate_private_key(ec.SECP256R1()) if elliptic else rsa_key(key_bits)
    subject = _name(names[0])
    sans: list[x509.GeneralName] = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=10))
        .not_valid_after(not_after or NOW + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),  # type: ignore[attr-defined]
            critical=False,
        )
    signer = issuer.key if issuer else key
    certificate = builder.sign(signer, hash_algorithm or hashes.SHA256())  # type: ignore[arg-type]
    return _pem(certificate, key)


def make_sha1_leaf(issuer: Issued, names: list[str], directory: str) -> Issued:
    """A SHA-1-signed leaf: ``cryptography`` refuses to sign with SHA-1, the openssl CLI does."""
    key = rsa_key(2048)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name(names[0]))
        .sign(key, hashes.SHA256())
    )
    paths = {
        kind: os.path.join(directory, f"sha1-{kind}.pem")
        for kind in ("csr", "ca", "cakey", "ext", "out")
    }
    with open(paths["csr"], "wb") as handle:
        handle.write(csr.public_bytes(serialization.Encoding.PEM))
    with open(paths["ca"], "wb") as handle:
        handle.write(issuer.cert_pem)
    with open(paths["cakey"], "wb") as handle:
        handle.write(issuer.key_pem)
    with open(paths["ext"], "w") as handle:
        handle.write("subjectAltName=" + ",".join(f"DNS:{name}" for name in names) + "\n")
    subprocess.run(
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            paths["csr"],
            "-CA",
            paths["ca"],
            "-CAkey",
            paths["cakey"],
            "-CAcreateserial",
            "-sha1",
            "-days",
            "90",
            "-extfile",
            paths["ext"],
            "-out",
            paths["out"],
        ],
        check=True,
        capture_output=True,
    )
    with open(paths["out"], "rb") as handle:
        certificate = x509.load_pem_x509_certificate(handle.read())
    return _pem(certificate, key)


# RFC 2409's 1024-bit MODP group (Oakley group 2): the prime that Logjam made famous.
OAKLEY_GROUP_2 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)


def weak_dh_params_pem() -> bytes:
    from cryptography.hazmat.primitives.asymmetric import dh

    with warnings.catch_warnings():  # finite-field DH is deprecated in cryptography: on purpose
        warnings.simplefilter("ignore")
        parameters = dh.DHParameterNumbers(OAKLEY_GROUP_2, 2).parameters()
        return parameters.parameter_bytes(
            serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3
        )


# -- TLS record helpers for the crafted responders -----------------------------------------------


def record(content_type: int, version: int, payload: bytes) -> bytes:
    return struct.pack("!BHH", content_type, version, len(payload)) + payload


def handshake(msg_type: int, body: bytes) -> bytes:
    return struct.pack("!B", msg_type) + len(body).to_bytes(3, "big") + body


def server_hello_body(version: int, suite: int, extensions: bytes = b"") -> bytes:
    body = struct.pack("!H", version) + os.urandom(32) + b"\x00" + struct.pack("!HB", suite, 0)
    if extensions:
        body += struct.pack("!H", len(extensions)) + extensions
    return body


def certificate_body(ders: list[bytes]) -> bytes:
    entries = b"".join(len(der).to_bytes(3, "big") + der for der in ders)
    return len(entries).to_bytes(3, "big") + entries


async def read_client_hello(reader: asyncio.StreamReader) -> tuple[int, list[int]]:
    """(client_version, offered suites) of a ClientHello, bounded and forgiving."""
    version, suites, _compression = await read_client_hello_full(reader)
    return version, suites


async def read_client_hello_full(reader: asyncio.StreamReader) -> tuple[int, list[int], bytes]:
    """(client_version, offered suites, compression methods) of a ClientHello."""
    header = await reader.readexactly(5)
    length = struct.unpack("!H", header[3:5])[0]
    body = await reader.readexactly(min(length, 16384))
    client_version = struct.unpack("!H", body[4:6])[0]
    offset = 6 + 32
    offset += 1 + body[offset]
    suites_length = struct.unpack("!H", body[offset : offset + 2])[0]
    raw = body[offset + 2 : offset + 2 + suites_length]
    suites = [struct.unpack("!H", raw[i : i + 2])[0] for i in range(0, len(raw) - 1, 2)]
    offset += 2 + suites_length
    compression = body[offset + 1 : offset + 1 + body[offset]] if offset < len(body) else b""
    return client_version, suites, compression


# -- the loop thread ----------------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    address: str
    port: int
    server_name: str = ""
    meta: dict[str, object] = field(default_factory=dict)


class LoopbackServers:
    """A background event loop hosting many small servers; ``close()`` stops them all."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(lambda loop, context: None)  # hostile tests are noisy
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._servers: list[asyncio.Server] = []
        self.directory = tempfile.mkdtemp(prefix="carbet-exposure-")
        self.endpoints: dict[str, Endpoint] = {}

    def _run(self, coroutine):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def add(
        self,
        name: str,
        address: str,
        handler: Handler,
        ssl_context: ssl.SSLContext | None = None,
        server_name: str = "",
        port: int = 0,
        **meta: object,
    ) -> Endpoint:
        async def start() -> asyncio.Server:
            async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                try:
                    await handler(reader, writer)
                except Exception:
                    pass
                finally:
                    with contextlib.suppress(Exception):
                        writer.transport.abort()

            extra = {"ssl": ssl_context, "ssl_handshake_timeout": 10} if ssl_context else {}
            return await asyncio.start_server(guarded, address, port, backlog=512, **extra)

        server = self._run(start())
        self._servers.append(server)
        endpoint = Endpoint(name, address, server.sockets[0].getsockname()[1], server_name, meta)
        self.endpoints[name] = endpoint
        return endpoint

    def tls_context(
        self,
        issued: Issued,
        chain: list[Issued] | None = None,
        minimum: ssl.TLSVersion | None = None,
        maximum: ssl.TLSVersion | None = None,
        ciphers: str = "ECDHE+AESGCM:ECDHE+CHACHA20",
        dh_params: str | None = None,
        extra_certificates: list[Issued] | None = None,
    ) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.set_ciphers(ciphers + ":@SECLEVEL=0")
        if dh_params:
            context.load_dh_params(dh_params)
        with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated: that is the point here
            warnings.simplefilter("ignore", DeprecationWarning)
            if minimum is not None:
                context.minimum_version = minimum
            if maximum is not None:
                context.maximum_version = maximum
        stem = os.path.join(self.directory, f"{id(issued)}-{len(os.listdir(self.directory))}")
        with open(stem + ".crt", "wb") as handle:
            handle.write(issued.cert_pem + b"".join(c.cert_pem for c in chain or []))
        with open(stem + ".key", "wb") as handle:
            handle.write(issued.key_pem)
        context.load_cert_chain(stem + ".crt", stem + ".key")
        for index, extra in enumerate(extra_certificates or []):
            # OpenSSL keeps one certificate per key type: RSA and ECDSA side by side.
            self.write(f"{os.path.basename(stem)}-{index}.crt", extra.cert_pem)
            self.write(f"{os.path.basename(stem)}-{index}.key", extra.key_pem)
            context.load_cert_chain(f"{stem}-{index}.crt", f"{stem}-{index}.key")
        return context

    def write(self, filename: str, data: bytes) -> str:
        path = os.path.join(self.directory, filename)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def close(self) -> None:
        async def stop() -> None:
            for server in self._servers:
                server.close()

        with contextlib.suppress(Exception):
            self._run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


# -- handlers -----------------------------------------------------------------------------------


async def drain_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """What a TLS server does after the handshake when the scanner only wanted to look."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(reader.read(1024), 2)


def http_handler(routes: dict[str, tuple[int, list[tuple[str, str]], bytes]], default=None):  # type: ignore[no-untyped-def]
    """A tiny HTTP/1.1 server: path → (status, headers, body); unknown paths → default/404."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        path = request_line.split(" ")[1] if " " in request_line else "/"
        status, headers, body = routes.get(path) or default or (404, [], b"not found")
        lines = [f"HTTP/1.1 {status} X"] + [f"{name}: {value}" for name, value in headers]
        lines += [f"Content-Length: {len(body)}", "Connection: close"]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

    return handle


async def ssl3_responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An SSLv3-only server, crafted: OpenSSL 3 cannot serve SSLv3 at all. It answers every
    ClientHello with an SSLv3 ServerHello (as a real SSLv3-only server negotiates down), picks
    TLS_RSA_WITH_AES_128_CBC_SHA or 3DES when offered, else sends a handshake_failure alert."""
    _client_version, suites = await read_client_hello(reader)
    leaf = SSL3_LEAF_DER[0]
    for suite in (0x002F, 0x000A):
        if suite in suites:
            flight = (
                handshake(2, server_hello_body(0x0300, suite))
                + handshake(11, certificate_body([leaf]))
                + handshake(14, b"")
            )
            writer.write(record(22, 0x0300, flight))
            await writer.drain()
            await drain_and_close(reader, writer)
            return
    writer.write(record(21, 0x0300, b"\x02\x28"))
    await writer.drain()


def sslv2_server_hello(kinds: list[int], certificate: bytes) -> bytes:
    specs = b"".join(kind.to_bytes(3, "big") for kind in kinds)
    connection_id = os.urandom(16)
    body = struct.pack("!BBBHHHH", 4, 0, 1, 0x0002, len(certificate), len(specs), 16)
    body += certificate + specs + connection_id
    return struct.pack("!H", 0x8000 | len(body)) + body


async def sslv2_responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An SSLv2 server, crafted (no SSLv2 in any OpenSSL of this decade): SERVER-HELLO to an
    SSLv2 CLIENT-HELLO, and an SSLv3-style handshake_failure alert to anything else."""
    header = await reader.readexactly(2)
    if header[0] & 0x80:
        await reader.readexactly(((header[0] & 0x7F) << 8) | header[1])
        writer.write(sslv2_server_hello([0x010080, 0x0700C0], SSL3_LEAF_DER[0]))
    else:
        writer.write(record(21, 0x0300, b"\x02\x28"))
    await writer.drain()
    await drain_and_close(reader, writer)


async def compressing_responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A TLS 1.2 server that picks DEFLATE when offered (crafted: Debian's OpenSSL has no zlib)."""
    version, suites, compression = await read_client_hello_full(reader)
    chosen = next((s for s in suites if s in (0xC02F, 0x009C, 0x002F)), None)
    if version < 0x0303 or chosen is None:
        writer.write(record(21, 0x0303, b"\x02\x46"))
        await writer.drain()
        return
    method = 1 if b"\x01" in compression else 0
    hello = (
        struct.pack("!H", 0x0303) + os.urandom(32) + b"\x00" + struct.pack("!HB", chosen, method)
    )
    hello += struct.pack("!H", 5) + b"\xff\x01\x00\x01\x00"  # renegotiation_info
    flight = (
        handshake(2, hello)
        + handshake(11, certificate_body([SSL3_LEAF_DER[0]]))
        + handshake(14, b"")
    )
    writer.write(record(22, 0x0303, flight))
    await writer.drain()
    await drain_and_close(reader, writer)


SSL3_LEAF_DER: list[bytes] = []  # set by the fixture: the certificate the SSLv3 responder shows


async def garbage_responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(4096)
    writer.write(b"SSH-2.0-OpenSSH_9.2\r\n" + os.urandom(2048))
    await writer.drain()
    await drain_and_close(reader, writer)


async def slow_drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A valid-looking record header, then one byte every half second, forever."""
    await reader.read(4096)
    writer.write(b"\x16\x03\x03\x40\x00")
    while True:
        writer.write(b"\x02")
        await writer.drain()
        await asyncio.sleep(0.5)


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(3600)


async def endless_records(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A ServerHello, then handshake bytes without end (a Certificate that never finishes)."""
    _version, suites = await read_client_hello(reader)
    writer.write(record(22, 0x0303, handshake(2, server_hello_body(0x0303, suites[0]))))
    writer.write(record(22, 0x0303, b"\x0b\xff\xff\xff"))
    chunk = record(22, 0x0303, os.urandom(16384))
    for _ in range(2000):
        writer.write(chunk)
        await writer.drain()


async def malformed_certificate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """TLS 1.2 ServerHello with a Certificate message holding garbage instead of DER."""
    version, suites = await read_client_hello(reader)
    chosen = next((s for s in suites if s in (0xC02F, 0x009C, 0x002F)), None)
    if version < 0x0303 or chosen is None:
        writer.write(record(21, 0x0303, b"\x02\x46"))
        await writer.drain()
        return
    flight = (
        handshake(2, server_hello_body(0x0303, chosen))
        + handshake(11, certificate_body([b"\x30\x82\x01\x00" + os.urandom(256)]))
        + handshake(14, b"")
    )
    writer.write(record(22, 0x0303, flight))
    await writer.drain()
    await drain_and_close(reader, writer)


async def huge_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(4096)
    writer.write(b"HTTP/1.1 200 OK\r\n")
    for index in range(20000):
        writer.write(f"X-Filler-{index}: {'a' * 100}\r\n".encode())
        if index % 100 == 0:
            await writer.drain()
    writer.write(b"\r\n")
    await writer.drain()


async def http_slow_drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(4096)
    writer.write(b"HTTP/1.1 200 OK\r\n")
    while True:
        writer.write(b"X")
        await writer.drain()
        await asyncio.sleep(0.3)


async def http_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(4096)
    writer.write(os.urandom(5000))
    await writer.drain()
