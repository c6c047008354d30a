"""SPF, DMARC and MTA-STS parsers: known cases, and hypothesis for "never crashes"."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.mail.dmarc import (
    needs_authorisation,
    organisational_domain,
    parse_dmarc,
)
from carbet.engines.exposure.mail.smtp import _dechunk, mx_matches, parse_mta_sts_policy
from carbet.engines.exposure.mail.spf import is_spf, parse_spf

SPF_VALID = [
    "v=spf1 -all",
    "v=spf1",
    "v=spf1 mx a ~all",
    "v=spf1 a/24 mx//64 a:mail.example.com/28//96 -all",
    "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.com -all",
    "v=spf1 exists:%{i}._spf.example.com ?all",
    "v=spf1 redirect=_spf.example.com",
    "v=spf1 ptr -all exp=explain.%{d}",
    "V=SPF1 MX -ALL",
    "v=spf1 unknown-mod=whatever -all",
]
SPF_INVALID = [
    ("v=spf1 ip4:999.0.0.1 -all", "invalid address"),
    ("v=spf1 ip4:192.0.2.0/33 -all", "invalid address"),
    ("v=spf1 foo -all", "unknown mechanism"),
    ("v=spf1 include -all", "needs a valid domain"),
    ("v=spf1 include:nodot -all", "needs a valid domain"),
    ("v=spf1 all:example.com", "all takes no argument"),
    ("v=spf1 redirect=a.example.com redirect=b.example.com", "more than once"),
    ("v=spf1 a/40 -all", "invalid prefix"),
    ("v=spf1 exists:%{z}.example.com -all", "needs a valid domain"),
    ("spf1 -all", "does not start"),
]


@pytest.mark.parametrize("text", SPF_VALID)
def test_valid_spf(text):
    record = parse_spf(text)
    assert record.valid, record.errors


@pytest.mark.parametrize(("text", "error"), SPF_INVALID)
def test_invalid_spf(text, error):
    record = parse_spf(text)
    assert any(error in e for e in record.errors), record.errors


def test_spf_details():
    record = parse_spf("v=spf1 mx include:a.example.com ?all")
    assert record.all_qualifier == "?"
    assert record.local_lookups() == 2
    assert parse_spf("v=spf1 redirect=x.example.com").local_lookups() == 1
    assert not is_spf("v=spf10 -all") and is_spf("v=spf1") and is_spf("v=spf1 -all")


def test_dmarc_known_cases():
    record = parse_dmarc("v=DMARC1; p=reject; sp=none; pct=50; rua=mailto:a@x.example!10m")
    assert record.valid and record.policy == "reject" and record.subdomain_policy == "none"
    assert record.pct == 50 and record.rua == [("mailto:a@x.example!10m", "x.example")]
    assert parse_dmarc("v=DMARC1; p=quarantine").subdomain_policy == "quarantine"
    missing_p = parse_dmarc("v=DMARC1; rua=mailto:r@example.org")
    assert missing_p.errors and missing_p.policy == "none"  # RFC 7489 6.6.3
    assert parse_dmarc("v=DMARC1; p=block").policy == ""
    assert parse_dmarc("p=reject; v=DMARC1").errors
    assert parse_dmarc("v=DMARC1; p=reject; pct=150").errors
    assert parse_dmarc("v=DMARC1; p=reject; adkim=x").errors
    assert parse_dmarc("v=DMARC1; p=reject; pct=²").errors  # a digit for str.isdigit only
    assert parse_dmarc("v=DMARC1; p=reject; rua=https://x").warnings


def test_organisational_domain_and_authorisation():
    assert organisational_domain("mail.chu-exemple.fr") == "chu-exemple.fr"
    assert organisational_domain("a.b.example.co.uk") == "example.co.uk"
    assert not needs_authorisation("chu-exemple.fr", "dmarc.chu-exemple.fr")
    assert needs_authorisation("chu-exemple.fr", "reports.vendor.example")


def test_mta_sts_policy_and_patterns():
    policy = parse_mta_sts_policy("version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 60\n")
    assert policy.valid and policy.mx == ["*.example.com"]
    assert mx_matches("*.example.com", "mx1.example.com")
    assert not mx_matches("*.example.com", "a.b.example.com")
    assert not mx_matches("*.example.com", "example.com")
    assert mx_matches("mx.example.com.", "MX.example.com")
    assert parse_mta_sts_policy("version: STSv1\nmode: enforce\nmax_age: 60").errors  # no mx
    assert parse_mta_sts_policy("mode: sometimes").errors
    assert _dechunk(b"5\r\nhello\r\n0\r\n\r\n") == b"hello"


printable = st.text(st.characters(min_codepoint=1, max_codepoint=0x2FF), max_size=300)
spf_terms = st.lists(
    st.sampled_from(
        [
            "a",
            "mx",
            "ptr",
            "all",
            "-all",
            "~all",
            "+all",
            "?all",
            "include:",
            "ip4:",
            "ip6:",
            "exists:",
            "redirect=",
            "exp=",
            "a:",
            "mx/",
            "//",
            "%{",
            "%{d}",
            "1.2.3.4",
            "/24",
            "example.com",
            "::1",
            "%",
            "=",
        ]
    )
    | printable,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(spf_terms)
def test_spf_parser_never_crashes(terms):
    record = parse_spf("v=spf1 " + " ".join("".join(t) for t in terms))
    assert isinstance(record.errors, list)
    record.all_qualifier  # noqa: B018 - must not raise
    record.local_lookups()


@settings(max_examples=150, deadline=None)
@given(printable)
def test_spf_parser_never_crashes_on_raw_text(text):
    parse_spf(text)
    parse_spf("v=spf1 " + text)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["v", "p", "sp", "pct", "rua", "ruf", "adkim", "fo", "ri", "x", ""]),
            printable,
        ),
        max_size=10,
    )
)
def test_dmarc_parser_never_crashes(tags):
    text = "v=DMARC1; " + "; ".join(f"{k}={v}" for k, v in tags)
    record = parse_dmarc(text)
    assert record.policy in ("", "none", "quarantine", "reject")
    assert record.subdomain_policy in ("", "none", "quarantine", "reject")
    assert 0 <= record.pct <= 100
    parse_dmarc(text.replace(";", ""))


@settings(max_examples=100, deadline=None)
@given(printable, printable)
def test_mta_sts_parser_never_crashes(text, host):
    policy = parse_mta_sts_policy(text)
    for pattern in policy.mx:
        mx_matches(pattern, host)
    _dechunk(text.encode("utf-8", "replace"))
