"""Client-initiated renegotiation, in the manner of SSLyze's ``session_renegotiation``.

A server that lets any client ask for a new handshake inside an established session hands it a
cheap way to make the server do expensive work (RSA/ECDHE signatures, many times per connection:
a denial of service); with RFC 5746 missing it is also open to the injection attack
(CVE-2009-3555). Seeing it takes a finished handshake, so this module carries a deliberately
minimal TLS 1.2 client: ECDHE (X25519 or P-256) with AES-128-GCM, the key schedule of RFC 5246
§8.1/§6.3 and RFC 5288, no certificate check (a scanner only looks). After the server's
Finished, one renegotiation ClientHello (RFC 5746 §3.5: renegotiation_info carrying our
verify_data), encrypted; the server's answer is judged by the type of its next record: a
handshake record (its ServerHello) means accepted, an alert or a close means refused. No
application data is ever sent or read.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import struct
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from carbet.engines.exposure.core import BudgetExceeded, TargetResult
from carbet.engines.exposure.tls.checks import TLS_RENEGOTIATION_CLIENT
from carbet.engines.exposure.tls.hello import (
    CONTENT_ALERT,
    CONTENT_CCS,
    CONTENT_HANDSHAKE,
    EXT_RENEGOTIATION_INFO,
    HS_SERVER_HELLO,
    HS_SERVER_HELLO_DONE,
    HS_SERVER_KEY_EXCHANGE,
    RecordReader,
    TLSParseError,
    build_client_hello,
    extension,
    parse_server_hello,
)

TLS12 = 0x0303
SUITES = (0xC02F, 0xC02B)  # ECDHE-RSA / ECDHE-ECDSA with AES_128_GCM_SHA256
X25519, SECP256R1 = 0x001D, 0x0017
HS_CLIENT_HELLO, HS_CLIENT_KEY_EXCHANGE, HS_FINISHED = 1, 16, 20
_SIGNATURES = struct.pack("!8H", 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601)


class RenegotiationError(Exception):
    """The handshake could not be finished (suite, group, garbage): the probe says nothing."""


def prf(secret: bytes, label: bytes, seed: bytes, size: int) -> bytes:
    """TLS 1.2 PRF with SHA-256 (RFC 5246 §5)."""
    seed = label + seed
    out, a = b"", seed
    while len(out) < size:
        a = hmac.new(secret, a, hashlib.sha256).digest()
        out += hmac.new(secret, a + seed, hashlib.sha256).digest()
    return out[:size]


def _handshake(kind: int, body: bytes) -> bytes:
    return struct.pack("!B", kind) + len(body).to_bytes(3, "big") + body


def _record(kind: int, payload: bytes) -> bytes:
    return struct.pack("!BHH", kind, TLS12, len(payload)) + payload


def renegotiation_hello(verify_data: bytes | None) -> bytes:
    """The ClientHello of the renegotiation (handshake message, not yet a record). With
    ``verify_data`` (RFC 5746) the secure form; None: the legacy form (no extension)."""
    extensions = extension(0x000A, struct.pack("!HHH", 4, X25519, SECP256R1))
    extensions += extension(0x000B, b"\x01\x00")
    extensions += extension(0x000D, struct.pack("!H", len(_SIGNATURES)) + _SIGNATURES)
    if verify_data is not None:
        extensions += extension(EXT_RENEGOTIATION_INFO, bytes([len(verify_data)]) + verify_data)
    suites = struct.pack(f"!H{len(SUITES)}H", 2 * len(SUITES), *SUITES)
    body = struct.pack("!H", TLS12) + os.urandom(32) + b"\x00" + suites + b"\x01\x00"
    return _handshake(HS_CLIENT_HELLO, body + struct.pack("!H", len(extensions)) + extensions)


def parse_ecdhe_params(body: bytes) -> tuple[int, bytes]:
    """(named group, server public key) of an ECDHE ServerKeyExchange; ValueError otherwise."""
    if len(body) < 4 or body[0] != 3:
        raise ValueError("pas un échange ECDHE à courbe nommée")
    group = struct.unpack("!H", body[1:3])[0]
    size = body[3]
    if size == 0 or len(body) < 4 + size:
        raise ValueError("clé publique tronquée")
    return group, body[4 : 4 + size]


def _shared_secret(group: int, server_public: bytes) -> tuple[bytes, bytes]:
    """(our public key, pre-master secret) for ``group``."""
    if group == X25519:
        private = x25519.X25519PrivateKey.generate()
        peer = x25519.X25519PublicKey.from_public_bytes(server_public)
        return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw), private.exchange(
            peer
        )
    if group == SECP256R1:
        ec_private = ec.generate_private_key(ec.SECP256R1())
        ec_peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), server_public)
        public = ec_private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return public, ec_private.exchange(ec.ECDH(), ec_peer)
    raise ValueError(f"groupe 0x{group:04X} non pris en charge par la sonde")


class _Session:
    """One connection's handshake state, just enough to finish and renegotiate."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.records = RecordReader(max_bytes=512 * 1024)
        self.transcript = b""
        self.client_random = b""
        self.sequence = 0

    async def read_until(self, kind: int, timeout: float) -> bytes:
        while self.records.find(kind) is None:
            if self.records.alerts:
                raise RenegotiationError(f"alerte {self.records.alerts[0].description}")
            chunk = await asyncio.wait_for(self.reader.read(16384), timeout)
            if not chunk:
                raise RenegotiationError("connexion fermée pendant la poignée de main")
            self.records.feed(chunk)
        body = self.records.find(kind)
        assert body is not None
        return body

    def encrypt(self, key: bytes, iv: bytes, kind: int, plaintext: bytes) -> bytes:
        explicit = struct.pack("!Q", self.sequence)
        additional = explicit + struct.pack("!BHH", kind, TLS12, len(plaintext))
        sealed = AESGCM(key).encrypt(iv + explicit, plaintext, additional)
        self.sequence += 1
        return _record(kind, explicit + sealed)


