"""Parsers of untrusted TLS bytes: round trips, arbitrary chunking, and garbage (hypothesis)."""

from __future__ import annotations

import datetime as dt
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.tls import suites as tls_suites
from carbet.engines.exposure.tls.cert import (
    CertificateError,
    CertificateSummary,
    hostname_matches,
    key_is_weak,
    signature_is_weak,
    summarise,
)
from carbet.engines.exposure.tls.hello import (
    HRR_RANDOM,
    SSL2_CIPHER_KINDS,
    RecordReader,
    TLSParseError,
    build_client_hello,
    build_sslv2_client_hello,
    parse_certificate,
    parse_server_hello,
    parse_server_key_exchange,
    parse_sslv2_server_hello,
    sslv2_record_length,
)

from .servers import certificate_body, handshake, record, sslv2_server_hello

extension = st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=40))


def server_hello_bytes(version, random, session_id, suite, compression, extensions):
    body = struct.pack("!H", version) + random + bytes([len(session_id)]) + session_id
    body += struct.pack("!HB", suite, compression)
    if extensions is not None:
        raw = b"".join(struct.pack("!HH", kind, len(data)) + data for kind, data in extensions)
        body += struct.pack("!H", len(raw)) + raw
    return body


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(
    version=st.integers(0x0300, 0x03FF),
    random=st.binary(min_size=32, max_size=32),
    session_id=st.binary(max_size=32),
    suite=st.integers(0, 0xFFFF),
    compression=st.integers(0, 255),
    extensions=st.none() | st.dictionaries(st.integers(0, 0xFFFF), st.binary(max_size=40)),
)
def test_server_hello_round_trip(version, random, session_id, suite, compression, extensions):
    items = list(extensions.items()) if extensions is not None else None
    body = server_hello_bytes(version, random, session_id, suite, compression, items)
    hello = parse_server_hello(body)
    assert (hello.version, hello.random, hello.session_id) == (version, random, session_id)
    assert (hello.cipher_suite, hello.compression) == (suite, compression)
    assert hello.extensions == (extensions or {})


def test_tls13_server_hello_and_retry_request():
    extensions = [(0x002B, b"\x03\x04"), (0x0033, b"\x00\x1d")]
    hello = parse_server_hello(server_hello_bytes(0x0303, HRR_RANDOM, b"", 0x1301, 0, extensions))
    assert hello.negotiated_version == tls_suites.TLS13
    assert hello.is_retry_request
    assert hello.key_share_group == 0x001D


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(st.binary(max_size=400))
def test_garbage_server_hello_only_raises_parse_errors(data):
    try:
        parse_server_hello(data)
    except TLSParseError:
        pass


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(st.binary(max_size=400), st.sampled_from(["ECDHE_RSA", "DHE_RSA", "RSA", "DH_anon"]))
def test_garbage_key_exchange_only_raises_parse_errors(data, key_exchange):
    try:
        parse_server_key_exchange(data, key_exchange)
    except TLSParseError:
        pass


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(st.lists(st.binary(min_size=1, max_size=300), max_size=5), st.booleans())
def test_certificate_message_round_trip(ders, tls13):
    if tls13:
        entries = b"".join(len(d).to_bytes(3, "big") + d + b"\x00\x00" for d in ders)
        body = b"\x00" + len(entries).to_bytes(3, "big") + entries
    else:
        body = certificate_body(ders)
    assert parse_certificate(body, tls13=tls13) == ders


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(st.binary(max_size=600), st.booleans())
def test_garbage_certificate_message_only_raises_parse_errors(data, tls13):
    try:
        parse_certificate(data, tls13=tls13)
    except TLSParseError:
        pass


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(
    st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=3),
    st.lists(st.integers(1, 50), min_size=1, max_size=30),
)
def test_record_reader_is_indifferent_to_chunking(ders, cuts):
    hello = server_hello_bytes(0x0303, b"r" * 32, b"", 0xC02F, 0, None)
    flight = handshake(2, hello) + handshake(11, certificate_body(ders)) + handshake(14, b"")
    # Split the flight over several records, then feed the wire bytes in arbitrary chunks.
    wire = record(22, 0x0303, flight[:7]) + record(22, 0x0303, flight[7:])
    reader = RecordReader()
    offset = 0
    for cut in cuts * 100:
        if offset >= len(wire):
            break
        reader.feed(wire[offset : offset + cut])
        offset += cut
    reader.feed(wire[offset:])
    assert [kind for kind, _ in reader.messages] == [2, 11, 14]
    assert parse_certificate(reader.find(11)) == ders


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=10))
def test_record_reader_garbage_only_raises_parse_errors(chunks):
    reader = RecordReader(max_bytes=400)
    try:
        for chunk in chunks:
            reader.feed(chunk)
    except TLSParseError:
        pass


def test_record_reader_caps_total_bytes():
    reader = RecordReader(max_bytes=1000)
    with pytest.raises(TLSParseError):
        for _ in range(10):
            reader.feed(record(22, 0x0303, b"\x0b" + b"\x00" * 200))


