"""Mail and DNS protection of a domain: MX, SPF, DMARC, DKIM, MTA-STS, TLS-RPT, STARTTLS on
every MX, DNSSEC, CAA and dangling CNAMEs.

Entry point: :func:`scan_domain` (called by the runner for domain targets). All DNS questions
go to the configured nameserver (``ScanConfig.nameserver``) through :mod:`.maildns_dns`; the
SMTP and MTA-STS connections go to the addresses that nameserver gives, on
``ScanConfig.smtp_port`` / ``ScanConfig.mta_sts_port``. What was seen lands in
``result.evidence["dns"]``; what is wrong becomes Observations of the "mail" checks declared
in :mod:`.maildns_checks`.

DNSSEC: see :mod:`.dnssec` for what "validated" means.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from carbet.engines.exposure.checks import Check
from carbet.engines.exposure.core import Observation, ScanContext, TargetResult, recording
from carbet.engines.exposure.mail import checks as maildns_checks  # noqa: F401  (registers the checks)
from carbet.engines.exposure.mail.checks import (
    DNS_CAA_MISSING,
    DNS_CNAME_DANGLING,
    DNS_DNSSEC_BOGUS,
    DNS_DNSSEC_INCOMPLETE,
    DNS_DNSSEC_MISSING,
    MAIL_DKIM_MISSING,
    MAIL_DMARC_INVALID,
    MAIL_DMARC_MISSING,
    MAIL_DMARC_NONE,
    MAIL_DMARC_PCT,
    MAIL_DMARC_RUA_UNAUTHORISED,
    MAIL_DMARC_SP_NONE,
    MAIL_MTASTS_INVALID,
    MAIL_MTASTS_MISSING,
    MAIL_MTASTS_MX_NOT_COVERED,
    MAIL_MTASTS_TESTING,
    MAIL_MX_UNREACHABLE,
    MAIL_SPF_MISSING,
    MAIL_SPF_PERMISSIVE,
    MAIL_SPF_SYNTAX,
    MAIL_SPF_TOO_MANY_LOOKUPS,
    MAIL_SPF_VOID_LOOKUPS,
    MAIL_STARTTLS_CERT_INVALID,
    MAIL_STARTTLS_MISSING,
    MAIL_TLSRPT_MISSING,
)
from carbet.engines.exposure.mail.dane import mx_dane
from carbet.engines.exposure.mail.dmarc import (
    authorisation_name,
    is_dmarc,
    needs_authorisation,
    parse_dmarc,
)
from carbet.engines.exposure.mail.dnsclient import Answer, DnsClient, client_for
from carbet.engines.exposure.mail.dnssec import zone_apex, zone_status
from carbet.engines.exposure.mail.ipv6 import mx_ipv6_parity, ns_ipv6_parity
from carbet.engines.exposure.mail.psl import organisational_domain
from carbet.engines.exposure.mail.smtp import (
    fetch_mta_sts_policy,
    mx_matches,
    parse_mta_sts_policy,
    probe_starttls,
)
from carbet.engines.exposure.mail.spf import MAX_LOOKUPS, MAX_VOID_LOOKUPS, analyse_spf

DKIM_SELECTORS = ("default", "selector1", "selector2", "google", "k1", "s1", "s2", "mail", "dkim")
CNAME_PREFIXES = ("", "www.", "mail.", "webmail.", "autodiscover.", "mta-sts.")
MAX_MX = 10


async def scan_domain(ctx: ScanContext, domain: str, result: TargetResult) -> None:
    """Check ``domain``'s mail and DNS protection; append Observations, fill evidence["dns"]."""
    domain = domain.strip().lower().rstrip(".")
    dns_client = client_for(ctx)
    evidence: dict[str, Any] = {"domain": domain, "nameserver": ctx.config.nameserver or ""}
    result.evidence["dns"] = evidence
    started = time.monotonic()
    with dns_client, recording(result):
        mx_hosts = await _mx(dns_client, domain, evidence, result)
        observations = await asyncio.gather(
            _spf(dns_client, domain, evidence, result),
            _dmarc(dns_client, domain, evidence),
            _dkim(dns_client, domain, evidence, has_mail=bool(mx_hosts)),
            _mail_transport(ctx, dns_client, domain, mx_hosts, evidence),
            _dnssec(dns_client, domain, evidence),
            ns_ipv6_parity(ctx, dns_client, domain, evidence),
            _caa(dns_client, domain, evidence),
            _dangling(dns_client, domain, evidence),
        )
    for batch in observations:
        result.observations.extend(batch)
    evidence["queries"] = dns_client.queries
    evidence["seconds"] = round(time.monotonic() - started, 3)


