"""One JSON contract for both `carbet scan` paths: a direct scan and a platform scan read back.

The same observations go through the engine's ``report.target_dict`` (direct path) and through
the platform's rows and ``scan.scan_targets`` (``--structure --wait --json``): same keys, same
values, vulnerability fields (cve, cvss, epss, kev, product) included on both.
"""

from __future__ import annotations

from django.test import override_settings

from carbet.core.models import Asset
from carbet.core.tenancy import SYSTEM
from carbet.engines.exposure import report
from carbet.engines.exposure.core import Observation, ServiceInfo, TargetResult
from carbet.engines.exposure.vulns.match import VULN_KEV
from carbet.exposure import services
from carbet.exposure.management.commands.scan import scan_targets
from carbet.exposure.services_finish import finish
from carbet.exposure.services_run import save_target
from tests.conftest import proven
from tests.exposure.app.factories import LOCMEM

ADDRESS = "127.77.3.1"


def engine_result() -> TargetResult:
    result = TargetResult(target=ADDRESS, kind="ip", addresses=[ADDRESS])
    result.evidence = {"open_ports": {ADDRESS: [443, 3389]}}
    result.services += [
        ServiceInfo(port=3389, service="rdp", product="RDP"),
        ServiceInfo(port=443, service="https", product="Fortinet FortiOS", version="7.0.1"),
    ]
    result.observations += [
        Observation("port.rdp", port=3389, detail="RDP", evidence={"selected_protocol": "ssl"}),
        VULN_KEV.observe(
            443,
            "Fortinet FortiOS 7.0.1: CVE-2022-42475",
            {"epss_percentile": 0.99},
            severity=4,
            title="CVE-2022-42475 — Fortinet FortiOS heap overflow",
            cve="CVE-2022-42475",
            cvss=9.8,
            epss=0.97,
            kev=True,
            product="Fortinet FortiOS 7.0.1",
        ),
        Observation("web.hsts.missing", port=443, detail="Strict-Transport-Security absent"),
    ]
    return result


def test_both_paths_give_the_same_document(region):
    Asset.objects.create(structure=region.a, kind="ipv4", value=ADDRESS, **proven())
    Asset.objects.filter(structure=region.a).exclude(value=ADDRESS).delete()
    scan = services.request_structure_scan(region.a, SYSTEM)
    (row,) = scan.targets.all()
    save_target(scan, row, engine_result())
    with override_settings(MAILERS=LOCMEM):
        finish(scan, SYSTEM)
    direct = engine_result()
    from carbet.engines.exposure import scoring

    scoring.score_target(direct)
    for lang in ("fr", "en"):
        (platform,) = scan_targets(scan, lang)
        expected = report.target_dict(direct, lang)
        assert platform.keys() == expected.keys()
        assert [f.keys() for f in platform["findings"]] == [f.keys() for f in expected["findings"]]
        # Same findings in the same order with the same evidence, vulnerability fields included.
        assert platform["findings"] == expected["findings"]
        assert platform["services"] == expected["services"]
        (kev,) = [f for f in platform["findings"] if f["check"] == "vuln.kev"]
        assert kev["severity"] == "critical"
        assert {"cve", "cvss", "epss", "kev", "product"} <= kev["evidence"].keys()
    english = {f["check"]: f["title"] for f in scan_targets(scan, "en")[0]["findings"]}
    assert english["port.rdp"] == "Windows Remote Desktop (RDP) open to the internet"
    # A title the observation chose itself (the CVE's) is kept in every language.
    assert english["vuln.kev"].startswith("CVE-2022-42475")
