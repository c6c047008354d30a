"""Issue 19 item 1: servers that speak only old TLS are identified, judged, and graded for it.

Real ``openssl s_server`` processes play the old appliances (TLS 1.0 only at security level 0
with legacy renegotiation, a 1024-bit key and a SHA-1 signature; TLS 1.1 only). OpenSSL 3 here
cannot serve SSLv3 at all, so the SSLv3-only server is the crafted responder of ``servers``
(said so where it is used). Everything goes through the path a user takes: the runner (port
discovery, service identification, TLS, web, scores) and, once, the ``carbet scan --json``
command itself. Before this change the TLS 1.0 server was "port ouvert, service non identifié"
with no TLS finding, graded A+ (100/100).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from carbet.engines.exposure import runner
from carbet.engines.exposure.core import ScanConfig, TargetResult

from . import servers
from .servers import Issued, LoopbackServers, _name, _pem, make_ca, make_leaf, rsa_key
from .sserver import SServers

pytestmark = pytest.mark.realserver
ROOT = Path(__file__).resolve().parents[3]


def legacy_leaf(issuer: Issued, address: str, directory: str) -> Issued:
    """A 1024-bit RSA leaf signed in SHA-1 (``cryptography`` refuses SHA-1; the CLI does not)."""
    key = rsa_key(1024)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name("appliance"))
        .sign(key, hashes.SHA256())
    )
    paths = {kind: os.path.join(directory, f"legacy-{kind}.pem") for kind in
             ("csr", "ca", "cakey", "ext", "out")}  # fmt: skip
    for kind, data in (("csr", csr.public_bytes(serialization.Encoding.PEM)),
                       ("ca", issuer.cert_pem), ("cakey", issuer.key_pem),
                       ("ext", f"subjectAltName=IP:{address}\n".encode())):  # fmt: skip
        with open(paths[kind], "wb") as handle:
            handle.write(data)
    subprocess.run(
        ["openssl", "x509", "-req", "-in", paths["csr"], "-CA", paths["ca"], "-CAkey",
         paths["cakey"], "-CAcreateserial", "-sha1", "-days", "90", "-extfile", paths["ext"],
         "-out", paths["out"]],
        check=True, capture_output=True,
    )  # fmt: skip
    with open(paths["out"], "rb") as handle:
        return _pem(x509.load_pem_x509_certificate(handle.read()), key)


async def _closes_without_a_word(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Accepts, reads what the client says, and hangs up: nothing to identify it by."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(reader.read(4096), 2)


async def _version_intolerant(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The issue's appliance: a ClientHello above TLS 1.0 gets the connection reset (what
    Python's handshake saw as ConnectionResetError); a TLS 1.0 one gets a TLS 1.0 flight."""
    header = await reader.readexactly(5)
    body = await reader.readexactly(int.from_bytes(header[3:5], "big"))
    if int.from_bytes(body[4:6], "big") > 0x0301:
        writer.transport.abort()
        return
    hello = servers.server_hello_body(0x0301, 0x002F, b"\xff\x01\x00\x01\x00")
    flight = (
        servers.handshake(2, hello)
        + servers.handshake(11, servers.certificate_body([servers.SSL3_LEAF_DER[-1]]))
        + servers.handshake(14, b"")
    )
    writer.write(servers.record(22, 0x0301, flight))
    await writer.drain()
    await servers.drain_and_close(reader, writer)


class LegacyLab:
    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="carbet-legacy-")
        self.ca = make_ca()
        self.ca_file = os.path.join(self.directory, "ca.pem")
        with open(self.ca_file, "wb") as handle:
            handle.write(self.ca.cert_pem)
        self.sservers = SServers(self.directory)
        self.loopback = LoopbackServers()
        self.endpoints: dict[str, tuple[str, int]] = {}

    def close(self) -> None:
        self.sservers.close()
        self.loopback.close()


@pytest.fixture(scope="module")
def legacy_lab():
    lab = LegacyLab()
    try:
        address = "127.19.0.10"
        server = lab.sservers.start(
            "tls10", legacy_leaf(lab.ca, address, lab.directory),
            "-tls1", "-cipher", "ALL:@SECLEVEL=0", "-legacy_renegotiation", address=address,
        )  # fmt: skip
        lab.endpoints["tls10"] = (address, server.port)
        address = "127.19.0.11"
        server = lab.sservers.start(
            "tls11", make_leaf(lab.ca, [address]),
            "-tls1_1", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0", address=address,
        )  # fmt: skip
        lab.endpoints["tls11"] = (address, server.port)
        # OpenSSL 3 cannot serve SSLv3: the crafted SSLv3-only responder stands in for it.
        ssl3_leaf = make_leaf(lab.ca, ["127.19.0.12"])
        servers.SSL3_LEAF_DER.append(ssl3_leaf.certificate.public_bytes(serialization.Encoding.DER))
        endpoint = lab.loopback.add("ssl3", "127.19.0.12", servers.ssl3_responder)
        lab.endpoints["ssl3"] = (endpoint.address, endpoint.port)
        endpoint = lab.loopback.add("intolerant", "127.19.0.14", _version_intolerant)
        lab.endpoints["intolerant"] = (endpoint.address, endpoint.port)
        endpoint = lab.loopback.add("mute", "127.19.0.13", _closes_without_a_word)
        lab.endpoints["mute"] = (endpoint.address, endpoint.port)
        yield lab
    finally:
        lab.close()


