"""Loopback listeners that speak just enough of each protocol to be identified, good or weak.

One asyncio loop in a background thread serves every listener of the test session. Each
listener binds its own 127.44.x.y address, counts the connections it accepted and the peak
of simultaneous ones (for the budget and concurrency tests), and runs a small handler.
Hostile handlers (garbage, slow drip, huge banner, reset, silence) test the scanner's limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Listener:
    host: str
    port: int
    accepted: int = 0
    active: int = 0
    peak: int = 0
    server: asyncio.base_events.Server | None = field(default=None, repr=False)


class ListenerSet:
    """Start listeners on a private loop thread; stop them all at the end of the session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.listeners: dict[tuple[str, int], Listener] = {}
        # Per address, across its listeners: what the budget and concurrency tests count.
        self.host_accepted: dict[str, int] = {}
        self.host_active: dict[str, int] = {}
        self.host_peak: dict[str, int] = {}

    def add(self, host: str, port: int, handler: Handler, ssl_context=None) -> Listener:
        listener = Listener(host, port)

        async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            listener.accepted += 1
            listener.active += 1
            listener.peak = max(listener.peak, listener.active)
            self.host_accepted[host] = self.host_accepted.get(host, 0) + 1
            self.host_active[host] = self.host_active.get(host, 0) + 1
            self.host_peak[host] = max(self.host_peak.get(host, 0), self.host_active[host])
            try:
                await handler(reader, writer)
            except (ConnectionError, OSError, asyncio.IncompleteReadError, TimeoutError):
                pass
            except asyncio.CancelledError:  # the session is over: end quietly
                pass
            finally:
                listener.active -= 1
                self.host_active[host] -= 1
                with contextlib.suppress(Exception):
                    writer.close()

        async def start() -> asyncio.base_events.Server:
            return await asyncio.start_server(
                wrapped, host, port, reuse_address=True, ssl=ssl_context
            )

        listener.server = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        self.listeners[(host, port)] = listener
        return listener

    def reset_host(self, host: str) -> None:
        self.host_accepted[host] = 0
        self.host_peak[host] = 0

    def stop(self) -> None:
        async def close_all() -> None:
            for listener in self.listeners.values():
                if listener.server:
                    listener.server.close()
            current = asyncio.current_task()
            pending = [task for task in asyncio.all_tasks() if task is not current]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


async def read_exactly(reader: asyncio.StreamReader, size: int) -> bytes:
    return await asyncio.wait_for(reader.readexactly(size), 10)


# --- server-first protocols --------------------------------------------------------------------


def greeting(text: bytes) -> Handler:
    async def handler(reader, writer) -> None:
        writer.write(text)
        await writer.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(1024), 5)

    return handler


def smtp(starttls: bool) -> Handler:
    async def handler(reader, writer) -> None:
        writer.write(b"220 mx.test.invalid ESMTP Postfix (Debian/GNU)\r\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 5)
        if line.upper().startswith(b"EHLO"):
            lines = [b"250-mx.test.invalid", b"250-PIPELINING", b"250-SIZE 10240000"]
            if starttls:
                lines.append(b"250-STARTTLS")
            lines.append(b"250 8BITMIME")
            writer.write(b"\r\n".join(lines) + b"\r\n")
            await writer.drain()
            await asyncio.wait_for(reader.readline(), 5)
            writer.write(b"221 2.0.0 Bye\r\n")

    return handler


async def telnet(reader, writer) -> None:
    # DO ECHO, WILL SUPPRESS-GO-AHEAD, DO TERMINAL-TYPE: the usual opening of a telnetd.
    writer.write(bytes((255, 253, 1, 255, 251, 3, 255, 253, 24)))
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(64), 5)
    if answer.startswith(b"\xff"):
        writer.write(b"\r\nUbuntu 22.04 LTS\r\ngateway login: ")
        await writer.drain()
    await asyncio.sleep(0.5)


