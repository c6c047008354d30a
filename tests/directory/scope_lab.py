"""Real servers on loopback for the directory's scope tests: a counting TCP listener (did
anything connect, and did a password arrive?) and a DNS server of the test's own whose answers
the test changes between two steps (rebinding)."""

from __future__ import annotations

import socket
import threading

from tests.exposure.engine_maildns.authdns import AuthoritativeServer, ZoneSet, zone_from_text


class CountingListener:
    """A real TCP listener on loopback that counts the connections it receives and keeps the
    first bytes each one sent (a bind request would carry the password)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.received = b""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.settimeout(0.5)
            try:
                self.received += conn.recv(4096)
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def _zone(origin: str, records: dict[str, list[str]]):
    lines = [
        "$TTL 1",
        f"@ IN SOA ns.{origin}. admin.{origin}. 1 3600 600 86400 1",
        f"@ IN NS ns.{origin}.",
        "ns IN A 127.0.0.1",
    ]
    for label, addresses in records.items():
        for address in addresses:
            kind = "AAAA" if ":" in address else "A"
            lines.append(f"{label} IN {kind} {address}")
    return zone_from_text(f"{origin}.", "\n".join(lines) + "\n")


class DnsLab:
    """An authoritative server on 127.0.0.1 for one zone; ``answer`` changes what it says."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.server = AuthoritativeServer([_zone(origin, {})]).start()

    @property
    def nameserver(self) -> str:
        return self.server.nameserver

    def answer(self, records: dict[str, list[str]]) -> None:
        """From now on, each label of ``records`` resolves to its addresses (nothing else)."""
        self.server.zone_set = ZoneSet([_zone(self.origin, records)])

    def stop(self) -> None:
        self.server.stop()