def scan(lab: LegacyLab, *names: str) -> dict[str, TargetResult]:
    """The runner, as ``carbet scan`` drives it: each server's port hinted HTTPS (443's role)."""
    ports = tuple(lab.endpoints[name][1] for name in names)
    config = ScanConfig(
        ports=ports, port_hints=tuple((port, "https") for port in ports), ca_file=lab.ca_file,
        mail_dns=False,
    )  # fmt: skip
    results = runner.scan([lab.endpoints[name][0] for name in names], config)
    return dict(zip(names, results, strict=True))


@pytest.fixture(scope="module")
def scanned(legacy_lab):
    return scan(legacy_lab, "tls10", "tls11", "ssl3", "intolerant", "mute")


def checks_of(result: TargetResult) -> set[str]:
    return {observation.check for observation in result.observations}


def test_tls10_only_server_is_identified_and_every_tls_check_runs(scanned, legacy_lab):
    result = scanned["tls10"]
    port = legacy_lab.endpoints["tls10"][1]
    (service,) = [s for s in result.services if s.port == port]
    assert service.tls and service.service == "https", service
    assert not any("non identifié" in error for error in result.errors), result.errors
    evidence = result.evidence["tls"][str(port)]
    assert evidence["protocols"]["tls10"] is True
    assert not any(evidence["protocols"][v] for v in ("tls11", "tls12", "tls13"))
    found = checks_of(result)
    for check in ("tls.protocol.tls10", "tls.cert.weak_key", "tls.cert.sha1_signature",
                  "tls.cipher.weak", "tls.protocol.tls13_missing"):  # fmt: skip
        assert check in found, (check, sorted(found))
    assert evidence["certificate"]["key_bits"] == 1024
    assert evidence["certificate"]["trusted"] is True  # the lab CA signed it: trust is fine


def test_tls10_only_server_is_graded_for_it(scanned):
    scores = scanned["tls10"].scores
    assert scores["grade"] in ("C", "D", "E", "F"), scores  # was A+ (100/100) before issue 19
    assert scores["categories"]["tls"]["grade"] in ("C", "D", "E", "F")
    capped_by = {(cap["check"], cap["grade"]) for cap in scores["caps"]}
    assert ("tls.protocol.tls10", "B") in capped_by
    assert ("tls.cipher.weak", "C") in capped_by


def test_tls11_only_server_never_gets_an_a(scanned):
    result = scanned["tls11"]
    assert "tls.protocol.tls11" in checks_of(result)
    assert result.scores["grade"] not in ("A+", "A"), result.scores
    assert any(cap["check"] == "tls.protocol.tls11" for cap in result.scores["caps"])


def test_sslv3_only_server_is_identified_by_the_crafted_hellos(scanned, legacy_lab):
    result = scanned["ssl3"]
    port = legacy_lab.endpoints["ssl3"][1]
    (service,) = [s for s in result.services if s.port == port]
    assert service.tls and service.extra["identified_by"] == "tls-hello", service
    assert service.extra["tls_hello"] == {"version": "SSLv3"}
    assert "tls.protocol.ssl3" in checks_of(result)
    assert result.scores["grade"] == "F"


def test_an_unidentified_tls_port_is_reported_and_caps_the_grade(scanned):
    result = scanned["mute"]
    assert "tls.unidentified" in checks_of(result), result.observations
    assert result.scores["grade"] not in ("A+", "A", "B"), result.scores
    assert any(cap["check"] == "tls.unidentified" for cap in result.scores["caps"])


def test_carbet_scan_json_reports_the_tls10_server(legacy_lab, tmp_path):
    address, port = legacy_lab.endpoints["tls10"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CARBET_DATA_DIR": str(tmp_path)}
    completed = subprocess.run(
        [sys.executable, "-m", "carbet.cli", "scan", address, "--ports", f"{port}:https",
         "--ca-file", legacy_lab.ca_file, "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    (target,) = json.loads(completed.stdout)["targets"]
    assert target["services"][0]["service"] == "https"
    checks = {finding["check"] for finding in target["findings"]}
    assert {"tls.protocol.tls10", "tls.cert.weak_key", "tls.cert.sha1_signature"} <= checks
    assert target["grade"] in ("C", "D", "E", "F") and target["score"] <= 79
    assert any(cap["check"] == "tls.protocol.tls10" for cap in target["caps"])


def test_a_server_resetting_modern_hellos_is_found_by_the_tls10_hello(scanned, legacy_lab):
    result = scanned["intolerant"]
    port = legacy_lab.endpoints["intolerant"][1]
    (service,) = [s for s in result.services if s.port == port]
    assert service.tls and service.extra["tls_hello"] == {"version": "TLS 1.0"}, service
    assert "tls.protocol.tls10" in checks_of(result)
    assert result.scores["grade"] not in ("A+", "A"), result.scores  # TLS 1.0 caps at B
