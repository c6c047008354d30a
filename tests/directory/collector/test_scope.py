"""The collector connects only where its policy allows: the exact address, checked at connect
time, after resolving the name once; the certificate is still checked against the typed name.

Every refusal is proven with a counting listener on loopback: zero connections, so no bind
request and no password ever left.
"""

from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.directory import collector, collector_connect, gpp
from carbet.engines.netpolicy import ConnectPolicy, ScopeRefused, parse_networks
from tests.directory.samba import HOSTNAME, REALM
from tests.directory.scope_lab import CountingListener

PASSWORD = "Mot-de-passe-du-lecteur-42"
DC_NAME = f"{HOSTNAME}.{REALM.lower()}"


def scope(*allowed: str, loopback: bool = True) -> ConnectPolicy:
    """The platform's directory policy: only ``allowed`` (the structure's proven addresses)."""
    return ConnectPolicy(allow_loopback=loopback, allowed_networks=parse_networks(allowed))


def _collect(server: str, port: int, policy: ConnectPolicy, **options):
    return collector.collect(
        server, port, "lecteur@carbet.test", PASSWORD, insecure=True, sysvol=False,
        policy=policy, **options,
    )  # fmt: skip


def test_an_address_outside_the_proven_scope_is_never_contacted(listener):
    with pytest.raises(collector.ServerRefused, match="hors du périmètre prouvé") as refused:
        _collect("127.0.0.1", listener.port, scope("127.0.0.2"))
    assert listener.accepted == 0 and PASSWORD.encode() not in listener.received
    assert "mot de passe n'a pas été envoyé" in str(refused.value)
    assert [r.reason for r in refused.value.refusals] == ["outside_scope"]


def test_loopback_is_refused_without_the_lab_setting_even_when_listed(listener):
    with pytest.raises(collector.ServerRefused) as refused:
        _collect("127.0.0.1", listener.port, scope("127.0.0.1", loopback=False))
    assert listener.accepted == 0
    assert refused.value.refusals[0].reason == "loopback"


def test_a_name_resolving_outside_the_scope_is_never_contacted(listener, dns_lab):
    dns_lab.answer({HOSTNAME: ["127.0.0.1"]})
    with pytest.raises(collector.ServerRefused) as refused:
        _collect(DC_NAME, listener.port, scope("127.0.0.2"), nameserver=dns_lab.nameserver)
    assert listener.accepted == 0
    assert refused.value.resolved == ["127.0.0.1"]
    assert refused.value.refusals[0].name == DC_NAME


def test_a_name_that_does_not_resolve_contacts_nothing(listener, dns_lab):
    with pytest.raises(collector.ServerRefused, match="ne se résout pas"):
        _collect(
            f"absent.{REALM.lower()}", listener.port, scope("127.0.0.1"),
            nameserver=dns_lab.nameserver,
        )  # fmt: skip
    assert listener.accepted == 0


def test_the_socket_peer_must_be_the_checked_address():
    policy = scope("127.0.0.2")
    assert collector_connect.peer_refusal(policy, "127.0.0.2", "127.0.0.2", 636) is None
    moved = collector_connect.peer_refusal(policy, "127.0.0.1", "127.0.0.2", 636)
    assert moved is not None and moved.reason == "outside_scope"
    # Same address, written differently (IPv4-mapped IPv6): still the one that was checked.
    assert collector_connect.peer_refusal(policy, "::ffff:127.0.0.2", "127.0.0.2", 1) is None


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def test_smb_to_sysvol_goes_through_the_same_check():
    """smbclient only ever talks to 445: a listener there counts what would have reached it."""
    if not _bindable("127.0.0.1", gpp.SMB_PORT):
        pytest.skip("port 445 of 127.0.0.1 is busy (or not bindable without root)")
    smb = CountingListener("127.0.0.1", gpp.SMB_PORT)
    try:
        with pytest.raises(ScopeRefused) as refused:
            gpp.scan_sysvol(
                DC_NAME, "lecteur@carbet.test", PASSWORD, REALM.lower(),
                policy=scope("127.0.0.2"), address="127.0.0.1",
            )  # fmt: skip
        # A name without a checked address is refused too: smbclient never resolves one.
        with pytest.raises(ScopeRefused):
            gpp.scan_sysvol(
                DC_NAME, "lecteur@carbet.test", PASSWORD, REALM.lower(), policy=scope("127.0.0.1")
            )
    finally:
        smb.close()
    assert smb.accepted == 0
    assert refused.value.refusal.via == "smb"


@pytest.mark.realserver
def test_only_the_allowed_address_of_a_name_is_contacted(samba_dc, listener, dns_lab):
    """The name also points at an address outside the scope: the DC alone is contacted."""
    dns_lab.answer({HOSTNAME: ["127.0.0.1", samba_dc.host]})
    snap = collector.collect(
        DC_NAME, samba_dc.ldaps_port, samba_dc.reader_user, samba_dc.reader_password,
        ca_file=samba_dc.ca_file, sysvol=False, policy=scope(samba_dc.host),
        nameserver=dns_lab.nameserver,
    )  # fmt: skip
    assert snap.domain.dns_name == samba_dc.dns_domain
    assert listener.accepted == 0


@pytest.mark.realserver
def test_the_certificate_is_checked_against_the_typed_name_not_the_address(samba_dc, dns_lab):
    """ldap3 is given the IP literal, which the DC's certificate names (IP SAN): the check
    must still be on the name that was typed, which this certificate does not carry."""
    dns_lab.answer({"intrus": [samba_dc.host]})
    with pytest.raises(collector.CollectError, match="ne porte pas le nom"):
        collector.collect(
            f"intrus.{REALM.lower()}", samba_dc.ldaps_port, samba_dc.reader_user,
            samba_dc.reader_password, ca_file=samba_dc.ca_file, sysvol=False,
            policy=scope(samba_dc.host), nameserver=dns_lab.nameserver,
        )  # fmt: skip


_ADDRESSES = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.sampled_from(["127.0.0.1", "127.0.0.2", "10.0.0.5", "::ffff:127.0.0.2", "64:ff9b::a00:5"]),
)


@given(
    target=_ADDRESSES,
    allowed=st.lists(st.sampled_from(["127.0.0.2", "10.0.0.0/8", "2001:db8::/32"]), max_size=3),
    loopback=st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_an_address_is_chosen_only_when_the_policy_allows_it(target, allowed, loopback):
    """Whatever the server typed (any IPv4/IPv6 literal, transition forms included), the
    collector's choice is the policy's answer: never an address the policy refuses."""
    policy = scope(*allowed, loopback=loopback)
    choice = collector_connect.choose(target, 636, policy)
    allowed_now = policy.check(target, port=636) is None
    assert (choice.address is not None) == allowed_now
    assert choice.address is None or policy.address_refusal(choice.address) is None
    assert len(choice.refusals) == (0 if allowed_now else 1)
