"""A small DNS client for the mail/DNS probe: one configurable nameserver, timeouts, a cache.

Queries go to ``ScanConfig.nameserver`` (``IP[:PORT]``) with recursion desired, or to the
system resolver when none is set. Every query is bounded by ``ScanConfig.dns_timeout`` (two
tries over UDP, then TCP when the answer is truncated), so a hostile or silent server costs a
few seconds at most and never an exception: failures come back as an :class:`Answer` with
``error`` set. Answers are cached per scan because SPF includes and MX hosts repeat a lot.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import struct
import weakref
from dataclasses import dataclass, field
from typing import Any, cast

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

from carbet.engines.exposure.core import ScanContext
from carbet.engines.exposure.mail.wire import read_plain_answer

MAX_TXT_CHARS = 8192  # longer TXT records are cut: nobody needs more for SPF/DMARC/DKIM
MAX_CNAME_HOPS = 8
EDNS_PAYLOAD = 1232


@dataclass
class Answer:
    """What one question got: the records of the asked type (after CNAMEs), or why not."""

    name: str
    rdtype: str
    rcode: str = "NOERROR"  # NOERROR | NXDOMAIN | SERVFAIL | REFUSED | ...
    # The asked type only: dnspython RRsets, or LightRRsets for plain answers (maildns_wire).
    records: list[Any] = field(default_factory=list)
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

    def rdatas(self) -> list[Any]:
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


class _UdpChannel(asyncio.DatagramProtocol):
    """One UDP socket for all of a scan's questions to the nameserver, answers matched by
    message id and question (a socket per question costs more than the question itself).

    Replies that match nothing pending (a wrong id, another question, garbage) are dropped:
    the asker then times out, as with any unanswered question."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, tuple[bytes, asyncio.Future[bytes]]] = {}
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int) -> _UdpChannel:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            # Hundreds of answers may land while the loop is busy: room for them all (the
            # default buffer drops some, and a dropped answer costs a whole timeout).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.setblocking(False)
            sock.connect((host, port))
            _transport, channel = await loop.create_datagram_endpoint(cls, sock=sock)
        except BaseException:
            sock.close()
            raise
        return channel

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The channel is only ever opened by create_datagram_endpoint (see open), which hands
        # over a datagram transport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for _query, future in self.pending.values():
            if not future.done():
                future.set_exception(OSError("the DNS socket closed"))
        self.pending.clear()

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP unreachable and the like: the asker times out or retries

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(data) < 12:
            return
        entry = self.pending.get(int.from_bytes(data[:2], "big"))
        if entry is None or entry[1].done():
            return
        question, future = entry
        is_answer = data[2] & 0x80 and data[4:6] == b"\x00\x01"
        if is_answer and data[12 : 12 + len(question)].lower() == question:
            future.set_result(data)

    async def exchange(self, question: bytes, dnssec: bool, timeout: float) -> bytes:
        """Send one question (owner name wire + type + class); the raw answer comes back."""
        if self.transport is None or self.closed:
            raise OSError("the DNS socket is closed")
        query_id = secrets.randbelow(65536)
        while query_id in self.pending:
            query_id = secrets.randbelow(65536)
        future: asyncio.Future[bytes] = self.loop.create_future()
        self.pending[query_id] = (question.lower(), future)
        # A plain timer: wait_for's task machinery costs more than the question itself.
        timer = self.loop.call_later(timeout, _expire, future)
        try:
            self.transport.sendto(build_query(query_id, question, dnssec))
            return await future
        finally:
            timer.cancel()
            self.pending.pop(query_id, None)


