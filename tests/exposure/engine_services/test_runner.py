"""The runner ties the probes together: TLS and web checks follow the services found."""

from __future__ import annotations

import pytest

from carbet.engines.exposure import runner

from .conftest import HTTPS_SPOT

pytestmark = pytest.mark.realserver


def test_tls_and_web_probes_follow_an_https_service(lab):
    host, port = HTTPS_SPOT
    config = lab.config("plain_http", ports=(port,), read_timeout=2.0, target_timeout=60.0)
    (result,) = runner.scan([host], config)
    (service,) = result.services
    assert (service.service, service.tls) == ("https", True)
    assert str(port) in result.evidence.get("tls", {})  # tls.scan_tls ran on it
    assert str(port) in result.evidence.get("web", {})  # web.scan_web ran on it
    checks = {observation.check for observation in result.observations}
    assert "tls.cert.self_signed" in checks or "tls.cert.untrusted" in checks
    assert result.scores["categories"]["tls"]["score"] is not None
    assert result.scores["categories"]["web"]["score"] is not None


def test_web_probe_follows_a_plain_http_service_not_elasticsearch(lab):
    config = lab.config("plain_http", "elastic", target_timeout=60.0)
    plain, elastic = runner.scan([lab["plain_http"].host, lab["elastic"].host], config)
    assert "8080" in plain.evidence.get("web", {})
    assert "web" not in elastic.evidence  # an API, not a web site


def test_targets_given_as_urls_or_with_a_forced_kind():
    assert runner.parse_target("https://Portail.CH-Exemple.fr/login") == (
        "portail.ch-exemple.fr", None,
    )  # fmt: skip
    assert runner.parse_target("domain:ch-exemple.fr.") == ("ch-exemple.fr", "domain")
    assert runner.parse_target("[2001:db8::1]") == ("2001:db8::1", None)
    assert runner.ip_literal("2001:db8::1") == "2001:db8::1"
    assert not runner.valid_hostname("-bad-.example")
    assert runner.valid_hostname("hôpital.example")


def test_names_resolve_through_the_configured_nameserver(lab):
    from .conftest import DNS_SERVER

    config = lab.config(
        "hl7", "plain_http", nameserver=f"{DNS_SERVER[0]}:{DNS_SERVER[1]}", mail_dns=True,
        target_timeout=60.0,
    )  # fmt: skip
    host, domain, missing = runner.scan(["www.lab.test", "lab.test", "nowhere.lab.test"], config)
    assert (host.kind, host.addresses) == ("host", [lab["hl7"].host])
    assert "medical.hl7.exposed" in {o.check for o in host.observations}
    assert "dns" not in host.evidence  # a host name gets no mail and DNS checks
    # The zone apex (its own SOA) is a domain: port-scanned and mail/DNS-checked.
    assert (domain.kind, domain.addresses) == ("domain", [lab["plain_http"].host])
    assert domain.evidence["dns"]["domain"] == "lab.test"
    assert domain.scores["categories"]["mail"]["score"] is not None
    assert missing.complete is False
    assert any("NXDOMAIN" in error for error in missing.errors)
