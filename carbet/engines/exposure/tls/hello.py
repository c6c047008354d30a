"""Hand-built ClientHellos and a strict, bounded parser of what a server says back.

A probe sends one ClientHello and reads the server's first flight (ServerHello, and for TLS ≤ 1.2
the Certificate and ServerKeyExchange messages) without ever finishing the handshake: no key is
derived, nothing is encrypted, so one probe costs one round trip. Every parser here takes
untrusted bytes: it raises :class:`TLSParseError` on anything malformed and never reads past the
bounds it was given.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from functools import cache

from carbet.engines.exposure.tls.suites import TLS12, TLS13

CONTENT_CCS, CONTENT_ALERT, CONTENT_HANDSHAKE, CONTENT_APPDATA = 20, 21, 22, 23
HS_SERVER_HELLO, HS_CERTIFICATE, HS_SERVER_KEY_EXCHANGE = 2, 11, 12
HS_CERTIFICATE_REQUEST, HS_SERVER_HELLO_DONE = 13, 14
MAX_RECORD = 2**14 + 2048  # RFC 8446 §5.2: a ciphertext record is never longer
MAX_HANDSHAKE_MESSAGE = 256 * 1024
# RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello with this exact random.
HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")

EXT_SERVER_NAME = 0x0000
EXT_STATUS_REQUEST = 0x0005
EXT_SUPPORTED_GROUPS = 0x000A
EXT_EC_POINT_FORMATS = 0x000B
EXT_SIGNATURE_ALGORITHMS = 0x000D
EXT_SUPPORTED_VERSIONS = 0x002B
EXT_KEY_SHARE = 0x0033
EXT_RENEGOTIATION_INFO = 0xFF01
EXT_PADDING = 0x0015

# ECDSA/EdDSA/RSA-PSS/RSA-PKCS1 with SHA-2 first, then SHA-1 so old servers still answer.
SIGNATURE_ALGORITHMS = (
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806,
    0x0809, 0x080A, 0x080B, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0203, 0x0201,
    0x0202,
)  # fmt: skip


_SIGNATURE_ALGORITHMS_EXTENSION = struct.pack(
    "!HHH",
    EXT_SIGNATURE_ALGORITHMS,
    2 + 2 * len(SIGNATURE_ALGORITHMS),
    2 * len(SIGNATURE_ALGORITHMS),
) + struct.pack(f"!{len(SIGNATURE_ALGORITHMS)}H", *SIGNATURE_ALGORITHMS)


class TLSParseError(ValueError):
    """The peer's bytes are not the TLS we expect (garbage, truncated, oversized)."""


def _u8_list(data: bytes) -> bytes:
    return struct.pack("!B", len(data)) + data


