"""TLS probe against real OpenSSL servers on loopback, one weakness per server.

Every required check id is asserted where the weakness is, and absent from the good server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from carbet.engines.exposure.checks import all_checks
from carbet.engines.exposure.core import ScanContext, TargetResult
from carbet.engines.exposure.tls.probe import scan_tls

pytestmark = pytest.mark.realserver

REQUIRED = {
    "tls.protocol.ssl2": "ssl2",
    "tls.compression": "deflate",  # crafted responder: no zlib in this OpenSSL
    "tls.protocol.ssl3": "ssl3",
    "tls.protocol.tls10": "tls10",
    "tls.protocol.tls11": "tls11",
    "tls.cipher.weak": "tls10",  # anonymous ECDH suite accepted
    "tls.no_forward_secrecy": "nofs",
    "tls.cert.expired": "expired",
    "tls.cert.expiring": "expiring",
    "tls.cert.not_yet_valid": "notyet",
    "tls.cert.self_signed": "selfsigned",
    "tls.cert.untrusted": "untrusted",
    "tls.cert.hostname_mismatch": "wronghost",
    "tls.cert.weak_key": "rsa1024",
    "tls.cert.sha1_signature": "sha1",
    "tls.protocol.tls13_missing": "nofs",
    "tls.dh.weak": "dhe1024",
    "tls.cipher.legacy": "tls11",
    "tls.renegotiation.insecure": "ssl3",  # the crafted responder sends no renegotiation_info
}


def checks_of(result: TargetResult) -> set[str]:
    return {observation.check for observation in result.observations}


def tls_evidence(result: TargetResult) -> dict:
    (evidence,) = result.evidence["tls"].values()
    return evidence


@pytest.mark.parametrize(("check", "server"), sorted(REQUIRED.items()))
def test_check_fires_on_the_weak_server(tls_lab, check, server):
    assert check in checks_of(tls_lab.results[server]), tls_lab.results[server].observations


@pytest.mark.parametrize("check", sorted(REQUIRED))
def test_check_silent_on_the_good_server(tls_lab, check):
    assert check not in checks_of(tls_lab.results["good"])


def test_good_server_is_clean_and_fully_described(tls_lab):
    result = tls_lab.results["good"]
    # Python's ssl cannot staple OCSP responses: the informational note is all there is.
    assert [o.check for o in result.observations] == ["tls.ocsp.stapling_missing"]
    assert result.errors == []
    evidence = tls_evidence(result)
    assert evidence["protocols"] == {
        "ssl2": False,
        "ssl3": False,
        "tls10": False,
        "tls11": False,
        "tls12": True,
        "tls13": True,
    }
    assert {suite["name"] for suite in evidence["suites"]["tls13"]} == {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
    }
    assert {suite["class"] for suite in evidence["suites"]["tls12"]} == {"recommended"}
    assert "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" in {
        s["name"] for s in evidence["suites"]["tls12"]
    }
    assert "x25519" in evidence["groups"]
    certificate = evidence["certificate"]
    assert certificate["trusted"] is True
    assert certificate["hostname_ok"] is True
    assert certificate["key_type"] == "RSA"
    assert certificate["key_bits"] == 2048
    assert certificate["signature_algorithm"] == "sha256WithECDSAEncryption" or certificate[
        "signature_algorithm"
    ].startswith("ecdsa-with-SHA256")
    assert "good.example.test" in certificate["sans"]
    assert (
        certificate["issuer"].endswith("Carbet Test Root CA")
        or "Carbet Test Root CA" in (certificate["issuer"])
    )


def test_tls13_only_server(tls_lab):
    result = tls_lab.results["tls13"]
    evidence = tls_evidence(result)
    assert [key for key, accepted in evidence["protocols"].items() if accepted] == ["tls13"]
    assert checks_of(result) == set()
    # The leaf came from a full handshake (TLS 1.3 encrypts the Certificate message).
    assert evidence["certificate"]["subject"].endswith("CN=tls13.example.test") or (
        "tls13.example.test" in evidence["certificate"]["sans"]
    )


def test_tls10_server_suites_are_classified(tls_lab):
    evidence = tls_evidence(tls_lab.results["tls10"])
    classes = {suite["name"]: suite["class"] for suite in evidence["suites"]["tls10"]}
    assert classes["TLS_ECDH_anon_WITH_AES_128_CBC_SHA"] == "weak"
    assert classes["TLS_RSA_WITH_AES_128_CBC_SHA"] == "legacy"
    assert classes["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"] == "legacy"


def test_no_forward_secrecy_is_high_when_no_suite_has_it(tls_lab):
    (observation,) = [
        o for o in tls_lab.results["nofs"].observations if o.check == "tls.no_forward_secrecy"
    ]
    assert observation.severity == 3
    assert observation.evidence["forward_secrecy_available"] is False


def test_certificate_verdicts_are_separate(tls_lab):
    expired = tls_evidence(tls_lab.results["expired"])["certificate"]
    assert expired["trusted"] is True  # the chain is fine; only the date is wrong
    assert expired["days_left"] < 0
    assert tls_evidence(tls_lab.results["selfsigned"])["certificate"]["self_signed"] is True
    assert "tls.cert.untrusted" not in checks_of(tls_lab.results["selfsigned"])
    untrusted = tls_evidence(tls_lab.results["untrusted"])["certificate"]
    assert untrusted["trusted"] is False and untrusted["trust_error"]
    assert tls_evidence(tls_lab.results["wronghost"])["certificate"]["hostname_ok"] is False


def test_ssl3_detected_on_a_crafted_responder(tls_lab):
    """OpenSSL 3 on this machine cannot serve SSLv3: the SSLv3 server is a crafted responder
    that sends a genuine SSLv3 ServerHello + Certificate flight (see servers.ssl3_responder)."""
    evidence = tls_evidence(tls_lab.results["ssl3"])
    assert [key for key, accepted in evidence["protocols"].items() if accepted] == ["ssl3"]
    names = {suite["name"] for suite in evidence["suites"]["ssl3"]}
    assert names == {"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"}
    assert evidence["certificate"]["trusted"] is None  # no real handshake possible


def test_dhe_prime_size_is_reported(tls_lab):
    evidence = tls_evidence(tls_lab.results["dhe1024"])
    assert evidence["dh_bits"] == 1024
    assert "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" in {s["name"] for s in evidence["suites"]["tls12"]}
    assert tls_evidence(tls_lab.results["good"])["dh_bits"] is None


def test_sslv2_detected_on_a_crafted_responder(tls_lab):
    """No OpenSSL here can serve SSLv2: the server is a crafted SERVER-HELLO responder."""
    result = tls_lab.results["ssl2"]
    evidence = tls_evidence(result)
    assert evidence["protocols"]["ssl2"] is True
    assert {suite["name"] for suite in evidence["suites"]["ssl2"]} == {
        "SSL_CK_RC4_128_WITH_MD5",
        "SSL_CK_DES_192_EDE3_CBC_WITH_MD5",
    }
    assert "tls.protocol.ssl2" in checks_of(result)
    assert tls_evidence(tls_lab.results["ssl3"])["protocols"]["ssl2"] is False


def test_every_certificate_of_a_dual_certificate_server_is_checked(tls_lab):
    result = tls_lab.results["dualcert"]
    evidence = tls_evidence(result)
    key_types = {evidence["certificate"]["key_type"]} | {
        certificate["key_type"] for certificate in evidence["other_certificates"]
    }
    assert key_types == {"RSA", "EC"}
    assert "tls.cert.expired" in checks_of(result)
    assert tls_evidence(tls_lab.results["good"]).get("other_certificates") is None


def test_compression_verdict_in_evidence(tls_lab):
    assert tls_evidence(tls_lab.results["deflate"])["compression"] is True
    assert tls_evidence(tls_lab.results["good"])["compression"] is False
    assert tls_evidence(tls_lab.results["deflate"])["secure_renegotiation"] is True


def test_injected_clock_moves_expiry(tls_lab):
    endpoint = tls_lab.servers.endpoints["good"]
    result = TargetResult("good")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=350)
    asyncio.run(
        scan_tls(
            ScanContext(tls_lab.config(tls_full=False)),
            "good",
            endpoint.address,
            endpoint.port,
            endpoint.server_name,
            result,
            now=later,
        )
    )
    assert "tls.cert.expiring" in checks_of(result)
    assert tls_evidence(result)["protocols"] == {"tls12": True, "tls13": True}


def test_every_tls_check_is_registered_with_both_languages(tls_lab):
    registry = all_checks()
    fired = {check for result in tls_lab.results.values() for check in checks_of(result)}
    for check in fired | set(REQUIRED):
        definition = registry[check]
        assert definition.category == "tls"
        assert definition.title_fr and definition.title_en and definition.remediation_fr


def test_budget_exhaustion_marks_the_scan_partial_and_stops_probing(tls_lab):
    endpoint = tls_lab.servers.endpoints["tls10"]
    result = TargetResult("tls10")
    context = ScanContext(tls_lab.config(per_target_budget=3))

    async def scan_then_wait() -> tuple[int, int]:
        await scan_tls(context, "tls10", endpoint.address, endpoint.port, None, result)
        spent_at_return = context.spent("tls10")
        await asyncio.sleep(0.5)  # orphan probes, if any, would keep spending meanwhile
        return spent_at_return, context.spent("tls10")

    at_return, later = asyncio.run(scan_then_wait())
    assert result.complete is False
    assert any("budget" in error for error in result.errors)
    assert at_return == later


HOSTILE = ["garbage", "slowdrip", "silent", "endless", "badcert"]


@pytest.fixture(scope="module")
def hostile_scans(tls_lab):
    """All hostile servers scanned at once (1 s read timeout), with the wall time it took."""
    config = tls_lab.config(read_timeout=1.0, connect_timeout=1.0)
    started = time.monotonic()
    results = asyncio.run(tls_lab.scan_many(HOSTILE, config))
    return results, time.monotonic() - started


def test_hostile_servers_never_hang(hostile_scans):
    _, elapsed = hostile_scans
    # Each probe is bounded by the read timeout (and retried once); probes run in waves of 8.
    assert elapsed < 10, elapsed


@pytest.mark.parametrize("server", HOSTILE)
def test_hostile_servers_leave_a_trace_not_a_crash(hostile_scans, server):
    result = hostile_scans[0][server]
    assert result.errors, "a hostile server must leave a trace in errors"
    if server == "badcert":
        evidence = tls_evidence(result)
        assert evidence["protocols"]["tls12"] is True
        assert any("certificat illisible" in error for error in result.errors)
    else:
        assert not any(o.check.startswith("tls.cert") for o in result.observations)
