"""The organisational domain comes from the Public Suffix List bundled with the
``publicsuffixlist`` package: right on real suffixes, never fetched, never raising."""

from __future__ import annotations

import socket
import string
from pathlib import Path

import publicsuffixlist
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.mail import psl
from carbet.engines.exposure.mail.dmarc import needs_authorisation


def test_real_suffixes():
    od = psl.organisational_domain
    assert od("mail.chu-exemple.fr") == "chu-exemple.fr"
    assert od("a.b.exemple.co.uk") == "exemple.co.uk"
    assert od("x.y.ars.sante.fr") == "sante.fr"
    assert od("service.exemple.gouv.fr") == "exemple.gouv.fr"  # gouv.fr is a public suffix
    assert od("Mail.CHU-Exemple.FR.") == "chu-exemple.fr"
    assert od("a.b.exemple.nhs.uk") == "exemple.nhs.uk"
    # Private section: each customer of a hosting suffix is its own organisation.
    assert od("x.y.blogspot.com") == "y.blogspot.com"
    # Unknown TLD: the default rule "*" (the test zones under .test rely on it).
    assert od("mx.good.carbet.test") == "carbet.test"
    # A public suffix on its own is its own organisational domain (no parent to inherit).
    assert od("fr") == "fr"
    assert od("co.uk") == "co.uk"
    assert od("") == ""
    assert psl.public_suffix("a.exemple.co.uk") == "co.uk"


def test_idn_names():
    assert psl.organisational_domain("www.bücher.de") == "bücher.de"
    assert psl.organisational_domain("www.xn--bcher-kva.de") == "xn--bcher-kva.de"


def test_authorisation_uses_the_list():
    # Same organisation under a multi-label suffix: no authorisation record needed.
    assert not needs_authorisation("a.exemple.co.uk", "b.exemple.co.uk")
    # Two organisations under the same two-label suffix.
    assert needs_authorisation("exemple.co.uk", "autre.co.uk")
    assert needs_authorisation("chu.fr", "rapports.example")


def test_the_list_is_bundled_and_never_fetched(monkeypatch):
    bundled = Path(publicsuffixlist.__file__).with_name("public_suffix_list.dat")
    assert bundled.stat().st_size > 100_000

    def no_network(*args, **kwargs):
        raise AssertionError("the Public Suffix List must not be fetched")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    psl._list.cache_clear()
    try:
        assert psl.organisational_domain("www.exemple.co.uk") == "exemple.co.uk"
    finally:
        psl._list.cache_clear()


LABEL = st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=20)
ODD = st.text(
    alphabet=st.sampled_from(list(string.ascii_letters + string.digits + "-._*éü \t\\\x00")),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(ODD)
def test_odd_names_never_raise(name):
    org = psl.organisational_domain(name)
    assert isinstance(org, str)
    assert org == org.lower()
    assert not org.endswith(".")
    assert isinstance(psl.public_suffix(name), str)


@settings(max_examples=300, deadline=None)
@given(st.lists(LABEL, min_size=1, max_size=6), st.sampled_from(["fr", "co.uk", "test", "com"]))
def test_organisational_domain_is_a_stable_suffix(labels, suffix):
    name = ".".join([*labels, suffix])
    org = psl.organisational_domain(name)
    # A suffix of the name, on a label boundary, idempotent, and one label above its
    # public suffix.
    assert name == org or name.endswith("." + org)
    assert psl.organisational_domain(org) == org
    public = psl.public_suffix(name)
    assert org.endswith(public)
    if org == public:
        # The name is itself a public suffix (a generated "tm.fr" is one of the list's
        # second-level suffixes): it is its own organisational domain, as documented.
        assert name == org
    else:
        assert org.count(".") == public.count(".") + 1


def test_a_name_that_is_a_public_suffix_is_its_own_organisational_domain():
    assert psl.public_suffix("tm.fr") == "tm.fr"
    assert psl.organisational_domain("tm.fr") == "tm.fr"
    assert psl.organisational_domain("www.exemple.tm.fr") == "exemple.tm.fr"
