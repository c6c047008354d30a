"""The test zones: one good mail domain, one broken, and one domain per single weakness.

Layout on loopback (see conftest): the DNS server on ``DNS_HOST``; SMTP with STARTTLS on
``SMTP_TLS_HOST``, SMTP without it on ``SMTP_PLAIN_HOST`` (same port); the MTA-STS HTTPS
server on ``HTTPS_HOST``; nothing listens on ``DEAD_HOST``.
"""

from __future__ import annotations

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ed25519

from .authdns import zone_from_text

DNS_HOST = "127.53.0.1"
SMTP_TLS_HOST = "127.53.1.1"
SMTP_PLAIN_HOST = "127.53.1.2"
HTTPS_HOST = "127.53.1.3"
DEAD_HOST = "127.53.1.9"
HOSTILE_SMTP_HOST = "127.53.1.4"

SOA = (
    "@ 300 IN SOA ns.carbet.test. hostmaster.carbet.test. 1 3600 600 86400 300\n"
    "@ NS ns.carbet.test.\n"
)
SPF_MANY = " ".join(f"include:i{n}.spf-many.carbet.test" for n in range(1, 5))
SPF_TEN = " ".join(f"a:x{n}.spf-ten.carbet.test" for n in range(1, 9))
DKIM_KEY = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

GOOD = f"""{SOA}
@ MX 10 mx.good.carbet.test.
@ A {HTTPS_HOST}
@ TXT "v=spf1 mx include:_spf.good.carbet.test -all"
@ CAA 0 issue "letsencrypt.org"
_spf TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.carbet.test,mailto:agg@reporter.test"
selector1._domainkey TXT "{DKIM_KEY}"
_mta-sts TXT "v=STSv1; id=20240101T000000"
mta-sts A {HTTPS_HOST}
_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tls@good.carbet.test"
mx A {SMTP_TLS_HOST}
www CNAME good.carbet.test.
"""

BROKEN = f"""{SOA}
@ MX 10 mx.broken.carbet.test.
@ MX 20 mx2.broken.carbet.test.
mx A {SMTP_PLAIN_HOST}
mx2 A {DEAD_HOST}
www CNAME old-app.gone.carbet.test.
"""

SIGNED_ONLY = f"""{SOA}
@ TXT "v=spf1 -all"
@ A {DEAD_HOST}
"""

# One weakness each, as names of the parent zone (their zone apex is carbet.test: unsigned).
PARENT = f"""{SOA}
ns A {DNS_HOST}
spf-plusall TXT "v=spf1 +all"
spf-neutral TXT "v=spf1 ?all"
spf-noall TXT "v=spf1 ip4:192.0.2.1"
spf-softfail TXT "v=spf1 ip4:192.0.2.1 ~all"
spf-redirect TXT "v=spf1 redirect=_spf.good.carbet.test"
spf-many TXT "v=spf1 {SPF_MANY} -all"
i1.spf-many TXT "v=spf1 a mx -all"
i2.spf-many TXT "v=spf1 a mx -all"
i3.spf-many TXT "v=spf1 a mx -all"
i4.spf-many TXT "v=spf1 a mx -all"
i1.spf-many A 192.0.2.1
i2.spf-many A 192.0.2.2
i3.spf-many A 192.0.2.3
i4.spf-many A 192.0.2.4
i1.spf-many MX 10 i1.spf-many.carbet.test.
i2.spf-many MX 10 i2.spf-many.carbet.test.
i3.spf-many MX 10 i3.spf-many.carbet.test.
i4.spf-many MX 10 i4.spf-many.carbet.test.
spf-ten TXT "v=spf1 a mx {SPF_TEN} -all"
spf-ten A 192.0.2.10
spf-ten MX 10 mx.dead.carbet.test.
x1.spf-ten A 192.0.2.11
x2.spf-ten A 192.0.2.12
x3.spf-ten A 192.0.2.13
x4.spf-ten A 192.0.2.14
x5.spf-ten A 192.0.2.15
x6.spf-ten A 192.0.2.16
x7.spf-ten A 192.0.2.17
x8.spf-ten A 192.0.2.18
spf-syntax TXT "v=spf1 ip4:999.0.0.1 -all"
spf-double TXT "v=spf1 -all"
spf-double TXT "v=spf1 mx -all"
spf-loop TXT "v=spf1 include:spf-loop.carbet.test -all"
spf-void TXT "v=spf1 a:nx1.carbet.test a:nx2.carbet.test a:nx3.carbet.test -all"
spf-void2 TXT "v=spf1 a:nx1.carbet.test a:nx2.carbet.test -all"
dmarc-none TXT "v=spf1 -all"
_dmarc.dmarc-none TXT "v=DMARC1; p=none; rua=mailto:d@carbet.test"
dmarc-unauth TXT "v=spf1 -all"
_dmarc.dmarc-unauth TXT "v=DMARC1; p=reject; rua=mailto:agg@unauth.test"
dmarc-sp TXT "v=spf1 -all"
_dmarc.dmarc-sp TXT "v=DMARC1; p=reject; sp=none"
dmarc-pct TXT "v=spf1 -all"
_dmarc.dmarc-pct TXT "v=DMARC1; p=quarantine; pct=50"
dmarc-bad TXT "v=spf1 -all"
_dmarc.dmarc-bad TXT "v=DMARC1; p=block"
mtasts-uncovered MX 10 mx.good.carbet.test.
mtasts-uncovered MX 20 mx.dead.carbet.test.
_mta-sts.mtasts-uncovered TXT "v=STSv1; id=1"
mta-sts.mtasts-uncovered A {HTTPS_HOST}
mtasts-testing MX 10 mx.good.carbet.test.
_mta-sts.mtasts-testing TXT "v=STSv1; id=1"
mta-sts.mtasts-testing A {HTTPS_HOST}
mtasts-nopolicy MX 10 mx.good.carbet.test.
_mta-sts.mtasts-nopolicy TXT "v=STSv1; id=1"
mta-sts.mtasts-nopolicy A {HTTPS_HOST}
mx.dead A {DEAD_HOST}
hostile-smtp MX 10 mx.hostile-smtp.carbet.test.
mx.hostile-smtp A {HOSTILE_SMTP_HOST}
badcert MX 10 mx.badcert.carbet.test.
mx.badcert A {SMTP_TLS_HOST}
dkim-custom MX 10 mx.good.carbet.test.
custom._domainkey.dkim-custom TXT "{DKIM_KEY}"
"""

