"""A small authoritative DNS server on loopback (UDP and TCP), serving zones from zone text.

Good enough to stand in for "the resolver" of a scan: it answers with AA and RA, follows
CNAMEs across the zones it serves (as a recursive resolver would), answers DS from the parent
zone, adds RRSIGs when the query has the DO bit, sends SOA in the authority section for
NXDOMAIN and NODATA (empty non-terminals included, RFC 8020), and truncates UDP answers larger
than the client's EDNS size (TC, then TCP). Used by the tests and by benchmarks/exposure/maildns.py.

It runs in its own thread with its own event loop, so synchronous tests can use it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone


class ZoneSet:
    """The zones served, and the lookup logic of an authoritative server."""

    def __init__(self, zones: list[dns.zone.Zone]) -> None:
        self.zones = {zone.origin: zone for zone in zones}
        # Names that have descendants, per zone: a missing node with descendants is NODATA.
        self._ancestors: set[dns.name.Name] = set()
        for zone in zones:
            for name in zone.nodes:
                absolute = name.derelativize(zone.origin)
                parent = absolute
                while parent != zone.origin and len(parent) > 1:
                    parent = parent.parent()
                    self._ancestors.add(parent)

    def find_zone(self, qname: dns.name.Name, for_ds: bool = False) -> dns.zone.Zone | None:
        name = qname
        if for_ds and qname in self.zones and len(qname) > 1:
            name = qname.parent()  # DS lives in the parent zone
        while True:
            zone = self.zones.get(name)
            if zone is not None:
                return zone
            if len(name) <= 1:
                return None
            name = name.parent()

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        want_dnssec = bool(query.ednsflags & dns.flags.DO)
        rcode = self._resolve(response, question.name, question.rdtype, want_dnssec, depth=0)
        response.set_rcode(rcode)
        return response

    def _resolve(
        self,
        response: dns.message.Message,
        qname: dns.name.Name,
        qtype: int,
        want_dnssec: bool,
        depth: int,
    ) -> int:
        zone = self.find_zone(qname, for_ds=qtype == dns.rdatatype.DS)
        if zone is None:
            return dns.rcode.REFUSED if depth == 0 else dns.rcode.NOERROR
        node = zone.get_node(qname)
        if node is not None:
            rdataset = node.get_rdataset(dns.rdataclass.IN, qtype)
            if rdataset is not None:
                self._add(response.answer, qname, rdataset, node, qtype, want_dnssec)
                return dns.rcode.NOERROR
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is not None and qtype != dns.rdatatype.CNAME:
                self._add(response.answer, qname, cname, node, dns.rdatatype.CNAME, want_dnssec)
                if depth >= 8:
                    return dns.rcode.NOERROR
                target = cname[0].target
                return self._resolve(response, target, qtype, want_dnssec, depth + 1)
            self._add_soa(response, zone, want_dnssec)
            return dns.rcode.NOERROR
        self._add_soa(response, zone, want_dnssec)
        if qname in self._ancestors:
            return dns.rcode.NOERROR  # an empty non-terminal exists (RFC 8020)
        return dns.rcode.NXDOMAIN

    @staticmethod
    def _add(
        section: list, name: dns.name.Name, rdataset, node, rdtype: int, want_dnssec: bool
    ) -> None:
        rrset = dns.rrset.RRset(name, rdataset.rdclass, rdataset.rdtype)
        rrset.update(rdataset)
        section.append(rrset)
        if want_dnssec:
            sigs = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, rdtype)
            if sigs is not None:
                sig_rrset = dns.rrset.RRset(name, sigs.rdclass, sigs.rdtype, rdtype)
                sig_rrset.update(sigs)
                section.append(sig_rrset)

    def _add_soa(
        self, response: dns.message.Message, zone: dns.zone.Zone, want_dnssec: bool
    ) -> None:
        node = zone.get_node(zone.origin)
        soa = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.SOA) if node else None
        if soa is not None:
            self._add(response.authority, zone.origin, soa, node, dns.rdatatype.SOA, want_dnssec)


def _wire(response: dns.message.Message, query: dns.message.Message, udp: bool) -> bytes:
    limit = 65535
    if udp:
        limit = max(512, query.payload) if query.edns >= 0 else 512
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        truncated = dns.message.make_response(query)
        truncated.flags |= dns.flags.TC | dns.flags.AA | dns.flags.RA
        return truncated.to_wire()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: AuthoritativeServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        reply = self.server.handle(data, udp=True)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


class AuthoritativeServer:
    """Serve ``zones`` on ``host`` (UDP and TCP, same port) from a background thread."""

    def __init__(self, zones: list[dns.zone.Zone], host: str = "127.0.0.1", port: int = 0):
        self.zone_set = ZoneSet(zones)
        self.host = host
        self.port = port
        self.queries = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    @property
    def nameserver(self) -> str:
        return f"{self.host}:{self.port}"

    def handle(self, data: bytes, udp: bool) -> bytes | None:
        self.queries += 1
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return None
        return _wire(self.zone_set.answer(query), query, udp)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        with contextlib.suppress(Exception):
            while True:
                header = await asyncio.wait_for(reader.readexactly(2), 10)
                data = await reader.readexactly(struct.unpack("!H", header)[0])
                reply = self.handle(data, udp=False)
                if reply is None:
                    break
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        writer.close()

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self.port == 0:
            self.port = _free_port(self.host)
        udp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        udp_sock.bind((self.host, self.port))
        transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), sock=udp_sock)
        tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port, backlog=512)
        self._ready.set()
        await self._stop.wait()
        transport.close()
        tcp.close()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    def start(self) -> AuthoritativeServer:
        self._thread = threading.Thread(target=self._run, name="authdns", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(5)


def _free_port(host: str) -> int:
    """A port free for both UDP and TCP on ``host``."""
    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
            return port
    raise OSError("no free port")


def zone_from_text(origin: str, text: str) -> dns.zone.Zone:
    return dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
