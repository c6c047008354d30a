"""One web lab per session: plain and TLS HTTP servers with and without the protections."""

from __future__ import annotations

import asyncio

import pytest

from carbet.engines.exposure.core import ScanConfig, ScanContext, ServiceInfo, TargetResult
from carbet.engines.exposure.web.probe import scan_web

from ..engine_tls import servers
from ..engine_tls.servers import LoopbackServers, http_handler, make_ca, make_leaf

HTML = b"<!doctype html><html><head><title>CH Test</title></head><body>Accueil</body></html>"
GOOD_HEADERS = [
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ("Content-Security-Policy", "default-src 'none'; img-src 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Set-Cookie", "sessionid=abc123; Path=/; Secure; HttpOnly; SameSite=Lax"),
    ("Server", "nginx"),
]
SECURITY_TXT = b"Contact: mailto:securite@ch-test.example\nExpires: 2030-01-01T00:00:00Z\n"
LISTING = b"<html><head><title>Index of /backup</title></head><body><a href='a.zip'>a.zip</a>"


class WebLab:
    def __init__(self) -> None:
        self.servers = LoopbackServers()
        self.ca = make_ca()
        self.ca_file = self.servers.write("web-ca.pem", self.ca.cert_pem)
        self.results: dict[str, TargetResult] = {}
        self.services: dict[str, list[ServiceInfo]] = {}
        self.use_tls: dict[str, bool] = {}

    def http(self, name: str, address: str, routes, default=None, tls: bool = False) -> None:  # type: ignore[no-untyped-def]
        context = None
        if tls:
            leaf = make_leaf(self.ca, [f"{name}.example.test"])
            context = self.servers.tls_context(leaf)
        self.servers.add(
            name, address, http_handler(routes, default), context, f"{name}.example.test"
        )
        self.use_tls[name] = tls

    def raw(self, name: str, address: str, handler) -> None:  # type: ignore[no-untyped-def]
        self.servers.add(name, address, handler, server_name=f"{name}.example.test")
        self.use_tls[name] = False

    def config(self, **overrides) -> ScanConfig:  # type: ignore[no-untyped-def]
        # Default timeouts: a busy CI machine must not turn a slow answer into a false verdict.
        values: dict[str, object] = {"ca_file": self.ca_file}
        values.update(overrides)
        return ScanConfig(**values)

    async def scan_many(self, names: list[str], config: ScanConfig) -> dict[str, TargetResult]:
        context = ScanContext(config)

        async def one(name: str) -> tuple[str, TargetResult]:
            endpoint = self.servers.endpoints[name]
            result = TargetResult(endpoint.server_name)
            result.services = list(self.services.get(name, []))
            await scan_web(
                context,
                endpoint.server_name,
                endpoint.address,
                endpoint.port,
                self.use_tls[name],
                endpoint.server_name,
                result,
            )
            return name, result

        return dict(await asyncio.gather(*(one(name) for name in names)))


ORDINARY = [
    "bare",
    "soft404",
    "soft404git",
    "redirect",
    "noredirect",
    "good",
    "bad",
    "unsafe",
    "metacsp",
]


@pytest.fixture(scope="session")
def web_lab():
    lab = WebLab()
    lab.http(
        "bare",
        "127.72.0.11",
        {
            "/": (200, [("Server", "Apache/2.4.41 (Ubuntu)"), ("X-Powered-By", "PHP/7.4.3")], HTML),
            "/.git/HEAD": (200, [], b"ref: refs/heads/main\n"),
            "/.env": (200, [], b"APP_KEY=base64:abc\nDB_PASSWORD=hopital2024\nDB_HOST=db\n"),
            "/db.sql": (200, [], b"-- MySQL dump 10.13\nCREATE TABLE patients (id int);\n"),
            "/backup/": (200, [], LISTING),
        },
    )
    # Soft 404: every path answers 200 with the home page, or even with a Git-HEAD-like text.
    lab.http("soft404", "127.72.0.12", {}, default=(200, [], HTML))
    lab.http("soft404git", "127.72.0.13", {}, default=(200, [], b"ref: refs/heads/main\n"))
    lab.http(
        "redirect",
        "127.72.0.14",
        {"/": (301, [("Location", "https://redirect.example.test/")], b"")},
    )
    # The same address serves HTTPS on another port: the plain port should send visitors there.
    lab.http(
        "good",
        "127.72.0.15",
        {
            "/": (302, [*GOOD_HEADERS, ("Location", "/accueil")], b""),
            "/accueil": (200, GOOD_HEADERS, HTML),
            "/.well-known/security.txt": (200, [("Content-Type", "text/plain")], SECURITY_TXT),
        },
        tls=True,
    )
    lab.http("noredirect", "127.72.0.15", {"/": (200, [], HTML)})
    lab.services["noredirect"] = [
        ServiceInfo(port=lab.servers.endpoints["good"].port, service="https", tls=True)
    ]
    lab.http(
        "bad",
        "127.72.0.16",
        {
            "/": (
                200,
                [
                    ("Set-Cookie", "PHPSESSID=abc; path=/"),
                    ("Set-Cookie", "lang=fr"),
                    ("Server", "Apache/2.4.41"),
                    ("X-Powered-By", "PHP/7.4.3"),
                    ("Referrer-Policy", "unsafe-url"),
                ],
                HTML,
            )
        },
        tls=True,
    )
    lab.http(
        "unsafe",
        "127.72.0.17",
        {
            "/": (
                200,
                [
                    ("Strict-Transport-Security", "max-age=300"),
                    ("Content-Security-Policy", "default-src 'self' 'unsafe-inline' 'unsafe-eval'"),
                    ("X-Content-Type-Options", "nosniff"),
                    ("X-Frame-Options", "SAMEORIGIN"),
                ],
                HTML,
            )
        },
        tls=True,
    )
    meta_csp = (
        b'<!doctype html><html><head><meta http-equiv="Content-Security-Policy" '
        b"content=\"default-src 'self'; frame-ancestors 'none'\"></head><body>x</body></html>"
    )
    lab.http("metacsp", "127.72.0.18", {"/": (200, [], meta_csp)}, tls=True)
    lab.raw("hugeheaders", "127.72.0.21", servers.huge_headers)
    lab.raw("slowdrip", "127.72.0.22", servers.http_slow_drip)
    lab.raw("garbage", "127.72.0.23", servers.http_garbage)
    lab.raw("silent", "127.72.0.24", servers.silent)
    lab.results = asyncio.run(lab.scan_many(ORDINARY, lab.config()))
    yield lab
    lab.servers.close()
