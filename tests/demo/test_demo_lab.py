"""The demo lab: its DNS server answers the demo zones (and refuses the rest), and the real
exposure engine, pointed at it, finds the weaknesses the demo's findings tell about."""

from __future__ import annotations

import dns.message
import dns.query
import dns.rcode
import pytest

from carbet.demo.lab import hosts
from carbet.demo.lab.runner import Lab
from carbet.engines.exposure import runner
from carbet.engines.exposure.core import ScanConfig


@pytest.fixture(scope="module")
def lab():
    with Lab().running() as running:
        yield running


def _ask(name: str, rdtype: str) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return dns.query.udp(query, hosts.DNS_ADDRESS, port=hosts.DNS_PORT, timeout=3)


def test_dns_serves_the_demo_zones_only(lab):
    answer = _ask("webmail.ch-anse-bleue.test", "A")
    assert answer.rcode() == dns.rcode.NOERROR
    assert answer.answer[0][0].address == "127.97.2.3"
    assert _ask("vpn.ch-fleuve.example", "A").answer[0][0].address == "127.97.4.6"
    # Anything else is refused: the lab forwards nothing to another resolver.
    assert _ask("example.com", "A").rcode() == dns.rcode.REFUSED
    every = [address for address, _port, _what in lab.listening]
    assert all(hosts.in_lab(address) for address in every)


def test_a_real_scan_finds_the_demo_weaknesses(lab):
    plan = {item.key: item for item in hosts.plan()}
    anse_bleue, corossol = plan["ch-anse-bleue"], plan["ehpad-corossol"]
    targets = [anse_bleue.dicom, corossol.rdp, f"webmail.{corossol.zone}", corossol.zone]
    config = ScanConfig(
        nameserver=lab.nameserver, connect_timeout=1.0, read_timeout=2.0, target_timeout=60
    )
    results = {r.target: r for r in runner.scan(targets, config)}
    checks = {t: {o.check for o in r.observations} for t, r in results.items()}
    assert "medical.dicom.exposed" in checks[anse_bleue.dicom]
    assert "port.rdp" in checks[corossol.rdp]
    assert "tls.protocol.tls10" in checks[f"webmail.{corossol.zone}"]
    assert "mail.spf.permissive" in checks[corossol.zone] or any(
        c.startswith("mail.spf") for c in checks[corossol.zone]
    )