def _expire(future: asyncio.Future[bytes]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


def question_wire(name: str, rdtype: int) -> bytes:
    """Owner name in wire form + type + class IN. Plain ASCII names are encoded directly
    (dnspython's Name objects cost more than the rest of a question); others go through
    dnspython (IDNA, escapes). Raises ValueError on an impossible name."""
    if name.isascii() and "\\" not in name:
        labels = name.rstrip(".").split(".") if name not in ("", ".") else []
        wire = bytearray()
        for label in labels:
            raw = label.encode()
            if not 0 < len(raw) < 64:
                raise ValueError(f"bad label in {name[:80]!r}")
            wire.append(len(raw))
            wire += raw
        wire.append(0)
        if len(wire) > 255:
            raise ValueError("name longer than 255 octets")
        return bytes(wire) + struct.pack("!HH", rdtype, dns.rdataclass.IN)
    wire_name = dns.name.from_text(name).to_wire()
    assert wire_name is not None  # without a file to write into, to_wire returns the bytes
    return wire_name + struct.pack("!HH", rdtype, dns.rdataclass.IN)


def build_query(query_id: int, question: bytes, dnssec: bool) -> bytes:
    """A recursive query with EDNS (payload 1232) and, for DNSSEC, the DO and AD bits (AD asks
    a validating resolver to say whether it validated, RFC 6840)."""
    flags = dns.flags.RD | (dns.flags.AD if dnssec else 0)
    header = struct.pack("!HHHHHH", query_id, flags, 1, 0, 0, 1)
    opt = b"\x00" + struct.pack(
        "!HHIH", dns.rdatatype.OPT, EDNS_PAYLOAD, dns.flags.DO if dnssec else 0, 0
    )
    return header + question + opt


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


class DnsClient:
    """Asks one resolver (or the system's) with bounded time; shared by a whole scan."""

    def __init__(
        self, nameserver: tuple[str, int] | None, timeout: float = 3.0, concurrency: int = 128
    ) -> None:
        self.nameserver = nameserver
        self.timeout = timeout
        self._semaphore = asyncio.Semaphore(concurrency)
        self._cache: dict[tuple[str, str, bool], asyncio.Future[Answer]] = {}
        self._resolver: dns.asyncresolver.Resolver | None = None
        self._channel: _UdpChannel | None = None
        self._channel_lock = asyncio.Lock()
        self._users = 0
        self.queries = 0  # questions actually sent (cache misses)

    def __enter__(self) -> DnsClient:
        self._users += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        """The last domain scan using the client closes its socket (a later one reopens it)."""
        self._users -= 1
        if self._users == 0 and self._channel is not None:
            self._channel.close()
            self._channel = None

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
            qtype = dns.rdatatype.from_text(rdtype)
            question = question_wire(name, qtype)
        except (dns.exception.DNSException, ValueError) as exc:
            answer.error = f"invalid name: {exc}"
            return answer
        async with self._semaphore:
            self.queries += 1
            try:
                async with asyncio.timeout(self.timeout + 0.5):
                    response = await self._exchange(name, question, qtype, dnssec)
                if isinstance(response, Answer):  # the system resolver path
                    return response
                if isinstance(response, bytes):
                    return self._read_wire(answer, response, qtype)
                return self._read(answer, response, dns.name.from_text(name), qtype)
            except (TimeoutError, dns.exception.Timeout):
                answer.error = "timeout"
                return answer
            except (dns.exception.DNSException, OSError, ValueError, EOFError) as exc:
                answer.error = f"{type(exc).__name__}: {exc}"[:200]
                return answer

    async def _exchange(
        self, name: str, question: bytes, qtype: dns.rdatatype.RdataType, dnssec: bool
    ) -> bytes | dns.message.Message | Answer:
        if self.nameserver is None:
            return await self._system(dns.name.from_text(name), qtype, dnssec)
        host, port = self.nameserver
        per_try = self.timeout / 2
        channel = await self._udp_channel(host, port)
        response = None
        for _attempt in range(2):
            try:
                response = await channel.exchange(question, dnssec, per_try)
                break
            except TimeoutError:
                continue
        if response is None:
            raise TimeoutError("no answer after two tries")
        if int.from_bytes(response[2:4], "big") & dns.flags.TC:
            query = dns.message.from_wire(build_query(0, question, dnssec))
            return await dns.asyncquery.tcp(query, host, port=port, timeout=per_try)
        return response

    def _read_wire(self, answer: Answer, data: bytes, qtype: dns.rdatatype.RdataType) -> Answer:
        """Most questions of a mail scan find nothing (NXDOMAIN, NODATA): the header says so,
        and parsing the whole message would be most of the scan's CPU."""
        flags = int.from_bytes(data[2:4], "big")
        if int.from_bytes(data[6:8], "big") == 0 and qtype != dns.rdatatype.SOA:
            answer.rcode = dns.rcode.Rcode.to_text(flags & 0xF)
            answer.authenticated = bool(flags & dns.flags.AD)
            return answer
        plain = read_plain_answer(data, qtype)
        if plain is not None:
            answer.rcode = dns.rcode.Rcode.to_text(flags & 0xF)
            answer.authenticated = bool(flags & dns.flags.AD)
            answer.records.append(plain)
            return answer
        message = dns.message.from_wire(data, ignore_trailing=True)
        return self._read(answer, message, message.question[0].name, qtype)

    async def _udp_channel(self, host: str, port: int) -> _UdpChannel:
        loop = asyncio.get_running_loop()
        channel = self._channel
        if channel is None or channel.closed or channel.loop is not loop:
            async with self._channel_lock:
                channel = self._channel
                if channel is None or channel.closed or channel.loop is not loop:
                    channel = await _UdpChannel.open(host, port)
                    self._channel = channel
        return channel

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
