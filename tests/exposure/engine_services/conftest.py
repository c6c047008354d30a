"""The session's loopback lab: one listener per protocol and weakness, started once."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import pytest

from carbet.engines.exposure.core import ScanConfig, ScanContext, TargetResult
from carbet.engines.exposure.ports.probe import scan_address

from . import servers as s

# Each test session takes its own block of five 127.44.x networks, so that two sessions on one
# machine (a developer's and a CI-like full run) never fight over the same address and port.
BLOCK = 5 + 5 * (os.getpid() % 48)


def ip(network: int, host: int) -> str:
    return f"127.44.{BLOCK + network}.{host}"


@dataclass(frozen=True)
class Spot:
    host: str
    port: int
    hint: str = ""  # a probe for a port number the scanner would not guess


# name -> (address, port, handler factory result, probe hint)
LAYOUT: dict[str, tuple[str, int, s.Handler, str]] = {
    "ssh": (ip(0, 1), 2222, s.greeting(b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n"), ""),
    "ssh_v1": (ip(0, 2), 2222, s.greeting(b"SSH-1.99-Cisco-1.25\r\n"), ""),
    "ftp": (ip(0, 3), 2121, s.greeting(b"220 (vsFTPd 3.0.3)\r\n"), ""),
    "telnet": (ip(0, 4), 2323, s.telnet, ""),
    "smtp_tls": (ip(0, 5), 2525, s.smtp(starttls=True), ""),
    "smtp_plain": (ip(0, 6), 2525, s.smtp(starttls=False), ""),
    "vnc_noauth": (ip(0, 7), 5900, s.vnc(b"\x01"), ""),
    "vnc_auth": (ip(0, 8), 5900, s.vnc(b"\x02\x13"), ""),
    "rdp_nla": (ip(0, 9), 3389, s.rdp(selected=2), ""),
    "rdp_legacy": (ip(0, 10), 3389, s.rdp(selected=1), ""),
    "smb_good": (ip(0, 11), 4450, s.smb(signing_required=True, smb1=False), "smb"),
    "smb_bad": (ip(0, 12), 4450, s.smb(signing_required=False, smb1=True), "smb"),
    "dicom_open": (ip(0, 13), 11112, s.dicom(accept=True), ""),
    "dicom_strict": (ip(0, 14), 11112, s.dicom(accept=False), ""),
    "hl7": (ip(0, 15), 2575, s.hl7, ""),
    "fhir_open": (ip(0, 16), 8080, s.http({
        "/": (200, {}, b"<html>dossier patient</html>"),
        "/metadata": (200, {"Content-Type": "application/fhir+json"}, s.CAPABILITY),
    }), ""),
    "fhir_closed": (ip(0, 17), 8080, s.http({
        "/": (200, {}, b"<html>portail</html>"),
        "/metadata": (401, {"WWW-Authenticate": "Bearer"}, b""),
    }), ""),
    "redis_open": (ip(0, 18), 6379, s.redis(password=False), ""),
    "redis_auth": (ip(0, 19), 6379, s.redis(password=True), ""),
    "mongo_open": (ip(0, 20), 27017, s.mongodb(auth=False), ""),
    "mongo_auth": (ip(0, 21), 27017, s.mongodb(auth=True), ""),
    "mysql": (ip(0, 22), 3306, s.greeting(s.MYSQL_HANDSHAKE), ""),
    "postgres": (ip(0, 23), 5432, s.postgres_no_ssl, ""),
    "elastic": (ip(0, 24), 9200, s.http({"/": (200, {}, s.ELASTIC)}), ""),
    "vpn_portal": (ip(0, 25), 8443, s.http({
        "/": (302, {"Location": "/remote/login?lang=en"}, b""),
    }, server="xxxxxxxx-xxxxx"), ""),
    "plain_http": (ip(0, 26), 8080, s.http({"/": (200, {}, b"<html>accueil</html>")},
                                               server="Apache/2.4.41 (Ubuntu)"), ""),
    "http_on_rdp_port": (ip(0, 27), 3389, s.http({"/": (200, {}, b"ok")}), ""),
    # hostile peers
    "garbage": (ip(1, 1), 7001, s.garbage, ""),
    "slow_drip": (ip(1, 2), 7002, s.slow_drip, ""),
    "huge_banner": (ip(1, 3), 7003, s.huge_banner, ""),
    "reset": (ip(1, 4), 7004, s.reset, ""),
    "silent": (ip(1, 5), 7005, s.silent, ""),
    "slow_http": (ip(1, 6), 8080, s.slow_http, ""),
    "garbage_rdp": (ip(1, 7), 3389, s.garbage, ""),
    "silent_dicom": (ip(1, 8), 11112, s.silent, ""),
}  # fmt: skip
HOLDING_HOST = ip(2, 1)
HOLDING_PORTS = tuple(range(7100, 7140))
HTTPS_SPOT = (ip(3, 1), 8443)
DNS_SERVER = (ip(4, 1), 5353)
DNS_RECORDS = {
    ("www.lab.test", "A"): [ip(0, 15)],
    ("lab.test", "SOA"): ["ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300"],
    ("lab.test", "A"): [ip(0, 26)],
    ("ns.lab.test", "A"): [ip(4, 1)],
}
OTHER_HOLDING_HOSTS = (ip(2, 2), ip(2, 3), ip(2, 4))

FAST = ScanConfig(
    connect_timeout=1.0, read_timeout=1.5, target_timeout=20.0, mail_dns=False, web_paths=False
)


class Lab:
    def __init__(self, listeners: s.ListenerSet) -> None:
        self.listeners = listeners
        self.spots = {
            name: Spot(host, port, hint) for name, (host, port, _h, hint) in LAYOUT.items()
        }

    def __getitem__(self, name: str) -> Spot:
        return self.spots[name]

    def config(self, *names: str, **overrides) -> ScanConfig:
        ports = tuple(sorted({self[name].port for name in names}))
        hints = tuple((self[name].port, self[name].hint) for name in names if self[name].hint)
        values = {**FAST.__dict__, "ports": ports, "port_hints": hints, **overrides}
        return ScanConfig(**values)


@pytest.fixture(scope="session")
def lab():
    listeners = s.ListenerSet()
    try:
        for host, port, handler, _hint in LAYOUT.values():
            listeners.add(host, port, handler)
        for port in HOLDING_PORTS:
            listeners.add(HOLDING_HOST, port, s.holding)
        listeners.add(
            *HTTPS_SPOT,
            s.http({"/": (200, {}, b"<html>portail</html>")}),
            ssl_context=s.self_signed_context(),
        )
        s.start_dns(listeners, *DNS_SERVER, DNS_RECORDS)
        for host in OTHER_HOLDING_HOSTS:
            for port in HOLDING_PORTS[:3]:
                listeners.add(host, port, s.holding)
        yield Lab(listeners)
    finally:
        listeners.stop()


def scan_spots(
    lab: Lab, names: list[str], config: ScanConfig | None = None
) -> dict[str, TargetResult]:
    """Fingerprint each named listener (its port only) with the services probe alone."""

    async def run() -> dict[str, TargetResult]:
        results = {}

        async def one(name: str) -> None:
            spot = lab[name]
            ctx = ScanContext(config or lab.config(name))
            result = TargetResult(target=spot.host, kind="ip", addresses=[spot.host])
            await scan_address(ctx, result, spot.host)
            results[name] = result

        await asyncio.gather(*(one(name) for name in names))
        return results

    return asyncio.run(run())


@pytest.fixture(scope="session")
def identified(lab):
    """Every non-hostile listener scanned once, for the positive/negative assertions."""
    names = [
        name
        for name, (host, *_rest) in LAYOUT.items()
        if host.startswith(ip(0, 0).rsplit(".", 1)[0] + ".")
    ]
    return scan_spots(lab, names)
