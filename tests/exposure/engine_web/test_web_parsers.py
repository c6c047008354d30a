"""HTTP head, cookie and chunked parsers (hypothesis), and the Observatory arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.web.client import (
    MAX_HEADERS,
    Cookie,
    HttpError,
    decode_chunked,
    host_without_port,
    parse_head,
    parse_set_cookie,
    split_location,
)
from carbet.engines.exposure.web.observatory import (
    analyse_headers,
    grade,
    hsts_max_age,
    observatory_score,
    parse_csp,
)

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
token = st.text(LETTERS + "0123456789-", min_size=1, max_size=20).filter(lambda t: t[0] in LETTERS)
value = st.text("".join(map(chr, range(0x20, 0x7F))), max_size=60).map(str.strip)


@settings(max_examples=60, deadline=None)
@given(st.integers(100, 599), st.lists(st.tuples(token, value), max_size=30))
def test_head_round_trip(status, headers):
    raw = f"HTTP/1.1 {status} Whatever\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
    version, parsed_status, reason, parsed = parse_head(raw.encode().rstrip(b"\r\n"))
    assert (version, parsed_status, reason) == ("1.1", status, "Whatever")
    assert parsed == headers


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(st.binary(max_size=500))
def test_garbage_head_only_raises_http_errors(data):
    try:
        parse_head(data)
    except HttpError:
        pass


def test_head_limits():
    many = "HTTP/1.1 200 OK\r\n" + "".join(f"X-{i}: a\r\n" for i in range(MAX_HEADERS + 5))
    with pytest.raises(HttpError):
        parse_head(many.encode())
    with pytest.raises(HttpError):
        parse_head(b"HTTP/1.1 200 OK\r\n" + b"X: " + b"a" * 70_000)
    with pytest.raises(HttpError):
        parse_head(b"SSH-2.0-OpenSSH_9.2")


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(st.text(max_size=200))
def test_set_cookie_never_raises(text):
    cookie = parse_set_cookie(text)
    assert cookie is None or isinstance(cookie, Cookie)


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(token, st.booleans(), st.booleans(), st.sampled_from(["", "Lax", "Strict", "None"]))
def test_set_cookie_flags(name, secure, http_only, same_site):
    raw = f"{name}=v; Path=/" + ("; Secure" if secure else "") + ("; HttpOnly" if http_only else "")
    raw += f"; SameSite={same_site}" if same_site else ""
    cookie = parse_set_cookie(raw)
    assert cookie is not None
    assert (cookie.name, cookie.secure, cookie.http_only) == (name, secure, http_only)
    assert cookie.same_site == same_site.lower()


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(st.lists(st.binary(min_size=1, max_size=100), max_size=10), st.integers(1, 2000))
def test_chunked_round_trip_respects_the_cap(chunks, cap):
    wire = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for chunk in chunks) + b"0\r\n\r\n"
    body, complete = decode_chunked(wire, cap)
    whole = b"".join(chunks)
    assert body == whole[:cap]
    assert len(body) <= cap
    assert complete == (len(whole) <= cap)


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(st.binary(max_size=300), st.integers(1, 500))
def test_garbage_chunked_only_raises_http_errors(data, cap):
    try:
        body, _ = decode_chunked(data, cap)
        assert len(body) <= cap
    except HttpError:
        pass


def test_split_location():
    assert split_location("https://Www.Test/a?b=1", "http", "www.test") == (
        "https",
        "www.test",
        "/a?b=1",
    )
    assert split_location("/accueil", "https", "ch.test") == ("https", "ch.test", "/accueil")
    assert split_location("login", "http", "ch.test") == ("http", "ch.test", "/login")


def test_host_without_port():
    assert host_without_port("www.test:8443") == "www.test"
    assert host_without_port("[::1]:8443") == "::1"
    assert host_without_port("[::1]") == "::1"
    assert host_without_port("::1") == "::1"
    assert host_without_port("www.test") == "www.test"


def test_csp_and_hsts_parsing():
    assert parse_csp("default-src 'none'; script-src 'self'; ; default-src *") == {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
    }
    assert hsts_max_age('max-age="31536000"; includeSubDomains') == 31536000
    assert hsts_max_age("includeSubDomains") is None


def score_of(headers, cookies=(), over_https=True, redirection="redirection-not-needed"):
    verdicts = analyse_headers(headers, list(cookies), over_https, redirection)
    return observatory_score(verdicts)[0]


def test_observatory_arithmetic():
    assert score_of({}) == 100 - 25 - 20 - 20 - 5
    assert score_of({}, over_https=False, redirection="redirection-missing") == 10
    full = {
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "strict-transport-security": "max-age=31536000",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
    }
    assert score_of(full) == 100 + 10 + 5 + 5  # bonuses only count from 90 up
    session = Cookie("sessionid", "x", secure=False, http_only=True)
    assert score_of(full, [session]) == 60  # -40 cancels the bonuses (below 90)
    unsafe = dict(full, **{"content-security-policy": "script-src 'self' 'unsafe-eval'"})
    assert score_of(unsafe) == 100 - 10 - 20  # unsafe-eval, and no frame-ancestors any more
    assert score_of({**full, "referrer-policy": "unsafe-url"}) == 100 + 10 + 5 - 5


@pytest.mark.parametrize(
    ("score", "letter"),
    [
        (130, "A+"),
        (100, "A+"),
        (95, "A"),
        (86, "A-"),
        (80, "B+"),
        (70, "B"),
        (65, "B-"),
        (60, "C+"),
        (50, "C"),
        (45, "C-"),
        (40, "D+"),
        (30, "D"),
        (25, "D-"),
        (24, "F"),
        (0, "F"),
    ],
)
def test_grades(score, letter):
    assert grade(score) == letter


@settings(deadline=None)  # shared, busy CI cores: no per-example deadline
@given(st.binary(max_size=500))
def test_meta_csp_scan_never_raises(data):
    from carbet.engines.exposure.web.probe import _meta_csp

    found = _meta_csp(b"<meta http-equiv=content-security-policy " + data)
    assert found is None or isinstance(found, str)
