"""Identifier checks (FINESS, domains, IP addresses, networks): properties and examples."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from carbet.engines.identifiers import (
    AddressPolicy,
    IdentifierError,
    luhn_valid,
    normalize_cidr,
    normalize_departement,
    normalize_domain,
    normalize_finess,
    normalize_ip,
)

STRICT = AddressPolicy(allow_loopback=False, max_addresses=1024)
LAB = AddressPolicy(allow_loopback=True, max_addresses=1024)


def luhn_digit(eight: str) -> str:
    for digit in "0123456789":
        if luhn_valid(eight + digit):
            return digit
    raise AssertionError("a Luhn digit always exists")


eight_digits = st.text(alphabet="0123456789", min_size=8, max_size=8)


# --- FINESS ----------------------------------------------------------------------------------


@given(eight_digits)
def test_any_eight_digits_with_their_luhn_digit_are_accepted(eight):
    number = eight + luhn_digit(eight)
    assert normalize_finess(number) == number
    assert normalize_finess(f" {number[:3]} {number[3:6]} {number[6:]} ") == number


@given(eight_digits, st.integers(min_value=0, max_value=8), st.integers(1, 9))
def test_any_single_digit_change_is_refused(eight, position, delta):
    number = eight + luhn_digit(eight)
    changed = str((int(number[position]) + delta) % 10)
    altered = number[:position] + changed + number[position + 1 :]
    with pytest.raises(IdentifierError):
        normalize_finess(altered)


@given(st.text(max_size=30))
def test_random_text_only_ever_raises_identifier_error(text):
    for check in (normalize_finess, normalize_domain, normalize_departement):
        try:
            check(text)
        except IdentifierError:
            pass
    for internet in (True, False):
        for policy in (STRICT, LAB):
            for check in (normalize_ip, normalize_cidr):
                try:
                    check(text, internet=internet, policy=policy)
                except IdentifierError:
                    pass


@pytest.mark.parametrize("number", ["750712184", "750100125"])
def test_known_public_finess_numbers(number):
    assert normalize_finess(number) == number


@pytest.mark.parametrize("number", ["2A0000012", "2b0012345", "2A 000 001 2"])
def test_corsica_numbers_are_accepted_on_shape(number):
    assert normalize_finess(number) == number.upper().replace(" ", "")


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("750712185", "clé de contrôle"),
        ("75071218", "9 caractères"),
        ("2C0000012", "forme attendue"),
        ("ABCDEFGHI", "forme attendue"),
    ],
)
def test_bad_finess_numbers_say_why(number, message):
    with pytest.raises(IdentifierError, match=message):
        normalize_finess(number)


def test_non_text_finess_is_refused():
    with pytest.raises(IdentifierError):
        normalize_finess(750712184)  # type: ignore[arg-type]


# --- Domains ---------------------------------------------------------------------------------

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-éèàôç", min_size=1, max_size=20)


@given(st.lists(label, min_size=2, max_size=4).map(".".join))
def test_normalize_domain_is_idempotent_and_ascii(text):
    try:
        once = normalize_domain(text)
    except IdentifierError:
        return
    assert once.isascii()
    assert once == once.lower()
    assert normalize_domain(once) == once


@given(st.text(max_size=60))
def test_normalize_domain_output_is_always_ascii(text):
    try:
        result = normalize_domain(text)
    except IdentifierError:
        return
    assert result.isascii() and normalize_domain(result) == result


def test_idna_example():
    assert normalize_domain("hôpital.fr") == "xn--hpital-ixa.fr"
    assert normalize_domain("HÔPITAL.fr.") == "xn--hpital-ixa.fr"


@pytest.mark.parametrize("bad", ["localhost", "a..fr", "-a.fr", "a b.fr", "http://a.fr", "a.123"])
def test_bad_domains_are_refused(bad):
    with pytest.raises(IdentifierError):
        normalize_domain(bad)


# --- IP addresses and networks ---------------------------------------------------------------

private_v4 = st.sampled_from(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"])


@given(
    private_v4.flatmap(
        lambda net: st.integers(0, ipaddress.ip_network(net).num_addresses - 1).map(
            lambda i, net=net: str(ipaddress.ip_network(net)[i])
        )
    )
)
def test_private_addresses_are_refused_for_internet_assets(address):
    with pytest.raises(IdentifierError, match="privée"):
        normalize_ip(address, internet=True, policy=LAB)
    assert normalize_ip(address, internet=False, policy=STRICT) == address


@given(st.integers(0, 2**24 - 1))
def test_loopback_only_with_the_lab_policy(offset):
    address = str(ipaddress.IPv4Address("127.0.0.0") + offset)
    with pytest.raises(IdentifierError, match="bouclage"):
        normalize_ip(address, internet=True, policy=STRICT)
    assert normalize_ip(address, internet=True, policy=LAB) == address


@pytest.mark.parametrize(
    "address", ["0.0.0.0", "240.0.0.1", "198.18.0.1", "100.64.0.1", "::", "2001:db8::1"]
)
def test_reserved_addresses_are_refused_for_internet_assets(address):
    with pytest.raises(IdentifierError):
        normalize_ip(address, internet=True, policy=LAB)


def test_ipv6_loopback_follows_the_lab_policy():
    with pytest.raises(IdentifierError):
        normalize_ip("::1", internet=True, policy=STRICT)
    assert normalize_ip("::1", internet=True, policy=LAB) == "::1"


@given(st.ip_addresses())
def test_normalised_addresses_round_trip(address):
    try:
        normalized = normalize_ip(f"  {address.exploded}  ", internet=True, policy=LAB)
    except IdentifierError:
        assume(False)
        return
    assert ipaddress.ip_address(normalized) == address
    assert normalize_ip(normalized, internet=True, policy=LAB) == normalized


@given(st.ip_addresses(v=4), st.integers(min_value=0, max_value=32))
def test_cidr_size_limit_and_round_trip(address, prefix):
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    text = str(network)
    if network.num_addresses > STRICT.max_addresses:
        with pytest.raises(IdentifierError, match="au plus"):
            normalize_cidr(text, internet=False, policy=STRICT)
        return
    normalized = normalize_cidr(text, internet=False, policy=STRICT)
    assert ipaddress.ip_network(normalized) == network
    assert normalize_cidr(normalized, internet=False, policy=STRICT) == normalized


def test_cidr_with_host_bits_says_how_to_fix():
    with pytest.raises(IdentifierError, match="début du réseau"):
        normalize_cidr("192.0.2.5/24", internet=False, policy=STRICT)


def test_oversize_ipv6_network_is_refused():
    with pytest.raises(IdentifierError, match="au plus"):
        normalize_cidr("2a01:cb00::/64", internet=True, policy=STRICT)
    assert normalize_cidr("2a01:cb00::/118", internet=True, policy=STRICT) == "2a01:cb00::/118"


def test_private_network_refused_for_internet():
    with pytest.raises(IdentifierError, match="privée"):
        normalize_cidr("192.168.1.0/24", internet=True, policy=STRICT)


@pytest.mark.parametrize(("code", "expected"), [("75", "75"), ("2a", "2A"), ("972", "972")])
def test_departements(code, expected):
    assert normalize_departement(code) == expected


@pytest.mark.parametrize("code", ["00", "96", "977", "", "7", "2C"])
def test_unknown_departements(code):
    with pytest.raises(IdentifierError):
        normalize_departement(code)
