"""The plain-answer reader agrees with dnspython, and never crashes on garbage."""

from __future__ import annotations

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.mail.wire import read_plain_answer

label = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=20)
name = st.lists(label, min_size=1, max_size=5).map(lambda labels: ".".join(labels) + ".")
txt_string = st.binary(max_size=255).map(lambda raw: '"' + "".join(f"\\{b:03d}" for b in raw) + '"')

rdata_text = {
    "A": st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t))),
    "AAAA": st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8).map(
        lambda parts: ":".join(f"{p:x}" for p in parts)
    ),
    "MX": st.tuples(st.integers(0, 65535), name).map(lambda t: f"{t[0]} {t[1]}"),
    "TXT": st.lists(txt_string, min_size=1, max_size=4).map(" ".join),
    "CAA": st.tuples(
        st.integers(0, 255),
        st.sampled_from(["issue", "iodef", "issuewild"]),
        st.text("abcdef.;= ", max_size=30),
    ).map(lambda t: f'{t[0]} {t[1]} "{t[2]}"'),
}


def dnspython_view(rdtype: str, rrset) -> list:
    if rdtype in ("A", "AAAA"):
        return [r.address for r in rrset]
    if rdtype == "MX":
        return [(r.preference, r.exchange.to_text(omit_final_dot=True).lower()) for r in rrset]
    if rdtype == "TXT":
        return [tuple(r.strings) for r in rrset]
    return [r.to_text() for r in rrset]


def light_view(rdtype: str, rrset) -> list:
    if rdtype in ("A", "AAAA"):
        return [r.address for r in rrset]
    if rdtype == "MX":
        return [(r.preference, r.exchange.to_text(omit_final_dot=True)) for r in rrset]
    if rdtype == "TXT":
        return [r.strings for r in rrset]
    return [r.to_text() for r in rrset]


@st.composite
def answers(draw):
    rdtype = draw(st.sampled_from(sorted(rdata_text)))
    return rdtype, draw(name), draw(st.lists(rdata_text[rdtype], min_size=1, max_size=6))


def wire_answer(rdtype: str, owner: str, texts: list[str]) -> bytes:
    query = dns.message.make_query(owner, rdtype, use_edns=0)
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text_list(owner, 300, "IN", rdtype, texts))
    return response.to_wire()


@settings(max_examples=100, deadline=None)
@given(answers())
def test_reader_agrees_with_dnspython(case):
    rdtype, owner, texts = case
    wire = wire_answer(rdtype, owner, texts)
    light = read_plain_answer(wire, dns.rdatatype.from_text(rdtype))
    full = dns.message.from_wire(wire)
    assert light is not None
    assert light_view(rdtype, light) == dnspython_view(rdtype, full.answer[0])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([1, 15, 16, 28, 257, 5]))
def test_reader_never_crashes(data, qtype):
    read_plain_answer(data, qtype)
    read_plain_answer(b"\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + data, qtype)


def test_cname_and_pointer_loops_fall_back():
    query = dns.message.make_query("www.example.org", "A")
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text("www.example.org.", 60, "IN", "CNAME", "x.org."))
    response.answer.append(dns.rrset.from_text("x.org.", 60, "IN", "A", "192.0.2.1"))
    assert read_plain_answer(response.to_wire(), 1) is None
    # a question whose name is a pointer to itself
    looped = b"\x00\x01\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"
    assert read_plain_answer(looped, 1) is None
