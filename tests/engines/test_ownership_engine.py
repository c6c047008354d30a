"""Property tests of the ownership proof parsers and the conflict relation (untrusted input:
TXT strings and web files come from whoever controls a name)."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from carbet.engines import ownership as engine

TOKEN = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFi"
labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
names = st.lists(labels, min_size=2, max_size=5).map(".".join)


@given(st.lists(st.text(max_size=300), max_size=8))
def test_txt_proof_needs_the_exact_value(records):
    proven = engine.txt_proves(records, TOKEN)
    assert proven == any(
        r.strip().strip('"').strip() == engine.expected_value(TOKEN) for r in records
    )


@given(st.lists(st.text(max_size=100), max_size=5))
def test_txt_proof_with_the_token_among_noise(noise):
    assert engine.txt_proves([*noise, f'"{engine.expected_value(TOKEN)}"'], TOKEN)
    assert not engine.txt_proves([*noise, engine.expected_value(TOKEN + "x")], TOKEN) or any(
        n.strip().strip('"').strip() == engine.expected_value(TOKEN) for n in noise
    )


@given(st.binary(max_size=8192))
def test_web_file_never_raises_and_needs_the_token_first(body):
    proven = engine.file_proves(body, TOKEN)
    if proven:
        text = body[: engine.MAX_FILE_BYTES].decode("utf-8")
        first = next(line.strip() for line in text.splitlines() if line.strip())
        assert first in (TOKEN, engine.expected_value(TOKEN))


@given(st.integers(min_value=0, max_value=5), st.text(max_size=50))
def test_web_file_with_token_on_the_first_line(blank_lines, rest):
    body = " \n" * blank_lines + TOKEN + "\r\n" + rest
    assert engine.file_proves(body.encode(), TOKEN)


def test_a_token_past_the_read_limit_proves_nothing():
    assert not engine.file_proves(b"\n" * engine.MAX_FILE_BYTES + TOKEN.encode(), TOKEN)


@given(names, names)
def test_name_overlap_is_symmetric_and_follows_the_zone(a, b):
    forward = engine.overlaps("domain", a, "hostname", b)
    assert forward == engine.overlaps("hostname", b, "domain", a)
    assert engine.overlaps("domain", a, "mail_domain", a)
    assert engine.overlaps("domain", a, "hostname", "x." + a)
    if engine.overlaps("domain", a, "domain", b):
        assert a == b or a.endswith("." + b) or b.endswith("." + a)


# 11.0.0.0–99.255.255.255: public unicast space with no special-purpose block inside.
public_v4 = st.integers(
    min_value=int(ipaddress.IPv4Address("11.0.0.0")),
    max_value=int(ipaddress.IPv4Address("99.255.255.255")),
).map(ipaddress.IPv4Address)


@given(public_v4, st.integers(min_value=24, max_value=32), public_v4)
def test_public_address_overlap_matches_ipaddress(network_base, prefix, other):
    network = ipaddress.ip_network(f"{network_base}/{prefix}", strict=False)
    if not network.network_address.is_global:
        return
    expected = other in network
    assert engine.overlaps("cidr", str(network), "ipv4", str(other)) == expected
    assert engine.overlaps("ipv4", str(other), "cidr", str(network)) == expected


@given(st.integers(min_value=0, max_value=2**24 - 1))
def test_private_addresses_never_collide(offset):
    address = str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("10.0.0.0")) + offset))
    assert not engine.overlaps("ipv4", address, "cidr", "10.0.0.0/8")
    assert engine.is_internal("ipv4", address)


@given(st.sampled_from(["ipv4", "ipv6", "cidr", "application"]), st.text(max_size=60))
def test_garbage_values_never_raise(kind, value):
    engine.overlaps(kind, value, "cidr", "8.8.8.0/24")
    engine.is_internal(kind, value)
