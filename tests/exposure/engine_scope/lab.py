"""A hostile little internet on loopback for the connect-time scope tests.

Every listener counts the connections it gets, per address: a test proves that the scope
policy held by reading ZERO on a forbidden address. The DNS server is the exposure tests' own
authoritative server, with one twist: ``rebind.scope.test`` answers an allowed address to the
first A question and a forbidden one to every later question (DNS rebinding).

Addresses (this package's own range, 127.66.0.0/16):
- ``ALLOWED_*`` 127.66.1.x: what a structure may reach (the policy allows loopback here);
- ``FOREIGN`` 127.66.2.1: declared by another structure;
- ``LOCAL`` 127.66.4.1: reached when loopback is *not* allowed (stands for a private address);
- ``CENTRE`` 127.66.9.1: in the centre's own range.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections import Counter

import dns.message
import dns.rdatatype

from tests.exposure.engine_maildns.authdns import (
    AuthoritativeServer,
    ZoneSet,
    _wire,
    zone_from_text,
)

DNS_HOST = "127.66.0.53"
ALLOWED_WEB = "127.66.1.1"  # a site of the structure, redirecting to CENTRE
ALLOWED_WEB_2 = "127.66.1.2"  # a site of the structure, redirecting to another structure's name
ALLOWED_MX = "127.66.1.3"  # an MX the structure may reach (through its own name)
ALLOWED_UNDER_FOREIGN_NAME = "127.66.1.4"  # public-ish, but reached through a foreign name
ALLOWED_REBIND = "127.66.1.5"  # rebind.scope.test's first answer
FOREIGN = "127.66.2.1"
LOCAL = "127.66.4.1"
CENTRE = "127.66.9.1"
CENTRE_NETWORK = "127.66.9.0/24"
FOREIGN_NAMES = frozenset({"mx.other.test", "www.other.test", "site.other.test"})

SOA = (
    "@ 300 IN SOA ns.scope.test. hostmaster.scope.test. 1 3600 600 86400 300\n@ NS ns.scope.test.\n"
)


def zones() -> list:
    scope = f"""{SOA}
ns A {DNS_HOST}
local A {LOCAL}
foreign A {FOREIGN}
centre A {CENTRE}
web A {ALLOWED_WEB}
web2 A {ALLOWED_WEB_2}
chain CNAME hop1.scope.test.
hop1 CNAME hop2.scope.test.
hop2 A {CENTRE}
viaforeign CNAME www.other.test.
mx-ok A {ALLOWED_MX}
mx-centre A {CENTRE}
mail-centre MX 10 mx-centre.scope.test.
_mta-sts.mail-centre TXT "v=STSv1; id=1"
mta-sts.mail-centre A {CENTRE}
mail-foreign MX 10 mx.other.test.
mail-foreign MX 20 mx-ok.scope.test.
mail-cname MX 10 mx-alias.scope.test.
mx-alias CNAME hop2.scope.test.
rebind A {ALLOWED_REBIND}
rebind MX 10 rebind.scope.test.
"""
    other = f"""{SOA.replace("scope.test", "other.test")}
mx A {ALLOWED_UNDER_FOREIGN_NAME}
www A {ALLOWED_UNDER_FOREIGN_NAME}
site A {FOREIGN}
"""
    return [zone_from_text("scope.test.", scope), zone_from_text("other.test.", other)]


class RebindingServer(AuthoritativeServer):
    """The first A question for ``rebind.scope.test`` gets the allowed address; every later one
    gets the centre's address (a rebinding attacker's resolver)."""

    def __init__(self) -> None:
        super().__init__(zones(), host=DNS_HOST)
        rebound = [zone_from_text("scope.test.", f"{SOA}rebind A {CENTRE}\n")]
        self.rebound = ZoneSet(rebound)
        self.rebind_questions = 0
        self._lock = threading.Lock()

    def handle(self, data: bytes, udp: bool) -> bytes | None:
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return super().handle(data, udp)
        question = query.question[0] if query.question else None
        if (
            question is not None
            and question.rdtype == dns.rdatatype.A
            and question.name.to_text().lower() == "rebind.scope.test."
        ):
            with self._lock:
                self.rebind_questions += 1
                first = self.rebind_questions == 1
            if not first:
                self.queries += 1
                return _wire(self.rebound.answer(query), query, udp)
        return super().handle(data, udp)


# --- counting listeners --------------------------------------------------------------------------

COUNTS: Counter = Counter()
_LOCK = threading.Lock()


def connections(address: str) -> int:
    with _LOCK:
        return COUNTS[address]


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    reply: bytes = b""


class _Counting(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        with _LOCK:
            COUNTS[self.server.server_address[0]] += 1
        self.request.settimeout(2)
        reply = self.server.reply
        try:
            if reply.startswith(b"220"):  # SMTP speaks first
                self.request.sendall(reply)
                self.request.recv(1024)
                return
            self.request.recv(4096)
            if reply:
                self.request.sendall(reply)
        except OSError:
            pass


def redirect_to(location: str) -> bytes:
    return (
        b"HTTP/1.1 302 Found\r\nLocation: " + location.encode() + b"\r\nContent-Length: 0\r\n"
        b"Connection: close\r\n\r\n"
    )


def start(address: str, port: int, reply: bytes = b"") -> _Server:
    server = _Server((address, port), _Counting)
    server.reply = reply
    threading.Thread(target=server.serve_forever, daemon=True, name=f"{address}:{port}").start()
    return server


def free_port_on(hosts: list[str]) -> int:
    """One TCP port free on every address of ``hosts``."""
    for _attempt in range(50):
        with socket.socket() as probe:
            probe.bind((hosts[0], 0))
            port = probe.getsockname()[1]
        ok = True
        for host in hosts[1:]:
            with socket.socket() as other:
                try:
                    other.bind((host, port))
                except OSError:
                    ok = False
        if ok:
            return port
    raise OSError("no common free port")
