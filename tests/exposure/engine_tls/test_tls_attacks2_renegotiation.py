"""Issue 19 item 4: client-initiated renegotiation, through the runner, against real
``openssl s_server`` processes: OpenSSL 3's default (refuses a client's renegotiation) and
``-client_renegotiation`` (accepts it, RSA and ECDSA certificates). The probe finishes a real TLS
1.2 handshake with OpenSSL (its Finished checked by the server), so these tests also prove the
minimal client's key schedule.

Not covered here: a server *without* RFC 5746 that accepts renegotiation (the insecure form).
The system OpenSSL always supports RFC 5746 and no crafted stack here finishes a handshake; the
legacy renegotiation hello and the verdicts are unit-tested instead.
"""

from __future__ import annotations

import tempfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.exposure import runner
from carbet.engines.exposure.core import ScanConfig, TargetResult
from carbet.engines.exposure.tls.renegotiation import (
    parse_ecdhe_params,
    prf,
    renegotiation_hello,
    renegotiation_verdict,
)

from .servers import LoopbackServers, make_ca, make_leaf
from .sserver import SServers

pytestmark = pytest.mark.realserver
CHECK = "tls.renegotiation.client_initiated"


@pytest.fixture(scope="module")
def scanned():
    loopback = LoopbackServers()
    sservers = SServers(tempfile.mkdtemp(prefix="carbet-reneg-"))
    ca = make_ca()
    ca_file = loopback.write("ca.pem", ca.cert_pem)
    try:
        started = {
            "refusing": sservers.start(
                "refusing", make_leaf(ca, ["127.24.1.10"]), "-tls1_2", address="127.24.1.10"
            ),
            "accepting": sservers.start(
                "accepting", make_leaf(ca, ["127.24.1.11"]), "-tls1_2", "-client_renegotiation",
                address="127.24.1.11",
            ),
            "accepting_ecdsa": sservers.start(
                "accepting_ecdsa", make_leaf(ca, ["127.24.1.12"], elliptic=True), "-tls1_2",
                "-client_renegotiation", address="127.24.1.12",
            ),
            "tls13_only": sservers.start(
                "tls13_only", make_leaf(ca, ["127.24.1.13"]), "-tls1_3", address="127.24.1.13"
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
    return evidence.get("attacks", {})


def _checks(result: TargetResult) -> set[str]:
    return {o.check for o in result.observations}


def test_openssl_default_refuses_client_renegotiation(scanned):
    result = scanned["refusing"]
    assert _attacks(result)["client_renegotiation"] is False, result.evidence["tls"]
    assert CHECK not in _checks(result)


@pytest.mark.parametrize("name", ["accepting", "accepting_ecdsa"])
def test_accepted_client_renegotiation_is_reported(scanned, name):
    result = scanned[name]
    assert _attacks(result)["client_renegotiation"] is True, result.evidence["tls"]
    [observation] = [o for o in result.observations if o.check == CHECK]
    assert observation.evidence == {"secure": True}
    assert observation.severity in (None, 1)  # secure renegotiation: the DoS concern only


def test_a_tls13_only_server_is_not_asked(scanned):
    result = scanned["tls13_only"]
    assert "client_renegotiation" not in _attacks(result)
    assert CHECK not in _checks(result)


def test_tls12_prf_known_answer():
    # The TLS 1.2 PRF (SHA-256) test vector circulated on the IETF TLS list.
    secret = bytes.fromhex("9bbe436ba940f017b17652849a71db35")
    seed = bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c")
    output = prf(secret, b"test label", seed, 100)
    assert len(output) == 100
    assert output[:32].hex() == "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"


def test_renegotiation_hellos():
    secure = renegotiation_hello(b"\x11" * 12)
    assert secure[0] == 1 and int.from_bytes(secure[1:4], "big") == len(secure) - 4
    assert b"\xff\x01\x00\x0d\x0c" + b"\x11" * 12 in secure
    assert b"\x00\xff" not in secure[39:45]  # no SCSV in a renegotiation (RFC 5746 §3.5)
    assert b"\xff\x01" not in renegotiation_hello(None)


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        (b"\x16\x03\x03\x00\x02ab", True),
        (b"\x15\x03\x03\x00\x02ab", False),
        (b"", False),
        (b"\x16\x03\x03\x00\x10ab", None),  # incomplete record
        (b"\x17\x03\x03\x00\x01a", None),
    ],
)
def test_renegotiation_verdicts(answer, verdict):
    assert renegotiation_verdict(answer) is verdict


@given(st.binary(max_size=200))
def test_the_parsers_of_server_bytes_never_raise_unexpectedly(data):
    assert renegotiation_verdict(data) in (True, False, None)
    try:
        group, key = parse_ecdhe_params(data)
    except ValueError:
        pass
    else:
        assert 0 <= group <= 0xFFFF and key
