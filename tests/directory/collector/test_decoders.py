"""Decoders of what the directory sends: explicit attribute lists, SIDs, security descriptors,
DNS zone properties, LDAP values — hostile input raises a known error, never anything else."""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.directory import collector, collector_decode, collector_extra, secdesc


def test_every_attribute_list_is_explicit():
    lists = collector.ATTRIBUTE_LISTS
    assert {"user", "computer", "group", "domain", "descriptor", "dns_zone"} <= set(lists)
    for name, attributes in lists.items():
        assert attributes, name
        for attribute in attributes:
            assert attribute not in {"*", "+", "1.1"}, name
            assert attribute.replace("-", "").isalnum(), (name, attribute)
    assert "nTSecurityDescriptor" in collector_extra.TEMPLATE_ATTRIBUTES


def test_the_search_helper_refuses_wildcards():
    session = collector.Session(connection=None, page_size=10, progress=lambda s, c: None)
    for attributes in (("*",), ("cn", "+"), ()):
        with pytest.raises(ValueError, match="explicit"):
            next(session.search("DC=x", "(objectClass=*)", attributes))


@given(st.integers(0, 2**48 - 1), st.lists(st.integers(0, 2**32 - 1), max_size=15))
def test_sid_round_trip(authority, subs):
    text = "S-1-" + "-".join([str(authority), *map(str, subs)])
    assert secdesc.sid_to_str(secdesc.sid_to_bytes(text)) == text


@given(st.binary(max_size=80))
def test_sid_decoder_never_crashes(data):
    try:
        assert secdesc.sid_to_str(data).startswith("S-1-")
    except secdesc.FormatError:
        pass


def build_descriptor(aces: list[bytes], owner: str = "S-1-5-32-544") -> bytes:
    owner_bytes = secdesc.sid_to_bytes(owner)
    acl_body = b"".join(aces)
    acl = struct.pack("<BBHHH", 4, 0, 8 + len(acl_body), len(aces), 0) + acl_body
    header_size = 20
    return (
        struct.pack("<BBHIIII", 1, 0, 0x8004, header_size, 0, 0, header_size + len(owner_bytes))
        + owner_bytes
        + acl
    )


def ace(kind: int, flags: int, mask: int, sid: str, object_type: str | None = None) -> bytes:
    body = struct.pack("<I", mask)
    if kind in (5, 6):
        body += struct.pack("<I", 1 if object_type else 0)
        if object_type:
            body += uuid.UUID(object_type).bytes_le
    body += secdesc.sid_to_bytes(sid)
    return struct.pack("<BBH", kind, flags, 4 + len(body)) + body


def test_descriptor_parsing():
    right = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
    data = build_descriptor(
        [
            ace(0, 0, 0xF01FF, "S-1-5-18"),
            ace(5, 0x10, 0x100, "S-1-5-21-1-2-3-1104", right),
            ace(1, 0, 0x20, "S-1-1-0"),
            ace(0, 0x08, 0x10000000, "S-1-5-11"),  # inherit-only: not a right on the object
            ace(0x11, 0, 0, "S-1-16-8192"),  # mandatory label: skipped
        ]
    )
    parsed = secdesc.parse_descriptor(data)
    assert parsed.owner == "S-1-5-32-544"
    assert [(a.kind, a.trustee, a.object_type, a.inherited) for a in parsed.dacl] == [
        ("allow", "S-1-5-18", "", False),
        ("allow_object", "S-1-5-21-1-2-3-1104", right, True),
        ("deny", "S-1-1-0", "", False),
    ]


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_descriptor_parser_survives_garbage(data):
    try:
        secdesc.parse_descriptor(data)
    except secdesc.FormatError:
        pass


@settings(max_examples=300)
@given(st.data())
def test_descriptor_parser_survives_corrupted_real_descriptors(data):
    good = bytearray(build_descriptor([ace(5, 0, 0x100, "S-1-5-9", str(uuid.uuid4()))] * 3))
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(good) - 1))
        good[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(good)))
    try:
        secdesc.parse_descriptor(bytes(good[:cut]))
    except secdesc.FormatError:
        pass


