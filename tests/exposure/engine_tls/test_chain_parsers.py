"""Property tests for the parsers of server bytes added with issue 19 (chains and stapling):
a CertificateStatus message, a CA Issuers HTTP reply, a stapled OCSP response, and the
AIA/Must-Staple readers. Garbage only ever raises the module's own errors (or nothing)."""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.tls.chain import (
    ChainError,
    ca_issuer_urls,
    describe_ocsp,
    must_staple,
    own_url,
    parse_certificate_status,
    parse_issuer_response,
)
from carbet.engines.exposure.tls.hello import TLSParseError

from .servers import make_ca
from .sserver import make_chain_leaf, make_intermediate, ocsp_good_response

ROOT = make_ca("Parser Root")
INTER = make_intermediate(ROOT)
LEAF = make_chain_leaf(INTER, ["p.test"], aia="http://p.test/i.der", must_staple=True)
INTER_DER = INTER.certificate.public_bytes(serialization.Encoding.DER)


@given(st.binary(min_size=1, max_size=2000))
def test_certificate_status_round_trip(response):
    body = b"\x01" + struct.pack("!I", len(response))[1:] + response
    assert parse_certificate_status(body) == response


@given(st.binary(max_size=300))
def test_garbage_certificate_status_only_raises_parse_errors(data):
    try:
        parse_certificate_status(data)
    except TLSParseError:
        pass


@given(st.binary(max_size=500))
@settings(max_examples=200)
def test_garbage_ocsp_staple_is_described_never_raised(data):
    summary = describe_ocsp(data)
    assert summary["response_status"]


def test_a_real_ocsp_response_is_described():
    summary = describe_ocsp(ocsp_good_response(LEAF, INTER))
    assert summary["response_status"] == "successful"
    assert summary["certificate_status"] == "good"


@given(st.binary(max_size=600))
def test_garbage_issuer_replies_only_raise_chain_errors(data):
    for raw in (data, b"HTTP/1.1 200 OK\r\n\r\n" + data):
        try:
            parse_issuer_response(raw)
        except ChainError:
            pass


@given(st.sampled_from(["DER", "PEM"]), st.sampled_from([b"", b"Content-Type: x\r\n"]))
def test_issuer_reply_in_der_or_pem(form, header):
    body = INTER_DER if form == "DER" else INTER.cert_pem
    raw = b"HTTP/1.1 200 OK\r\n" + header + b"\r\n" + body
    assert parse_issuer_response(raw) == INTER_DER
    try:
        parse_issuer_response(raw.replace(b" 200 ", b" 404 ", 1))
    except ChainError:
        pass
    else:
        raise AssertionError("a 404 is not a certificate")


@given(st.binary(max_size=800))
def test_extension_readers_never_raise_on_garbage(data):
    assert ca_issuer_urls(data) == [] or isinstance(ca_issuer_urls(data), list)
    assert must_staple(data) in (False, True)


def test_extension_readers_on_a_real_leaf():
    der = LEAF.certificate.public_bytes(serialization.Encoding.DER)
    assert ca_issuer_urls(der) == ["http://p.test/i.der"]
    assert must_staple(der) is True
    assert must_staple(INTER_DER) is False


@given(st.text(max_size=80))
def test_only_plain_http_urls_of_the_asset_itself_are_fetched(url):
    where = own_url(url, "p.test", "127.0.0.9")
    if where is not None:
        assert url.lower().startswith("http://")
        assert where[0] in ("p.test", "127.0.0.9")


def test_own_url_examples():
    assert own_url("http://p.test/i.der", "p.test", "10.0.0.1") == ("p.test", 80, "/i.der")
    assert own_url("http://10.0.0.1:8080/i", None, "10.0.0.1") == ("10.0.0.1", 8080, "/i")
    assert own_url("http://ca.example/i.der", "p.test", "10.0.0.1") is None
    assert own_url("https://p.test/i.der", "p.test", "10.0.0.1") is None
    assert own_url("http://p.test.evil.example/i", "p.test", "10.0.0.1") is None
