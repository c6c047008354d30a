"""The connect-time policy against random addresses (hypothesis) and a reference of our own.

The reference is written independently of ``netpolicy``, straight from ``ipaddress``: an
address may be contacted when the IPv4 address it stands for (itself, or the one an IPv6
transition form carries: mapped, NAT64, 6to4) is a global unicast address — or loopback when
the lab setting allows it — outside the centre's ranges and other structures' declarations.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.netpolicy import ConnectPolicy, parse_networks

NAT64 = ipaddress.ip_network("64:ff9b::/96")
SPECIAL = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
    "::/128", "::1/128", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "2001:db8::/32",
    "2001::/23", "100::/64",
]  # fmt: skip


def _inside(network: str):
    net = ipaddress.ip_network(network)
    return st.integers(0, net.num_addresses - 1).map(lambda n: net.network_address + n)


ipv4 = st.one_of(st.ip_addresses(v=4), st.sampled_from(SPECIAL[:15]).flatmap(_inside))
ipv6 = st.one_of(st.ip_addresses(v=6), st.sampled_from(SPECIAL[15:]).flatmap(_inside))


@st.composite
def transition_forms(draw) -> ipaddress.IPv6Address:
    """An IPv4 address dressed as IPv6: mapped, NAT64 (well-known prefix) or 6to4."""
    inner = int(draw(ipv4))
    form = draw(st.sampled_from(["mapped", "nat64", "6to4"]))
    if form == "mapped":
        return ipaddress.IPv6Address((0xFFFF << 32) | inner)
    if form == "nat64":
        return ipaddress.IPv6Address(int(NAT64.network_address) | inner)
    suffix = draw(st.integers(0, (1 << 80) - 1))
    return ipaddress.IPv6Address((0x2002 << 112) | (inner << 80) | suffix)


any_address = st.one_of(ipv4, ipv6, transition_forms())


def _stands_for(address):
    """The address a connection really reaches, as the reference sees it."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def reference(address, allow_loopback: bool, forbidden: list) -> bool:
    """May a platform scan connect to ``address``? Our own reading of the rules."""
    real = _stands_for(address)
    if any(candidate in net for net in forbidden for candidate in {address, real}
           if candidate.version == net.version):  # fmt: skip
        return False
    if real.is_loopback:
        return allow_loopback
    return (
        real.is_global
        and not real.is_multicast
        and not real.is_reserved
        and not real.is_unspecified
        and not getattr(real, "is_site_local", False)
    )


networks = st.lists(
    st.one_of(
        st.ip_addresses(v=4).flatmap(
            lambda a: st.integers(8, 32).map(lambda p: ipaddress.ip_network(f"{a}/{p}", False))
        ),
        st.ip_addresses(v=6).flatmap(
            lambda a: st.integers(32, 128).map(lambda p: ipaddress.ip_network(f"{a}/{p}", False))
        ),
    ),
    max_size=3,
)


@settings(max_examples=600, deadline=None)
@given(any_address, st.booleans(), networks, networks, st.sampled_from(["", "self", "real"]),
       st.integers(0, 32))  # fmt: skip
def test_the_policy_agrees_with_the_reference(
    address, allow_loopback, centre, foreign, around, prefix
):
    if around:  # a declared network around the address itself (or the IPv4 it carries)
        inner = address if around == "self" else _stands_for(address)
        width = prefix if inner.version == 4 else prefix * 4
        foreign = [*foreign, ipaddress.ip_network(f"{inner}/{width}", strict=False)]
    policy = ConnectPolicy(
        allow_loopback=allow_loopback,
        centre_networks=tuple(centre),
        foreign_networks=tuple(foreign),
    )
    expected = reference(address, allow_loopback, [*centre, *foreign])
    assert (policy.check(str(address)) is None) == expected, address


@settings(max_examples=600, deadline=None)
@given(any_address, st.booleans())
def test_never_a_non_global_address_unless_it_is_an_allowed_loopback(address, allow_loopback):
    policy = ConnectPolicy(allow_loopback=allow_loopback)
    if policy.check(str(address)) is not None:
        return
    real = _stands_for(address)
    assert real.is_global or (allow_loopback and real.is_loopback), address
    assert not real.is_private or real.is_loopback, address


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses(v=4))
def test_every_form_of_one_address_gets_the_same_answer(address):
    policy = ConnectPolicy(centre_networks=parse_networks(["198.51.0.0/16"]))
    forms = [
        str(address),
        f"::ffff:{address}",
        str(ipaddress.IPv6Address(int(NAT64.network_address) | int(address))),
        str(ipaddress.IPv6Address((0x2002 << 112) | (int(address) << 80) | 1)),
    ]
    answers = {form: policy.address_refusal(form) for form in forms}
    assert len(set(answers.values())) == 1, answers


@given(st.text(max_size=60))
def test_anything_that_is_not_an_address_is_refused(text):
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        assert ConnectPolicy().address_refusal(text) == "invalid"


def test_the_analysts_open_policy_lets_everything_through():
    policy = ConnectPolicy.open()
    for address in ("127.0.0.1", "10.0.0.1", "::1", "fe80::1", "not-an-address"):
        assert policy.check(address) is None


def test_a_name_declared_by_another_structure_is_refused_whatever_its_spelling():
    policy = ConnectPolicy(foreign_names=frozenset({"mx.other.fr"}))
    for spelling in ("mx.other.fr", "MX.Other.FR.", " mx.other.fr "):
        refusal = policy.check("8.8.8.8", port=25, via="mx", name=spelling)
        assert refusal is not None and refusal.reason == "name_other_structure"
    assert policy.check("8.8.8.8", via="mx", name="mx.mine.fr") is None
    # The target itself is judged by the mandate gate (ownership), not by name here.
    assert policy.check("8.8.8.8", via="target", name="mx.other.fr") is None


def test_a_directory_audit_reaches_only_the_allowed_addresses():
    policy = ConnectPolicy(allowed_networks=parse_networks(["8.8.8.0/24"]))
    assert policy.check("8.8.8.8") is None
    assert policy.check("8.8.4.4").reason == "outside_scope"
