"""Shared fixtures of the matched-alerts tests: real feed files (NVD 2.0, KEV, CERT-FR JSON)
imported into a temporary feed store, and inventories for structures A and B."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from django.utils import timezone

from carbet.community import services_inventory
from carbet.community.models import SoftwareLine
from carbet.core.tenancy import SYSTEM
from carbet.engines.exposure.vulns.feeds import open_store
from carbet.engines.exposure.vulns.importer import import_file

DATA = Path(__file__).resolve().parents[1] / "exposure" / "engine_vulns" / "data"
SECRET = "CH Alpha-Secret"

# Added to KEV today: today's news, e-mailed (an entry added long ago is not: see
# test_an_entry_known_long_ago_is_shown_and_planned_but_not_mailed).
FORTIOS_KEV = {
    "cveID": "CVE-2024-21762",
    "vendorProject": "Fortinet",
    "product": "FortiOS",
    "vulnerabilityName": "Fortinet FortiOS Out-of-Bound Write Vulnerability",
    "dateAdded": datetime.date.today().isoformat(),
    "shortDescription": "Fortinet FortiOS contains an out-of-bound write vulnerability.",
    "requiredAction": "Apply mitigations per vendor instructions.",
    "dueDate": "2024-02-16",
    "knownRansomwareCampaignUse": "Known",
    "notes": "",
    "cwes": ["CWE-787"],
}


def kev_file(path: Path, entries: list[dict]) -> Path:
    """A CISA KEV catalogue in the format CISA publishes."""
    path.write_text(
        json.dumps(
            {
                "title": "CISA Catalog of Known Exploited Vulnerabilities",
                "catalogVersion": "2026.01.01",
                "dateReleased": "2026-01-01T14:00:00.0000Z",
                "count": len(entries),
                "vulnerabilities": entries,
            }
        ),
        encoding="utf-8",
    )
    return path


def openssh_kev() -> dict:
    """regreSSHion, as if CISA added it today (NVD scores it 8.1: below the threshold)."""
    return {
        "cveID": "CVE-2024-6387",
        "vendorProject": "OpenBSD",
        "product": "OpenSSH",
        "vulnerabilityName": "OpenSSH Signal Handler Race Condition Vulnerability",
        "dateAdded": timezone.localdate().isoformat(),
        "shortDescription": "OpenSSH sshd contains a race condition.",
        "requiredAction": "Apply updates per vendor instructions.",
        "dueDate": timezone.localdate().isoformat(),
        "knownRansomwareCampaignUse": "Unknown",
        "notes": "",
        "cwes": ["CWE-364"],
    }


def import_feeds(*paths: Path) -> None:
    store = open_store()
    try:
        for path in paths:
            import_file(store, path)
    finally:
        store.close()


@pytest.fixture
def feeds(tmp_path, monkeypatch):
    """The feed store in a temporary file with NVD, the first KEV catalogue and CERT-FR."""
    monkeypatch.setenv("CARBET_FEEDS_DB", str(tmp_path / "feeds.sqlite"))
    import_feeds(
        DATA / "nvd.json", kev_file(tmp_path / "kev.json", [FORTIOS_KEV]), DATA / "certfr.json"
    )
    return tmp_path


def declare(structure, vendor: str, product: str, version: str, location: str) -> SoftwareLine:
    line = services_inventory.create_line(
        SYSTEM,
        structure,
        {"vendor": vendor, "product": product, "version": version, "name": f"{SECRET} {product}"},
    )
    SoftwareLine.objects.filter(pk=line.pk).update(location=location)
    line.refresh_from_db()
    return line


@pytest.fixture
def inventories(region):
    """A runs a vulnerable FortiOS and an OpenSSH affected only by a below-threshold CVE;
    B runs a FortiOS version outside every range, and nginx."""
    return {
        "fortios": declare(region.a, "Fortinet", "FortiOS", "7.0.12", "vpn.alpha.test:443"),
        "openssh": declare(region.a, "OpenBSD", "OpenSSH", "9.4p1", "ssh.alpha.test:22"),
        "fortios_b": declare(region.b, "Fortinet", "FortiOS", "7.4.5", "vpn.beta.test:443"),
        "nginx_b": declare(region.b, "F5", "nginx", "1.25.3", "www.beta.test"),
    }
