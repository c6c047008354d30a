"""A small DNS client for the mail/DNS probe: one configurable nameserver, timeouts, a cache.

Queries go to ``ScanConfig.nameserver`` (``IP[:PORT]``) with recursion desired, or to the
system resolver when none is set. Every query is bounded by ``ScanConfig.dns_timeout`` (two
tries over UDP, then TCP when the answer is truncated), so a hostile or silent server costs a
few seconds at most and never an exception: failures come back as an :class:`Answer` with
``error`` set. Answers are cached per scan because SPF includes and MX hosts repeat a lot.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset

from .core import ScanContext

MAX_TXT_CHARS = 8192  # longer TXT records are cut: nobody needs more for SPF/DMARC/DKIM
MAX_CNAME_HOPS = 8
EDNS_PAYLOAD = 1232


@dataclass
class Answer:
    """What one question got: the records of the asked type (after CNAMEs), or why not."""

    name: str
    rdtype: str
    rcode: str = "NOERROR"  # NOERROR | NXDOMAIN | SERVFAIL | REFUSED | ...
    records: list[dns.rrset.RRset] = field(default_factory=list)  # the asked type only
    signatures: list[dns.rrset.RRset] = field(default_factory=list)  # RRSIGs over them
    cnames: list[tuple[str, str]] = field(default_factory=list)  # (owner, target) chain
    authority_soa: str = ""  # owner of the SOA in the authority section (the zone apex)
    authenticated: bool = False  # AD flag from a validating resolver
    error: str = ""  # timeout, malformed reply...: the question could not be answered

    @property
    def ok(self) -> bool:
        return not self.error and self.rcode in ("NOERROR", "NXDOMAIN")

    @property
    def nxdomain(self) -> bool:
        return not self.error and self.rcode == "NXDOMAIN"

    @property
    def empty(self) -> bool:
        """NXDOMAIN or NODATA: a "void lookup" in SPF's sense."""
        return self.ok and not self.rdatas()

    def rdatas(self) -> list:
        return [rdata for rrset in self.records for rdata in rrset]

    def texts(self) -> list[str]:
        """TXT records as strings (character-strings joined), cut at MAX_TXT_CHARS."""
        out = []
        for rdata in self.rdatas():
            strings = getattr(rdata, "strings", None)
            if strings is None:
                continue
            raw = b"".join(strings)[:MAX_TXT_CHARS]
            out.append(raw.decode("utf-8", "replace"))
        return out

    def hosts(self) -> list[str]:
        """Addresses of A/AAAA answers."""
        return [rdata.address for rdata in self.rdatas() if hasattr(rdata, "address")]


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