def vnc(security_types: bytes) -> Handler:
    async def handler(reader, writer) -> None:
        writer.write(b"RFB 003.008\n")
        await writer.drain()
        await read_exactly(reader, 12)
        writer.write(bytes((len(security_types),)) + security_types)
        await writer.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(16), 2)

    return handler


MYSQL_HANDSHAKE_PAYLOAD = (
    b"\x0a8.0.36-0ubuntu0.22.04.1\x00" + struct.pack("<I", 42) + b"abcdefgh\x00" + bytes(20)
)
MYSQL_HANDSHAKE = (
    len(MYSQL_HANDSHAKE_PAYLOAD).to_bytes(3, "little") + b"\x00" + MYSQL_HANDSHAKE_PAYLOAD
)


# --- client-first protocols --------------------------------------------------------------------


def rdp(selected: int) -> Handler:
    async def handler(reader, writer) -> None:
        header = await read_exactly(reader, 4)
        await read_exactly(reader, int.from_bytes(header[2:4], "big") - 4)
        negotiation = struct.pack("<BBHI", 0x02, 0x00, 8, selected)
        x224 = bytes((6 + len(negotiation), 0xD0, 0, 0, 0x12, 0x34, 0)) + negotiation
        writer.write(struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224)
        await writer.drain()

    return handler


def smb(signing_required: bool, smb1: bool) -> Handler:
    async def handler(reader, writer) -> None:
        header = await read_exactly(reader, 4)
        message = await read_exactly(reader, int.from_bytes(header[1:4], "big"))
        if message.startswith(b"\xffSMB"):
            if not smb1:
                return  # SMBv1 disabled: drop the connection, as Windows does
            reply = (
                b"\xffSMB"
                + struct.pack("<BIBH12sHHHHB", 0x72, 0, 0x98, 0xC853, b"", 0, 0xFFFE, 0, 0, 17)
                + struct.pack("<H", 0)
                + bytes(32)
            )
            writer.write(b"\x00" + len(reply).to_bytes(3, "big") + reply)
            await writer.drain()
            return
        smb_header = b"\xfeSMB" + struct.pack(
            "<HHIHHIIQIIQ16s", 64, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, b""
        )
        body = struct.pack(
            "<HHHH16sIIII",
            65,
            3 if signing_required else 1,
            0x0302,
            0,
            b"SERVERGUID012345",
            0x7F,
            65536,
            65536,
            65536,
        ) + bytes(24)
        reply = smb_header + body
        writer.write(b"\x00" + len(reply).to_bytes(3, "big") + reply)
        await writer.drain()

    return handler


def _item(kind: int, value: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(value)) + value


def dicom(accept: bool) -> Handler:
    async def handler(reader, writer) -> None:
        header = await read_exactly(reader, 6)
        request = await read_exactly(reader, int.from_bytes(header[2:6], "big"))
        if header[0] != 0x01:
            return
        if not accept:
            writer.write(struct.pack(">BBI", 0x03, 0, 4) + bytes((0, 1, 1, 7)))
            await writer.drain()
            return
        user = _item(
            0x50,
            _item(0x51, struct.pack(">I", 16384))
            + _item(0x52, b"1.2.276.0.7230010.3.0.3.6.4")
            + _item(0x55, b"OFFIS_DCMTK_364"),
        )
        context = _item(0x21, b"\x01\x00\x00\x00" + _item(0x40, b"1.2.840.10008.1.2"))
        body = request[:68] + _item(0x10, b"1.2.840.10008.3.1.1.1") + context + user
        writer.write(struct.pack(">BBI", 0x02, 0, len(body)) + body)
        await writer.drain()
        release = await read_exactly(reader, 10)
        if release[0] == 0x05:
            writer.write(struct.pack(">BBI", 0x06, 0, 4) + bytes(4))
            await writer.drain()

    return handler


