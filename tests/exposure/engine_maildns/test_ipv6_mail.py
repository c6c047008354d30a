"""IPv6 parity of MX and NS hosts, against real servers on 127.53.6.x and ::1.

The lab is test_dane_dnssec_mx.py's: mx.ok.lab6.test and ns1.lab6.test announce an A and an
AAAA (::1). Three SMTP "sites" (ports) and three DNS "sites" differ only by what listens on
::1: the same server (same certificate, same zone serial), nothing, or a different one (no
STARTTLS; zone serial 2).
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.mail.ipv6 import read_soa_serial, soa_query
from carbet.engines.netpolicy import ConnectPolicy

from .test_dane_dnssec_mx import (
    V6,
    fired,
    lab6,  # noqa: F401  (the session fixture, shared)
    scan6,
)

pytestmark = pytest.mark.realserver


@pytest.fixture
def lab(request):
    return request.getfixturevalue("lab6")


OK = "ok.lab6.test"
IPV6_CHECKS = {
    "mail.mx.ipv6_unreachable",
    "mail.mx.ipv6_differs",
    "dns.ns.ipv6_unreachable",
    "dns.ns.ipv6_differs",
}


def _scan(lab_, smtp: str, dns_site: str, **overrides):
    return scan6(lab_.config(smtp, dns_site, **overrides), OK)[OK]


def test_same_answers_over_both_families(lab):
    result = _scan(lab, "same", "same")
    assert fired(result) & IPV6_CHECKS == set()
    [pair] = result.evidence["dns"]["ipv6"]["mx"]
    assert pair["v4"]["reachable"] and pair["v6"]["reachable"]
    assert pair["v6"]["address"] == V6
    assert pair["v4"]["cert_sha256"] == pair["v6"]["cert_sha256"] != ""
    assert pair["v4"]["starttls"] is pair["v6"]["starttls"] is True
    ns = result.evidence["dns"]["ipv6"]["ns"]
    assert ns["zone"] == OK
    [host] = ns["hosts"]
    assert host["host"] == "ns1.lab6.test"
    assert [r["serial"] for r in host["v4"]] == [1] and [r["serial"] for r in host["v6"]] == [1]


def test_announced_but_unreachable_over_ipv6(lab):
    result = _scan(lab, "v4only", "v4only")
    assert fired(result) & IPV6_CHECKS == {"mail.mx.ipv6_unreachable", "dns.ns.ipv6_unreachable"}
    assert "mail.mx.unreachable" not in fired(result)  # it answers over IPv4
    [observation] = [o for o in result.observations if o.check == "mail.mx.ipv6_unreachable"]
    assert observation.evidence["hosts"] == ["mx.ok.lab6.test"]


def test_different_answers_over_ipv6(lab):
    result = _scan(lab, "differs", "differs")
    assert fired(result) & IPV6_CHECKS == {"mail.mx.ipv6_differs", "dns.ns.ipv6_differs"}
    [pair] = result.evidence["dns"]["ipv6"]["mx"]
    assert "starttls" in pair["differs"] and pair["v6"]["starttls"] is False
    [observation] = [o for o in result.observations if o.check == "dns.ns.ipv6_differs"]
    assert "v4 [1], v6 [2]" in observation.detail


def test_a_refused_ipv6_address_is_never_contacted_nor_judged(lab):
    policy = ConnectPolicy(
        allow_loopback=True, foreign_networks=(ipaddress.ip_network(f"{V6}/128"),)
    )
    result = _scan(lab, "v4only", "v4only", policy=policy)
    assert fired(result) & IPV6_CHECKS == set()
    assert {r["address"] for r in result.refused} == {V6}
    assert {r["via"] for r in result.refused} >= {"mx", "ns"}
    assert result.complete is False


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_soa_reader_never_raises_on_garbage(data):
    assert read_soa_serial(data, "ok.lab6.test") is None or isinstance(
        read_soa_serial(data, "ok.lab6.test"), int
    )


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=40), st.integers(0, 4))
def test_soa_reader_on_a_corrupted_real_question(noise, where):
    wire = bytearray(soa_query("ok.lab6.test")[2:])
    position = min(where * 7, len(wire))
    corrupted = bytes(wire[:position]) + noise + bytes(wire[position:])
    # A question carries no answer: never a serial, never an exception.
    assert read_soa_serial(corrupted, "ok.lab6.test") is None


def test_an_exhausted_budget_concludes_nothing(lab):
    # One connection per host: the IPv4 side is asked, the IPv6 side never is. "Not asked"
    # must not read as "unreachable over IPv6".
    result = _scan(lab, "v4only", "v4only", per_target_budget=1)
    assert fired(result) & IPV6_CHECKS == set()
    assert "mail.dane.mismatch" not in fired(result)
    [pair] = result.evidence["dns"]["ipv6"]["mx"]
    assert pair == {"host": "mx.ok.lab6.test", "budget": True}
    [host] = result.evidence["dns"]["ipv6"]["ns"]["hosts"]
    assert host["budget"] is True
