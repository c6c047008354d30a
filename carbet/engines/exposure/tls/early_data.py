"""0-RTT: does a TLS 1.3 server let its clients send early data (RFC 8446 §2.3, §4.6.1)?

Early data can be replayed by anyone who recorded it: a request that changes something (a
prescription sent, a form posted) may be played twice. A server that accepts it says so in its
session tickets (the early_data extension with max_early_data_size), which only come once a
handshake is finished: this module carries a minimal TLS 1.3 client (X25519,
TLS_AES_128_GCM_SHA256, the key schedule of RFC 8446 §7.1, no certificate check) that finishes
one handshake and reads the tickets. A ticket that announces early data is then offered once
for resumption with the early_data extension: the server says in its EncryptedExtensions
whether it accepts 0-RTT (an announcement alone is not acceptance: ``openssl s_server`` without
``-early_data`` announces and refuses). The connection ends there: no early data is ever sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from carbet.engines.exposure.core import BudgetExceeded, TargetResult
from carbet.engines.exposure.tls.checks import TLS_EARLY_DATA
from carbet.engines.exposure.tls.hello import extension, parse_server_hello

TLS13, SUITE, X25519 = 0x0304, 0x1301, 0x001D
EXT_EARLY_DATA, EXT_KEY_SHARE, EXT_SUPPORTED_VERSIONS = 0x002A, 0x0033, 0x002B
EXT_PRE_SHARED_KEY = 0x0029
HS_NEW_SESSION_TICKET, HS_FINISHED, HS_ENCRYPTED_EXTENSIONS = 4, 20, 8
_SIGNATURES = struct.pack("!8H", 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601)
_MAX_RECORDS = 64


class HandshakeError(Exception):
    """The handshake could not be finished: the probe says nothing."""


def _expand(secret: bytes, info: bytes, size: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < size:
        block = hmac.new(secret, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:size]


def expand_label(secret: bytes, label: bytes, context: bytes, size: int) -> bytes:
    """HKDF-Expand-Label (RFC 8446 §7.1) with SHA-256."""
    full = b"tls13 " + label
    info = struct.pack("!H", size) + bytes([len(full)]) + full + bytes([len(context)]) + context
    return _expand(secret, info, size)


def _extract(salt: bytes, key: bytes) -> bytes:
    return hmac.new(salt, key, hashlib.sha256).digest()


def _derive(secret: bytes, label: bytes, transcript: bytes) -> bytes:
    return expand_label(secret, label, hashlib.sha256(transcript).digest(), 32)


def _handshake(kind: int, body: bytes) -> bytes:
    return struct.pack("!B", kind) + len(body).to_bytes(3, "big") + body


def client_hello(public: bytes, server_name: str | None, tail: bytes = b"") -> bytes:
    """A TLS 1.3 ClientHello handshake message with one X25519 share and psk_dhe_ke (without
    which no server issues tickets); ``tail``: extensions that must come last (pre_shared_key)."""
    extensions = b""
    if server_name and not server_name.replace(".", "").isdigit() and ":" not in server_name:
        name = server_name.encode("idna")
        entry = b"\x00" + struct.pack("!H", len(name)) + name
        extensions += extension(0x0000, struct.pack("!H", len(entry)) + entry)
    extensions += extension(0x000A, struct.pack("!HH", 2, X25519))
    extensions += extension(0x000D, struct.pack("!H", len(_SIGNATURES)) + _SIGNATURES)
    extensions += extension(EXT_SUPPORTED_VERSIONS, b"\x02" + struct.pack("!H", TLS13))
    extensions += extension(0x002D, b"\x01\x01")  # psk_key_exchange_modes: psk_dhe_ke
    share = struct.pack("!HH", X25519, len(public)) + public
    extensions += extension(EXT_KEY_SHARE, struct.pack("!H", len(share)) + share) + tail
    body = struct.pack("!H", 0x0303) + os.urandom(32) + b"\x20" + os.urandom(32)
    body += struct.pack("!HH", 2, SUITE) + b"\x01\x00"
    return _handshake(1, body + struct.pack("!H", len(extensions)) + extensions)


def ticket_early_data(body: bytes) -> int | None:
    """max_early_data_size of a NewSessionTicket body (RFC 8446 §4.6.1), None when absent;
    ValueError when the body is malformed."""
    if len(body) < 9:
        raise ValueError("ticket tronqué")
    offset = 8
    offset += 1 + body[offset]  # nonce
    if offset + 2 > len(body):
        raise ValueError("ticket tronqué")
    offset += 2 + struct.unpack("!H", body[offset : offset + 2])[0]  # ticket
    if offset + 2 > len(body):
        raise ValueError("ticket tronqué")
    end = offset + 2 + struct.unpack("!H", body[offset : offset + 2])[0]
    if end > len(body):
        raise ValueError("extensions tronquées")
    offset += 2
    while offset + 4 <= end:
        kind, size = struct.unpack("!HH", body[offset : offset + 4])
        value = body[offset + 4 : offset + 4 + size]
        if kind == EXT_EARLY_DATA and len(value) == 4:
            return int(struct.unpack("!I", value)[0])
        offset += 4 + size
    return None


@dataclass(frozen=True)
class Ticket:
    """What resuming needs from a NewSessionTicket (RFC 8446 §4.6.1), and its early data size."""

    psk: bytes
    identity: bytes
    age_add: int
    received: float
    max_early_data: int


def parse_ticket(body: bytes, resumption_secret: bytes, received: float) -> Ticket:
    """The ticket's fields and its PSK (§4.6.1: HKDF-Expand-Label(resumption_master_secret,
    "resumption", ticket_nonce)); ValueError when the body is malformed."""
    size = ticket_early_data(body) or 0  # validates the lengths first
    age_add = int(struct.unpack("!I", body[4:8])[0])
    nonce = body[9 : 9 + body[8]]
    offset = 9 + body[8]
    identity = body[offset + 2 : offset + 2 + struct.unpack("!H", body[offset : offset + 2])[0]]
    if not identity:
        raise ValueError("ticket vide")
    psk = expand_label(resumption_secret, b"resumption", nonce, 32)
    return Ticket(psk, identity, age_add, received, size)


def resumption_hello(public: bytes, server_name: str | None, ticket: Ticket) -> bytes:
    """A ClientHello offering ``ticket`` (psk_dhe_ke) with the early_data extension; the binder
    (§4.2.11.2) signs the hello up to the binders list."""
    age = (int((time.monotonic() - ticket.received) * 1000) + ticket.age_add) % 2**32
    identities = struct.pack("!H", len(ticket.identity)) + ticket.identity + struct.pack("!I", age)
    binders = b"\x20" + b"\x00" * 32
    psk = struct.pack("!H", len(identities)) + identities + struct.pack("!H", len(binders))
    tail = extension(EXT_EARLY_DATA, b"") + extension(EXT_PRE_SHARED_KEY, psk + binders)
    hello = client_hello(public, server_name, tail)
    early = _extract(b"\x00" * 32, ticket.psk)
    finished_key = expand_label(_derive(early, b"res binder", b""), b"finished", b"", 32)
    truncated = hello[: -len(binders) - 2]
    binder = hmac.new(finished_key, hashlib.sha256(truncated).digest(), hashlib.sha256).digest()
    return hello[:-32] + binder


def encrypted_extensions_early_data(message: bytes) -> bool:
    """Does an EncryptedExtensions message carry early_data (the server accepts 0-RTT)?"""
    if len(message) < 6 or message[0] != HS_ENCRYPTED_EXTENSIONS:
        raise ValueError("EncryptedExtensions attendu")
    end = min(len(message), 6 + struct.unpack("!H", message[4:6])[0])
    offset = 6
    while offset + 4 <= end:
        kind, size = struct.unpack("!HH", message[offset : offset + 4])
        if kind == EXT_EARLY_DATA:
            return True
        offset += 4 + size
    return False


class _Reader:
    """TLS 1.3 records in, handshake messages out (decrypting under the current keys)."""

    def __init__(self, reader: asyncio.StreamReader, timeout: float) -> None:
        self.reader, self.timeout = reader, timeout
        self.buffer = b""
        self.handshake = b""
        self.key: bytes = b""
        self.iv: bytes = b""
        self.sequence = 0
        self.records = 0

    def use(self, secret: bytes) -> None:
        self.key = expand_label(secret, b"key", b"", 16)
        self.iv = expand_label(secret, b"iv", b"", 12)
        self.sequence = 0

    async def _record(self) -> tuple[int, bytes]:
        while len(self.buffer) < 5 or len(self.buffer) < 5 + int.from_bytes(
            self.buffer[3:5], "big"
        ):
            chunk = await asyncio.wait_for(self.reader.read(16384), self.timeout)
            if not chunk:
                raise HandshakeError("connexion fermée")
            self.buffer += chunk
            if len(self.buffer) > 256 * 1024:
                raise HandshakeError("trop de données")
        size = int.from_bytes(self.buffer[3:5], "big")
        kind, payload = self.buffer[0], self.buffer[5 : 5 + size]
        self.buffer = self.buffer[5 + size :]
        self.records += 1
        if self.records > _MAX_RECORDS:
            raise HandshakeError("trop d'enregistrements")
        return kind, payload

    async def message(self) -> bytes:
        """The next handshake message, header included."""
        while len(self.handshake) < 4 or len(self.handshake) < 4 + int.from_bytes(
            self.handshake[1:4], "big"
        ):
            kind, payload = await self._record()
            if kind == 20:
                continue  # middlebox-compatibility ChangeCipherSpec
            if kind == 21:
                raise HandshakeError("alerte du serveur")
            if kind == 22 and not self.key:
                self.handshake += payload
                continue
            if kind != 23 or not self.key:
                raise HandshakeError("enregistrement inattendu")
            nonce = bytes(
                a ^ b for a, b in zip(self.iv, self.sequence.to_bytes(12, "big"), strict=True)
            )
            try:
                inner = AESGCM(self.key).decrypt(
                    nonce, payload, bytes([23, 3, 3]) + len(payload).to_bytes(2, "big")
                )
            except Exception as exc:  # InvalidTag: our keys are wrong, or the data is
                raise HandshakeError("déchiffrement impossible") from exc
            self.sequence += 1
            inner = inner.rstrip(b"\x00")
            if not inner or inner[-1] != 22:
                raise HandshakeError("contenu chiffré inattendu")
            self.handshake += inner[:-1]
        size = 4 + int.from_bytes(self.handshake[1:4], "big")
        message, self.handshake = self.handshake[:size], self.handshake[size:]
        return message


async def _handshake_keys(
    records: _Reader, hello: bytes, private: x25519.X25519PrivateKey, early: bytes
) -> tuple[bytes, bytes, Any]:
    """Read the ServerHello answering ``hello``; switch ``records`` to the server's handshake
    keys. (handshake secret, transcript so far, ServerHello)."""
    server_hello_message = await records.message()
    server_hello = parse_server_hello(server_hello_message[4:])
    share = server_hello.extensions.get(EXT_KEY_SHARE, b"")
    if server_hello.negotiated_version != TLS13 or server_hello.cipher_suite != SUITE:
        raise HandshakeError("TLS 1.3 avec AES-128-GCM non choisi")
    if server_hello.is_retry_request or len(share) != 36 or share[:2] != b"\x00\x1d":
        raise HandshakeError("partage de clé X25519 non accepté")
    shared = private.exchange(x25519.X25519PublicKey.from_public_bytes(share[4:]))
    transcript = hello + server_hello_message
    handshake_secret = _extract(_derive(early, b"derived", b""), shared)
    records.use(_derive(handshake_secret, b"s hs traffic", transcript))
    return handshake_secret, transcript, server_hello


def _keys() -> tuple[x25519.X25519PrivateKey, bytes]:
    private = x25519.X25519PrivateKey.generate()
    return private, private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@contextlib.asynccontextmanager
async def _hello_sent(scan: Any, hello: bytes) -> AsyncIterator[tuple[_Reader, Any]]:
    """One probe connection of the target (its slot held) with ``hello`` sent in a handshake
    record: the server's records and the writer; the connection is dropped on the way out."""
    timeout = scan.ctx.config.read_timeout
    scan.probes += 1
    async with scan.ctx.slot(scan.target):
        reader, writer = await scan.connect()
        try:
            writer.write(struct.pack("!BHH", 22, 0x0301, len(hello)) + hello)
            await asyncio.wait_for(writer.drain(), timeout)
            yield _Reader(reader, timeout), writer
        finally:
            writer.transport.abort()


