"""Issue 19 item 4: CCS injection (CVE-2014-0224), against a crafted vulnerable stack, the same
stack patched, and a real ``openssl s_server`` (OpenSSL 3: refuses an early ChangeCipherSpec).

The crafted stack speaks TLS 1.2 with RSA suites. Vulnerable, it takes the first early CCS in
silence (as OpenSSL before 1.0.1h did, switching its read state to keys from an empty master
secret) and answers the second record with bad_record_mac; patched, it answers the first with
unexpected_message, as every fixed stack does. No OpenSSL that is still built here is vulnerable,
hence the crafted one.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.exposure import runner
from carbet.engines.exposure.core import ScanConfig, TargetResult
from carbet.engines.exposure.tls.attacks import ccs_verdict, early_ccs

from .servers import (
    LoopbackServers,
    certificate_body,
    handshake,
    make_ca,
    make_leaf,
    read_client_hello,
    record,
    server_hello_body,
)
from .sserver import SServers

pytestmark = pytest.mark.realserver
TLS12 = 0x0303


def ccs_stack(leaf_der: bytes, patched: bool):  # type: ignore[no-untyped-def]
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, suites = await read_client_hello(reader)
        chosen = next((suite for suite in (0x009C, 0x002F) if suite in suites), None)
        if version < TLS12 or chosen is None:
            writer.write(record(21, 0x0303, b"\x02\x46"))  # protocol_version / no suite
            await writer.drain()
            return
        hello = server_hello_body(TLS12, chosen, b"\xff\x01\x00\x01\x00")
        flight = handshake(2, hello) + handshake(11, certificate_body([leaf_der]))
        writer.write(record(22, TLS12, flight + handshake(14, b"")))
        await writer.drain()
        with contextlib.suppress(Exception):
            header = await asyncio.wait_for(reader.readexactly(5), 3)
            await reader.readexactly(int.from_bytes(header[3:5], "big"))
            if header[0] != 20:
                return  # a real client: key exchange; this stack only plays the CCS part
            if patched:
                writer.write(record(21, TLS12, b"\x02\x0a"))  # unexpected_message
                await writer.drain()
                return
            # testssl.sh waits 5 s between its two CCS records: wait longer than that.
            await asyncio.wait_for(reader.readexactly(5), 10)  # the next record cannot decrypt
            writer.write(record(21, TLS12, b"\x02\x14"))  # bad_record_mac
            await writer.drain()

    return handle


@pytest.fixture(scope="module")
def probed():
    loopback = LoopbackServers()
    sservers = SServers(tempfile.mkdtemp(prefix="carbet-ccs-"))
    ca = make_ca()
    ca_file = loopback.write("ca.pem", ca.cert_pem)
    try:
        endpoints = {}
        for name, address, patched in (("vulnerable", "127.24.0.10", False),
                                       ("patched", "127.24.0.11", True)):  # fmt: skip
            leaf = make_leaf(ca, [address]).certificate.public_bytes(serialization.Encoding.DER)
            endpoint = loopback.add(name, address, ccs_stack(leaf, patched))
            endpoints[name] = (address, endpoint.port)
        server = sservers.start(
            "openssl", make_leaf(ca, ["127.24.0.12"]), "-tls1_2",
            "-cipher", "ECDHE+AESGCM:AES128-GCM-SHA256", address="127.24.0.12",
        )  # fmt: skip
        endpoints["openssl"] = (server.address, server.port)
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


def attacks(result: TargetResult) -> dict:
    (evidence,) = [v for v in result.evidence["tls"].values() if "attacks" in v]
    return evidence["attacks"]


def checks(result: TargetResult) -> set[str]:
    return {o.check for o in result.observations}


def test_the_vulnerable_stack_is_caught(probed):
    result = probed["vulnerable"]
    assert attacks(result)["ccs_injection"] is True
    assert "tls.ccs_injection" in checks(result)
    assert result.scores["grade"] not in ("A+", "A", "A-")  # a high finding never leaves an A


def test_the_patched_stack_passes(probed):
    result = probed["patched"]
    assert attacks(result)["ccs_injection"] is False
    assert "tls.ccs_injection" not in checks(result)


def test_real_openssl_refuses_the_early_ccs(probed):
    result = probed["openssl"]
    assert attacks(result)["ccs_injection"] is False, result.errors
    assert "tls.ccs_injection" not in checks(result)


def test_early_ccs_records():
    assert early_ccs(TLS12) == b"\x14\x03\x03\x00\x01\x01" * 2


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        (b"\x15\x03\x03\x00\x02\x02\x0a", False),
        (b"\x15\x03\x03\x00\x02\x02\x14", True),
        (b"\x15\x03\x03\x00\x02\x02\x15", True),
        (b"\x15\x03\x03\x00\x02\x02\x28", None),  # handshake_failure: says nothing
        (b"", None),
        (b"HTTP/1.1 400 Bad Request\r\n", None),
    ],
)
def test_ccs_verdicts(answer, verdict):
    assert ccs_verdict(answer) is verdict


@given(st.binary(max_size=200))
def test_the_ccs_reader_never_raises(data):
    assert ccs_verdict(data) in (True, False, None)
