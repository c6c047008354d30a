"""The STARTTLS parsers read what a server sends before TLS: any bytes give a verdict or a clear
error (StartTLSError / ValueError), never another exception (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.exposure.core import ServiceInfo
from carbet.engines.exposure.tls.starttls import (
    LDAP_STARTTLS_OID,
    PROTOCOLS,
    StartTLSError,
    ldap_message_complete,
    ldap_starttls_request,
    parse_greeting,
    parse_ldap_extended_response,
    parse_ldap_service,
    parse_postgres_answer,
    parse_starttls_reply,
    parse_xmpp_features,
    parse_xmpp_proceed,
    protocol_for,
    text_reply_complete,
    xmpp_features_complete,
    xmpp_stream_header,
)

TEXT_KINDS = ("imap", "pop3", "ftp")
STREAM = (
    b"<?xml version='1.0'?><stream:stream from='x' xmlns='jabber:client' "
    b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)


def _tlv(tag: int, value: bytes, long_form: bool = False) -> bytes:
    if long_form or len(value) > 127:
        size = len(value).to_bytes(2, "big")
        return bytes([tag, 0x82]) + size + value
    return bytes([tag, len(value)]) + value


def ldap_response(code: int, long_form: bool = False, message_id: int = 1) -> bytes:
    body = _tlv(0x0A, bytes([code])) + _tlv(0x04, b"") + _tlv(0x04, b"")
    body += _tlv(0x8A, LDAP_STARTTLS_OID)
    message = _tlv(0x02, bytes([message_id])) + _tlv(0x78, body, long_form)
    return _tlv(0x30, message, long_form)


@given(st.sampled_from(TEXT_KINDS), st.binary(max_size=300))
def test_text_replies_give_a_verdict_or_a_clear_error(kind, data):
    assert text_reply_complete(kind, data) in (True, False)
    for parser in (parse_greeting, parse_starttls_reply):
        try:
            parser(kind, data)
        except StartTLSError as exc:
            assert str(exc)


@pytest.mark.parametrize(
    ("kind", "greeting", "reply"),
    [
        ("imap", b"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n",
         b"C1 OK Begin TLS negotiation now.\r\n"),
        ("imap", b"* OK ready\r\n", b"* CAPABILITY IMAP4rev1\r\nC1 OK go\r\n"),
        ("pop3", b"+OK Dovecot ready.\r\n", b"+OK Begin TLS negotiation now.\r\n"),
        ("ftp", b"220-Welcome\r\n220 (vsFTPd 3.0.5)\r\n", b"234 Proceed with negotiation.\r\n"),
    ],
)  # fmt: skip
def test_real_shaped_acceptances(kind, greeting, reply):
    assert text_reply_complete("ftp" if kind == "ftp" else "pop3", greeting)
    assert text_reply_complete(kind, reply)
    parse_greeting(kind, greeting)
    parse_starttls_reply(kind, reply)


@pytest.mark.parametrize(
    ("kind", "reply"),
    [("imap", b"C1 BAD Unknown command.\r\n"), ("imap", b"C1 NO [PRIVACYREQUIRED] no\r\n"),
     ("pop3", b"-ERR Unknown command: STLS\r\n"), ("ftp", b"502 Command not implemented.\r\n"),
     ("ftp", b"530 Please login with USER and PASS.\r\n")],
)  # fmt: skip
def test_refusals_are_told_apart_from_garbage(kind, reply):
    with pytest.raises(StartTLSError) as refused:
        parse_starttls_reply(kind, reply)
    assert refused.value.refused
    with pytest.raises(StartTLSError) as garbage:
        parse_starttls_reply(kind, b"HTTP/1.1 400 Bad Request\r\n")
    assert not garbage.value.refused


def test_an_incomplete_imap_reply_waits_for_the_tagged_line():
    assert not text_reply_complete("imap", b"* CAPABILITY IMAP4rev1\r\n")
    assert not text_reply_complete("ftp", b"220-Welcome\r\n")
    assert not text_reply_complete("pop3", b"+OK partial")


@given(st.integers(min_value=0, max_value=127), st.booleans(), st.integers(1, 127))
def test_ldap_extended_responses_round_trip(code, long_form, message_id):
    data = ldap_response(code, long_form, message_id)
    assert ldap_message_complete(data)
    assert parse_ldap_extended_response(data) == code
    assert parse_ldap_service(data) == {
        "service": "ldap",
        "starttls": code == 0,
        "ldap_result": code,
    }
    assert not ldap_message_complete(data[:-1]) or data[0] != 0x30


@given(st.binary(max_size=200))
def test_ldap_parser_on_any_bytes(data):
    assert ldap_message_complete(data) in (True, False)
    try:
        code = parse_ldap_extended_response(data)
    except ValueError as exc:
        assert str(exc)
        assert parse_ldap_service(data) is None
    else:
        assert 0 <= code < 2**32


def test_the_starttls_request_is_a_well_formed_extended_request():
    request = ldap_starttls_request()
    assert request[0] == 0x30 and request[1] == len(request) - 2
    assert request[5] == 0x77 and request.endswith(LDAP_STARTTLS_OID)
    assert not ldap_message_complete(b"\x30\x84\x00\x00\x10")  # long form, still arriving


@given(st.binary(max_size=4))
def test_postgres_answer(data):
    if data in (b"S", b"N"):
        assert parse_postgres_answer(data) is (data == b"S")
    else:
        with pytest.raises(ValueError):
            parse_postgres_answer(data)


@given(st.binary(max_size=400))
def test_xmpp_parsers_on_any_bytes(data):
    features = parse_xmpp_features(data)
    assert features is None or features["service"] == "xmpp"
    assert xmpp_features_complete(data) in (True, False)
    try:
        parse_xmpp_proceed(data)
    except StartTLSError:
        pass


@given(st.booleans(), st.booleans(), st.sampled_from(["'", '"']))
def test_xmpp_features(offer, required, quote):
    tls_ns = f"xmlns={quote}urn:ietf:params:xml:ns:xmpp-tls{quote}"
    starttls = ""
    if offer:
        starttls = f"<starttls {tls_ns}>" + ("<required/>" if required else "") + "</starttls>"
    data = STREAM + b"<stream:features>" + starttls.encode() + b"</stream:features>"
    assert parse_xmpp_features(data) == {
        "service": "xmpp", "starttls": offer, "starttls_required": offer and required,
    }  # fmt: skip
    assert parse_xmpp_features(data[:-5]) is None  # features not finished yet
    parse_xmpp_proceed(f"<proceed {tls_ns}/>".encode())
    with pytest.raises(StartTLSError) as failure:
        parse_xmpp_proceed(f"<failure {tls_ns}/>".encode())
    assert failure.value.refused


@given(st.text(max_size=300))
def test_the_stream_header_never_carries_markup_from_a_name(name):
    header = xmpp_stream_header(name).decode("ascii")
    to = header.split("to='", 1)[1].split("'", 1)[0]
    assert not set(to) & set("'\"<>& ") and 0 < len(to) <= 253


@pytest.mark.parametrize("service", [*PROTOCOLS, "http", "smtp", "unknown"])
def test_protocol_for(service):
    expected = service if service in PROTOCOLS else None
    assert protocol_for(ServiceInfo(port=1, service=service)) == expected
    assert protocol_for(ServiceInfo(port=1, service=service, tls=True)) is None