async def _finish(
    session: _Session, server_name: str | None, timeout: float
) -> tuple[bytes, bytes, bytes, bool]:
    """Full TLS 1.2 handshake (the ClientHello signals RFC 5746 by its SCSV); (client write
    key, client IV, client verify_data, did the server echo renegotiation_info?)."""
    wire = build_client_hello(TLS12, list(SUITES), server_name, groups=(X25519, SECP256R1))
    hello_message = wire[5:]
    session.client_random = hello_message[6:38]
    session.writer.write(wire)
    await asyncio.wait_for(session.writer.drain(), timeout)
    await session.read_until(HS_SERVER_HELLO_DONE, timeout)
    server_hello = parse_server_hello(session.records.find(HS_SERVER_HELLO) or b"")
    if server_hello.negotiated_version != TLS12 or server_hello.cipher_suite not in SUITES:
        raise RenegotiationError("suite ECDHE-AES-GCM en TLS 1.2 non choisie")
    for kind, body in session.records.messages:
        session.transcript += _handshake(kind, body)
    group, server_public = parse_ecdhe_params(session.records.find(HS_SERVER_KEY_EXCHANGE) or b"")
    public, premaster = _shared_secret(group, server_public)
    server_random = server_hello.random
    master = prf(premaster, b"master secret", session.client_random + server_random, 48)
    keys = prf(master, b"key expansion", server_random + session.client_random, 40)
    client_key, client_iv = keys[0:16], keys[32:36]
    key_exchange = _handshake(HS_CLIENT_KEY_EXCHANGE, bytes([len(public)]) + public)
    transcript = hello_message + session.transcript + key_exchange
    verify = prf(master, b"client finished", hashlib.sha256(transcript).digest(), 12)
    finished = _handshake(HS_FINISHED, verify)
    session.writer.write(
        _record(CONTENT_HANDSHAKE, key_exchange)
        + _record(CONTENT_CCS, b"\x01")
        + session.encrypt(client_key, client_iv, CONTENT_HANDSHAKE, finished)
    )
    await asyncio.wait_for(session.writer.drain(), timeout)
    await _server_finished(session, timeout)
    return client_key, client_iv, verify, EXT_RENEGOTIATION_INFO in server_hello.extensions