def test_zone_dynamic_update():
    def prop(prop_id: int, value: int) -> bytes:
        return struct.pack("<IIIII", 1, 0, 0, 1, prop_id) + bytes([value, 0])

    assert secdesc.zone_dynamic_update([prop(1, 0), prop(2, 2)]) == "secure"
    assert secdesc.zone_dynamic_update([prop(2, 1)]) == "nonsecure_and_secure"
    assert secdesc.zone_dynamic_update([prop(2, 0)]) == "none"
    assert secdesc.zone_dynamic_update([b"\x00" * 3, prop(2, 9)]) == ""
    assert secdesc.zone_dynamic_update([]) == ""


@given(st.lists(st.binary(max_size=40), max_size=4))
def test_zone_properties_survive_garbage(values):
    assert secdesc.zone_dynamic_update(values) in {"", "none", "secure", "nonsecure_and_secure"}


def test_ldap_value_normalisation():
    raw = {
        "pwdlastset": [b"116444736000000000"],
        "lastlogontimestamp": [b"0"],
        "accountexpires": [b"9223372036854775807"],
        "whencreated": [b"20261129084255.0Z"],
        "maxpwdage": [b"-36288000000000"],
        "lockoutduration": [b"-9223372036854775808"],
    }
    assert collector_decode.filetime(raw, "pwdlastset") == datetime(1970, 1, 1, tzinfo=UTC)
    assert collector_decode.filetime(raw, "lastlogontimestamp") is None
    assert collector_decode.filetime(raw, "accountexpires") is None
    assert collector_decode.generalized_time(raw, "whencreated") == datetime(
        2026, 11, 29, 8, 42, 55, tzinfo=UTC
    )
    assert collector_decode.interval_days(raw, "maxpwdage") == 42
    assert collector_decode.interval_minutes(raw, "lockoutduration") is None


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.sampled_from(
            ["objectsid", "useraccountcontrol", "pwdlastset", "whencreated", "sidhistory",
             "samaccountname", "primarygroupid", "serviceprincipalname"]
        ),
        st.lists(st.binary(max_size=30), min_size=1, max_size=3),
    )
)  # fmt: skip
def test_account_decoder_raises_only_decode_errors(raw):
    try:
        collector_decode.account("CN=x", raw, is_computer=False, laps_attributes=())
    except collector_decode.DecodeError:
        pass


def test_server_strings():
    assert collector.split_server("dc1.chu.local", None) == ("dc1.chu.local", None)
    assert collector.split_server("dc1:3269", None) == ("dc1", 3269)
    assert collector.split_server("[::1]:636", None) == ("::1", 636)
    for bad in ("dc1:x", ":636", "dc1:70000", "[::1"):
        with pytest.raises(collector.CollectError):
            collector.split_server(bad, None)


def test_certificate_names():
    cert = {"subjectAltName": (("DNS", "*.chu.local"), ("IP Address", "10.0.0.5"))}
    collector.check_peer_name(cert, "dc1.chu.local")
    collector.check_peer_name(cert, "10.0.0.5")
    for host in ("chu.local", "a.b.chu.local", "10.0.0.6", "evil.local"):
        with pytest.raises(collector.CollectError, match="TLS"):
            collector.check_peer_name(cert, host)
    legacy = {"subject": ((("commonName", "dc1.chu.local"),),)}
    collector.check_peer_name(legacy, "dc1.chu.local")


def test_foreign_security_principal_dns():
    assert collector.fsp_sid("CN=S-1-5-7,CN=ForeignSecurityPrincipals,DC=x") == "S-1-5-7"
    assert collector.fsp_sid("CN=S-1-5-7,CN=Users,DC=x") is None
    assert collector.fsp_sid("CN=Bob,CN=ForeignSecurityPrincipals,DC=x") is None
