"""Property tests of the validators shared by the bulletin form and the API (CVE lists, web
references), and of the Markdown renderer on untrusted text."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.community import services_bulletins as services
from carbet.community.forms_bulletins import AcknowledgeForm
from carbet.community.markdown import plain, render

CVE = st.builds(
    lambda year, number: f"CVE-{year}-{number:04d}",
    st.integers(1999, 2099),
    st.integers(0, 10**7),
)


@given(st.lists(CVE, max_size=20), st.sampled_from([str.upper, str.lower, str.title]))
def test_valid_cves_are_kept_upper_case_and_once(cves, case):
    out = services.clean_cves([case(c) for c in cves] + cves)
    assert out == list(dict.fromkeys(cves))
    assert all(re.fullmatch(r"CVE-\d{4}-\d{4,}", c) for c in out)


@given(st.text(max_size=40))
def test_any_text_is_a_cve_or_refused(text):
    try:
        out = services.clean_cves([text])
    except ValidationError:
        return
    assert out == [] or re.fullmatch(r"CVE-\d{4}-\d{4,}", out[0])


@pytest.mark.parametrize("bad", ["CVE-24-1234", "CVE-2024-123", "cve 2024 1234", "CVE-2024-12a4"])
def test_malformed_cves(bad):
    with pytest.raises(ValidationError):
        services.clean_cves([bad])


def test_too_many_cves():
    with pytest.raises(ValidationError):
        services.clean_cves([f"CVE-2024-{n:05d}" for n in range(services.MAX_CVES + 1)])


URL = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}.example.org/{path}",
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_./-]{0,40}", fullmatch=True),
)


@given(st.lists(URL, max_size=15))
def test_web_references_are_kept_once(urls):
    assert services.clean_references(urls + urls) == list(dict.fromkeys(urls))


@given(st.text(max_size=80))
@settings(max_examples=300)
def test_any_text_is_a_web_reference_or_refused(text):
    try:
        out = services.clean_references([text])
    except ValidationError:
        return
    assert out == [] or out[0].lower().startswith(("http://", "https://"))


@pytest.mark.parametrize(
    "bad", ["javascript:alert(1)", "ftp://example.org/x", "//example.org", "data:text/html,x"]
)
def test_other_schemes_are_refused(bad):
    with pytest.raises(ValidationError):
        services.clean_references([bad])


@given(st.text(max_size=300))
@settings(max_examples=300)
def test_markdown_never_lets_html_through(text):
    html = str(render(text))
    assert "<script" not in html.lower()
    assert (
        "javascript:" not in re.sub(r"<[^>]*>", "", html).lower() or "javascript:" in text.lower()
    )
    for match in re.finditer(r'href="([^"]*)"', html):
        assert match.group(1).startswith(("http://", "https://", "mailto:", "/", "#"))


@given(text=st.text(max_size=100))
def test_injected_tags_are_escaped(text):
    html = str(render(f"{text}<img src=x onerror=alert(1)>"))
    assert "<img" not in html


@given(
    st.sampled_from(["read", "applied", "not_concerned", "unread", "x"]),
    st.text(max_size=50),
)
def test_acknowledge_form_requires_a_reason_for_not_concerned(status, reason):
    form = AcknowledgeForm({"status": status, "reason": reason})
    valid = form.is_valid()
    if "\x00" in reason:  # Django refuses null characters in any text field
        assert not valid
    elif status in ("unread", "x"):
        assert not valid
    elif status == "not_concerned":
        assert valid == bool(reason.strip())
    else:
        assert valid


def test_plain_text_of_the_mails_keeps_lists_and_link_addresses():
    text = plain("## Quoi\n\n1. un\n2. deux\n\n- a\n\n[avis](https://x.test/a) **gras**")
    assert "Quoi" in text and "##" not in text and "**" not in text
    assert "1. un" in text and "2. deux" in text and "- a" in text
    assert "avis (https://x.test/a)" in text


@given(st.text(max_size=200))
def test_plain_text_never_fails(text):
    assert isinstance(plain(text), str)