async def _server_finished(session: _Session, timeout: float) -> None:
    """Wait for the server's ChangeCipherSpec and the (encrypted) record after it: the server
    checked our Finished, so the handshake is complete."""
    data = b""
    while True:
        chunk = await asyncio.wait_for(session.reader.read(4096), timeout)
        if not chunk:
            raise RenegotiationError("connexion fermée avant le Finished du serveur")
        data += chunk
        if len(data) > 64 * 1024:
            raise RenegotiationError("trop de données avant le Finished du serveur")
        kinds = _record_kinds(data)
        if CONTENT_ALERT in kinds and CONTENT_CCS not in kinds:
            raise RenegotiationError("Finished refusé par le serveur")
        if CONTENT_CCS in kinds and kinds.index(CONTENT_CCS) < len(kinds) - 1:
            return


def _record_kinds(data: bytes) -> list[int]:
    """Content types of the complete records in ``data``."""
    kinds, offset = [], 0
    while offset + 5 <= len(data):
        size = struct.unpack("!H", data[offset + 3 : offset + 5])[0]
        if offset + 5 + size > len(data):
            break
        kinds.append(data[offset])
        offset += 5 + size
    return kinds


def renegotiation_verdict(data: bytes) -> bool | None:
    """The server's answer to our renegotiation ClientHello: True accepted (a handshake record:
    its ServerHello), False refused (an alert, or closed without a word), None unreadable."""
    kinds = _record_kinds(data)
    if not kinds:
        return False if not data else None
    if kinds[0] == CONTENT_HANDSHAKE:
        return True
    return False if kinds[0] == CONTENT_ALERT else None


async def _renegotiate(scan: Any) -> tuple[bool | None, bool]:
    """(accepted?, server echoed RI) for one connection; raises RenegotiationError & co. A
    server without RFC 5746 gets the legacy renegotiation hello (no extension)."""
    ctx = scan.ctx
    timeout = ctx.config.read_timeout
    scan.probes += 1
    async with ctx.slot(scan.target):
        reader, writer = await scan.connect()
        try:
            session = _Session(reader, writer)
            key, iv, verify, echoed = await _finish(session, scan.server_name, timeout)
            hello = renegotiation_hello(verify if echoed else None)
            writer.write(session.encrypt(key, iv, CONTENT_HANDSHAKE, hello))
            await asyncio.wait_for(writer.drain(), timeout)
            data = b""
            try:
                while not _record_kinds(data) and len(data) < 70 * 1024:
                    chunk = await asyncio.wait_for(reader.read(4096), timeout)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionError, OSError):
                pass  # a reset is a refusal, whatever came before it is judged
            return renegotiation_verdict(data), echoed
        finally:
            writer.transport.abort()


async def run(
    scan: Any,
    result: TargetResult,
    evidence: dict[str, Any],
    attacks: dict[str, Any],
    tls12_suites: list[int],
) -> None:
    """The renegotiation probe of a port accepting TLS 1.2 with one of the probe's suites
    (called by ``attacks.run``); why it could not tell goes to the port's evidence."""
    if not set(SUITES) & set(tls12_suites):
        evidence["renegotiation_probe"] = "non testé : aucune suite ECDHE-AES-GCM en TLS 1.2"
        return
    try:
        accepted, secure = await _renegotiate(scan)
    except BudgetExceeded:
        return
    except (RenegotiationError, TLSParseError, ValueError, TimeoutError, OSError) as exc:
        evidence["renegotiation_probe"] = str(exc)[:200] or type(exc).__name__
        return
    if accepted is None:
        return
    attacks["client_renegotiation"] = accepted
    if accepted:
        detail = "renégociation demandée par le client acceptée"
        if not secure:
            detail += " sans l'extension RFC 5746 (renégociation non sécurisée)"
        result.observations.append(
            TLS_RENEGOTIATION_CLIENT.observe(
                scan.port, detail, {"secure": secure}, severity=None if secure else 3
            )
        )
