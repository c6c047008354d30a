"""One TLS lab per session: a test CA, certificates with each weakness, one real server each.

The scans of the ordinary servers run once (all concurrently) and every test reads their results.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import warnings

import pytest
from cryptography.hazmat.primitives import serialization

from carbet.engines.exposure.core import ScanConfig, ScanContext, TargetResult
from carbet.engines.exposure.tls.probe import scan_tls

from . import servers
from .servers import NOW, LoopbackServers, drain_and_close, make_ca, make_leaf, make_sha1_leaf

with warnings.catch_warnings():  # naming TLS 1.0/1.1 warns: serving them is the point here
    warnings.simplefilter("ignore", DeprecationWarning)
    TLS1, TLS11, TLS12, TLS13 = (
        ssl.TLSVersion.TLSv1,
        ssl.TLSVersion.TLSv1_1,
        ssl.TLSVersion.TLSv1_2,
        ssl.TLSVersion.TLSv1_3,
    )


class TlsLab:
    def __init__(self) -> None:
        self.servers = LoopbackServers()
        self.ca = make_ca()
        self.other_ca = make_ca("Unknown Root CA")
        self.ca_file = self.servers.write("ca.pem", self.ca.cert_pem)
        self.results: dict[str, TargetResult] = {}
        self._next = 10

    def address(self) -> str:
        self._next += 1
        return f"127.71.0.{self._next}"

    def tls(self, name: str, issued=None, **context_options) -> None:  # type: ignore[no-untyped-def]
        host = f"{name}.example.test"
        issued = issued or make_leaf(self.ca, [host])
        context = self.servers.tls_context(issued, **context_options)
        self.servers.add(name, self.address(), drain_and_close, context, server_name=host)

    def raw(self, name: str, handler) -> None:  # type: ignore[no-untyped-def]
        self.servers.add(name, self.address(), handler, server_name=f"{name}.example.test")

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
            await scan_tls(
                context,
                endpoint.server_name,
                endpoint.address,
                endpoint.port,
                endpoint.server_name,
                result,
            )
            return name, result

        return dict(await asyncio.gather(*(one(name) for name in names)))


ORDINARY = [
    "good",
    "tls10",
    "tls11",
    "nofs",
    "tls13",
    "expired",
    "expiring",
    "selfsigned",
    "wronghost",
    "rsa1024",
    "untrusted",
    "sha1",
    "ssl3",
    "dhe1024",
    "ssl2",
    "notyet",
    "dualcert",
    "deflate",
]


@pytest.fixture(scope="session")
def tls_lab():
    lab = TlsLab()
    ca = lab.ca
    lab.tls("good", minimum=TLS12)
    legacy_ciphers = "ECDHE-RSA-AES128-SHA:AES128-SHA:AECDH-AES128-SHA"
    lab.tls("tls10", minimum=TLS1, maximum=TLS1, ciphers=legacy_ciphers)
    lab.tls("tls11", minimum=TLS11, maximum=TLS11, ciphers="ECDHE-RSA-AES128-SHA")
    lab.tls("nofs", maximum=TLS12, minimum=TLS12, ciphers="AES128-GCM-SHA256:AES256-GCM-SHA384")
    lab.tls("tls13", minimum=TLS13)
    expired = make_leaf(
        ca,
        ["expired.example.test"],
        not_before=NOW - dt.timedelta(days=400),
        not_after=NOW - dt.timedelta(days=5),
    )
    lab.tls("expired", expired, minimum=TLS12)
    expiring = make_leaf(ca, ["expiring.example.test"], not_after=NOW + dt.timedelta(days=10))
    lab.tls("expiring", expiring, minimum=TLS12)
    not_yet = make_leaf(ca, ["notyet.example.test"], not_before=NOW + dt.timedelta(days=3))
    lab.tls("notyet", not_yet, minimum=TLS12)
    # RSA certificate fine, ECDSA one expired: only ECDSA suites show the second.
    expired_ecdsa = make_leaf(
        ca,
        ["dualcert.example.test"],
        elliptic=True,
        not_before=NOW - dt.timedelta(days=100),
        not_after=NOW - dt.timedelta(days=1),
    )
    lab.tls(
        "dualcert",
        minimum=TLS12,
        maximum=TLS12,
        ciphers="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256",
        extra_certificates=[expired_ecdsa],
    )
    lab.tls("selfsigned", make_leaf(None, ["selfsigned.example.test"]), minimum=TLS12)
    lab.tls("wronghost", make_leaf(ca, ["other.example.test"]), minimum=TLS12)
    lab.tls("rsa1024", make_leaf(ca, ["rsa1024.example.test"], key_bits=1024), minimum=TLS12)
    lab.tls("untrusted", make_leaf(lab.other_ca, ["untrusted.example.test"]), minimum=TLS12)
    sha1 = make_sha1_leaf(ca, ["sha1.example.test"], lab.servers.directory)
    lab.tls("sha1", sha1, minimum=TLS12)
    dh_file = lab.servers.write("dh1024.pem", servers.weak_dh_params_pem())
    dhe_ciphers = "DHE-RSA-AES128-GCM-SHA256:ECDHE+AESGCM"
    lab.tls("dhe1024", minimum=TLS12, maximum=TLS12, ciphers=dhe_ciphers, dh_params=dh_file)
    ssl3_leaf = make_leaf(ca, ["ssl3.example.test"])
    servers.SSL3_LEAF_DER.append(ssl3_leaf.certificate.public_bytes(serialization.Encoding.DER))
    lab.raw("ssl3", servers.ssl3_responder)
    lab.raw("ssl2", servers.sslv2_responder)
    lab.raw("deflate", servers.compressing_responder)
    lab.raw("garbage", servers.garbage_responder)
    lab.raw("slowdrip", servers.slow_drip)
    lab.raw("silent", servers.silent)
    lab.raw("endless", servers.endless_records)
    lab.raw("badcert", servers.malformed_certificate)
    lab.results = asyncio.run(lab.scan_many(ORDINARY, lab.config()))
    yield lab
    lab.servers.close()
