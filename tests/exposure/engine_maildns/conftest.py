"""Real servers on loopback for the mail/DNS probe, started once per session.

- an authoritative DNS server (``authdns``) serving the zones of ``zones.py``;
- two SMTP servers (aiosmtpd) on the same port of two addresses: one offers STARTTLS with a
  certificate from a test CA for mx.good.carbet.test, the other offers no STARTTLS;
- a hostile "SMTP" server on a third address that answers a 300 KB line and then stalls;
- an HTTPS server answering the MTA-STS policies by Host name (certificate from the test CA).
"""

from __future__ import annotations

import asyncio
import http.server
import socket
import ssl
import threading
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

from carbet.engines.exposure.core import ScanConfig, ScanContext, TargetResult
from carbet.engines.exposure.mail.probe import scan_domain

from .authdns import AuthoritativeServer
from .pki import TestCA, spki_sha256
from .zones import (
    DNS_HOST,
    HOSTILE_SMTP_HOST,
    HTTPS_HOST,
    MTA_STS_POLICIES,
    SMTP_PLAIN_HOST,
    SMTP_TLS_HOST,
    build_zones,
)


@dataclass
class MailLab:
    nameserver: str
    smtp_port: int
    https_port: int
    ca_file: str

    def config(self, **overrides) -> ScanConfig:
        values = dict(
            nameserver=self.nameserver,
            smtp_port=self.smtp_port,
            mta_sts_port=self.https_port,
            ca_file=self.ca_file,
            dns_timeout=4.0,
            connect_timeout=3.0,
            read_timeout=5.0,
        )
        values.update(overrides)
        return ScanConfig(**values)


def _port_free_on(hosts: list[str]) -> int:
    for _attempt in range(50):
        with socket.socket() as probe:
            probe.bind((hosts[0], 0))
            port = probe.getsockname()[1]
        ok = True
        for host in hosts:
            with socket.socket() as other:
                try:
                    other.bind((host, port))
                except OSError:
                    ok = False
        if ok:
            return port
    raise OSError("no common free port")


class _Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


class _PolicyHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        policy = MTA_STS_POLICIES.get(host)
        if self.path != "/.well-known/mta-sts.txt" or policy is None:
            self.send_error(404)
            return
        body = policy.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _HostileSmtp:
    """Accepts, sends 300 KB without a line end, then stays silent until closed."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_server((host, port))
        self.sock.settimeout(0.2)
        self.running = True
        self.clients: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                client, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.clients.append(client)
            client.settimeout(1.0)
            try:
                client.sendall(b"220-" + b"A" * 300_000)
            except OSError:
                pass

    def stop(self) -> None:
        self.running = False
        self.thread.join(2)
        for client in self.clients:
            client.close()
        self.sock.close()


@pytest.fixture(scope="session")
def mail_lab(tmp_path_factory):
    directory = tmp_path_factory.mktemp("maildns-pki")
    ca = TestCA(directory)
    smtp_cert = ca.issue("mx", ["mx.good.carbet.test"])
    https_cert = ca.issue("mta-sts", [*MTA_STS_POLICIES, "mta-sts.mtasts-nopolicy.carbet.test"])

    # mx.good publishes DANE ("3 1 1": the SHA-256 of its certificate's public key).
    mx_tlsa = "3 1 1 " + spki_sha256(smtp_cert.cert_file)
    dns_server = AuthoritativeServer(build_zones(mx_tlsa), host=DNS_HOST).start()

    smtp_port = _port_free_on([SMTP_TLS_HOST, SMTP_PLAIN_HOST, HOSTILE_SMTP_HOST])
    hostile = _HostileSmtp(HOSTILE_SMTP_HOST, smtp_port)
    with_tls = Controller(
        _Sink(),
        hostname=SMTP_TLS_HOST,
        port=smtp_port,
        tls_context=smtp_cert.server_context(),
        server_hostname="mx.good.carbet.test",
    )
    plain = Controller(
        _Sink(), hostname=SMTP_PLAIN_HOST, port=smtp_port, server_hostname="mx.broken.carbet.test"
    )
    with_tls.start()
    plain.start()

    https = http.server.ThreadingHTTPServer((HTTPS_HOST, 0), _PolicyHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(https_cert.cert_file, https_cert.key_file)
    https.socket = context.wrap_socket(https.socket, server_side=True)
    https_thread = threading.Thread(target=https.serve_forever, daemon=True)
    https_thread.start()

    yield MailLab(dns_server.nameserver, smtp_port, https.server_address[1], str(ca.ca_file))

    https.shutdown()
    hostile.stop()
    with_tls.stop()
    plain.stop()
    dns_server.stop()


def scan(config: ScanConfig, *domains: str) -> dict[str, TargetResult]:
    async def run() -> dict[str, TargetResult]:
        ctx = ScanContext(config)
        results = {d: TargetResult(target=d, kind="domain") for d in domains}
        await asyncio.gather(*(scan_domain(ctx, d, results[d]) for d in domains))
        return results

    return asyncio.run(run())


ALL_DOMAINS = (
    "good.carbet.test",
    "broken.carbet.test",
    "island.carbet.test",
    "bogus.carbet.test",
    "spf-plusall.carbet.test",
    "spf-neutral.carbet.test",
    "spf-noall.carbet.test",
    "spf-softfail.carbet.test",
    "spf-redirect.carbet.test",
    "spf-many.carbet.test",
    "spf-ten.carbet.test",
    "spf-syntax.carbet.test",
    "spf-double.carbet.test",
    "spf-loop.carbet.test",
    "spf-void.carbet.test",
    "spf-void2.carbet.test",
    "dmarc-none.carbet.test",
    "dmarc-unauth.carbet.test",
    "dmarc-sp.carbet.test",
    "dmarc-pct.carbet.test",
    "dmarc-bad.carbet.test",
    "mtasts-uncovered.carbet.test",
    "mtasts-testing.carbet.test",
    "mtasts-nopolicy.carbet.test",
    "badcert.carbet.test",
    "dkim-custom.carbet.test",
    "hostile-smtp.carbet.test",
)


@pytest.fixture(scope="session")
def scanned(mail_lab) -> dict[str, TargetResult]:
    """Every test domain scanned once, concurrently, as the runner would."""
    return scan(mail_lab.config(), *ALL_DOMAINS)
