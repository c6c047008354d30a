"""From what a service probe identified to observations: one verdict function per service kind.

``VERDICTS`` maps a service kind ("rdp", "smb", "dicom"...) to the function that judges it;
``COMMON_VERDICTS`` run on every service (databases, FHIR APIs, VPN portals). Adding a service
kind is adding one function and one table entry, never editing a chain of ``elif``. Each verdict
emits :class:`~carbet.engines.exposure.checks.Check` objects declared in ``ports.checks``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carbet.engines.exposure.checks import Check
from carbet.engines.exposure.core import Observation, ServiceInfo
from carbet.engines.exposure.mail.checks import MAIL_STARTTLS_MISSING
from carbet.engines.exposure.ports.checks import (
    MEDICAL_DICOM_ANY_AE_ACCEPTED,
    MEDICAL_DICOM_EXPOSED,
    MEDICAL_FHIR_OPEN,
    MEDICAL_HL7_EXPOSED,
    PORT_DATABASE,
    PORT_ELASTICSEARCH_OPEN,
    PORT_FTP,
    PORT_MONGODB_NOAUTH,
    PORT_RDP,
    PORT_RDP_NO_NLA,
    PORT_REDIS_NOAUTH,
    PORT_SMB,
    PORT_SMB_SIGNING_NOT_REQUIRED,
    PORT_SMB_V1,
    PORT_SSH,
    PORT_SSH_V1,
    PORT_TELNET,
    PORT_VNC,
    PORT_VNC_NOAUTH,
    PORT_VPN_PORTAL,
)
from carbet.engines.exposure.ports.medparsers import DICOM_CALLED_AE, DICOM_CALLING_AE

DATABASES = frozenset(
    {"mysql", "postgresql", "mssql", "oracle", "redis", "mongodb", "elasticsearch"}
)


class Emitter:
    """Collects the observations of one service, each with the service's common evidence."""

    def __init__(self, service: ServiceInfo) -> None:
        self.service = service
        self.found: list[Observation] = []
        self.evidence: dict[str, Any] = {"service": service.service}
        for name in ("product", "version", "banner"):
            if getattr(service, name):
                self.evidence[name] = getattr(service, name)

    def fire(self, check: Check, detail: str, *, severity: int | None = None, **more: Any) -> None:
        self.found.append(
            check.observe(
                self.service.port,
                detail,
                {**self.evidence, **more},
                severity=severity,
                product=self.service.product,
            )
        )


Verdict = Callable[[ServiceInfo, Emitter], None]


def _rdp(service: ServiceInfo, emit: Emitter) -> None:
    protocol = service.extra.get("selected_protocol", "")
    emit.fire(PORT_RDP, "RDP", selected_protocol=protocol)
    if service.extra.get("nla") is False:
        emit.fire(PORT_RDP_NO_NLA, "NLA non exigée", selected_protocol=protocol)


def _smb(service: ServiceInfo, emit: Emitter) -> None:
    extra = service.extra
    emit.fire(PORT_SMB, f"SMB {extra.get('dialect', '')}".strip(), dialect=extra.get("dialect"))
    if extra.get("smb1"):
        emit.fire(PORT_SMB_V1, "SMBv1 accepté")
    if extra.get("signing_required") is False:
        emit.fire(PORT_SMB_SIGNING_NOT_REQUIRED, "signature non exigée")


def _telnet(service: ServiceInfo, emit: Emitter) -> None:
    emit.fire(PORT_TELNET, "Telnet")


def _ftp(service: ServiceInfo, emit: Emitter) -> None:
    emit.fire(PORT_FTP, service.product or "FTP")


def _vnc(service: ServiceInfo, emit: Emitter) -> None:
    extra = service.extra
    emit.fire(
        PORT_VNC,
        f"RFB {extra.get('protocol', '')}",
        security_types=extra.get("security_names", extra.get("security_types", [])),
    )
    if extra.get("no_auth"):
        emit.fire(PORT_VNC_NOAUTH, "type de sécurité « None » proposé")


def _ssh(service: ServiceInfo, emit: Emitter) -> None:
    emit.fire(PORT_SSH, service.banner or "SSH")
    if str(service.extra.get("protocol", "")).startswith("1."):
        emit.fire(PORT_SSH_V1, f"protocole SSH-{service.extra['protocol']}")


def _smtp(service: ServiceInfo, emit: Emitter) -> None:
    # Only when EHLO was answered: a server that never got that far says nothing about STARTTLS.
    if not service.starttls and "extensions" in service.extra:
        emit.fire(MAIL_STARTTLS_MISSING, "STARTTLS non proposé après EHLO")