def _obs(check: Check, detail: str, port: int | None = None, **evidence: Any) -> Observation:
    return check.observe(port, detail, evidence)


async def _mx(
    client: DnsClient, domain: str, evidence: dict[str, Any], result: TargetResult
) -> list[str]:
    answer = await client.query(domain, "MX")
    if answer.error:
        result.errors.append(f"MX {domain}: {answer.error}")
    records = sorted(
        ((r.preference, r.exchange.to_text(omit_final_dot=True).lower()) for r in answer.rdatas()),
    )
    evidence["mx"] = [{"preference": p, "host": h} for p, h in records]
    hosts = [host for _, host in records if host not in ("", ".")]
    evidence["null_mx"] = bool(records) and not hosts  # RFC 7505: "this domain takes no mail"
    return list(dict.fromkeys(hosts))[:MAX_MX]


async def _spf(
    client: DnsClient, domain: str, evidence: dict[str, Any], result: TargetResult
) -> list[Any]:
    report = await analyse_spf(client, domain)
    evidence["spf"] = report.as_evidence()
    if report.lookup_error:
        result.errors.append(f"SPF {domain}: {report.lookup_error}")
        return []
    if not report.records:
        return [_obs(MAIL_SPF_MISSING, f"no v=spf1 TXT record at {domain}")]
    found: list[Observation] = []
    if report.errors:
        found.append(_obs(MAIL_SPF_SYNTAX, "; ".join(report.errors[:3]), errors=report.errors))
    if report.record is not None and report.record.valid:
        qualifier = report.all_qualifier
        if qualifier in ("+", "?", ""):
            shown = f"{qualifier}all" if qualifier else "no all mechanism"
            found.append(_obs(MAIL_SPF_PERMISSIVE, shown, record=report.records[0]))
    if report.lookups > MAX_LOOKUPS:
        found.append(
            _obs(
                MAIL_SPF_TOO_MANY_LOOKUPS,
                f"{report.lookups} DNS lookups (10 at most)",
                lookups=report.lookups,
            )
        )
    if report.void_lookups > MAX_VOID_LOOKUPS:
        found.append(
            _obs(
                MAIL_SPF_VOID_LOOKUPS,
                f"{report.void_lookups} void lookups (2 at most)",
                void_lookups=report.void_lookups,
            )
        )
    return found


async def _dmarc_records(client: DnsClient, name: str) -> tuple[list[str], Answer]:
    answer = await client.query(f"_dmarc.{name}", "TXT")
    return [t for t in answer.texts() if is_dmarc(t)], answer


