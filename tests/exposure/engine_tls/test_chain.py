"""Issue 19 item 3: an incomplete chain is told apart from an unknown CA and from self-signed;
the missing intermediate is fetched only from the asset itself; OCSP stapling and Must-Staple.

A test PKI made with ``cryptography`` (root → intermediate → leaf), served by real
``openssl s_server`` processes sending the leaf only or the full chain (``-cert_chain``), one
with a stapled OCSP response (``-status_file``). The intermediate is offered over HTTP at the
leaf's AIA "CA Issuers" URL: on the scanned address itself (fetch allowed), or on another
loopback address (never fetched: the test counts the requests it receives). Scans go through
the runner with service identification, as ``carbet scan`` does.
"""

from __future__ import annotations

import asyncio
import os
import tempfile

import pytest
from cryptography.hazmat.primitives import serialization

from carbet.engines.exposure import runner
from carbet.engines.exposure.core import ScanConfig, TargetResult

from .servers import LoopbackServers, make_ca, make_leaf
from .sserver import SServers, make_chain_leaf, make_intermediate, ocsp_good_response

pytestmark = pytest.mark.realserver

OWN, FOREIGN_HOST = "127.20.0.10", "127.20.0.13"


class ChainLab:
    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="carbet-chain-")
        self.root = make_ca("Carbet Chain Root")
        self.intermediate = make_intermediate(self.root)
        self.ca_file = os.path.join(self.directory, "ca.pem")
        with open(self.ca_file, "wb") as handle:
            handle.write(self.root.cert_pem)
        self.sservers = SServers(self.directory)
        self.loopback = LoopbackServers()
        self.endpoints: dict[str, tuple[str, int]] = {}
        self.foreign_requests: list[str] = []

    def issuer_http(self, name: str, address: str, counter: list[str] | None = None) -> str:
        """Serve the intermediate (DER) over HTTP on ``address``; its URL."""
        der = self.intermediate.certificate.public_bytes(serialization.Encoding.DER)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            if counter is not None:
                counter.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\n"
                + f"Content-Length: {len(der)}\r\nConnection: close\r\n\r\n".encode()
                + der
            )
            await writer.drain()

        endpoint = self.loopback.add(name, address, handle)
        return f"http://{address}:{endpoint.port}/inter.der"

    def serve(self, name: str, address: str, issued, *options: str, chain=()) -> None:  # type: ignore[no-untyped-def]
        server = self.sservers.start(name, issued, *options, chain=chain, address=address)
        self.endpoints[name] = (address, server.port)

    def close(self) -> None:
        self.sservers.close()
        self.loopback.close()


@pytest.fixture(scope="module")
def chain_lab():
    lab = ChainLab()
    try:
        inter = lab.intermediate
        own_url = lab.issuer_http("aia-own", OWN)
        foreign_url = lab.issuer_http("aia-foreign", FOREIGN_HOST, lab.foreign_requests)
        lab.serve("leafonly", OWN, make_chain_leaf(inter, ["a.test"], aia=own_url))
        lab.serve("fullchain", "127.20.0.11", make_chain_leaf(inter, ["b.test"], aia=own_url),
                  chain=(inter,))  # fmt: skip
        lab.serve("foreign", "127.20.0.12", make_chain_leaf(inter, ["c.test"], aia=foreign_url))
        other_root = make_ca("Unknown Chain Root")
        other_inter = make_intermediate(other_root, "Unknown Intermediate")
        lab.serve("unknownca", "127.20.0.14", make_chain_leaf(other_inter, ["d.test"]),
                  chain=(other_inter,))  # fmt: skip
        lab.serve("selfsigned", "127.20.0.15", make_leaf(None, ["e.test"]))
        staple_leaf = make_chain_leaf(inter, ["f.test"], must_staple=True)
        lab.serve("muststaple", "127.20.0.16", staple_leaf, chain=(inter,))
        status_file = lab.sservers.write("ocsp.der", ocsp_good_response(staple_leaf, inter))
        lab.serve("stapled", "127.20.0.17", staple_leaf, "-status_file", status_file,
                  chain=(inter,))  # fmt: skip
        yield lab
    finally:
        lab.close()