class DnsClient:
    """Asks one resolver (or the system's) with bounded time; shared by a whole scan."""

    def __init__(
        self, nameserver: tuple[str, int] | None, timeout: float = 3.0, concurrency: int = 256
    ) -> None:
        self.nameserver = nameserver
        self.timeout = timeout
        self._semaphore = asyncio.Semaphore(concurrency)
        self._cache: dict[tuple[str, str, bool], asyncio.Future[Answer]] = {}
        self._resolver: dns.asyncresolver.Resolver | None = None
        self.queries = 0  # questions actually sent (cache misses)

    async def query(self, name: str, rdtype: str, *, dnssec: bool = False) -> Answer:
        key = (name.lower().rstrip("."), rdtype.upper(), dnssec)
        cached = self._cache.get(key)
        if cached is None:
            cached = asyncio.get_running_loop().create_future()
            self._cache[key] = cached
            try:
                cached.set_result(await self._resolve_chain(key[0], key[1], dnssec))
            except BaseException:  # cancelled (or a bug): let the next asker retry
                del self._cache[key]
                cached.cancel()
                raise
        return await asyncio.shield(cached)

    async def _resolve_chain(self, name: str, rdtype: str, dnssec: bool) -> Answer:
        """Ask, and follow CNAMEs the resolver left unresolved (an authoritative server does)."""
        answer = await self._ask(name, rdtype, dnssec)
        hops = 0
        while (
            answer.rcode == "NOERROR"
            and not answer.error
            and not answer.records
            and answer.cnames
            and hops < MAX_CNAME_HOPS
            and rdtype != "CNAME"
        ):
            target = answer.cnames[-1][1]
            if any(owner == target for owner, _ in answer.cnames):
                break  # a CNAME loop: stop with what we have
            follow = await self._ask(target, rdtype, dnssec)
            follow.cnames = answer.cnames + follow.cnames
            follow.name = name
            answer = follow
            hops += 1
        return answer

    async def _ask(self, name: str, rdtype: str, dnssec: bool) -> Answer:
        answer = Answer(name=name, rdtype=rdtype)
        try:
            qname = dns.name.from_text(name)
            qtype = dns.rdatatype.from_text(rdtype)
        except (dns.exception.DNSException, ValueError) as exc:
            answer.error = f"invalid name: {exc}"
            return answer
        async with self._semaphore:
            self.queries += 1
            try:
                response = await asyncio.wait_for(
                    self._exchange(qname, qtype, dnssec), self.timeout + 0.5
                )
            except (TimeoutError, dns.exception.Timeout):
                answer.error = "timeout"
                return answer
            except (dns.exception.DNSException, OSError, ValueError, EOFError) as exc:
                answer.error = f"{type(exc).__name__}: {exc}"[:200]
                return answer
        if isinstance(response, Answer):  # the system resolver path
            return response
        return self._read(answer, response, qname, qtype)

    async def _exchange(
        self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType, dnssec: bool
    ) -> dns.message.Message | Answer:
        if self.nameserver is None:
            return await self._system(qname, qtype, dnssec)
        host, port = self.nameserver
        query = dns.message.make_query(
            qname, qtype, use_edns=0, want_dnssec=dnssec, payload=EDNS_PAYLOAD
        )
        if dnssec:
            query.flags |= dns.flags.AD  # ask a validating resolver to tell us (RFC 6840)
        per_try = self.timeout / 2
        response = None
        for _attempt in range(2):
            try:
                response = await dns.asyncquery.udp(
                    query,
                    host,
                    port=port,
                    timeout=per_try,
                    ignore_unexpected=True,
                    ignore_trailing=True,
                )
                break
            except dns.exception.Timeout:
                continue
        if response is None:
            raise dns.exception.Timeout()
        if response.flags & dns.flags.TC:
            response = await dns.asyncquery.tcp(query, host, port=port, timeout=per_try)
        return response

    async def _system(
        self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType, dnssec: bool
    ) -> Answer:
        if self._resolver is None:
            self._resolver = dns.asyncresolver.Resolver()
            self._resolver.lifetime = self.timeout
        answer = Answer(name=_text(qname), rdtype=dns.rdatatype.to_text(qtype))
        if dnssec:
            self._resolver.use_edns(0, dns.flags.DO, EDNS_PAYLOAD)
        try:
            result = await self._resolver.resolve(qname, qtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            answer.rcode = "NXDOMAIN"
            return answer
        except dns.resolver.NoNameservers:
            answer.rcode = "SERVFAIL"
            return answer
        return self._read(answer, result.response, qname, qtype)

    @staticmethod
    def _read(
        answer: Answer,
        response: dns.message.Message,
        qname: dns.name.Name,
        qtype: dns.rdatatype.RdataType,
    ) -> Answer:
        answer.rcode = dns.rcode.to_text(response.rcode())
        answer.authenticated = bool(response.flags & dns.flags.AD)
        if response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return answer
        current = qname
        for _hop in range(MAX_CNAME_HOPS + 1):
            found = False
            for rrset in response.answer:
                if rrset.name != current or rrset.rdclass != dns.rdataclass.IN:
                    continue
                if rrset.rdtype == qtype:
                    answer.records.append(rrset)
                    found = True
                elif rrset.rdtype == dns.rdatatype.RRSIG and rrset.covers == qtype:
                    answer.signatures.append(rrset)
            if found or qtype == dns.rdatatype.CNAME:
                break
            cname = next(
                (
                    r
                    for r in response.answer
                    if r.name == current and r.rdtype == dns.rdatatype.CNAME and len(r)
                ),
                None,
            )
            if cname is None:
                break
            target = cname[0].target
            answer.cnames.append((_text(current), _text(target)))
            current = target
        for rrset in response.authority:
            if rrset.rdtype == dns.rdatatype.SOA:
                answer.authority_soa = _text(rrset.name)
        return answer


_CLIENTS: weakref.WeakKeyDictionary[ScanContext, DnsClient] = weakref.WeakKeyDictionary()


def client_for(ctx: ScanContext) -> DnsClient:
    """The scan's DNS client (one per ScanContext, so the cache spans all its domains)."""
    client = _CLIENTS.get(ctx)
    if client is None:
        client = DnsClient(ctx.config.nameserver_address(), ctx.config.dns_timeout)
        _CLIENTS[ctx] = client
    return client
