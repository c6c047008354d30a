"""The caller's address recorded in the audit trail, directly or behind the HTTPS proxy."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from carbet.audit.services import client_ip


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_proxy_the_socket_address_is_used(monkeypatch):
    monkeypatch.delenv("CARBET_BEHIND_PROXY", raising=False)
    assert client_ip(_request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"
    assert client_ip(None) is None


@pytest.fixture
def behind_proxy(monkeypatch):
    monkeypatch.setenv("CARBET_BEHIND_PROXY", "1")
    monkeypatch.delenv("CARBET_FORWARDED_ALLOW_IPS", raising=False)


def test_behind_the_proxy_the_last_forwarded_hop_is_the_caller(behind_proxy):
    # A client may send its own X-Forwarded-For; the proxy appends the real address last.
    request = _request("127.0.0.1", "10.9.9.9, 198.51.100.23")
    assert client_ip(request) == "198.51.100.23"


def test_forwarded_header_from_an_untrusted_peer_is_ignored(behind_proxy):
    assert client_ip(_request("203.0.113.7", "198.51.100.23")) == "203.0.113.7"


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "1.2.3.4, "])
def test_malformed_forwarded_header_falls_back_to_the_proxy(behind_proxy, forwarded):
    assert client_ip(_request("127.0.0.1", forwarded)) == "127.0.0.1"


def test_trusted_proxies_are_configurable(behind_proxy, monkeypatch):
    monkeypatch.setenv("CARBET_FORWARDED_ALLOW_IPS", "192.0.2.10")
    assert client_ip(_request("192.0.2.10", "198.51.100.23")) == "198.51.100.23"
    assert client_ip(_request("127.0.0.1", "198.51.100.23")) == "127.0.0.1"
