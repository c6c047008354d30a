"""Issue 19 item 4: TLS attack probes (Heartbleed, TLS_FALLBACK_SCSV, Extended Master Secret),
each against a crafted vulnerable responder, the same responder patched, and a real
``openssl s_server`` (OpenSSL 3: no heartbeat, honours the fallback signal, supports EMS).

The crafted "old stack" speaks TLS 1.0 to 1.2 with one RSA suite. Vulnerable, it answers a
heartbeat request (with filler bytes standing for leaked memory: nothing real is ever held),
ignores the fallback signal and never echoes EMS; patched, it alerts on the heartbeat, answers
inappropriate_fallback and echoes EMS. Scans go through the runner: the old stack is found by
the crafted ClientHellos (Python's OpenSSL will not talk to it), then the TLS scan runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import tempfile

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.exposure import runner
from carbet.engines.exposure.core import ScanConfig, TargetResult
from carbet.engines.exposure.tls.attacks import heartbeat_answered, heartbeat_request

from .servers import (
    LoopbackServers,
    certificate_body,
    handshake,
    make_ca,
    make_leaf,
    record,
)
from .sserver import SServers

pytestmark = pytest.mark.realserver
PROBE_CHECKS = {"tls.heartbleed", "tls.fallback_scsv.missing", "tls.ems.missing"}


async def _client_hello(reader: asyncio.StreamReader) -> tuple[int, list[int], set[int]]:
    """(client_version, suites, extension types) of a ClientHello."""
    header = await reader.readexactly(5)
    body = await reader.readexactly(struct.unpack("!H", header[3:5])[0])
    version = struct.unpack("!H", body[4:6])[0]
    offset = 6 + 32
    offset += 1 + body[offset]
    length = struct.unpack("!H", body[offset : offset + 2])[0]
    raw = body[offset + 2 : offset + 2 + length]
    suites = [struct.unpack("!H", raw[i : i + 2])[0] for i in range(0, len(raw) - 1, 2)]
    offset += 2 + length
    offset += 1 + body[offset]
    kinds: set[int] = set()
    if offset + 2 <= len(body):
        end = offset + 2 + struct.unpack("!H", body[offset : offset + 2])[0]
        offset += 2
        while offset + 4 <= end:
            kind, size = struct.unpack("!HH", body[offset : offset + 4])
            kinds.add(kind)
            offset += 4 + size
    return version, suites, kinds


def old_stack(leaf_der: bytes, patched: bool):  # type: ignore[no-untyped-def]
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, suites, kinds = await _client_hello(reader)
        if version < 0x0301 or 0x002F not in suites:
            writer.write(record(21, 0x0301, b"\x02\x28"))
            await writer.drain()
            return
        chosen = min(version, 0x0303)
        if patched and 0x5600 in suites and chosen < 0x0303:
            writer.write(record(21, chosen, b"\x02\x56"))  # inappropriate_fallback
            await writer.drain()
            return
        extensions = b"\xff\x01\x00\x01\x00"  # renegotiation_info
        if 0x000F in kinds:
            extensions += b"\x00\x0f\x00\x01\x01"  # heartbeat: peer allowed to send
        if patched and 0x0017 in kinds:
            extensions += b"\x00\x17\x00\x00"  # extended master secret
        hello = struct.pack("!H", chosen) + os.urandom(32) + b"\x00" + struct.pack("!HB", 0x002F, 0)
        hello += struct.pack("!H", len(extensions)) + extensions
        flight = (
            handshake(2, hello) + handshake(11, certificate_body([leaf_der])) + handshake(14, b"")
        )
        writer.write(record(22, chosen, flight))
        await writer.drain()
        with contextlib.suppress(Exception):
            header = await asyncio.wait_for(reader.readexactly(5), 3)
            if header[0] == 24:
                if patched:
                    writer.write(record(21, chosen, b"\x02\x0a"))  # unexpected_message
                else:  # filler standing for leaked memory
                    writer.write(record(24, chosen, b"\x02\x40\x00" + b"\xaa" * 0x4000))
                await writer.drain()
            await asyncio.wait_for(reader.read(1024), 2)

    return handle


@pytest.fixture(scope="module")
def probed():
    directory = tempfile.mkdtemp(prefix="carbet-probes-")
    loopback = LoopbackServers()
    sservers = SServers(directory)
    ca = make_ca()
    ca_file = loopback.write("ca.pem", ca.cert_pem)
    try:
        endpoints = {}
        for name, address, patched in (("vulnerable", "127.22.0.10", False),
                                       ("patched", "127.22.0.11", True)):  # fmt: skip
            leaf = make_leaf(ca, [address]).certificate.public_bytes(serialization.Encoding.DER)
            endpoint = loopback.add(name, address, old_stack(leaf, patched))
            endpoints[name] = (address, endpoint.port)
        # TLS 1.1 and 1.2 (level 0): something to fall back from.
        server = sservers.start(
            "openssl", make_leaf(ca, ["127.22.0.12"]), "-no_ssl3", "-no_tls1", "-no_tls1_3",
            "-cipher", "ECDHE-RSA-AES128-SHA:ECDHE+AESGCM:@SECLEVEL=0", address="127.22.0.12",
        )  # fmt: skip
        endpoints["openssl"] = (server.address, server.port)
        server = sservers.start(
            "serverpref", make_leaf(ca, ["127.22.0.13"]), "-no_ssl3", "-no_tls1", "-no_tls1_3",
            "-serverpref", "-cipher", "ECDHE-RSA-AES128-SHA:ECDHE+AESGCM:@SECLEVEL=0",
            address="127.22.0.13",
        )  # fmt: skip
        endpoints["serverpref"] = (server.address, server.port)
        names = list(endpoints)
        ports = tuple(endpoints[name][1] for name in names)
        config = ScanConfig(
            ports=ports, port_hints=tuple((port, "https") for port in ports), ca_file=ca_file,
            mail_dns=False, web_paths=False,
        )  # fmt: skip
        results = runner.scan([endpoints[name][0] for name in names], config)
        yield dict(zip(names, results, strict=True))
    finally:
        sservers.close()
        loopback.close()


def probe_checks(result: TargetResult) -> set[str]:
    return {o.check for o in result.observations} & PROBE_CHECKS


def attacks(result: TargetResult) -> dict:
    (evidence,) = [v for v in result.evidence["tls"].values() if "attacks" in v]
    return evidence["attacks"]


def test_the_vulnerable_stack_is_caught_by_every_probe(probed):
    result = probed["vulnerable"]
    assert probe_checks(result) == PROBE_CHECKS, result.observations
    assert attacks(result) == {
        "heartbleed": True,
        "extended_master_secret": False,
        "fallback_scsv": False,
    }  # fmt: skip (one suite: no order to speak of)
    assert result.scores["grade"] in ("D", "E", "F")  # Heartbleed is critical


def test_the_patched_stack_passes_every_probe(probed):
    result = probed["patched"]
    assert probe_checks(result) == set(), result.observations
    assert attacks(result) == {
        "heartbleed": False, "extended_master_secret": True, "fallback_scsv": True,
    }  # fmt: skip


def test_real_openssl_passes_every_probe(probed):
    result = probed["openssl"]
    assert probe_checks(result) == set(), result.observations
    found = attacks(result)
    assert found["heartbleed"] is not True
    assert found["extended_master_secret"] is True
    assert found["fallback_scsv"] is True


def test_heartbeat_request_shape():
    request = heartbeat_request(0x0303)
    assert request[:3] == b"\x18\x03\x03" and request[5:] == b"\x01\x40\x00"
    assert heartbeat_answered(b"\x18\x03\x03\x40\x03") and not heartbeat_answered(b"\x15\x03\x03")


@given(st.binary(max_size=64))
def test_heartbeat_answer_reader_never_raises(data):
    assert heartbeat_answered(data) == (len(data) >= 5 and data[0] == 24 and data[1] == 3)


def test_server_cipher_order_is_reported(probed):
    assert attacks(probed["openssl"])["server_cipher_order"] is False
    assert attacks(probed["serverpref"])["server_cipher_order"] is True
