"""The PEM bundle parser of ``carbet intermediates import``: only intermediate CAs pass, every
other block is reported with the line it starts on, and garbage never crashes (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.tls.bundle import BundleError, parse_bundle

from .servers import make_ca, make_leaf
from .sserver import make_intermediate

ROOT = make_ca("Bundle Root")
INTERMEDIATE = make_intermediate(ROOT, "Bundle Intermediate")
LEAF = make_leaf(INTERMEDIATE, ["leaf.test"])


def pem(issued) -> str:  # type: ignore[no-untyped-def]
    return issued.certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_a_bundle_keeps_intermediates_and_says_why_the_rest_is_refused():
    text = (
        "# Exported by the centre from the CCADB\n"  # line 1
        "Subject: Bundle Intermediate\n"  # line 2
        + pem(INTERMEDIATE)  # lines 3-…
        + pem(INTERMEDIATE)  # the same twice: one kept, counted as duplicate
        + pem(ROOT)
        + pem(LEAF)
        + "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n"
        + "-----BEGIN CERTIFICATE-----\nnot base64 at all !!\n-----END CERTIFICATE-----\n"
        + "-----BEGIN CERTIFICATE-----\nAAAA\n"
    )
    bundle = parse_bundle(text.encode())
    assert [line for line, _item in bundle.intermediates] == [3]
    assert bundle.duplicates == 1
    lines = text.splitlines()
    problems = {problem.line: problem.message for problem in bundle.problems}
    assert len(problems) == 5
    for line, message in problems.items():
        assert lines[line - 1].startswith("-----BEGIN"), (line, message)
    messages = list(problems.values())
    assert "racine" in messages[0]
    assert "basicConstraints" in messages[1] and "leaf.test" in messages[1]
    assert "PRIVATE KEY" in messages[2] and "c2VjcmV0" not in messages[2]
    assert "illisible" in messages[3] or "vide" in messages[3]
    assert "sans ligne « -----END »" in messages[4]


def test_an_expired_intermediate_is_set_aside():
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=5000)
    bundle = parse_bundle(pem(INTERMEDIATE).encode(), now=later)
    assert not bundle.intermediates and "expiré" in bundle.problems[0].message


def test_a_file_without_any_block_is_refused_with_a_clear_error():
    with pytest.raises(BundleError, match="pas un fichier PEM"):
        parse_bundle(b"\x00\x01 just bytes")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_garbage_bytes_never_crash(data):
    try:
        bundle = parse_bundle(data)
    except BundleError as exc:
        assert str(exc)
        return
    assert all(problem.message for problem in bundle.problems)


BLOCK_LINES = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "-----BEGIN CERTIFICATE-----",
                "-----END CERTIFICATE-----",
                "-----BEGIN PRIVATE KEY-----",
                "-----END X509 CRL-----",
                "MIIB",
                "====",
                "",
            ]
        ),
        st.text(max_size=80),
        st.sampled_from(pem(INTERMEDIATE).splitlines()),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(BLOCK_LINES)
def test_shuffled_pem_lines_give_line_precise_problems(lines):
    text = "\n".join(lines)
    try:
        bundle = parse_bundle(text.encode())
    except BundleError:
        return
    count = len(text.splitlines())
    for problem in bundle.problems:
        assert 1 <= problem.line <= count and problem.message
    for line, item in bundle.intermediates:
        assert 1 <= line <= count and item.is_ca and not item.self_issued


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=600), max_size=5), st.binary(max_size=600))
def test_the_store_never_crashes_on_garbage_certificates(ders, probe):
    """What a server sends (or a corrupted row) is untrusted input to the store too."""
    from carbet.engines.exposure.tls.intermediates import KnownIntermediates, sent_path

    store = KnownIntermediates([*ders, pem_der(INTERMEDIATE)])
    assert len(store) == 1 and store.unreadable <= len(ders)
    assert store.candidates(probe, 3) == []
    assert sent_path([probe, *ders]) == []


def pem_der(issued) -> bytes:  # type: ignore[no-untyped-def]
    return issued.certificate.public_bytes(serialization.Encoding.DER)