@pytest.fixture(scope="module")
def scanned(chain_lab):
    names = list(chain_lab.endpoints)
    ports = tuple(chain_lab.endpoints[name][1] for name in names)
    config = ScanConfig(
        ports=ports, port_hints=tuple((port, "https") for port in ports),
        ca_file=chain_lab.ca_file, mail_dns=False, web_paths=False,
    )  # fmt: skip
    results = runner.scan([chain_lab.endpoints[name][0] for name in names], config)
    return dict(zip(names, results, strict=True))


def checks_of(result: TargetResult) -> set[str]:
    return {observation.check for observation in result.observations}


def certificate(result: TargetResult) -> dict:
    (evidence,) = [value for value in result.evidence["tls"].values() if "certificate" in value]
    return evidence


def test_leaf_only_with_the_intermediate_on_the_asset_is_an_incomplete_chain(scanned):
    result = scanned["leafonly"]
    found = checks_of(result)
    assert "tls.cert.chain_incomplete" in found, sorted(found)
    assert "tls.cert.untrusted" not in found and "tls.cert.self_signed" not in found
    completion = certificate(result)["certificate"]["chain_completion"]
    assert completion["completed"] is True and completion["fetched"] == 1
    assert result.scores["grade"] not in ("A+", "A")
    assert any(cap["check"] == "tls.cert.chain_incomplete" for cap in result.scores["caps"])


def test_full_chain_is_trusted_and_complete(scanned):
    found = checks_of(scanned["fullchain"])
    assert not found & {"tls.cert.chain_incomplete", "tls.cert.untrusted", "tls.cert.self_signed"}
    assert certificate(scanned["fullchain"])["certificate"]["trusted"] is True


def test_an_intermediate_on_another_host_is_never_fetched(scanned, chain_lab):
    result = scanned["foreign"]
    found = checks_of(result)
    assert "tls.cert.untrusted" in found and "tls.cert.chain_incomplete" not in found
    completion = certificate(result)["certificate"]["chain_completion"]
    assert completion["completed"] is False and completion["fetched"] == 0
    assert "n'est pas celle de l'actif" in completion["reason"]
    assert chain_lab.foreign_requests == []
    assert result.scores["grade"] == "F"


def test_unknown_ca_and_self_signed_keep_their_own_checks(scanned):
    unknown, selfsigned = checks_of(scanned["unknownca"]), checks_of(scanned["selfsigned"])
    assert "tls.cert.untrusted" in unknown and "tls.cert.chain_incomplete" not in unknown
    assert "tls.cert.self_signed" in selfsigned and "tls.cert.chain_incomplete" not in selfsigned
    assert scanned["unknownca"].scores["grade"] == scanned["selfsigned"].scores["grade"] == "F"


def test_must_staple_without_a_staple_is_a_finding(scanned):
    result = scanned["muststaple"]
    evidence = certificate(result)
    assert evidence["must_staple"] is True and evidence["ocsp_stapling"] is False
    assert "tls.ocsp.must_staple_missing" in checks_of(result)


def test_a_stapled_response_is_reported_and_honours_must_staple(scanned):
    result = scanned["stapled"]
    evidence = certificate(result)
    assert evidence["ocsp_stapling"] is True, evidence
    assert evidence["ocsp"]["certificate_status"] == "good"
    found = checks_of(result)
    assert not found & {"tls.ocsp.must_staple_missing", "tls.ocsp.stapling_missing"}


def test_a_server_without_stapling_says_so_quietly(scanned):
    result = scanned["fullchain"]
    assert certificate(result)["ocsp_stapling"] is False
    lost = result.scores["categories"]["tls"]["lost"]
    (stapling,) = [entry for entry in lost if entry["check"] == "tls.ocsp.stapling_missing"]
    assert stapling["points"] == 0  # informational: reported, costs nothing