async def _tickets(scan: Any) -> Ticket:
    """The server's first ticket after a finished handshake (max_early_data 0 when it has no
    early_data extension)."""
    timeout = scan.ctx.config.read_timeout
    private, public = _keys()
    hello = client_hello(public, scan.server_name)
    async with _hello_sent(scan, hello) as (records, writer):
        handshake_secret, transcript, _hello = await _handshake_keys(
            records, hello, private, _extract(b"\x00" * 32, b"\x00" * 32)
        )
        client_secret = _derive(handshake_secret, b"c hs traffic", transcript)
        while True:
            message = await records.message()
            transcript += message
            if message[0] == HS_FINISHED:
                break
        master = _extract(_derive(handshake_secret, b"derived", b""), b"\x00" * 32)
        records.use(_derive(master, b"s ap traffic", transcript))
        finished_key = expand_label(client_secret, b"finished", b"", 32)
        verify = hmac.new(finished_key, hashlib.sha256(transcript).digest(), hashlib.sha256)
        finished = _handshake(HS_FINISHED, verify.digest())
        inner = finished + b"\x16"
        key = expand_label(client_secret, b"key", b"", 16)
        iv = expand_label(client_secret, b"iv", b"", 12)
        header = struct.pack("!BHH", 23, 0x0303, len(inner) + 16)
        sealed = AESGCM(key).encrypt(iv, inner, header)
        writer.write(b"\x14\x03\x03\x00\x01\x01" + header + sealed)
        await asyncio.wait_for(writer.drain(), timeout)
        resumption = _derive(master, b"res master", transcript + finished)
        while True:
            message = await records.message()
            if message[0] == HS_NEW_SESSION_TICKET:
                return parse_ticket(message[4:], resumption, time.monotonic())


