"""Issue 19 item 3, offline: a server that forgets its intermediate is told apart from an
unknown authority through intermediates Carbet already knows, never fetched from a third party.

The chain lab of ``test_chain`` again (root → intermediate → leaf made with ``cryptography``,
real ``openssl s_server`` processes on loopback): the leaf's AIA "CA Issuers" URL is on another
loopback address (the authority's, a third party), whose HTTP listener counts every request
it gets — none must arrive. The store is built from what a previous scan reported
(``trusted_intermediates``), as the platform learns it, or from an "imported" certificate.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from carbet.engines.exposure import runner
from carbet.engines.exposure.core import ScanConfig, TargetResult
from carbet.engines.exposure.tls.intermediates import KnownIntermediates, describe, sent_path

from .servers import LoopbackServers, make_ca, make_leaf
from .sserver import SServers, make_chain_leaf, make_intermediate
from .test_chain import certificate, checks_of

pytestmark = pytest.mark.realserver
ROOT = Path(__file__).resolve().parents[3]

LEAF_ONLY, FULL_CHAIN, UNKNOWN_FULL, UNKNOWN_LEAF, FOREIGN = (
    "127.20.1.10", "127.20.1.11", "127.20.1.12", "127.20.1.14", "127.20.1.13",
)  # fmt: skip


def der(issued) -> bytes:  # type: ignore[no-untyped-def]
    return issued.certificate.public_bytes(serialization.Encoding.DER)


class Lab:
    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="carbet-known-")
        self.root = make_ca("Carbet Known Root")
        self.intermediate = make_intermediate(self.root, "Carbet Known Intermediate")
        self.unknown_root = make_ca("Stranger Root")
        self.unknown_intermediate = make_intermediate(self.unknown_root, "Stranger Intermediate")
        self.ca_file = os.path.join(self.directory, "ca.pem")
        with open(self.ca_file, "wb") as handle:
            handle.write(self.root.cert_pem)
        self.sservers = SServers(self.directory)
        self.loopback = LoopbackServers()
        self.endpoints: dict[str, tuple[str, int]] = {}
        self.foreign_requests: list[str] = []

    def start(self) -> None:
        async def counting(reader, writer) -> None:  # type: ignore[no-untyped-def]
            self.foreign_requests.append("connection")
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        endpoint = self.loopback.add("ca-repository", FOREIGN, counting)
        aia = f"http://{FOREIGN}:{endpoint.port}/known-intermediate.der"
        inter, stranger = self.intermediate, self.unknown_intermediate
        self.serve("leafonly", LEAF_ONLY, make_chain_leaf(inter, ["a.test"], aia=aia))
        self.serve("fullchain", FULL_CHAIN, make_chain_leaf(inter, ["b.test"], aia=aia), (inter,))
        self.serve("unknownfull", UNKNOWN_FULL, make_chain_leaf(stranger, ["c.test"], aia=aia),
                   (stranger,))  # fmt: skip
        self.serve("unknownleaf", UNKNOWN_LEAF, make_chain_leaf(stranger, ["d.test"], aia=aia))

    def serve(self, name: str, address: str, issued, chain=()) -> None:  # type: ignore[no-untyped-def]
        server = self.sservers.start(name, issued, chain=chain, address=address)
        self.endpoints[name] = (address, server.port)

    def scan(self, names: list[str], store: KnownIntermediates | None) -> dict[str, TargetResult]:
        ports = tuple(sorted({self.endpoints[name][1] for name in names}))
        config = ScanConfig(
            ports=ports, port_hints=tuple((port, "https") for port in ports),
            ca_file=self.ca_file, mail_dns=False, web_paths=False, known_intermediates=store,
        )  # fmt: skip
        results = runner.scan([self.endpoints[name][0] for name in names], config)
        return dict(zip(names, results, strict=True))

    def close(self) -> None:
        self.sservers.close()
        self.loopback.close()


@pytest.fixture(scope="module")
def lab():
    lab = Lab()
    try:
        lab.start()
        yield lab
    finally:
        lab.close()


@pytest.fixture(scope="module")
def first_pass(lab):
    """A scan with an empty store: what the platform sees before it knows anything."""
    return lab.scan(["leafonly", "fullchain", "unknownfull"], None)


def learnt(results) -> list[bytes]:  # type: ignore[no-untyped-def]
    """What the platform learns from a scan: the DER of the reported trusted intermediates."""
    return [
        base64.b64decode(entry["der"])
        for result in results
        for entry in result.evidence.get("trusted_intermediates", [])
    ]


def test_without_the_intermediate_the_issuer_is_unknown_to_carbet(first_pass, lab):
    result = first_pass["leafonly"]
    found = checks_of(result)
    assert "tls.cert.untrusted" in found and "tls.cert.chain_incomplete" not in found
    completion = certificate(result)["certificate"]["chain_completion"]
    assert completion["completed"] is False and completion["fetched"] == 0
    assert "inconnu de Carbet" in completion["reason"]
    assert "carbet intermediates import" in completion["reason"]
    (untrusted,) = [o for o in result.observations if o.check == "tls.cert.untrusted"]
    assert (
        "inconnu de Carbet" in untrusted.detail and "Carbet Known Intermediate" in untrusted.detail
    )
    assert lab.foreign_requests == []


def test_a_trusted_full_chain_reports_its_intermediate_for_learning(first_pass, lab):
    reported = first_pass["fullchain"].evidence["trusted_intermediates"]
    assert [entry["sha256"] for entry in reported] == [describe(der(lab.intermediate)).sha256]
    assert "Carbet Known Intermediate" in reported[0]["subject"]
    assert base64.b64decode(reported[0]["der"]) == der(lab.intermediate)


def test_an_untrusted_chain_is_never_learnt(first_pass):
    assert "tls.cert.untrusted" in checks_of(first_pass["unknownfull"])
    assert "trusted_intermediates" not in first_pass["unknownfull"].evidence
    assert "trusted_intermediates" not in first_pass["leafonly"].evidence


def test_a_learnt_intermediate_completes_a_leaf_only_server_without_fetching(first_pass, lab):
    store = KnownIntermediates(learnt(first_pass.values()))
    assert len(store) == 1
    result = lab.scan(["leafonly"], store)["leafonly"]
    found = checks_of(result)
    assert "tls.cert.chain_incomplete" in found, sorted(found)
    assert "tls.cert.untrusted" not in found
    completion = certificate(result)["certificate"]["chain_completion"]
    assert completion["completed"] is True and completion["source"] == "known"
    assert completion["fetched"] == 0 and completion["urls"] == []
    assert any("Carbet Known Intermediate" in name for name in completion["missing"])
    (incomplete,) = [o for o in result.observations if o.check == "tls.cert.chain_incomplete"]
    assert (
        "Carbet Known Intermediate" in incomplete.detail and "connu de Carbet" in incomplete.detail
    )
    assert incomplete.evidence["source"] == "known"
    assert result.scores["grade"] not in ("A+", "A")
    # The authority's repository (a third party) was never contacted, by any scan here.
    assert lab.foreign_requests == []


def test_an_imported_intermediate_of_an_unknown_authority_trusts_nothing(lab):
    """A known intermediate is a path candidate, never an anchor: its root must be trusted."""
    store = KnownIntermediates([der(lab.unknown_intermediate)])
    result = lab.scan(["unknownleaf"], store)["unknownleaf"]
    found = checks_of(result)
    assert "tls.cert.untrusted" in found and "tls.cert.chain_incomplete" not in found
    reason = certificate(result)["certificate"]["chain_completion"]["reason"]
    assert "connu de Carbet" in reason and "autorité elle-même n'est pas reconnue" in reason
    assert lab.foreign_requests == []


def test_carbet_scan_takes_a_bundle_of_intermediates(lab, tmp_path):
    """The analyst's lab tool: ``carbet scan --intermediates PEM``, nothing fetched either."""
    bundle = tmp_path / "intermediates.pem"
    bundle.write_bytes(b"# authority bundle\n" + lab.intermediate.cert_pem + lab.root.cert_pem)
    address, port = lab.endpoints["leafonly"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CARBET_DATA_DIR": str(tmp_path)}
    completed = subprocess.run(
        [sys.executable, "-m", "carbet.cli", "scan", address, "--ports", f"{port}:https",
         "--ca-file", lab.ca_file, "--intermediates", str(bundle), "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    (target,) = json.loads(completed.stdout)["targets"]
    checks = {finding["check"] for finding in target["findings"]}
    assert "tls.cert.chain_incomplete" in checks and "tls.cert.untrusted" not in checks
    assert lab.foreign_requests == []
    refused = subprocess.run(
        [sys.executable, "-m", "carbet.cli", "scan", address, "--ports", f"{port}:https",
         "--intermediates", str(tmp_path / "missing.pem")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and "intermédiaires illisibles" in refused.stderr


# -- the store itself, without servers ---------------------------------------------------------


def rekeyed(intermediate, root):  # type: ignore[no-untyped-def]
    """The same intermediate (name, issuer) under a fresh key, as after a key rollover."""
    key = ec.generate_private_key(ec.SECP256R1())
    original = intermediate.certificate
    builder = (
        x509.CertificateBuilder()
        .subject_name(original.subject)
        .issuer_name(original.issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(original.not_valid_before_utc)
        .not_valid_after(original.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    certificate = builder.sign(root.key, hashes.SHA256())
    return type(intermediate)(certificate=certificate, key=key, cert_pem=b"", key_pem=b"")


def test_the_store_matches_issuer_name_and_key_identifier():
    root = make_ca("Index Root")
    first = make_intermediate(root, "Index Intermediate")
    # Same name, another key: an authority's key rollover. The leaf's AKI picks the right one.
    rollover = rekeyed(first, root)
    leaf = make_chain_leaf(first, ["x.test"])
    store = KnownIntermediates([der(rollover), der(first), der(root), der(leaf)])
    assert len(store) == 2  # the root and the leaf are never candidates
    assert [item.sha256 for item in store.issuers_of(der(leaf))] == [describe(der(first)).sha256]


def test_the_store_follows_several_levels():
    root = make_ca("Deep Root")
    upper = make_intermediate(root, "Deep Upper")
    lower = make_intermediate(upper, "Deep Lower")
    leaf = make_chain_leaf(lower, ["y.test"])
    store = KnownIntermediates([der(upper), der(lower), b"garbage"])
    assert store.unreadable == 1
    names = [item.subject.split(",")[0] for item in store.candidates(der(leaf), 3)]
    assert names == ["CN=Deep Lower", "CN=Deep Upper"]
    assert len(store.candidates(der(leaf), 1)) == 1


def test_only_signed_links_of_a_sent_chain_are_learnt():
    root = make_ca("Path Root")
    inter = make_intermediate(root, "Path Intermediate")
    stray = make_intermediate(make_ca("Stray Root"), "Stray Intermediate")
    leaf = make_chain_leaf(inter, ["z.test"])
    path = sent_path([der(leaf), der(stray), der(inter), der(root)])
    assert [item.sha256 for item in path] == [describe(der(inter)).sha256]
    assert sent_path([der(make_leaf(None, ["s.test"]))]) == []
