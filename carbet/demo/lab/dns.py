"""The demo lab's authoritative DNS server: the demo zones (``.test``/``.example``) on loopback.

Product code (the product must not import ``tests/``); the same approach as the exposure tests'
server: authoritative answers with the RA bit (it stands in for "the resolver" of a scan),
CNAMEs followed within the served zones, SOA in the authority section for NXDOMAIN/NODATA,
UDP answers truncated (TC) above the client's EDNS size so the client retries over TCP.
Anything outside the demo zones is REFUSED: the demo never forwards a query anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

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
        # Names with descendants: a missing node with descendants answers NODATA (RFC 8020).
        self._ancestors: set[dns.name.Name] = set()
        for zone in zones:
            for name in zone.nodes:
                parent = name.derelativize(zone.origin)
                while parent != zone.origin and len(parent) > 1:
                    parent = parent.parent()
                    self._ancestors.add(parent)

    def find_zone(self, qname: dns.name.Name) -> dns.zone.Zone | None:
        name = qname
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
        response.set_rcode(self._resolve(response, question.name, question.rdtype, 0))
        return response

    def _resolve(
        self, response: dns.message.Message, qname: dns.name.Name, qtype: int, depth: int
    ) -> int:
        zone = self.find_zone(qname)
        if zone is None:
            return dns.rcode.REFUSED if depth == 0 else dns.rcode.NOERROR
        node = zone.get_node(qname)
        if node is not None:
            rdataset = node.get_rdataset(dns.rdataclass.IN, qtype)
            if rdataset is not None:
                self._add(response.answer, qname, rdataset)
                return dns.rcode.NOERROR
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is not None and qtype != dns.rdatatype.CNAME:
                self._add(response.answer, qname, cname)
                if depth >= 8:
                    return dns.rcode.NOERROR
                return self._resolve(response, cname[0].target, qtype, depth + 1)
            self._add_soa(response, zone)
            return dns.rcode.NOERROR
        self._add_soa(response, zone)
        return dns.rcode.NOERROR if qname in self._ancestors else dns.rcode.NXDOMAIN

    @staticmethod
    def _add(section: list, name: dns.name.Name, rdataset) -> None:
        rrset = dns.rrset.RRset(name, rdataset.rdclass, rdataset.rdtype)
        rrset.update(rdataset)
        section.append(rrset)

    def _add_soa(self, response: dns.message.Message, zone: dns.zone.Zone) -> None:
        node = zone.get_node(zone.origin)
        soa = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.SOA) if node else None
        if soa is not None:
            self._add(response.authority, zone.origin, soa)


def reply(zone_set: ZoneSet, data: bytes, udp: bool) -> bytes | None:
    """The wire answer to one query (None for garbage: dropped, as a real server would)."""
    try:
        query = dns.message.from_wire(data)
    except dns.exception.DNSException:
        return None
    response = zone_set.answer(query)
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
    def __init__(self, zone_set: ZoneSet) -> None:
        self.zone_set = zone_set
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        answer = reply(self.zone_set, data, udp=True)
        if answer is not None and self.transport is not None:
            self.transport.sendto(answer, addr)


async def serve(zone_set: ZoneSet, host: str, port: int) -> list:
    """Start UDP and TCP service on (host, port); returns what to close on stop."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Udp(zone_set), local_addr=(host, port)
    )

    async def tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while True:
                header = await asyncio.wait_for(reader.readexactly(2), 10)
                data = await reader.readexactly(struct.unpack("!H", header)[0])
                answer = reply(zone_set, data, udp=False)
                if answer is None:
                    break
                writer.write(struct.pack("!H", len(answer)) + answer)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(tcp, host, port)
    return [transport, server]


def zone_from_text(origin: str, text: str) -> dns.zone.Zone:
    return dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