def _u16_list(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def extension(kind: int, body: bytes) -> bytes:
    """One encoded extension (type, length, body)."""
    return _extension(kind, body)


def _extension(kind: int, body: bytes) -> bytes:
    return struct.pack("!HH", kind, len(body)) + body


@cache
def _key_share_entry(group: int) -> bytes:
    """A real public key for ``group`` (x25519, P-256 or P-384), made once per process."""
    from cryptography.hazmat.primitives.asymmetric import ec, x25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if group == 0x001D:
        public = x25519.X25519PrivateKey.generate().public_key()
        key = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    else:
        curve = {0x0017: ec.SECP256R1(), 0x0018: ec.SECP384R1()}[group]
        public_ec = ec.generate_private_key(curve).public_key()
        key = public_ec.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return struct.pack("!H", group) + _u16_list(key)


def build_client_hello(
    version: int,
    suites: list[int] | tuple[int, ...],
    server_name: str | None = None,
    groups: tuple[int, ...] | list[int] = (),
    key_share_groups: tuple[int, ...] | list[int] = (),
    offer_deflate: bool = False,
    status_request: bool = False,
    extra_extensions: bytes = b"",
) -> bytes:
    """One TLS record holding a ClientHello for ``version`` (TLS 1.3 via supported_versions);
    ``offer_deflate`` also offers TLS compression, to see whether the server accepts it;
    ``status_request`` asks for a stapled OCSP response (RFC 6066 §8); ``extra_extensions``
    (already encoded) are appended as they are (the attack probes' heartbeat, EMS...)."""
    legacy_version = min(version, TLS12)
    suite_bytes = struct.pack(f"!{len(suites)}H", *suites)
    if version < TLS13:
        suite_bytes += b"\x00\xff"  # empty renegotiation info SCSV: old servers expect it
    extensions = b""
    if server_name and not _is_ip_literal(server_name):
        name = server_name.encode("idna") if not server_name.isascii() else server_name.encode()
        entry = b"\x00" + _u16_list(name)
        extensions += _extension(EXT_SERVER_NAME, _u16_list(entry))
    if status_request:  # OCSP, no responder ids, no request extensions
        extensions += _extension(EXT_STATUS_REQUEST, b"\x01\x00\x00\x00\x00")
    if groups:
        group_bytes = struct.pack(f"!{len(groups)}H", *groups)
        extensions += _extension(EXT_SUPPORTED_GROUPS, _u16_list(group_bytes))
        extensions += _extension(EXT_EC_POINT_FORMATS, _u8_list(b"\x00"))
    if version >= TLS12:
        extensions += _SIGNATURE_ALGORITHMS_EXTENSION
    extensions += extra_extensions
    if version >= TLS13:
        extensions += _extension(EXT_SUPPORTED_VERSIONS, _u8_list(struct.pack("!H", TLS13)))
        shares = b"".join(_key_share_entry(group) for group in key_share_groups)
        extensions += _extension(EXT_KEY_SHARE, _u16_list(shares))
    body = (
        struct.pack("!H", legacy_version)
        + os.urandom(32)
        + _u8_list(os.urandom(32) if version >= TLS13 else b"")
        + _u16_list(suite_bytes)
        + _u8_list(b"\x01\x00" if offer_deflate else b"\x00")  # DEFLATE?, null
    )
    # Some load balancers hang on a ClientHello of 256 to 511 bytes: pad past it (RFC 7685),
    # as browsers do.
    unpadded = 4 + len(body) + 2 + len(extensions)
    if 0xFF < unpadded < 0x200:
        padding = 0x200 - unpadded
        padding = padding - 4 if padding >= 5 else 1
        extensions += _extension(EXT_PADDING, b"\x00" * padding)
    if extensions:
        body += _u16_list(extensions)
    handshake = struct.pack("!B", 1) + struct.pack("!I", len(body))[1:] + body
    # Record version: TLS 1.0 for everything from TLS 1.0 up, as browsers do (some middleboxes
    # drop a ClientHello record claiming 1.2); SSLv3 needs 3.0.
    record_version = 0x0300 if version == 0x0300 else 0x0301
    return struct.pack("!BHH", CONTENT_HANDSHAKE, record_version, len(handshake)) + handshake


def _is_ip_literal(name: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass
class ServerHello:
    version: int  # legacy_version field
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression: int
    extensions: dict[int, bytes] = field(default_factory=dict)

    @property
    def is_retry_request(self) -> bool:
        return self.random == HRR_RANDOM

    @property
    def negotiated_version(self) -> int:
        """The real version: supported_versions when present (TLS 1.3), else legacy_version."""
        chosen = self.extensions.get(EXT_SUPPORTED_VERSIONS)
        if chosen is not None and len(chosen) == 2:
            return int.from_bytes(chosen, "big")
        return self.version

    @property
    def key_share_group(self) -> int | None:
        share = self.extensions.get(EXT_KEY_SHARE)
        if share is None or len(share) < 2:
            return None
        return int.from_bytes(share[:2], "big")


@dataclass
class Alert:
    level: int
    description: int


class _Cursor:
    """Bounds-checked reads over untrusted bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int) -> bytes:
        if size < 0 or self.offset + size > len(self.data):
            raise TLSParseError("truncated message")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u24(self) -> int:
        return int.from_bytes(self.take(3), "big")

    def remaining(self) -> int:
        return len(self.data) - self.offset


def parse_server_hello(body: bytes) -> ServerHello:
    cursor = _Cursor(body)
    version = cursor.u16()
    if version >> 8 != 3:
        raise TLSParseError(f"not a TLS version: 0x{version:04x}")
    random = cursor.take(32)
    session_id_length = cursor.u8()
    if session_id_length > 32:
        raise TLSParseError("session id longer than 32 bytes")
    session_id = cursor.take(session_id_length)
    cipher_suite = cursor.u16()
    compression = cursor.u8()
    extensions: dict[int, bytes] = {}
    if cursor.remaining():
        total = cursor.u16()
        ext_cursor = _Cursor(cursor.take(total))
        while ext_cursor.remaining():
            kind = ext_cursor.u16()
            extensions[kind] = ext_cursor.take(ext_cursor.u16())
    if cursor.remaining():
        raise TLSParseError("trailing bytes after ServerHello")
    return ServerHello(version, random, session_id, cipher_suite, compression, extensions)


def parse_certificate(body: bytes, tls13: bool = False) -> list[bytes]:
    """The DER certificates of a Certificate message, leaf first (not validated here)."""
    cursor = _Cursor(body)
    if tls13:
        cursor.take(cursor.u8())  # certificate_request_context
    chain_cursor = _Cursor(cursor.take(cursor.u24()))
    if cursor.remaining():
        raise TLSParseError("trailing bytes after Certificate")
    certificates: list[bytes] = []
    while chain_cursor.remaining():
        certificate = chain_cursor.take(chain_cursor.u24())
        if not certificate:
            raise TLSParseError("empty certificate entry")
        certificates.append(certificate)
        if tls13:
            chain_cursor.take(chain_cursor.u16())  # per-certificate extensions
    return certificates


@dataclass
class KeyExchangeParameters:
    kind: str  # "ecdhe" | "dhe"
    group: int | None = None  # named curve for ECDHE
    dh_bits: int | None = None  # size of the DHE prime


def parse_server_key_exchange(body: bytes, key_exchange: str) -> KeyExchangeParameters | None:
    """The group (ECDHE) or prime size (DHE) a server chose; None for other key exchanges."""
    cursor = _Cursor(body)
    if key_exchange.startswith("ECDHE") or key_exchange == "ECDH_anon":
        curve_type = cursor.u8()
        if curve_type != 3:  # only named_curve is allowed (RFC 8422)
            raise TLSParseError(f"unsupported curve type {curve_type}")
        return KeyExchangeParameters("ecdhe", group=cursor.u16())
    if key_exchange.startswith("DHE") or key_exchange == "DH_anon":
        prime = cursor.take(cursor.u16())
        return KeyExchangeParameters("dhe", dh_bits=int.from_bytes(prime, "big").bit_length())
    return None


class RecordReader:
    """Feeds raw bytes, yields handshake messages and alerts in order; bounded everywhere."""

    def __init__(self, max_bytes: int = 512 * 1024) -> None:
        self._buffer = bytearray()
        self._handshake = bytearray()
        self._received = 0
        self.max_bytes = max_bytes
        self.messages: list[tuple[int, bytes]] = []
        self.alerts: list[Alert] = []
        self.record_versions: set[int] = set()

    def feed(self, data: bytes) -> None:
        self._received += len(data)
        if self._received > self.max_bytes:
            raise TLSParseError("server sent more than the allowed amount of data")
        self._buffer += data
        while len(self._buffer) >= 5:
            content_type = self._buffer[0]
            version, length = struct.unpack("!HH", self._buffer[1:5])
            if content_type not in (CONTENT_CCS, CONTENT_ALERT, CONTENT_HANDSHAKE, CONTENT_APPDATA):
                raise TLSParseError(f"not a TLS record (content type {content_type})")
            if version >> 8 != 3 or length > MAX_RECORD:
                raise TLSParseError("not a TLS record (version or length)")
            if len(self._buffer) < 5 + length:
                return
            fragment = bytes(self._buffer[5 : 5 + length])
            del self._buffer[: 5 + length]
            self.record_versions.add(version)
            if content_type == CONTENT_ALERT:
                if len(fragment) < 2:
                    raise TLSParseError("truncated alert")
                self.alerts.append(Alert(fragment[0], fragment[1]))
            elif content_type == CONTENT_HANDSHAKE:
                self._handshake += fragment
                self._split_handshake()
            # CCS and encrypted records (TLS 1.3 after ServerHello) carry nothing we read.

    def _split_handshake(self) -> None:
        while len(self._handshake) >= 4:
            msg_type = self._handshake[0]
            length = int.from_bytes(self._handshake[1:4], "big")
            if length > MAX_HANDSHAKE_MESSAGE:
                raise TLSParseError("handshake message too large")
            if len(self._handshake) < 4 + length:
                return
            self.messages.append((msg_type, bytes(self._handshake[4 : 4 + length])))
            del self._handshake[: 4 + length]

    def find(self, msg_type: int) -> bytes | None:
        for kind, body in self.messages:
            if kind == msg_type:
                return body
        return None


# -- SSLv2 (still answered by some old appliances: DROWN) -----------------------------------------

SSL2_CIPHER_KINDS: dict[int, str] = {
    0x010080: "SSL_CK_RC4_128_WITH_MD5",
    0x020080: "SSL_CK_RC4_128_EXPORT40_WITH_MD5",
    0x030080: "SSL_CK_RC2_128_CBC_WITH_MD5",
    0x040080: "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5",
    0x050080: "SSL_CK_IDEA_128_CBC_WITH_MD5",
    0x060040: "SSL_CK_DES_64_CBC_WITH_MD5",
    0x0700C0: "SSL_CK_DES_192_EDE3_CBC_WITH_MD5",
}
SSL2_MSG_CLIENT_HELLO, SSL2_MSG_SERVER_HELLO = 1, 4


def build_sslv2_client_hello() -> bytes:
    """An SSLv2 CLIENT-HELLO offering every SSLv2 cipher kind (2-byte record header)."""
    specs = b"".join(kind.to_bytes(3, "big") for kind in SSL2_CIPHER_KINDS)
    challenge = os.urandom(16)
    body = struct.pack("!BHHHH", SSL2_MSG_CLIENT_HELLO, 0x0002, len(specs), 0, len(challenge))
    body += specs + challenge
    return struct.pack("!H", 0x8000 | len(body)) + body


def sslv2_record_length(data: bytes) -> int | None:
    """Total length (header included) of the SSLv2 record ``data`` starts with, None if not one."""
    if len(data) < 2 or not data[0] & 0x80:
        return None
    return 2 + (((data[0] & 0x7F) << 8) | data[1])


def parse_sslv2_server_hello(record: bytes) -> tuple[list[int], bytes]:
    """(cipher kinds the server offers, its certificate DER) from an SSLv2 SERVER-HELLO."""
    length = sslv2_record_length(record)
    if length is None or len(record) < length:
        raise TLSParseError("not a complete SSLv2 record")
    cursor = _Cursor(record[2:length])
    if cursor.u8() != SSL2_MSG_SERVER_HELLO:
        raise TLSParseError("not an SSLv2 SERVER-HELLO")
    cursor.take(2)  # session-id-hit, certificate-type
    if cursor.u16() != 0x0002:
        raise TLSParseError("SSLv2 SERVER-HELLO with another version")
    certificate_length, specs_length, connection_id_length = (
        cursor.u16(),
        cursor.u16(),
        cursor.u16(),
    )
    certificate = cursor.take(certificate_length)
    specs = cursor.take(specs_length)
    cursor.take(connection_id_length)
    if specs_length % 3:
        raise TLSParseError("SSLv2 cipher specs not a multiple of 3 bytes")
    kinds = [int.from_bytes(specs[i : i + 3], "big") for i in range(0, specs_length, 3)]
    return kinds, certificate
