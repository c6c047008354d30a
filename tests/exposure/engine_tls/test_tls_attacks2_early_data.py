"""Issue 19 item 4: 0-RTT (TLS 1.3 early data), through the runner, against real
``openssl s_server`` processes: the default (tickets without early data), ``-max_early_data
16384 -early_data`` (tickets announcing it, 0-RTT accepted on resumption) and ``-max_early_data
16384`` alone (announced, then refused: s_server only takes early data when told to read it;
SSLyze, which tries it, says no there, and so must we). The probe finishes a real TLS 1.3
handshake with OpenSSL (the server only sends tickets once our Finished checks out) and
resumes with the ticket (the server checks our PSK binder), so these tests also prove the
minimal client's key schedule; RFC 8448's first values are checked on their own.
"""

from __future__ import annotations

import struct
import tempfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.exposure import runner
from carbet.engines.exposure.core import ScanConfig, TargetResult
from carbet.engines.exposure.tls.early_data import (
    _derive,
    _extract,
    client_hello,
    encrypted_extensions_early_data,
    parse_ticket,
    ticket_early_data,
)

from .servers import LoopbackServers, make_ca, make_leaf
from .sserver import SServers

pytestmark = pytest.mark.realserver
CHECK = "tls.early_data"


@pytest.fixture(scope="module")
def scanned():
    loopback = LoopbackServers()
    sservers = SServers(tempfile.mkdtemp(prefix="carbet-0rtt-"))
    ca = make_ca()
    ca_file = loopback.write("ca.pem", ca.cert_pem)
    try:
        started = {
            "default": sservers.start(
                "default", make_leaf(ca, ["127.24.3.10"]), "-tls1_3", address="127.24.3.10"
            ),
            "early": sservers.start(
                "early", make_leaf(ca, ["127.24.3.11"]), "-tls1_3", "-max_early_data", "16384",
                "-early_data", address="127.24.3.11", www=False,
            ),
            "announced": sservers.start(
                "announced", make_leaf(ca, ["127.24.3.12"]), "-tls1_3", "-max_early_data",
                "16384", address="127.24.3.12",
            ),
        }  # fmt: skip
        names = list(started)
        ports = tuple(started[name].port for name in names)
        config = ScanConfig(
            ports=ports, port_hints=tuple((port, "https") for port in ports), ca_file=ca_file,
            mail_dns=False, web_paths=False,
        )  # fmt: skip
        results = runner.scan([started[name].address for name in names], config)
        yield dict(zip(names, results, strict=True))
    finally:
        sservers.close()
        loopback.close()


def _attacks(result: TargetResult) -> dict:
    (evidence,) = result.evidence["tls"].values()
    return evidence["attacks"]


def test_default_openssl_announces_no_early_data(scanned):
    result = scanned["default"]
    assert _attacks(result)["early_data"] is False, result.evidence["tls"]
    assert CHECK not in {o.check for o in result.observations}


def test_early_data_in_tickets_is_reported(scanned):
    result = scanned["early"]
    assert _attacks(result)["early_data"] is True, result.evidence["tls"]
    [observation] = [o for o in result.observations if o.check == CHECK]
    assert observation.evidence == {"max_early_data_size": 16384}
    assert "acceptées à la reprise" in observation.detail


def test_early_data_announced_then_refused_is_not_reported(scanned):
    result = scanned["announced"]
    attacks = _attacks(result)
    assert attacks["early_data_announced"] == 16384, result.evidence["tls"]
    assert attacks["early_data"] is False, result.evidence["tls"]
    assert "early_data_error" not in attacks
    assert CHECK not in {o.check for o in result.observations}


def test_key_schedule_first_values_of_rfc_8448():
    early = _extract(b"\x00" * 32, b"\x00" * 32)
    assert early.hex() == "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"
    derived = _derive(early, b"derived", b"")
    assert derived.hex() == "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"


def test_the_client_hello_asks_for_tickets():
    hello = client_hello(b"\x01" * 32, "portail.example.test")
    assert hello[0] == 1 and int.from_bytes(hello[1:4], "big") == len(hello) - 4
    assert b"\x00\x2d\x00\x02\x01\x01" in hello  # psk_key_exchange_modes: psk_dhe_ke
    assert b"portail.example.test" in hello
    assert b"127.0.0.1" not in client_hello(b"\x01" * 32, "127.0.0.1")  # no SNI for an address


def _ticket(extensions: bytes) -> bytes:
    body = struct.pack("!II", 7200, 1) + b"\x01\x00" + struct.pack("!H", 3) + b"abc"
    return body + struct.pack("!H", len(extensions)) + extensions


def test_ticket_reader():
    assert ticket_early_data(_ticket(b"")) is None
    assert ticket_early_data(_ticket(b"\x00\x2a\x00\x04" + struct.pack("!I", 16384))) == 16384
    assert ticket_early_data(_ticket(b"\xaa\xaa\x00\x00\x00\x2a\x00\x04\x00\x00\x01\x00")) == 256


@given(st.binary(max_size=120))
def test_ticket_reader_on_any_bytes(data):
    try:
        size = ticket_early_data(data)
    except ValueError:
        return
    assert size is None or 0 <= size < 2**32


@given(st.binary(max_size=120))
def test_ticket_parser_on_any_bytes(data):
    try:
        ticket = parse_ticket(data, b"\x00" * 32, 0.0)
    except ValueError:
        return
    assert ticket.identity and len(ticket.psk) == 32 and 0 <= ticket.age_add < 2**32


@given(st.binary(max_size=80))
def test_encrypted_extensions_reader_on_any_bytes(data):
    try:
        encrypted_extensions_early_data(data)
    except ValueError:
        pass


def test_encrypted_extensions_reader():
    with_early = b"\x08\x00\x00\x0a\x00\x08\x00\x00\x00\x00\x00\x2a\x00\x00"
    assert encrypted_extensions_early_data(with_early) is True
    assert encrypted_extensions_early_data(b"\x08\x00\x00\x02\x00\x00") is False