def _dicom(service: ServiceInfo, emit: Emitter) -> None:
    extra = service.extra
    association = extra.get("association", "")
    emit.fire(
        MEDICAL_DICOM_EXPOSED,
        f"association DICOM {association}",
        association=association,
        reason=extra.get("reason", ""),
        implementation=extra.get("implementation_version", ""),
    )
    if association == "accepted":
        emit.fire(
            MEDICAL_DICOM_ANY_AE_ACCEPTED,
            f"AE appelant « {DICOM_CALLING_AE} », appelé « {DICOM_CALLED_AE} » acceptés",
            calling_ae=DICOM_CALLING_AE,
            called_ae=DICOM_CALLED_AE,
        )


def _hl7(service: ServiceInfo, emit: Emitter) -> None:
    extra = service.extra
    emit.fire(
        MEDICAL_HL7_EXPOSED,
        f"ACK HL7 {extra.get('ack_code', '')}".strip(),
        ack_code=extra.get("ack_code", ""),
        sending_application=extra.get("sending_application", ""),
        hl7_version=extra.get("hl7_version", ""),
    )


def _redis(service: ServiceInfo, emit: Emitter) -> None:
    if service.extra.get("auth_required") is False:
        emit.fire(PORT_REDIS_NOAUTH, "PING accepté sans mot de passe")


def _mongodb(service: ServiceInfo, emit: Emitter) -> None:
    if service.extra.get("auth_required") is False:
        emit.fire(
            PORT_MONGODB_NOAUTH,
            "listDatabases accepté sans authentification",
            database_count=service.extra.get("database_count"),
        )


def _elasticsearch(service: ServiceInfo, emit: Emitter) -> None:
    emit.fire(
        PORT_ELASTICSEARCH_OPEN,
        "informations du cluster lues sans authentification",
        cluster_name=service.extra.get("cluster_name", ""),
    )


def _database(service: ServiceInfo, emit: Emitter) -> None:
    if service.service in DATABASES:
        emit.fire(PORT_DATABASE, service.product or service.service)
        DATABASE_VERDICTS.get(service.service, _nothing)(service, emit)


def _fhir(service: ServiceInfo, emit: Emitter) -> None:
    fhir = service.extra.get("fhir")
    if fhir and fhir.get("open"):
        declared = fhir.get("security") or []
        emit.fire(
            MEDICAL_FHIR_OPEN,
            f"CapabilityStatement lisible sur {fhir.get('path')}",
            fhir_version=fhir.get("fhir_version", ""),
            declared_security=declared,
            # No security declared at all: anyone reads health data, whatever the registry says.
            severity=None if declared else 4,
        )


def _vpn_portal(service: ServiceInfo, emit: Emitter) -> None:
    if service.extra.get("appliance") == "vpn":
        built = service.extra.get("build_date")
        if built and not service.version:  # no version shown: the firmware's build date
            emit.fire(
                PORT_VPN_PORTAL,
                f"{service.product} (micrologiciel construit le {built})",
                build_date=built,
                build_source=service.extra.get("build_source", ""),
            )
            return
        emit.fire(PORT_VPN_PORTAL, service.product)


def _nothing(service: ServiceInfo, emit: Emitter) -> None:
    return None


# Service kind → its own verdict (one per kind).
VERDICTS: dict[str, Verdict] = {
    "rdp": _rdp,
    "smb": _smb,
    "telnet": _telnet,
    "ftp": _ftp,
    "vnc": _vnc,
    "ssh": _ssh,
    "smtp": _smtp,
    "dicom": _dicom,
    "hl7": _hl7,
}
# Database kind → what it fires beyond "a database is exposed".
DATABASE_VERDICTS: dict[str, Verdict] = {
    "redis": _redis,
    "mongodb": _mongodb,
    "elasticsearch": _elasticsearch,
}
# Run on every service, whatever its kind.
COMMON_VERDICTS: tuple[Verdict, ...] = (_database, _fhir, _vpn_portal)


def is_http(service: ServiceInfo) -> bool:
    """Should the web checks run on this service (a web server, not an API like Elasticsearch)?"""
    return bool(service.extra.get("http")) and service.service != "elasticsearch"


def observations_for(service: ServiceInfo) -> list[Observation]:
    """The checks an identified service fires, with its evidence."""
    emit = Emitter(service)
    VERDICTS.get(service.service, _nothing)(service, emit)
    for verdict in COMMON_VERDICTS:
        verdict(service, emit)
    return emit.found