async def _dmarc(client: DnsClient, domain: str, evidence: dict[str, Any]) -> list[Observation]:
    records, answer = await _dmarc_records(client, domain)
    info: dict[str, Any] = {"records": records, "inherited_from": ""}
    evidence["dmarc"] = info
    if answer.error:
        info["error"] = answer.error
        return []
    inherited = False
    org = organisational_domain(domain)
    if not records and org != domain:
        records, _ = await _dmarc_records(client, org)
        if records:
            inherited = True
            info.update(records=records, inherited_from=org)
    if not records:
        return [_obs(MAIL_DMARC_MISSING, f"no v=DMARC1 TXT record at _dmarc.{domain}")]
    if len(records) > 1:
        return [_obs(MAIL_DMARC_INVALID, f"{len(records)} DMARC records (one at most)")]
    record = parse_dmarc(records[0])
    policy = record.subdomain_policy if inherited else record.policy
    info.update(
        policy=policy,
        sp=record.tags.get("sp", ""),
        pct=record.pct,
        rua=[u for u, _ in record.rua],
        ruf=[u for u, _ in record.ruf],
        errors=record.errors,
        warnings=record.warnings,
    )
    found: list[Observation] = []
    if record.errors:
        found.append(_obs(MAIL_DMARC_INVALID, "; ".join(record.errors[:3])))
    if policy == "none":
        found.append(_obs(MAIL_DMARC_NONE, "p=none: spoofed mail is still delivered"))
    elif not policy and not record.errors:
        found.append(_obs(MAIL_DMARC_MISSING, "the DMARC record has no usable policy"))
    if policy in ("quarantine", "reject") and record.pct < 100:
        found.append(_obs(MAIL_DMARC_PCT, f"pct={record.pct}"))
    if not inherited and record.tags.get("sp", "").lower() == "none" and policy != "none":
        found.append(_obs(MAIL_DMARC_SP_NONE, "sp=none"))
    policy_domain = org if inherited else domain
    external = sorted({d for _, d in record.rua if needs_authorisation(policy_domain, d)})
    checks = await asyncio.gather(
        *(client.query(authorisation_name(policy_domain, d), "TXT") for d in external)
    )
    unauthorised = [
        d
        for d, auth in zip(external, checks, strict=True)
        if not auth.error and not any(is_dmarc(t) for t in auth.texts())
    ]
    info["rua_external"] = external
    info["rua_unauthorised"] = unauthorised
    if unauthorised:
        found.append(
            _obs(
                MAIL_DMARC_RUA_UNAUTHORISED,
                "reports to " + ", ".join(unauthorised) + " without their authorisation",
                domains=unauthorised,
            )
        )
    return found


async def _dkim(
    client: DnsClient, domain: str, evidence: dict[str, Any], has_mail: bool
) -> list[Any]:
    base = await client.query(f"_domainkey.{domain}", "TXT")
    info: dict[str, Any] = {"domainkey": base.rcode if not base.error else base.error}
    evidence["dkim"] = info
    selectors: list[str] = []
    # RFC 8020: NXDOMAIN at _domainkey means nothing exists below it, so no selector can.
    if not base.nxdomain:
        answers = await asyncio.gather(
            *(client.query(f"{s}._domainkey.{domain}", "TXT") for s in DKIM_SELECTORS)
        )
        selectors = [
            s
            for s, a in zip(DKIM_SELECTORS, answers, strict=True)
            if any("p=" in t for t in a.texts())
        ]
    info["selectors"] = selectors
    if has_mail and base.nxdomain and not selectors:
        return [_obs(MAIL_DKIM_MISSING, f"_domainkey.{domain} does not exist")]
    return []


async def _addresses(client: DnsClient, host: str) -> tuple[list[str], list[str]]:
    """The host's addresses and the CNAME targets its resolution went through."""
    v4, v6 = await asyncio.gather(client.query(host, "A"), client.query(host, "AAAA"))
    cnames = list(dict.fromkeys(target for _owner, target in v4.cnames + v6.cnames))
    return v4.hosts() + v6.hosts(), cnames


def _first_allowed(
    ctx: ScanContext, addresses: list[str], cnames: list[str], port: int, via: str, name: str
) -> str | None:
    """The first address the scope policy lets the scan contact, reached through ``name``
    (and every CNAME on the way); each refusal is recorded on the target's result."""
    for address in addresses:
        if ctx.check(address, port=port, via=via, name=name) and all(
            ctx.check(address, port=port, via="cname", name=hop) for hop in cnames
        ):
            return address
    return None


