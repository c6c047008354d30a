"""End to end: scan_domain against the loopback DNS, SMTP and HTTPS servers.

Every mail/DNS check is asserted positive on a domain that has the weakness and negative on
one that does not (``good.carbet.test`` has none of them).
"""

from __future__ import annotations

import pytest

from carbet.engines.exposure.checks import all_checks

from .conftest import scan

pytestmark = pytest.mark.realserver

GOOD = "good.carbet.test"
BROKEN = "broken.carbet.test"

# check id -> (domains where it must fire, domains where it must not)
EXPECTATIONS = {
    "mail.spf.missing": ([BROKEN], [GOOD, "spf-plusall.carbet.test"]),
    "mail.spf.permissive": (
        ["spf-plusall.carbet.test", "spf-neutral.carbet.test", "spf-noall.carbet.test"],
        [GOOD, "spf-softfail.carbet.test", "spf-redirect.carbet.test"],
    ),
    "mail.spf.too_many_lookups": (["spf-many.carbet.test"], [GOOD, "spf-ten.carbet.test"]),
    "mail.spf.syntax": (
        ["spf-syntax.carbet.test", "spf-double.carbet.test", "spf-loop.carbet.test"],
        [GOOD, "spf-many.carbet.test"],
    ),
    "mail.spf.void_lookups": (["spf-void.carbet.test"], [GOOD, "spf-void2.carbet.test"]),
    "mail.dmarc.missing": ([BROKEN, "spf-plusall.carbet.test"], [GOOD, "dmarc-none.carbet.test"]),
    "mail.dmarc.none": (["dmarc-none.carbet.test"], [GOOD, "dmarc-sp.carbet.test"]),
    "mail.dmarc.invalid": (["dmarc-bad.carbet.test"], [GOOD, "dmarc-none.carbet.test"]),
    "mail.dmarc.pct": (["dmarc-pct.carbet.test"], [GOOD]),
    "mail.dmarc.sp_none": (["dmarc-sp.carbet.test"], [GOOD]),
    "mail.dmarc.rua_unauthorised": (["dmarc-unauth.carbet.test"], [GOOD, "dmarc-none.carbet.test"]),
    "mail.dkim.missing": ([BROKEN], [GOOD, "dkim-custom.carbet.test"]),
    "mail.mtasts.missing": ([BROKEN, "badcert.carbet.test"], [GOOD, "mtasts-testing.carbet.test"]),
    "mail.mtasts.invalid": (["mtasts-nopolicy.carbet.test"], [GOOD]),
    "mail.mtasts.testing": (["mtasts-testing.carbet.test"], [GOOD]),
    "mail.mtasts.mx_not_covered": (["mtasts-uncovered.carbet.test"], [GOOD]),
    "mail.tlsrpt.missing": ([BROKEN], [GOOD]),
    "mail.starttls.missing": ([BROKEN], [GOOD, "badcert.carbet.test"]),
    "mail.starttls.cert_invalid": (["badcert.carbet.test"], [GOOD, BROKEN]),
    "mail.mx.unreachable": ([BROKEN, "hostile-smtp.carbet.test"], [GOOD]),
    "dns.dnssec.missing": ([BROKEN], [GOOD, "island.carbet.test", "bogus.carbet.test"]),
    "dns.dnssec.incomplete": (["island.carbet.test"], [GOOD, BROKEN]),
    "dns.dnssec.bogus": (["bogus.carbet.test"], [GOOD, BROKEN, "island.carbet.test"]),
    "dns.caa.missing": ([BROKEN], [GOOD]),
    "dns.cname.dangling": ([BROKEN], [GOOD]),
    # DNSSEC of MX zones, DANE and IPv6 parity: mx.good is in a signed zone and publishes a
    # matching TLSA. Their other positive cases run in their own lab (test_dane_dnssec_mx.py,
    # test_ipv6_mail.py: signed zones, TLSA variants, SMTP and DNS over ::1).
    "mail.mx.dnssec.missing": ([BROKEN, "badcert.carbet.test"], [GOOD]),
    "mail.mx.dnssec.bogus": ([], [GOOD, BROKEN]),
    "mail.dane.missing": ([BROKEN, "badcert.carbet.test"], [GOOD]),
    "mail.dane.unvalidated": ([], [GOOD, BROKEN]),
    "mail.dane.mismatch": ([], [GOOD, BROKEN]),
    "mail.mx.ipv6_unreachable": ([], [GOOD, BROKEN]),
    "mail.mx.ipv6_differs": ([], [GOOD, BROKEN]),
    "dns.ns.ipv6_unreachable": ([], [GOOD, BROKEN]),
    "dns.ns.ipv6_differs": ([], [GOOD, BROKEN]),
}


