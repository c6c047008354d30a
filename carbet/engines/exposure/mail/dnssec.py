"""DNSSEC status of a zone, as the mail/DNS probe judges it (the domain's zone, each MX
host's zone, the zone of a TLSA record).

What "validated" means here: either the resolver set the AD bit (it validated the whole
chain), or our own check passed: the DNSKEY set is signed by one of its keys, the SOA set is
signed by the zone's keys, and one DS published at the parent matches a key that signs the
DNSKEY set. The parent's own chain up to the root is not checked by us (a validating resolver
does that).
"""

from __future__ import annotations

import asyncio
from typing import Any

import dns.dnssec
import dns.exception
import dns.name

from carbet.engines.exposure.mail.dnsclient import Answer, DnsClient


async def zone_apex(client: DnsClient, domain: str) -> str:
    """The zone that holds ``domain`` (the owner of its SOA)."""
    # With DO set: the DNSSEC check asks the apex's SOA the same way, and gets it from cache.
    answer = await client.query(domain, "SOA", dnssec=True)
    if answer.records:
        # A dnspython RRset or a LightRRset: both name their owner with to_text -> str.
        owner: str = answer.records[0].name.to_text(omit_final_dot=True)
        return owner.lower()
    if answer.authority_soa:
        return answer.authority_soa
    return domain


async def zone_status(client: DnsClient, apex: str) -> tuple[dict[str, Any], Answer]:
    """The zone's DNSSEC status: ``info["status"]`` is one of unknown (the keys could not be
    asked), unsigned, bogus, signed_no_ds or validated. The DNSKEY answer comes back too, to
    check other signatures of the zone with the same keys."""
    keys, soa, ds = await asyncio.gather(
        client.query(apex, "DNSKEY", dnssec=True),
        client.query(apex, "SOA", dnssec=True),
        client.query(apex, "DS", dnssec=True),
    )
    info: dict[str, Any] = {"zone": apex, "ad": keys.authenticated or soa.authenticated}
    if keys.error:
        info["status"] = "unknown"
        info["error"] = keys.error
        return info, keys
    if not keys.records:
        info["status"] = "unsigned"
        return info, keys
    info["algorithms"] = sorted({dns.dnssec.algorithm_to_text(k.algorithm) for k in keys.rdatas()})
    info["ds"] = [r.to_text() for r in ds.rdatas()][:10]
    problems = verify_zone(apex, keys, soa, ds)
    info["problems"] = problems
    if info["ad"]:
        info["status"] = "validated"  # by the resolver, whole chain
    elif problems:
        info["status"] = "bogus"
    elif not ds.rdatas():
        info["status"] = "signed_no_ds"
    else:
        info["status"] = "validated"  # our own check: keys, SOA signature and DS match
    return info, keys


def verify_rrset(answer: Answer, keys: Answer, apex: str) -> str:
    """Empty when ``answer``'s records carry a signature that verifies with the zone's keys
    (or the resolver validated them), else why not (used for TLSA records, RFC 7672 2.2)."""
    if answer.authenticated:
        return ""
    if not answer.records or not answer.signatures:
        return "not signed"
    if not keys.records:
        return "the zone has no DNSKEY"
    keyring = {dns.name.from_text(apex): keys.records[0]}
    try:
        dns.dnssec.validate(answer.records[0], answer.signatures[0], keyring)
    except (dns.exception.ValidationFailure, dns.exception.DNSException, ValueError) as exc:
        return f"signature does not verify: {exc}"[:160]
    return ""


def verify_zone(apex: str, keys: Answer, soa: Answer, ds: Answer) -> list[str]:
    problems: list[str] = []
    zone = dns.name.from_text(apex)
    key_set = keys.records[0]
    for label, answer in (("DNSKEY", keys), ("SOA", soa)):
        if not answer.records or not answer.signatures:
            problems.append(f"{label} set is not signed")
            continue
        try:
            dns.dnssec.validate(answer.records[0], answer.signatures[0], {zone: key_set})
        except (dns.exception.ValidationFailure, dns.exception.DNSException, ValueError) as exc:
            problems.append(f"{label} signature does not verify: {exc}"[:160])
    ds_records = ds.rdatas()
    if ds_records:
        matched = False
        for ds_record in ds_records:
            for key in key_set:
                try:
                    candidate = dns.dnssec.make_ds(zone, key, ds_record.digest_type)
                except (dns.exception.UnsupportedAlgorithm, ValueError, dns.exception.DNSException):
                    continue
                if candidate == ds_record:
                    matched = True
        if not matched:
            problems.append("no DS at the parent matches a DNSKEY")
    return problems
