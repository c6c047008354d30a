"""Loopback listeners for the exposure app's tests: they count every connection they get.

- an HTTP server without any security header (``Server: Apache/2.4.41``), 404 off ``/``;
- an RDP-like listener answering the X.224 connection request with a connection confirm;
- a silent listener that accepts and closes (to prove that a refused asset is never contacted).

All live on 127.77.x.y addresses (this test package's own range) and run in threads.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections import Counter

COUNTS: Counter = Counter()
_LOCK = threading.Lock()

HTTP_BODY = b"<html><head><title>Intranet</title></head><body>Bienvenue</body></html>"
# TPKT + X.224 Connection Confirm + RDP_NEG_RSP selecting standard RDP security.
RDP_CONFIRM = bytes.fromhex("030000130ed000001234000200080000000000")


def _count(server: socketserver.BaseServer) -> None:
    with _LOCK:
        COUNTS[server.server_address[:2]] += 1


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class HttpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        _count(self.server)
        self.request.settimeout(3)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                data += chunk
        except OSError:
            return
        line = data.split(b"\r\n", 1)[0].split()
        path = line[1] if len(line) > 1 else b"/"
        status, body = (b"200 OK", HTTP_BODY) if path == b"/" else (b"404 Not Found", b"absent")
        head = (
            b"HTTP/1.1 " + status + b"\r\nServer: Apache/2.4.41 (Ubuntu)\r\n"
            b"Content-Type: text/html\r\nSet-Cookie: PHPSESSID=abc123; path=/\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
        )
        try:
            self.request.sendall(head + body)
        except OSError:
            pass


class RdpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        _count(self.server)
        self.request.settimeout(3)
        try:
            data = self.request.recv(4096)
            if data[:2] == b"\x03\x00":
                self.request.sendall(RDP_CONFIRM)
            self.request.recv(1024)
        except OSError:
            pass


class SilentHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        _count(self.server)


def start(address: str, port: int, handler: type) -> _Server:
    server = _Server((address, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True, name=f"{address}:{port}").start()
    return server


def connections(address: str, port: int | None = None) -> int:
    with _LOCK:
        return sum(n for (a, p), n in COUNTS.items() if a == address and port in (None, p))


def port_free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True
