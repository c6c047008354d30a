"""A finished scan built from engine results without touching the network (pages, API)."""

from __future__ import annotations

from django.test import override_settings

from carbet.core.models import Asset, Structure
from carbet.core.tenancy import SYSTEM
from carbet.engines.exposure.core import Observation, ServiceInfo, TargetResult
from carbet.exposure import services
from carbet.exposure.models import Scan, ScanStatus
from carbet.exposure.services_finish import finish
from carbet.exposure.services_run import save_target
from tests.conftest import proven

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def engine_result(target: str, rdp: bool = True) -> TargetResult:
    result = TargetResult(target=target, kind="ip", addresses=[target])
    result.services.append(
        ServiceInfo(port=8080, service="http", product="Apache httpd", version="2.4.41",
                    banner="HTTP/1.1 200 OK\r\nServer: Apache/2.4.41")
    )  # fmt: skip
    result.observations.append(Observation("web.hsts.missing", port=8080, detail="Pas de HSTS"))
    if rdp:
        result.services.append(ServiceInfo(port=3389, service="rdp", product="RDP"))
        result.observations.append(
            Observation("port.rdp", port=3389, detail="Bureau à distance ouvert",
                        evidence={"x224": "connection confirm"})
        )  # fmt: skip
    result.evidence = {"http": {"8080": {"headers": {"Server": "Apache/2.4.41"}}}}
    return result


def finished_scan(structure: Structure, rdp: bool = True, value: str = "127.77.1.1") -> Scan:
    """A scan of ``structure`` whose engine results are given, finished through the services."""
    Asset.objects.get_or_create(
        structure=structure, kind="ipv4", value=value, defaults=proven()
    )
    scan = services.request_structure_scan(structure, SYSTEM)
    for row in scan.targets.all():
        save_target(scan, row, engine_result(row.target, rdp=rdp and row.target == value))
    with override_settings(MAILERS=LOCMEM):
        finish(scan, SYSTEM)
    scan.refresh_from_db()
    assert scan.status == ScanStatus.SUCCEEDED
    return scan
