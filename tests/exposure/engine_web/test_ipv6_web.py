"""IPv6 parity of a web host, end to end through the runner, against real HTTPS servers on
127.53.7.1 and ::1 (www.web6.test announces both, served by the test's DNS server).

Three "sites" (ports) differ only by what listens on ::1: the same server (same certificate,
same redirect), nothing, or another server (another certificate, no redirect).
"""

from __future__ import annotations

import http.server
import ipaddress
import socket
import ssl
import threading

import pytest

from carbet.engines.exposure import runner
from carbet.engines.exposure.core import ScanConfig
from carbet.engines.netpolicy import ConnectPolicy

from ..engine_maildns.authdns import AuthoritativeServer, zone_from_text
from ..engine_maildns.pki import TestCA

pytestmark = pytest.mark.realserver

WEB4, DNS4, V6 = "127.53.7.1", "127.53.7.5", "::1"
NAME = "www.web6.test"
ZONE = f"""@ 300 IN SOA ns.web6.test. hostmaster.web6.test. 1 3600 600 86400 300
@ NS ns.web6.test.
ns A {DNS4}
www A {WEB4}
www AAAA {V6}
"""
IPV6_CHECKS = {"web.ipv6.unreachable", "web.ipv6.differs"}


def _handler(redirect: bool):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if redirect and self.path == "/":
                self.send_response(301)
                self.send_header("Location", f"https://{NAME}/accueil")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b"<html><body>Accueil</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


class _Server6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _serve(host: str, port: int, context: ssl.SSLContext, redirect: bool):
    cls = _Server6 if ":" in host else http.server.ThreadingHTTPServer
    server = cls((host, port), _handler(redirect))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _port_for_both() -> int:
    for _attempt in range(100):
        with socket.socket() as first:
            first.bind((WEB4, 0))
            port = first.getsockname()[1]
            with socket.socket(socket.AF_INET6) as second:
                try:
                    second.bind((V6, port))
                except OSError:
                    continue
        return port
    raise OSError("no common free port")


@pytest.fixture(scope="module")
def web6(tmp_path_factory):
    directory = tmp_path_factory.mktemp("web6-pki")
    ca = TestCA(directory)
    cert = ca.issue("www", [NAME]).server_context()
    other = ca.issue("www-old", [NAME]).server_context()  # another certificate, same name
    dns_server = AuthoritativeServer([zone_from_text("web6.test.", ZONE)], host=DNS4).start()
    ports, servers = {}, []
    for site in ("same", "v4only", "differs"):
        port = _port_for_both()
        ports[site] = port
        servers.append(_serve(WEB4, port, cert, redirect=True))
        if site == "same":
            servers.append(_serve(V6, port, cert, redirect=True))
        elif site == "differs":
            servers.append(_serve(V6, port, other, redirect=False))
    yield {"ports": ports, "nameserver": dns_server.nameserver, "ca": str(ca.ca_file)}
    for server in servers:
        server.shutdown()
        server.server_close()
    dns_server.stop()


def _scan(web6, site: str, **overrides):
    port = web6["ports"][site]
    values = dict(
        nameserver=web6["nameserver"],
        ports=(port,),
        port_hints=((port, "https"),),
        ca_file=web6["ca"],
        tls_full=False,
        web_paths=False,
        mail_dns=False,
    )
    values.update(overrides)
    [result] = runner.scan([f"host:{NAME}"], ScanConfig(**values))
    return result


def _fired(result) -> set[str]:
    return {o.check for o in result.observations}


def test_same_site_over_both_families(web6):
    result = _scan(web6, "same")
    assert set(result.addresses) == {WEB4, V6}
    assert _fired(result) & IPV6_CHECKS == set()
    [entry] = result.evidence["ipv6_web"]["ports"]
    assert entry["v6_open"] and entry["compared"] and entry["differs"] == []
    assert entry["over_v4"]["status"] == entry["over_v6"]["status"] == 301
    assert entry["over_v4"]["cert_sha256"] == entry["over_v6"]["cert_sha256"] != ""


def test_announced_but_closed_over_ipv6(web6):
    result = _scan(web6, "v4only")
    assert _fired(result) & IPV6_CHECKS == {"web.ipv6.unreachable"}
    [observation] = [o for o in result.observations if o.check == "web.ipv6.unreachable"]
    assert observation.port == web6["ports"]["v4only"]
    assert observation.evidence["addresses"] == [V6]


def test_another_server_behind_ipv6(web6):
    result = _scan(web6, "differs")
    assert _fired(result) & IPV6_CHECKS == {"web.ipv6.differs"}
    [entry] = result.evidence["ipv6_web"]["ports"]
    assert set(entry["differs"]) == {"status", "location", "cert_sha256"}


def test_a_refused_ipv6_address_is_not_judged(web6):
    policy = ConnectPolicy(
        allow_loopback=True, foreign_networks=(ipaddress.ip_network(f"{V6}/128"),)
    )
    result = _scan(web6, "v4only", policy=policy)
    assert _fired(result) & IPV6_CHECKS == set()
    assert "ipv6_web" not in result.evidence
    assert {r["address"] for r in result.refused} == {V6}
