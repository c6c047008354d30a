"""The check registry as a contract: complete texts, required ids present, documented."""

from __future__ import annotations

from pathlib import Path

from carbet.engines.exposure import checks, report
from carbet.engines.exposure.ports.checks import SERVICE_CHECKS

ROOT = Path(__file__).resolve().parents[3]
REQUIRED = (
    "port.rdp port.smb port.telnet port.ftp port.vnc port.database medical.dicom.exposed "
    "medical.hl7.exposed medical.fhir.open"
).split()


def test_required_service_ids_are_registered_with_complete_texts():
    registry = checks.all_checks()
    for check_id in REQUIRED:
        assert check_id in registry
    for definition in SERVICE_CHECKS:
        assert definition.category == "exposure"
        assert (
            definition.title_fr
            and definition.title_en
            and definition.title_fr != definition.title_en
        )
        assert len(definition.remediation_fr) > 60 and len(definition.remediation_en) > 60
        assert definition.references
    tags = {check_id: registry[check_id].tags for check_id in REQUIRED}
    assert "medical" in tags["medical.dicom.exposed"]
    assert "remote-access" in tags["port.rdp"]


def test_the_reference_documents_every_check_of_every_module():
    documented = (ROOT / "docs" / "exposure-checks.md").read_text()
    missing = [check_id for check_id in checks.all_checks() if f"`{check_id}`" not in documented]
    assert not missing, (
        f"regenerate with: carbet scan --list-checks > docs/exposure-checks.md {missing}"
    )
    assert report.checks_reference().count("\n| `") == len(checks.all_checks())