async def _mail_transport(
    ctx: ScanContext, client: DnsClient, domain: str, mx_hosts: list[str], evidence: dict[str, Any]
) -> list[Observation]:
    if not mx_hosts:
        return []
    sts, rpt, smtp = await asyncio.gather(
        _mta_sts(ctx, client, domain, mx_hosts, evidence),
        _tls_rpt(client, domain, evidence),
        _starttls_all(ctx, client, mx_hosts, evidence),
    )
    return sts + rpt + smtp


async def _mta_sts(
    ctx: ScanContext, client: DnsClient, domain: str, mx_hosts: list[str], evidence: dict[str, Any]
) -> list[Observation]:
    answer = await client.query(f"_mta-sts.{domain}", "TXT")
    records = [t for t in answer.texts() if t.replace(" ", "").startswith("v=STSv1")]
    info: dict[str, Any] = {"records": records}
    evidence["mta_sts"] = info
    if answer.error:
        info["error"] = answer.error
        return []
    if not records:
        return [_obs(MAIL_MTASTS_MISSING, f"no v=STSv1 TXT record at _mta-sts.{domain}")]
    host = f"mta-sts.{domain}"
    addresses, cnames = await _addresses(client, host)
    info["addresses"], info["cnames"] = addresses, cnames
    if not addresses:
        info["error"] = f"{host} has no address"
        return [_obs(MAIL_MTASTS_INVALID, info["error"])]
    address = _first_allowed(ctx, addresses, cnames, ctx.config.mta_sts_port, "name", host)
    if address is None:
        # Not contacted (recorded on the result): nothing is concluded about the policy.
        info["error"] = f"{host}: not contacted (scope policy)"
        info["refused"] = True
        return []
    fetched = await fetch_mta_sts_policy(ctx, domain, address)
    info.update(fetched)
    if "error" in fetched:
        return [_obs(MAIL_MTASTS_INVALID, fetched["error"])]
    policy = parse_mta_sts_policy(fetched.get("policy_text", ""))
    info.update(
        mode=policy.mode, mx_patterns=policy.mx, max_age=policy.max_age, policy_errors=policy.errors
    )
    if not policy.valid:
        return [_obs(MAIL_MTASTS_INVALID, "; ".join(policy.errors))]
    found: list[Observation] = []
    if policy.mode in ("testing", "none"):
        found.append(_obs(MAIL_MTASTS_TESTING, f"mode: {policy.mode}"))
    if policy.mode != "none":
        uncovered = [h for h in mx_hosts if not any(mx_matches(p, h) for p in policy.mx)]
        info["mx_uncovered"] = uncovered
        if uncovered:
            found.append(
                _obs(
                    MAIL_MTASTS_MX_NOT_COVERED,
                    "not covered: " + ", ".join(uncovered),
                    hosts=uncovered,
                )
            )
    return found


async def _tls_rpt(client: DnsClient, domain: str, evidence: dict[str, Any]) -> list[Observation]:
    answer = await client.query(f"_smtp._tls.{domain}", "TXT")
    records = [t for t in answer.texts() if t.replace(" ", "").startswith("v=TLSRPTv1")]
    evidence["tls_rpt"] = {"records": records}
    if not answer.error and not records:
        return [_obs(MAIL_TLSRPT_MISSING, f"no v=TLSRPTv1 TXT record at _smtp._tls.{domain}")]
    return []