async def _accepts(scan: Any, ticket: Ticket) -> bool:
    """Offer ``ticket`` with early_data and read the EncryptedExtensions: does the server take
    0-RTT? A server that does not resume the session cannot take it either."""
    private, public = _keys()
    hello = resumption_hello(public, scan.server_name, ticket)
    async with _hello_sent(scan, hello) as (records, _writer):
        _secret, _transcript, server_hello = await _handshake_keys(
            records, hello, private, _extract(b"\x00" * 32, ticket.psk)
        )
        if server_hello.extensions.get(EXT_PRE_SHARED_KEY) != b"\x00\x00":
            return False  # a full handshake instead: the ticket, hence 0-RTT, refused
        return encrypted_extensions_early_data(await records.message())


async def run(scan: Any, result: TargetResult, attacks: dict[str, Any]) -> None:
    """The 0-RTT probe of a TLS 1.3 port (``attacks.run``)."""
    try:
        ticket = await _tickets(scan)
    except BudgetExceeded:
        return
    except (HandshakeError, ValueError, TimeoutError, OSError) as exc:
        attacks["early_data_error"] = str(exc)[:200] or type(exc).__name__
        return
    size = ticket.max_early_data
    attacks["early_data_announced"] = size
    accepted: bool | None = False
    if size > 0:
        try:
            accepted = await _accepts(scan, ticket)
        except BudgetExceeded:
            return
        except (HandshakeError, ValueError, TimeoutError, OSError) as exc:
            # Announced, acceptance not seen: reported on the announcement, as before.
            attacks["early_data_error"] = str(exc)[:200] or type(exc).__name__
            accepted = None
    attacks["early_data"] = size > 0 and accepted is not False
    if attacks["early_data"]:
        detail = f"tickets annonçant {size} octets de données précoces (0-RTT)"
        detail += ", acceptées à la reprise" if accepted else ", acceptation non vérifiée"
        result.observations.append(
            TLS_EARLY_DATA.observe(scan.port, detail, {"max_early_data_size": size})
        )