def fired(result) -> set[str]:
    return {o.check for o in result.observations}


@pytest.mark.parametrize("check", sorted(EXPECTATIONS))
def test_check_fires_on_weak_domain_only(scanned, check):
    positive, negative = EXPECTATIONS[check]
    for domain in positive:
        assert check in fired(scanned[domain]), (domain, sorted(fired(scanned[domain])))
    for domain in negative:
        assert check not in fired(scanned[domain]), (domain, sorted(fired(scanned[domain])))


def test_every_mail_check_is_covered_and_registered():
    registered = {c for c, d in all_checks().items() if d.category == "mail"}
    assert registered == set(EXPECTATIONS)
    for check in registered:
        definition = all_checks()[check]
        assert definition.title_fr and definition.title_en and definition.remediation_fr


def test_good_domain_is_clean_and_its_evidence_complete(scanned):
    result = scanned[GOOD]
    assert fired(result) == set()
    assert result.errors == []
    evidence = result.evidence["dns"]
    assert evidence["mx"] == [{"preference": 10, "host": "mx.good.carbet.test"}]
    assert evidence["spf"]["all"] == "-"
    assert evidence["spf"]["lookups"] == 2  # mx + include
    assert evidence["dmarc"]["policy"] == "reject"
    assert evidence["dmarc"]["rua_external"] == ["reporter.test"]
    assert evidence["dmarc"]["rua_unauthorised"] == []
    assert evidence["dkim"] == {"domainkey": "NOERROR", "selectors": ["selector1"]}
    assert evidence["mta_sts"]["mode"] == "enforce"
    assert evidence["mta_sts"]["mx_uncovered"] == []
    assert evidence["tls_rpt"]["records"][0].startswith("v=TLSRPTv1")
    assert evidence["dnssec"]["status"] == "validated"
    assert evidence["dnssec"]["algorithms"] == ["ED25519"]
    assert evidence["caa"]["records"] == ['0 issue "letsencrypt.org"']
    (smtp,) = evidence["smtp"]
    assert smtp["starttls"] and smtp["cert_ok"] and smtp["tls_version"].startswith("TLSv1.")


def test_broken_domain_evidence(scanned):
    evidence = scanned[BROKEN].evidence["dns"]
    assert evidence["dnssec"]["status"] == "unsigned"
    assert evidence["cnames"] == [
        {
            "name": "www.broken.carbet.test",
            "chain": ["old-app.gone.carbet.test"],
            "rcode": "NXDOMAIN",
        }
    ]
    starttls = next(o for o in scanned[BROKEN].observations if o.check == "mail.starttls.missing")
    assert starttls.evidence["hosts"] == ["mx.broken.carbet.test"]
    assert starttls.port == scanned[BROKEN].evidence["dns"]["smtp"][0]["port"]


def test_spf_counts_lookups_through_includes(scanned):
    assert scanned["spf-many.carbet.test"].evidence["dns"]["spf"]["lookups"] == 12
    assert scanned["spf-ten.carbet.test"].evidence["dns"]["spf"]["lookups"] == 10
    assert scanned["spf-void.carbet.test"].evidence["dns"]["spf"]["void_lookups"] == 3
    assert scanned["spf-redirect.carbet.test"].evidence["dns"]["spf"]["all"] == "-"


def test_hostile_smtp_peer_costs_a_timeout_not_a_hang(scanned):
    (probe,) = scanned["hostile-smtp.carbet.test"].evidence["dns"]["smtp"]
    assert probe["reachable"] is False
    assert probe["error"] == "no SMTP greeting"


def test_system_is_not_asked_when_a_nameserver_is_set(mail_lab):
    # A name that only the loopback server knows resolves: the scan used the configured server.
    results = scan(mail_lab.config(), "dmarc-none.carbet.test")
    assert results["dmarc-none.carbet.test"].evidence["dns"]["dmarc"]["policy"] == "none"


def test_the_runner_calls_this_probe_for_mail_domains(mail_lab):
    """The contract with runner.py: a mail domain target gets the mail/DNS checks."""
    import asyncio

    from carbet.engines.exposure import runner

    config = mail_lab.config(ports=(mail_lab.smtp_port,))
    (result,) = asyncio.run(runner.scan_targets(["broken.carbet.test"], config))
    assert result.kind == "domain"
    assert {"mail.spf.missing", "mail.dmarc.missing", "dns.dnssec.missing"} <= fired(result)
    assert result.evidence["dns"]["domain"] == "broken.carbet.test"
