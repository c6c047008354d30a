"""DNSSEC of the MX zones and DANE (TLSA) on the MX hosts, against real servers on loopback.

The lab (``lab6``, also used by test_ipv6_mail.py): signed zones served by the test's
authoritative DNS server (dnspython's ``sign_zone``, DS at the unsigned parent ``lab6.test``),
and aiosmtpd SMTP servers offering STARTTLS with certificates of a throw-away CA, on
127.53.6.x and ``::1``. TLSA records are computed from the certificates issued at run time.

- ok.lab6.test: signed zone, DS, TLSA "3 1 1" matching the MX's key; MX on IPv4 and ::1.
- ta.lab6.test: signed, TLSA "2 0 1" on the CA certificate, which this MX sends in its chain.
- mismatch.lab6.test: signed, TLSA records that match nothing (a wrong "3 1 1", a "2 0 1" on a
  CA the server does not send, a PKIX "1 0 1" that would match but is unusable for SMTP).
- bogusmx.lab6.test: signed, but the parent's DS is for another key (bogus).
- unvalidated.lab6.test: a TLSA in an unsigned zone.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
import threading
from dataclasses import dataclass

import dns.dnssec
import dns.zone
import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.core import ScanConfig, ScanContext, TargetResult
from carbet.engines.exposure.mail.dane import Tlsa, tlsa_matches
from carbet.engines.exposure.mail.probe import scan_domain
from carbet.engines.netpolicy import ConnectPolicy

from .authdns import AuthoritativeServer, zone_from_text
from .pki import TestCA, spki_sha256

pytestmark = pytest.mark.realserver

DNS4 = "127.53.6.5"
SMTP4 = "127.53.6.1"
SMTP4_CHAIN = "127.53.6.2"  # sends leaf + CA (for DANE-TA)
V6 = "::1"
SOA = "@ 300 IN SOA ns1.lab6.test. hostmaster.lab6.test. {serial} 3600 600 86400 300\n"
NS = "@ NS ns1.lab6.test.\n"
MX_NAMES = [f"mx.{d}.lab6.test" for d in ("ok", "ta", "mismatch", "bogusmx", "unvalidated")]


# The lab's name servers listen on an ephemeral port, not 53 (``ScanConfig.ns_port``).
Lab6Config = ScanConfig


@dataclass
class Lab6:
    ca_file: str
    # smtp "site" -> port: same (v4 and v6 alike), v4only (nothing on ::1), differs (::1 has
    # no STARTTLS); dns "site" -> port: same, v4only, differs (::1 serves serial 2).
    smtp: dict[str, int]
    dns: dict[str, int]

    def config(self, smtp: str = "same", dns_site: str = "same", **overrides) -> Lab6Config:
        values = dict(
            nameserver=f"{DNS4}:{self.dns[dns_site]}",
            ns_port=self.dns[dns_site],
            smtp_port=self.smtp[smtp],
            ca_file=self.ca_file,
            dns_timeout=3.0,
            connect_timeout=2.0,
            read_timeout=3.0,
        )
        values.update(overrides)
        return Lab6Config(**values)


def scan6(config: ScanConfig, *domains: str) -> dict[str, TargetResult]:
    async def run() -> dict[str, TargetResult]:
        ctx = ScanContext(config)
        results = {d: TargetResult(target=d, kind="domain") for d in domains}
        await asyncio.gather(*(scan_domain(ctx, d, results[d]) for d in domains))
        return results

    return asyncio.run(run())


def fired(result: TargetResult) -> set[str]:
    return {o.check for o in result.observations}


# ---------------------------------------------------------------------------- lab


def _common_port(binds: list[tuple[int, str, int]]) -> int:
    """A port free for every (family, host, socket type) given."""
    for _attempt in range(100):
        with socket.socket(binds[0][0], binds[0][2]) as first:
            first.bind((binds[0][1], 0))
            port = first.getsockname()[1]
            ok = True
            for family, host, kind in binds[1:]:
                with socket.socket(family, kind) as other:
                    try:
                        other.bind((host, port))
                    except OSError:
                        ok = False
                        break
        if ok:
            return port
    raise OSError("no common free port")


class _TcpDns6:
    """The authoritative server's answers over TCP on ::1 (the engine asks name servers
    over TCP), in its own thread and loop."""

    def __init__(self, zones: list[dns.zone.Zone], port: int) -> None:
        self.server = AuthoritativeServer(zones, host=V6, port=port)  # for handle()
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self.server._serve_tcp, V6, self.port)
        )
        self.ready.set()
        self.loop.run_forever()
        server.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _sign(origin: str, text: str, key=None):
    zone = zone_from_text(origin, text)
    private = key or ed25519.Ed25519PrivateKey.generate()
    dnskey = dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.ED25519, flags=257)
    dns.dnssec.sign_zone(zone, keys=[(private, dnskey)], lifetime=7 * 86400)
    return zone, dnskey


def build_lab6_zones(mx_spki: str, ca_sha256: str, serial: int = 1) -> list[dns.zone.Zone]:
    head = SOA.format(serial=serial) + NS
    mx = f"mx A {SMTP4}\nmx AAAA {V6}\n"
    ok, ok_key = _sign(
        "ok.lab6.test.", head + f"@ MX 10 mx.ok.lab6.test.\n{mx}_25._tcp.mx TLSA 3 1 1 {mx_spki}\n"
    )
    ta, ta_key = _sign(
        "ta.lab6.test.",
        head + f"@ MX 10 mx.ta.lab6.test.\nmx A {SMTP4_CHAIN}\n"
        f"_25._tcp.mx TLSA 2 0 1 {ca_sha256}\n",
    )
    wrong = "00" * 32
    mismatch, mismatch_key = _sign(
        "mismatch.lab6.test.",
        head + f"@ MX 10 mx.mismatch.lab6.test.\nmx A {SMTP4}\n"
        f"_25._tcp.mx TLSA 3 1 1 {wrong}\n"
        f"_25._tcp.mx TLSA 2 0 1 {ca_sha256}\n"  # this server does not send the CA
        f"_25._tcp.mx TLSA 1 1 1 {mx_spki}\n",  # PKIX-EE: not usable for SMTP
    )
    bogus, _bogus_key = _sign(
        "bogusmx.lab6.test.",
        head + f"@ MX 10 mx.bogusmx.lab6.test.\nmx A {SMTP4}\n_25._tcp.mx TLSA 3 1 1 {mx_spki}\n",
    )
    stray = dns.dnssec.make_dnskey(
        ed25519.Ed25519PrivateKey.generate().public_key(), dns.dnssec.Algorithm.ED25519, flags=257
    )
    ds = {
        "ok": dns.dnssec.make_ds("ok.lab6.test.", ok_key, "SHA256"),
        "ta": dns.dnssec.make_ds("ta.lab6.test.", ta_key, "SHA256"),
        "mismatch": dns.dnssec.make_ds("mismatch.lab6.test.", mismatch_key, "SHA256"),
        "bogusmx": dns.dnssec.make_ds("bogusmx.lab6.test.", stray, "SHA256"),
    }
    parent = (
        head
        + f"ns1 A {DNS4}\nns1 AAAA {V6}\n"
        + "".join(f"{name} DS {record.to_text()}\n" for name, record in ds.items())
        + f"unvalidated MX 10 mx.unvalidated.lab6.test.\nmx.unvalidated A {SMTP4}\n"
        + f"_25._tcp.mx.unvalidated TLSA 3 1 1 {mx_spki}\n"
    )
    return [zone_from_text("lab6.test.", parent), ok, ta, mismatch, bogus]


class _Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def _der_sha256(pem_file) -> str:
    cert = x509.load_pem_x509_certificate(open(pem_file, "rb").read())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@pytest.fixture(scope="session")
def lab6(tmp_path_factory):
    directory = tmp_path_factory.mktemp("lab6-pki")
    ca = TestCA(directory)
    issued = ca.issue("mx6", MX_NAMES)
    chain_file = directory / "mx6-chain.pem"
    chain_file.write_bytes(issued.cert_file.read_bytes() + ca.ca_file.read_bytes())
    mx_spki, ca_sha256 = spki_sha256(issued.cert_file), _der_sha256(ca.ca_file)
    zones = build_lab6_zones(mx_spki, ca_sha256)
    zones_serial2 = build_lab6_zones(mx_spki, ca_sha256, serial=2)

    def tls_context(chain: bool = False):
        context = issued.server_context()
        if chain:
            context.load_cert_chain(chain_file, issued.key_file)
        return context

    tcp, udp = socket.SOCK_STREAM, socket.SOCK_DGRAM
    v4, v6 = socket.AF_INET, socket.AF_INET6
    started: list = []
    smtp: dict[str, int] = {}
    for site in ("same", "v4only", "differs"):
        port = _common_port([(v4, SMTP4, tcp), (v4, SMTP4_CHAIN, tcp), (v6, V6, tcp)])
        smtp[site] = port
        controllers = [
            Controller(
                _Sink(),
                hostname=SMTP4,
                port=port,
                tls_context=tls_context(),
                server_hostname="mx6.lab6.test",
            ),
            Controller(
                _Sink(),
                hostname=SMTP4_CHAIN,
                port=port,
                tls_context=tls_context(chain=True),
                server_hostname="mx6.lab6.test",
            ),
        ]
        if site == "same":
            controllers.append(
                Controller(
                    _Sink(),
                    hostname=V6,
                    port=port,
                    tls_context=tls_context(),
                    server_hostname="mx6.lab6.test",
                )
            )
        elif site == "differs":
            controllers.append(
                Controller(_Sink(), hostname=V6, port=port, server_hostname="mx6.lab6.test")
            )
        for controller in controllers:
            controller.start()
            started.append(controller)
    dns_ports: dict[str, int] = {}
    servers: list = []
    for site in ("same", "v4only", "differs"):
        port = _common_port([(v4, DNS4, tcp), (v4, DNS4, udp), (v6, V6, tcp)])
        dns_ports[site] = port
        servers.append(AuthoritativeServer(zones, host=DNS4, port=port).start())
        if site == "same":
            servers.append(_TcpDns6(zones, port))
        elif site == "differs":
            servers.append(_TcpDns6(zones_serial2, port))

    yield Lab6(str(ca.ca_file), smtp, dns_ports)

    for server in servers:
        server.stop()
    for controller in started:
        controller.stop()


@pytest.fixture(scope="session")
def lab6_scanned(lab6) -> dict[str, TargetResult]:
    domains = [f"{d}.lab6.test" for d in ("ok", "ta", "mismatch", "bogusmx", "unvalidated")]
    return scan6(lab6.config(), *domains)


# ---------------------------------------------------------------------------- end to end

DANE_CHECKS = {
    "mail.mx.dnssec.missing",
    "mail.mx.dnssec.bogus",
    "mail.dane.missing",
    "mail.dane.unvalidated",
    "mail.dane.mismatch",
}


def _dane(result: TargetResult) -> dict:
    [info] = result.evidence["dns"]["mx_dane"]
    return info


def test_signed_mx_with_matching_dane_ee_is_clean(lab6_scanned):
    result = lab6_scanned["ok.lab6.test"]
    assert fired(result) & DANE_CHECKS == set()
    info = _dane(result)
    assert info["dnssec"] == "validated" and info["tlsa_validated"] is True
    assert info["match"] is True and info["tlsa"][0].startswith("3 1 1 ")


def test_dane_ta_matches_the_ca_the_server_sends(lab6_scanned):
    result = lab6_scanned["ta.lab6.test"]
    assert fired(result) & DANE_CHECKS == set()
    assert _dane(result)["match"] is True


def test_tlsa_matching_nothing_usable_is_a_mismatch(lab6_scanned):
    result = lab6_scanned["mismatch.lab6.test"]
    assert fired(result) & DANE_CHECKS == {"mail.dane.mismatch"}
    info = _dane(result)
    assert info["usable"] == 2  # the PKIX-EE record is not usable for SMTP
    assert info["match"] is False
    [observation] = [o for o in result.observations if o.check == "mail.dane.mismatch"]
    assert observation.evidence["hosts"] == ["mx.mismatch.lab6.test"]


def test_bogus_mx_zone_and_its_tlsa_unvalidated(lab6_scanned):
    result = lab6_scanned["bogusmx.lab6.test"]
    assert fired(result) & DANE_CHECKS == {"mail.mx.dnssec.bogus", "mail.dane.unvalidated"}
    info = _dane(result)
    assert info["dnssec"] == "bogus" and "match" not in info


def test_tlsa_in_an_unsigned_zone_is_unvalidated(lab6_scanned):
    result = lab6_scanned["unvalidated.lab6.test"]
    assert fired(result) & DANE_CHECKS == {"mail.mx.dnssec.missing", "mail.dane.unvalidated"}
    info = _dane(result)
    assert info["zone"] == "lab6.test" and info["dnssec"] == "unsigned"


def test_a_refused_mx_is_not_judged_on_dane(lab6):
    policy = ConnectPolicy(
        allow_loopback=True, foreign_networks=(ipaddress.ip_network(f"{SMTP4}/32"),)
    )
    result = scan6(lab6.config(policy=policy), "mismatch.lab6.test")["mismatch.lab6.test"]
    assert "mail.dane.mismatch" not in fired(result)
    assert _dane(result)["match"] is None
    assert any(r["address"] == SMTP4 for r in result.refused)


# ---------------------------------------------------------------------------- matching


def _cert_der(tmp_path) -> tuple[bytes, bytes]:
    ca = TestCA(tmp_path)
    issued = ca.issue("leaf", ["mx.example.test"])
    leaf = x509.load_pem_x509_certificate(issued.cert_file.read_bytes())
    return leaf.public_bytes(serialization.Encoding.DER), ca.cert.public_bytes(
        serialization.Encoding.DER
    )


def test_every_selector_and_matching_type(tmp_path):
    leaf, ca = _cert_der(tmp_path)
    spki = (
        x509.load_der_x509_certificate(leaf)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for selector, data in ((0, leaf), (1, spki)):
        for mtype, digest in (
            (0, data),
            (1, hashlib.sha256(data).digest()),
            (2, hashlib.sha512(data).digest()),
        ):
            assert tlsa_matches(Tlsa(3, selector, mtype, digest), [leaf, ca])
            assert not tlsa_matches(Tlsa(3, selector, mtype, digest[:-1] + b"\0"), [leaf, ca])
    # DANE-TA: an issuer in the chain, never the leaf itself.
    assert tlsa_matches(Tlsa(2, 0, 1, hashlib.sha256(ca).digest()), [leaf, ca])
    assert not tlsa_matches(Tlsa(2, 0, 1, hashlib.sha256(leaf).digest()), [leaf, ca])
    # PKIX usages and unknown parameters are not usable for SMTP (RFC 7672 3.1.3).
    assert not tlsa_matches(Tlsa(1, 0, 1, hashlib.sha256(leaf).digest()), [leaf])
    assert not tlsa_matches(Tlsa(3, 0, 3, leaf), [leaf])
    assert not tlsa_matches(Tlsa(3, 2, 0, leaf), [leaf])
    assert not tlsa_matches(Tlsa(3, 1, 1, b"x"), [])


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=80),
    st.lists(st.binary(max_size=300), max_size=4),
)
def test_garbage_certificates_never_raise(usage, selector, mtype, data, chain):
    assert tlsa_matches(Tlsa(usage, selector, mtype, data), chain) in (True, False)
