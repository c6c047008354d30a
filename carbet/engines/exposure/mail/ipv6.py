"""IPv6 parity of a domain's MX and NS hosts (internet.nl's "reachable over IPv6" tests).

When an MX host announces an IPv6 address (AAAA), it must answer SMTP over IPv6 as it does
over IPv4: the same STARTTLS offer, the same certificate. When a name server of the domain's
zone announces an AAAA, it must answer over IPv6, with the same zone version (SOA serial) as
over IPv4. Findings only compare what was actually seen: an address the scope policy refuses
is never contacted (the refusal is recorded), and a host unreachable on both families is the
MX probe's business (``mail.mx.unreachable``), not a parity problem.

The name servers are asked over TCP (DNS over TCP is mandatory, RFC 7766), through
``ScanContext.open_connection`` like every other connection of the scan, on port 53 (a lab's
configuration may carry another ``ns_port``).
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rdatatype

from carbet.engines.exposure.core import BudgetExceeded, Observation, ScanContext, close_quietly
from carbet.engines.exposure.mail.checks_transport import (
    DNS_NS_IPV6_DIFFERS,
    DNS_NS_IPV6_UNREACHABLE,
    MAIL_MX_IPV6_DIFFERS,
    MAIL_MX_IPV6_UNREACHABLE,
)
from carbet.engines.exposure.mail.dnsclient import DnsClient
from carbet.engines.exposure.mail.dnssec import zone_apex
from carbet.engines.exposure.mail.smtp import probe_starttls

MAX_NS = 4
ADDRESSES_PER_FAMILY = 2
BUDGET = "request budget exhausted"  # the probes' error when the budget ran out
MAX_DNS_TCP = 65535


def is_v6(address: str) -> bool:
    return ":" in address


def _allowed(
    ctx: ScanContext, addresses: list[str], cnames: list[str], port: int, via: str, name: str
) -> str | None:
    for address in addresses:
        if ctx.check(address, port=port, via=via, name=name) and all(
            ctx.check(address, port=port, via="cname", name=hop) for hop in cnames
        ):
            return address
    return None


# ---------------------------------------------------------------------------- MX


def _smtp_view(probe: dict[str, Any]) -> dict[str, Any]:
    """What must be the same on both families."""
    return {
        "starttls": bool(probe.get("starttls")),
        "cert_ok": probe.get("cert_ok"),
        "cert_sha256": probe.get("cert_sha256", ""),
    }


async def _mx_pair(ctx: ScanContext, probe: dict[str, Any]) -> dict[str, Any] | None:
    addresses = list(probe.get("addresses") or [])
    v6 = [a for a in addresses if is_v6(a)]
    v4 = [a for a in addresses if not is_v6(a)]
    used = str(probe.get("address") or "")
    if not v6 or not v4 or not used or probe.get("refused"):
        return None  # nothing announced over IPv6, or nothing to compare with
    host, port = str(probe["host"]), ctx.config.smtp_port
    other_family = v4 if is_v6(used) else v6
    other = _allowed(ctx, other_family, list(probe.get("cnames") or []), port, "mx", host)
    if other is None:
        return {"host": host, "refused": True}
    second = await probe_starttls(ctx, host, other)
    if second.get("error") == BUDGET:
        return {"host": host, "budget": True}  # not asked: nothing concluded
    by_family = {("v6" if is_v6(used) else "v4"): probe, ("v6" if is_v6(other) else "v4"): second}
    pair: dict[str, Any] = {"host": host}
    for family, seen in by_family.items():
        pair[family] = {
            "address": seen.get("address"),
            "reachable": bool(seen.get("reachable")),
            "banner": str(seen.get("banner", ""))[:120],
            **_smtp_view(seen),
        }
    return pair


async def mx_ipv6_parity(
    ctx: ScanContext, client: DnsClient, probes: list[dict[str, Any]], evidence: dict[str, Any]
) -> list[Observation]:
    """Each MX host that announces an AAAA: reachable over IPv6, and the same over both."""
    pairs = [p for p in await asyncio.gather(*(_mx_pair(ctx, p) for p in probes)) if p]
    evidence.setdefault("ipv6", {})["mx"] = pairs
    compared = [p for p in pairs if "v4" in p and "v6" in p]
    unreachable = [p["host"] for p in compared if p["v4"]["reachable"] and not p["v6"]["reachable"]]
    differs = []
    for pair in compared:
        if not (pair["v4"]["reachable"] and pair["v6"]["reachable"]):
            continue
        fields = [
            k for k in ("starttls", "cert_ok", "cert_sha256") if pair["v4"][k] != pair["v6"][k]
        ]
        if fields:
            pair["differs"] = fields
            differs.append(f"{pair['host']} ({', '.join(fields)})")
    port = ctx.config.smtp_port
    found: list[Observation] = []
    if unreachable:
        found.append(
            MAIL_MX_IPV6_UNREACHABLE.observe(
                port, "no SMTP over IPv6: " + ", ".join(unreachable), {"hosts": unreachable}
            )
        )
    if differs:
        found.append(
            MAIL_MX_IPV6_DIFFERS.observe(port, "; ".join(differs)[:300], {"hosts": differs})
        )
    return found


# ---------------------------------------------------------------------------- NS


def soa_query(zone: str) -> bytes:
    """A non-recursive SOA question over TCP (length-prefixed)."""
    query = dns.message.make_query(zone, dns.rdatatype.SOA)
    query.flags &= ~dns.flags.RD
    wire = query.to_wire()
    return struct.pack("!H", len(wire)) + wire


def read_soa_serial(data: bytes, zone: str) -> int | None:
    """The serial of ``zone``'s SOA in a DNS reply (without its length prefix), or None when
    the reply is unreadable or holds no such SOA. Never raises."""
    try:
        message = dns.message.from_wire(data, ignore_trailing=True)
        owner = dns.name.from_text(zone)
    except (dns.exception.DNSException, ValueError, UnicodeError):
        return None
    for rrset in message.answer:
        if rrset.rdtype == dns.rdatatype.SOA and rrset.name == owner and len(rrset):
            serial: int = rrset[0].serial
            return serial
    return None


async def ask_soa(ctx: ScanContext, ns_host: str, address: str, zone: str) -> dict[str, Any]:
    port = ctx.config.ns_port
    timeout = ctx.config.read_timeout
    seen: dict[str, Any] = {"address": address, "serial": None}
    try:
        async with ctx.slot(ns_host):
            reader, writer = await ctx.open_connection(ns_host, address, port)
            try:
                writer.write(soa_query(zone))
                await writer.drain()
                head = await asyncio.wait_for(reader.readexactly(2), timeout)
                body = await asyncio.wait_for(
                    reader.readexactly(struct.unpack("!H", head)[0]), timeout
                )
            finally:
                await close_quietly(writer)
    except BudgetExceeded:
        seen["error"] = BUDGET
        return seen
    except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
        seen["error"] = f"{type(exc).__name__}: {exc}"[:160]
        return seen
    seen["serial"] = read_soa_serial(body, zone)
    if seen["serial"] is None:
        seen["error"] = "no SOA in the answer"
    return seen


async def _ns_host(ctx: ScanContext, client: DnsClient, host: str, zone: str) -> dict[str, Any]:
    v4, v6 = await asyncio.gather(client.query(host, "A"), client.query(host, "AAAA"))
    info: dict[str, Any] = {"host": host, "v4": [], "v6": []}
    if not v6.hosts():
        return info
    port = ctx.config.ns_port
    asked = []
    for family, answer in (("v4", v4), ("v6", v6)):
        for address in answer.hosts()[:ADDRESSES_PER_FAMILY]:
            if ctx.check(address, port=port, via="ns", name=host):
                asked.append((family, address))
    replies = await asyncio.gather(*(ask_soa(ctx, host, a, zone) for _f, a in asked))
    for (family, _address), reply in zip(asked, replies, strict=True):
        info[family].append(reply)
    return info


async def ns_ipv6_parity(
    ctx: ScanContext, client: DnsClient, domain: str, evidence: dict[str, Any]
) -> list[Observation]:
    """Each name server of the domain's zone that announces an AAAA: it answers over IPv6,
    with the same SOA serial as over IPv4."""
    zone = await zone_apex(client, domain)
    answer = await client.query(zone, "NS")
    hosts = sorted({r.target.to_text(omit_final_dot=True).lower() for r in answer.rdatas()})
    infos = await asyncio.gather(*(_ns_host(ctx, client, h, zone) for h in hosts[:MAX_NS]))
    evidence.setdefault("ipv6", {})["ns"] = {"zone": zone, "hosts": list(infos)}
    unreachable, differs = [], []
    for info in infos:
        if any(r.get("error") == BUDGET for r in info["v4"] + info["v6"]):
            info["budget"] = True  # some address was not asked: nothing concluded
            continue
        v4 = {r["serial"] for r in info["v4"] if r["serial"] is not None}
        v6 = {r["serial"] for r in info["v6"] if r["serial"] is not None}
        if info["v6"] and v4 and not v6:
            unreachable.append(info["host"])
        elif v4 and v6 and v4 != v6:
            differs.append(f"{info['host']} (v4 {sorted(v4)}, v6 {sorted(v6)})")
    found: list[Observation] = []
    if unreachable:
        found.append(
            DNS_NS_IPV6_UNREACHABLE.observe(
                None, "no DNS answer over IPv6: " + ", ".join(unreachable), {"hosts": unreachable}
            )
        )
    if differs:
        found.append(
            DNS_NS_IPV6_DIFFERS.observe(None, "; ".join(differs)[:300], {"hosts": differs})
        )
    return found
