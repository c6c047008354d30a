"""Every check of the services probe fires on a listener with the weakness, not on one without;
products and versions come out of the banners."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.realserver

# check id -> (listeners that must fire it, listeners that must not)
EXPECTATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "port.rdp": (("rdp_nla", "rdp_legacy"), ("plain_http", "http_on_rdp_port")),
    "port.rdp.no_nla": (("rdp_legacy",), ("rdp_nla",)),
    "port.smb": (("smb_good", "smb_bad"), ("plain_http",)),
    "port.smb.v1": (("smb_bad",), ("smb_good",)),
    "port.smb.signing_not_required": (("smb_bad",), ("smb_good",)),
    "port.telnet": (("telnet",), ("ssh", "ftp")),
    "port.ftp": (("ftp",), ("smtp_plain", "ssh")),
    "port.vnc": (("vnc_auth", "vnc_noauth"), ("plain_http",)),
    "port.vnc.noauth": (("vnc_noauth",), ("vnc_auth",)),
    "port.ssh": (("ssh", "ssh_v1"), ("ftp",)),
    "port.ssh.v1": (("ssh_v1",), ("ssh",)),
    "port.database": (
        ("mysql", "postgres", "redis_auth", "redis_open", "mongo_auth", "mongo_open", "elastic"),
        ("plain_http", "fhir_open", "ssh"),
    ),
    "port.redis.noauth": (("redis_open",), ("redis_auth",)),
    "port.mongodb.noauth": (("mongo_open",), ("mongo_auth",)),
    "port.elasticsearch.open": (("elastic",), ("plain_http",)),
    "port.vpn.portal": (("vpn_portal",), ("plain_http",)),
    "medical.dicom.exposed": (("dicom_open", "dicom_strict"), ("plain_http", "hl7")),
    "medical.dicom.any_ae_accepted": (("dicom_open",), ("dicom_strict",)),
    "medical.hl7.exposed": (("hl7",), ("plain_http", "dicom_open")),
    "medical.fhir.open": (("fhir_open",), ("fhir_closed", "plain_http")),
    "mail.starttls.missing": (("smtp_plain",), ("smtp_tls",)),
}


def fired(result, check: str) -> bool:
    return any(observation.check == check for observation in result.observations)


@pytest.mark.parametrize("check", sorted(EXPECTATIONS))
def test_check_positive_and_negative(identified, check):
    positives, negatives = EXPECTATIONS[check]
    for name in positives:
        assert fired(identified[name], check), (name, identified[name])
    for name in negatives:
        assert not fired(identified[name], check), (name, identified[name].observations)


def test_every_services_check_is_exercised():
    from carbet.engines.exposure.ports.checks import SERVICE_CHECKS

    assert {definition.id for definition in SERVICE_CHECKS} <= set(EXPECTATIONS)


@pytest.mark.parametrize(
    ("name", "service", "product", "version"),
    [
        ("ssh", "ssh", "OpenSSH", "8.9p1"),
        ("ftp", "ftp", "vsftpd", "3.0.3"),
        ("smtp_tls", "smtp", "Postfix", ""),
        ("telnet", "telnet", "", ""),
        ("mysql", "mysql", "MySQL", "8.0.36"),
        ("redis_open", "redis", "Redis", "6.0.16"),
        ("mongo_auth", "mongodb", "MongoDB", "6.0.5"),
        ("elastic", "elasticsearch", "Elasticsearch", "7.10.2"),
        ("dicom_open", "dicom", "DCMTK", "3.6.4"),
        ("hl7", "hl7", "MIRTH", ""),
        ("plain_http", "http", "Apache httpd", "2.4.41"),
        ("fhir_open", "fhir", "nginx", "1.18.0"),
        ("rdp_nla", "rdp", "Remote Desktop Protocol", ""),
        ("vnc_auth", "vnc", "VNC", ""),
        ("smb_good", "smb", "SMB", ""),
        ("postgres", "postgresql", "PostgreSQL", ""),
    ],
)
def test_fingerprints(identified, name, service, product, version):
    (info,) = identified[name].services
    assert (info.service, info.product, info.version) == (service, product, version)


def test_cpe_and_evidence(identified):
    (ssh,) = identified["ssh"].services
    assert ssh.cpe == "cpe:2.3:a:openbsd:openssh:8.9p1:*:*:*:*:*:*:*"
    assert ssh.banner.startswith("SSH-2.0-OpenSSH_8.9p1")
    (dicom,) = identified["dicom_open"].services
    assert dicom.extra["implementation_version"] == "OFFIS_DCMTK_364"
    (observation,) = [o for o in identified["dicom_strict"].observations]
    assert observation.evidence["association"] == "rejected"
    assert observation.evidence["reason"] == "called-ae-not-recognized"
    fhir = next(o for o in identified["fhir_open"].observations if o.check == "medical.fhir.open")
    assert fhir.severity == 4  # no security declared in the CapabilityStatement
    assert fhir.evidence["fhir_version"] == "4.0.1"
    hl7 = identified["hl7"].observations[0]
    assert hl7.evidence["ack_code"] == "AA"


def test_an_open_port_that_does_not_speak_the_expected_protocol_is_not_guessed(identified):
    (info,) = identified["http_on_rdp_port"].services
    assert info.service == "unknown" and info.extra["expected"] == "rdp"
    assert identified["http_on_rdp_port"].errors  # said, not hidden


def test_real_postgresql_and_redis_of_the_machine():
    """The PostgreSQL and Redis the test suite runs on (scripts/test starts them)."""
    import asyncio

    from carbet.engines.exposure.core import ScanConfig, ScanContext, TargetResult
    from carbet.engines.exposure.ports.probe import scan_address

    result = TargetResult("127.0.0.1", kind="ip", addresses=["127.0.0.1"])
    config = ScanConfig(ports=(5432, 6379), connect_timeout=1, read_timeout=2)
    asyncio.run(scan_address(ScanContext(config), result, "127.0.0.1"))
    services = {info.port: info for info in result.services}
    assert services[5432].service == "postgresql"
    assert services[6379].service == "redis"
    assert "auth_required" in services[6379].extra  # PING answered, with or without password
