"""Issue 19 item 4: ROBOT, against a crafted oracle, the same stack fixed, and a real
``openssl s_server`` offering RSA key exchange (OpenSSL 3: no oracle).

The crafted stack really decrypts the RSA key exchange with its private key. As an oracle it
answers a bad PKCS#1 prefix with handshake_failure and a missing separator with decode_error,
and everything else, after failing to decrypt our Finished, with bad_record_mac; fixed, it gives
bad_record_mac to all five (a random premaster on bad padding, as RFC 5246 §7.4.7.1 asks).
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
from carbet.engines.exposure.tls.robot import (
    VARIANTS,
    answer_kind,
    premaster_variants,
    robot_verdict,
)

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


def rsa_stack(issued, oracle: bool):  # type: ignore[no-untyped-def]
    leaf = issued.certificate.public_bytes(serialization.Encoding.DER)
    private = issued.key.private_numbers()
    n, d = private.public_numbers.n, private.d
    size = (n.bit_length() + 7) // 8

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _version, suites = await read_client_hello(reader)
        if 0x002F not in suites:
            writer.write(record(21, TLS12, b"\x02\x28"))
            await writer.drain()
            return
        flight = handshake(2, server_hello_body(TLS12, 0x002F, b"\xff\x01\x00\x01\x00"))
        flight += handshake(11, certificate_body([leaf])) + handshake(14, b"")
        writer.write(record(22, TLS12, flight))
        await writer.drain()
        with contextlib.suppress(Exception):
            header = await asyncio.wait_for(reader.readexactly(5), 3)
            body = await reader.readexactly(int.from_bytes(header[3:5], "big"))
            encrypted = body[6:]  # handshake header (4), vector length (2)
            message = pow(int.from_bytes(encrypted, "big"), d, n).to_bytes(size, "big")
            if oracle and message[:2] != b"\x00\x02":
                alert = 40  # handshake_failure
            elif oracle and b"\x00" not in message[2:]:
                alert = 50  # decode_error
            else:
                alert = 20  # bad_record_mac, after the Finished failed to decrypt
                await asyncio.wait_for(reader.readexactly(6 + 5 + 64), 3)
            writer.write(record(21, TLS12, b"\x02" + bytes([alert])))
            await writer.drain()
            await asyncio.wait_for(reader.read(1024), 2)

    return handle


@pytest.fixture(scope="module")
def scanned():
    loopback = LoopbackServers()
    sservers = SServers(tempfile.mkdtemp(prefix="carbet-robot-"))
    ca = make_ca()
    ca_file = loopback.write("ca.pem", ca.cert_pem)
    try:
        endpoints = {}
        for name, address, oracle in (("oracle", "127.24.2.10", True),
                                      ("fixed", "127.24.2.11", False)):  # fmt: skip
            endpoint = loopback.add(name, address, rsa_stack(make_leaf(ca, [address]), oracle))
            endpoints[name] = (address, endpoint.port)
        server = sservers.start(
            "openssl", make_leaf(ca, ["127.24.2.12"]), "-tls1_2",
            "-cipher", "AES128-SHA:AES128-GCM-SHA256:@SECLEVEL=0", address="127.24.2.12",
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


def _robot(result: TargetResult) -> dict:
    (evidence,) = result.evidence["tls"].values()
    return evidence["robot"]


def _checks(result: TargetResult) -> set[str]:
    return {o.check for o in result.observations}


def test_the_oracle_is_found(scanned):
    result = scanned["oracle"]
    robot = _robot(result)
    assert robot["vulnerable"] is True, robot
    assert robot["answers"]["correct"] == "alert:20"
    assert robot["answers"]["wrong_first_bytes"] == "alert:40"
    assert "tls.robot" in _checks(result)


def test_the_fixed_stack_answers_alike(scanned):
    robot = _robot(scanned["fixed"])
    assert robot["vulnerable"] is False, robot
    assert set(robot["answers"].values()) == {"alert:20"}
    assert "tls.robot" not in _checks(scanned["fixed"])


def test_real_openssl_is_no_oracle(scanned):
    result = scanned["openssl"]
    robot = _robot(result)
    assert robot["vulnerable"] is False, robot
    assert "tls.robot" not in _checks(result)


@given(st.sampled_from([128, 256, 384, 512]), st.sampled_from([0x0301, 0x0302, 0x0303]))
def test_the_five_messages(size, version):
    messages = premaster_variants(size, version)
    assert list(messages) == list(VARIANTS)
    assert all(len(message) == size for message in messages.values())
    correct = messages["correct"]
    assert (
        correct[:2] == b"\x00\x02"
        and correct[-49] == 0
        and correct[-48:-46] == bytes([3, version & 0xFF])
    )
    assert 0 not in correct[2:-49]
    assert messages["wrong_first_bytes"][:2] == b"\x41\x17"
    assert 0 not in messages["no_separator"][2:-48]
    assert messages["wrong_version"][-48:-46] == b"\x02\x02"
    assert messages["zero_in_padding"].index(0, 2) < size - 49


def test_verdicts():
    same = dict.fromkeys(VARIANTS, "alert:20")
    assert robot_verdict(same) is False
    assert robot_verdict({**same, "no_separator": "closed"}) is True
    assert robot_verdict({**same, "no_separator": ""}) is None  # silence: no verdict
    assert robot_verdict({"correct": "alert:20"}) is None


@given(st.binary(max_size=64), st.booleans())
def test_answer_reader_never_raises(data, closed):
    kind = answer_kind(data, closed)
    assert kind == "" or kind == "closed" or kind.startswith("alert:")
