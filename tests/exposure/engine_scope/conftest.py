"""The scope lab (see ``lab``), started once per session; a policy like the platform's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from carbet.engines.exposure.core import ScanConfig
from carbet.engines.netpolicy import ConnectPolicy, parse_networks

from . import lab


@dataclass
class ScopeLab:
    nameserver: str
    http_port: int
    smtp_port: int
    https_port: int
    dns: lab.RebindingServer

    def policy(self, **overrides) -> ConnectPolicy:
        """The platform's rules for one structure: public (here: loopback allowed) only, never
        the centre's range, never another structure's declared address or name."""
        values = dict(
            allow_loopback=True,
            centre_networks=parse_networks([lab.CENTRE_NETWORK]),
            foreign_networks=parse_networks([lab.FOREIGN]),
            foreign_names=lab.FOREIGN_NAMES,
        )
        values.update(overrides)
        return ConnectPolicy(**values)

    def config(self, policy: ConnectPolicy | None, **overrides) -> ScanConfig:
        values = dict(
            ports=(self.http_port,),
            port_hints=((self.http_port, "http"),),
            smtp_port=self.smtp_port,
            mta_sts_port=self.https_port,
            nameserver=self.nameserver,
            connect_timeout=1.0,
            read_timeout=1.5,
            dns_timeout=2.0,
            target_timeout=30,
            tls_full=False,
            web_paths=False,
            mail_dns=True,
            policy=policy,
        )
        values.update(overrides)
        return ScanConfig(**values)


ALL_HOSTS = [
    lab.ALLOWED_WEB,
    lab.ALLOWED_WEB_2,
    lab.ALLOWED_MX,
    lab.ALLOWED_UNDER_FOREIGN_NAME,
    lab.ALLOWED_REBIND,
    lab.FOREIGN,
    lab.LOCAL,
    lab.CENTRE,
]
OK_PAGE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


@pytest.fixture(scope="session")
def scope_lab():
    dns_server = lab.RebindingServer().start()
    servers = []

    def listen_everywhere(reply_of) -> int:
        # Bound before the next port is chosen, so that two roles never share a port.
        port = lab.free_port_on(ALL_HOSTS)
        for host in ALL_HOSTS:
            servers.append(lab.start(host, port, reply_of(host, port)))
        return port

    http_port = listen_everywhere(
        lambda host, port: {
            lab.ALLOWED_WEB: lab.redirect_to(f"http://{lab.CENTRE}:{port}/admin"),
            lab.ALLOWED_WEB_2: lab.redirect_to(f"http://site.other.test:{port}/"),
        }.get(host, OK_PAGE)
    )
    smtp_port = listen_everywhere(lambda host, port: b"220 mx.scope.test ESMTP\r\n")
    https_port = listen_everywhere(lambda host, port: b"")
    yield ScopeLab(dns_server.nameserver, http_port, smtp_port, https_port, dns_server)
    for server in servers:
        server.shutdown()
        server.server_close()
    dns_server.stop()