async def hl7(reader, writer) -> None:
    data = b""
    while b"\x1c\x0d" not in data:
        chunk = await asyncio.wait_for(reader.read(4096), 5)
        if not chunk:
            return
        data += chunk
    control = data.split(b"|")[9] if data.count(b"|") > 9 else b"0"
    ack = (
        b"MSH|^~\\&|MIRTH|HOPITAL|CARBET|CARBET-SCAN|20250101000000||ACK|1|T|2.5\r"
        b"MSA|AA|" + control + b"\r"
    )
    writer.write(b"\x0b" + ack + b"\x1c\x0d")
    await writer.drain()


def http(routes: dict[str, tuple[int, dict[str, str], bytes]], server: str = "nginx/1.18.0"):
    async def handler(reader, writer) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = await asyncio.wait_for(reader.read(4096), 5)
            if not chunk:
                return
            head += chunk
        path = head.split(b" ")[1].decode() if head.count(b" ") >= 2 else "/"
        status, headers, body = routes.get(path, (404, {}, b"not found"))
        lines = [
            f"HTTP/1.1 {status} X",
            f"Server: {server}",
            f"Content-Length: {len(body)}",
            "Connection: close",
            *[f"{k}: {v}" for k, v in headers.items()],
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()

    return handler


CAPABILITY = json.dumps(
    {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "fhirVersion": "4.0.1",
        "software": {"name": "HAPI FHIR Server", "version": "6.4.0"},
        "rest": [{"mode": "server"}],
    }
).encode()
ELASTIC = json.dumps(
    {
        "name": "node-1",
        "cluster_name": "pacs-search",
        "tagline": "You Know, for Search",
        "version": {"number": "7.10.2", "build_flavor": "default"},
    }
).encode()


def redis(password: bool) -> Handler:
    async def handler(reader, writer) -> None:
        data = b""
        while data.count(b"\r\n") < 2:
            chunk = await asyncio.wait_for(reader.read(1024), 5)
            if not chunk:
                return
            data += chunk
        if password:
            writer.write(b"-NOAUTH Authentication required.\r\n" * 2)
        else:
            info = b"# Server\r\nredis_version:6.0.16\r\nredis_mode:standalone\r\n"
            writer.write(b"+PONG\r\n$" + str(len(info)).encode() + b"\r\n" + info + b"\r\n")
        await writer.drain()

    return handler


def _bson(document: dict) -> bytes:
    body = b""
    for key, value in document.items():
        name = key.encode() + b"\x00"
        if isinstance(value, bool):
            body += b"\x08" + name + bytes((value,))
        elif isinstance(value, int):
            body += b"\x10" + name + struct.pack("<i", value)
        elif isinstance(value, list):
            body += b"\x04" + name + _bson({str(i): v for i, v in enumerate(value)})
        elif isinstance(value, dict):
            body += b"\x03" + name + _bson(value)
        else:
            text = str(value).encode() + b"\x00"
            body += b"\x02" + name + struct.pack("<i", len(text)) + text
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


def mongodb(auth: bool) -> Handler:
    async def handler(reader, writer) -> None:
        while True:
            header = await read_exactly(reader, 16)
            length, request_id, _, _ = struct.unpack("<iiii", header)
            body = await read_exactly(reader, length - 16)
            command = body[5 + 4 + 1 :].split(b"\x00", 1)[0]
            if command == b"hello":
                reply = {"isWritablePrimary": True, "maxWireVersion": 17, "ok": 1}
            elif command == b"buildInfo":
                reply = {"version": "6.0.5", "ok": 1}
            elif auth:
                reply = {
                    "ok": 0,
                    "errmsg": "command listDatabases requires authentication",
                    "code": 13,
                }
            else:
                reply = {"databases": [{"name": "admin"}, {"name": "dossiers"}], "ok": 1}
            payload = struct.pack("<I", 0) + b"\x00" + _bson(reply)
            writer.write(struct.pack("<iiii", 16 + len(payload), 1, request_id, 2013) + payload)
            await writer.drain()

    return handler


async def postgres_no_ssl(reader, writer) -> None:
    await read_exactly(reader, 8)
    writer.write(b"N")
    await writer.drain()
    await asyncio.sleep(0.2)


# --- hostile peers ---------------------------------------------------------------------------


async def garbage(reader, writer) -> None:
    # A fixed first byte: random bytes starting with 0xFF (1 run in 256) read as a telnet
    # option negotiation (IAC), which is a correct identification, not garbage.
    writer.write(b"\x00" + os.urandom(4095))
    await writer.drain()
    await asyncio.sleep(1)


async def slow_drip(reader, writer) -> None:
    """One byte every 0.2 s, forever (a tarpit)."""
    while True:
        writer.write(b"2")
        await writer.drain()
        await asyncio.sleep(0.2)


async def huge_banner(reader, writer) -> None:
    """Megabytes without a line end, as fast as the client reads."""
    chunk = b"A" * 65536
    for _ in range(512):
        writer.write(chunk)
        await writer.drain()


async def reset(reader, writer) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def silent(reader, writer) -> None:
    await asyncio.sleep(60)


async def slow_http(reader, writer) -> None:
    """Headers that never end: an HTTP tarpit."""
    writer.write(b"HTTP/1.1 200 OK\r\n")
    while True:
        writer.write(b"X-Slow: " + b"a" * 10 + b"\r\n")
        await writer.drain()
        await asyncio.sleep(0.2)


# Connections a client really holds, per address (see ``holding``).
LIVE: dict[str, int] = {}
LIVE_PEAK: dict[str, int] = {}


async def holding(reader, writer) -> None:
    """Say nothing until the client leaves; count the connections the client really holds.

    The kernel completes handshakes before the server accepts them, so a connect-and-reset
    (port discovery) may still be queued here after the client moved on: a connection counts
    as held only once it is still alive 0.1 s after being accepted.
    """
    host = writer.get_extra_info("sockname")[0]
    try:
        first = await asyncio.wait_for(reader.read(1), 0.1)
    except TimeoutError:
        first = b"alive"
    if not first:
        return
    for key in (host, "*"):  # "*": every holding address together
        LIVE[key] = LIVE.get(key, 0) + 1
        LIVE_PEAK[key] = max(LIVE_PEAK.get(key, 0), LIVE[key])
    try:
        await asyncio.wait_for(reader.read(), 30)
    finally:
        LIVE[host] -= 1
        LIVE["*"] -= 1


def self_signed_context(host_name: str = "lab.test"):
    """A server TLS context with a fresh self-signed certificate (RSA 2048, one day)."""
    import datetime as dt
    import ssl
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host_name)]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as handle:
        handle.write(certificate.public_bytes(serialization.Encoding.PEM))
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(handle.name)
    os.unlink(handle.name)
    return context


class TinyDns(asyncio.DatagramProtocol):
    """An authoritative-looking DNS server over UDP for a handful of records (dnspython)."""

    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        self.records = records
        self.names = {name for name, _type in records}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, address) -> None:
        import dns.message
        import dns.rcode
        import dns.rrset

        try:
            query = dns.message.from_wire(data)
        except Exception:
            return
        response = dns.message.make_response(query)
        response.flags |= 0x0400  # AA
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        kind = dns.rdatatype.to_text(question.rdtype)
        if name not in self.names:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif (name, kind) in self.records:
            response.answer.append(
                dns.rrset.from_text_list(question.name, 300, "IN", kind, self.records[name, kind])
            )
        self.transport.sendto(response.to_wire(), address)


def start_dns(listeners: ListenerSet, host: str, port: int, records) -> None:
    import dns.rdatatype  # noqa: F401  (loaded before the loop thread uses it)

    async def start() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: TinyDns(records), local_addr=(host, port))

    asyncio.run_coroutine_threadsafe(start(), listeners.loop).result(10)