REPORTER = f"""{SOA}
good.carbet.test._report._dmarc TXT "v=DMARC1"
"""

UNAUTH = f"""{SOA}
other.example._report._dmarc TXT "v=DMARC1"
"""

MTA_STS_POLICIES = {
    "mta-sts.good.carbet.test": "version: STSv1\r\nmode: enforce\r\nmx: mx.good.carbet.test\r\n"
    "max_age: 86400\r\n",
    "mta-sts.mtasts-uncovered.carbet.test": "version: STSv1\nmode: enforce\n"
    "mx: *.good.carbet.test\nmax_age: 604800\n",
    "mta-sts.mtasts-testing.carbet.test": "version: STSv1\nmode: testing\n"
    "mx: mx.good.carbet.test\nmax_age: 86400\n",
}  # mta-sts.mtasts-nopolicy answers 404


def _signed(origin: str, text: str) -> tuple[dns.zone.Zone, dns.rdtypes.ANY.DNSKEY.DNSKEY]:
    zone = zone_from_text(origin, text)
    private = ed25519.Ed25519PrivateKey.generate()
    dnskey = dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.ED25519, flags=257)
    dns.dnssec.sign_zone(zone, keys=[(private, dnskey)], lifetime=7 * 86400)
    return zone, dnskey


def build_zones(mx_tlsa: str = "") -> list[dns.zone.Zone]:
    """``mx_tlsa``: the DANE record of mx.good (from its certificate, issued at run time)."""
    good_text = GOOD + (f"_25._tcp.mx TLSA {mx_tlsa}\n" if mx_tlsa else "")
    good, good_key = _signed("good.carbet.test.", good_text)
    island, _island_key = _signed("island.carbet.test.", SIGNED_ONLY)
    bogus, _bogus_key = _signed("bogus.carbet.test.", SIGNED_ONLY)
    # The parent publishes DS for good (matching) and bogus (a key the zone never used).
    stray = dns.dnssec.make_dnskey(
        ed25519.Ed25519PrivateKey.generate().public_key(), dns.dnssec.Algorithm.ED25519, flags=257
    )
    ds_good = dns.dnssec.make_ds("good.carbet.test.", good_key, "SHA256")
    ds_bogus = dns.dnssec.make_ds("bogus.carbet.test.", stray, "SHA256")
    parent_text = PARENT + f"good DS {ds_good.to_text()}\nbogus DS {ds_bogus.to_text()}\n"
    return [
        zone_from_text("carbet.test.", parent_text),
        good,
        island,
        bogus,
        zone_from_text("broken.carbet.test.", BROKEN),
        zone_from_text("reporter.test.", REPORTER),
        zone_from_text("unauth.test.", UNAUTH),
    ]