async def _starttls_all(
    ctx: ScanContext, client: DnsClient, mx_hosts: list[str], evidence: dict[str, Any]
) -> list[Observation]:
    port = ctx.config.smtp_port

    async def one(host: str) -> dict[str, Any]:
        addresses, cnames = await _addresses(client, host)
        if not addresses:
            return {"host": host, "reachable": False, "error": "no address"}
        shown = {"addresses": addresses, "cnames": cnames}
        address = _first_allowed(ctx, addresses, cnames, port, "mx", host)
        if address is None:
            # Refused by the scope policy (recorded on the result): never contacted, so
            # nothing is concluded about it (not even "unreachable").
            return {"host": host, "reachable": False, "refused": True, **shown}
        return {**shown, **await probe_starttls(ctx, host, address)}

    probes = await asyncio.gather(*(one(host) for host in mx_hosts))
    evidence["smtp"] = probes
    # DNSSEC of the MX zones and DANE, then IPv6 parity: both need what STARTTLS saw.
    transport = await asyncio.gather(
        mx_dane(ctx, client, probes, evidence), mx_ipv6_parity(ctx, client, probes, evidence)
    )
    without = [p["host"] for p in probes if p.get("reachable") and not p.get("starttls")]
    bad_cert = [p["host"] for p in probes if p.get("starttls") and p.get("cert_ok") is False]
    unreachable = [p["host"] for p in probes if not p.get("reachable") and not p.get("refused")]
    found: list[Observation] = [obs for batch in transport for obs in batch]
    if without:
        found.append(
            _obs(MAIL_STARTTLS_MISSING, "no STARTTLS: " + ", ".join(without), port, hosts=without)
        )
    if bad_cert:
        reasons = {
            p["host"]: p.get("cert_error") or p.get("tls_error", "")
            for p in probes
            if p["host"] in bad_cert
        }
        found.append(
            _obs(
                MAIL_STARTTLS_CERT_INVALID,
                "; ".join(f"{h}: {r}" for h, r in reasons.items())[:300],
                port,
                hosts=bad_cert,
            )
        )
    if unreachable:
        found.append(
            _obs(
                MAIL_MX_UNREACHABLE,
                "unreachable: " + ", ".join(unreachable),
                port,
                hosts=unreachable,
            )
        )
    return found


async def _dnssec(client: DnsClient, domain: str, evidence: dict[str, Any]) -> list[Observation]:
    apex = await zone_apex(client, domain)
    info, _keys = await zone_status(client, apex)
    evidence["dnssec"] = info
    status = info["status"]
    if status == "unsigned":
        return [_obs(DNS_DNSSEC_MISSING, f"no DNSKEY at {apex}", zone=apex)]
    if status == "bogus":
        return [_obs(DNS_DNSSEC_BOGUS, "; ".join(info["problems"]), zone=apex)]
    if status == "signed_no_ds":
        return [_obs(DNS_DNSSEC_INCOMPLETE, f"{apex} is signed but has no DS", zone=apex)]
    return []


async def _caa(client: DnsClient, domain: str, evidence: dict[str, Any]) -> list[Observation]:
    """RFC 8659: the relevant CAA set is the closest one climbing toward the root."""
    labels = domain.split(".")
    for index in range(len(labels) - 1):  # stop before the TLD
        name = ".".join(labels[index:])
        answer = await client.query(name, "CAA")
        if answer.error:
            evidence["caa"] = {"error": answer.error}
            return []
        if answer.records:
            evidence["caa"] = {"owner": name, "records": [r.to_text() for r in answer.rdatas()]}
            return []
    evidence["caa"] = {"owner": "", "records": []}
    return [_obs(DNS_CAA_MISSING, f"no CAA record for {domain} or its parents")]


async def _dangling(client: DnsClient, domain: str, evidence: dict[str, Any]) -> list[Observation]:
    names = [f"{prefix}{domain}" for prefix in CNAME_PREFIXES]
    answers = await asyncio.gather(*(client.query(name, "A") for name in names))
    chains = []
    dangling = []
    for name, answer in zip(names, answers, strict=True):
        if not answer.cnames:
            continue
        chains.append({"name": name, "chain": [t for _, t in answer.cnames], "rcode": answer.rcode})
        if answer.nxdomain:
            dangling.append(f"{name} → {answer.cnames[-1][1]}")
    evidence["cnames"] = chains
    if dangling:
        return [_obs(DNS_CNAME_DANGLING, "; ".join(dangling), names=dangling)]
    return []