def parse_client_hello(wire: bytes) -> tuple[int, list[int], dict[int, bytes]]:
    assert wire[0] == 22
    body = wire[5 + 4 :]
    assert len(wire) == 5 + struct.unpack("!H", wire[3:5])[0]
    version = struct.unpack("!H", body[:2])[0]
    offset = 2 + 32
    offset += 1 + body[offset]
    length = struct.unpack("!H", body[offset : offset + 2])[0]
    raw = body[offset + 2 : offset + 2 + length]
    suites = [struct.unpack("!H", raw[i : i + 2])[0] for i in range(0, len(raw), 2)]
    offset += 2 + length
    offset += 1 + body[offset]
    extensions = {}
    total = struct.unpack("!H", body[offset : offset + 2])[0]
    ext = body[offset + 2 : offset + 2 + total]
    while ext:
        kind, size = struct.unpack("!HH", ext[:4])
        extensions[kind] = ext[4 : 4 + size]
        ext = ext[4 + size :]
    return version, suites, extensions


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(
    st.sampled_from([0x0300, 0x0301, 0x0302, 0x0303, 0x0304]),
    st.lists(st.sampled_from(sorted(tls_suites.LEGACY_SUITES)), min_size=1, max_size=40),
    st.none()
    | st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=20).map(
        lambda label: f"{label}.example.test"
    ),
)
def test_client_hello_is_well_formed(version, suites, server_name):
    wire = build_client_hello(
        version, suites, server_name, groups=(0x001D, 0x0017), key_share_groups=(0x001D,)
    )
    legacy_version, offered, extensions = parse_client_hello(wire)
    assert legacy_version == min(version, 0x0303)
    assert offered[: len(suites)] == suites
    if server_name:
        assert server_name.encode() in extensions[0x0000]
    assert (0x002B in extensions) == (version == 0x0304)
    assert not 0xFF < len(wire) - 5 < 0x200  # the F5 "hello of 256 to 511 bytes" bug


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(st.lists(st.sampled_from(sorted(SSL2_CIPHER_KINDS)), max_size=7), st.binary(max_size=300))
def test_sslv2_server_hello_round_trip(kinds, certificate):
    wire = sslv2_server_hello(kinds, certificate)
    assert sslv2_record_length(wire) == len(wire)
    assert parse_sslv2_server_hello(wire) == (kinds, certificate)


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(st.binary(max_size=300))
def test_garbage_sslv2_only_raises_parse_errors(data):
    try:
        parse_sslv2_server_hello(b"\x80" + data)
    except TLSParseError:
        pass


def test_sslv2_client_hello_shape():
    wire = build_sslv2_client_hello()
    assert sslv2_record_length(wire) == len(wire)
    assert wire[2] == 1 and wire[3:5] == b"\x00\x02"


def test_suite_classes_follow_the_anssi_guide():
    describe = tls_suites.describe
    assert describe(0xC02F).classification == "recommended"
    assert describe(0x1301).classification == "recommended"
    assert describe(0x1305).classification == "degraded"
    assert describe(0xC027).classification == "degraded"  # ECDHE, CBC, SHA-256
    assert describe(0xC013).classification == "legacy"  # ECDHE, CBC, SHA-1
    assert describe(0x009C).classification == "legacy"  # RSA key exchange
    assert not describe(0x009C).forward_secrecy
    for weak in (0x0005, 0x000A, 0x0003, 0x0002, 0xC018, 0x0018, 0x0009):
        assert describe(weak).classification == "weak", tls_suites.LEGACY_SUITES[weak]
    assert describe(0xABCD).classification == "weak"
    assert all(
        describe(code).mac not in ("SHA256", "SHA384") for code in tls_suites.suites_for(0x0301)
    )


def summary(**overrides) -> CertificateSummary:
    values = dict(
        subject="CN=x",
        issuer="CN=ca",
        common_names=["x"],
        dns_names=[],
        ip_addresses=[],
        not_before=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        key_type="RSA",
        key_bits=2048,
        signature_algorithm="sha256WithRSAEncryption",
        signature_hash="sha256",
        self_signed=False,
        serial="1",
        fingerprint_sha256="0",
    )
    values.update(overrides)
    return CertificateSummary(**values)


def test_hostname_matching_rules():
    wildcard = summary(dns_names=["*.chu-exemple.fr", "chu-exemple.fr"])
    assert hostname_matches(wildcard, "www.chu-exemple.fr")
    assert hostname_matches(wildcard, "CHU-EXEMPLE.FR.")
    assert not hostname_matches(wildcard, "a.b.chu-exemple.fr")
    assert not hostname_matches(summary(dns_names=["*.fr"]), "chu.fr")
    assert hostname_matches(summary(ip_addresses=["127.0.0.1"]), "127.0.0.1")
    assert not hostname_matches(summary(dns_names=["x"]), "127.0.0.1")
    assert hostname_matches(summary(common_names=["legacy.test"]), "legacy.test")
    assert not hostname_matches(summary(dns_names=["a.test"], common_names=["b.test"]), "b.test")


def test_key_and_signature_strength():
    assert key_is_weak(summary(key_bits=1024))
    assert not key_is_weak(summary(key_type="EC", key_bits=256))
    assert key_is_weak(summary(key_type="EC", key_bits=224))
    assert signature_is_weak(summary(signature_hash="sha1"))
    assert not signature_is_weak(summary())


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600))
def test_garbage_certificates_only_raise_certificate_errors(data):
    try:
        summarise(b"\x30\x82" + data)
    except CertificateError:
        pass
