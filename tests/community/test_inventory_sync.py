"""The detected lines of the inventory: refreshed by ``services_inventory.sync`` from real exposure
scans and directory audits in the database, through the kernel contract's providers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carbet.community import services_inventory as services
from carbet.community.choices import LineOrigin
from carbet.community.models import SoftwareLine
from carbet.core.models import Asset
from carbet.directory.inventory import provide as directory_provide
from carbet.directory.models import AuditStatus, DirectoryAudit
from carbet.exposure.inventory import provide as exposure_provide
from carbet.exposure.models import Scan, ScanStatus, ScanTarget

FORTI = {"port": 443, "service": "https", "product": "FortiOS", "version": "7.0.12"}
SSH = {"port": 22, "service": "ssh", "product": "OpenSSH", "version": "8.9p1", "vendor": "openbsd"}


def scan(structure: Any, targets: dict[str, list[Any]], status=ScanStatus.SUCCEEDED) -> Scan:
    """A finished exposure scan of ``structure`` with one ScanTarget per host, as the scanner
    stores them (``services`` is the JSON list ``services_run`` writes)."""
    row = Scan.objects.create(structure=structure, trigger="on_demand", status=status)
    asset = Asset.objects.filter(structure=structure).first()
    for host, services_list in targets.items():
        ScanTarget.objects.create(
            scan=row,
            structure=structure,
            asset=asset,
            target=host,
            status="done",
            complete=True,
            services=services_list,
        )
    return row


def audit(structure: Any, domain: str, systems: dict[str, Any] | None, **extra: Any):
    counts: dict[str, Any] = {"users": 10}
    if systems is not None:
        counts["systems"] = systems
    return DirectoryAudit.objects.create(
        structure=structure,
        origin=extra.pop("origin", "snapshot"),
        domain=domain,
        status=extra.pop("status", AuditStatus.DONE),
        analysed_at=dt.datetime.now(dt.UTC),
        counts=counts,
        **extra,
    )


def lines(structure: Any, **filters: Any) -> dict[str, SoftwareLine]:
    rows = SoftwareLine.objects.filter(structure=structure, **filters)
    return {row.source_key: row for row in rows}


def test_sync_makes_lines_from_the_latest_scan_and_audit(region):
    scan(region.a, {"old.alpha.test": [{"port": 80, "product": "Apache httpd"}]})
    scan(region.a, {"vpn.alpha.test": [FORTI, {"port": 25, "service": "smtp"}]})
    scan(region.a, {"gone.alpha.test": [SSH]}, status=ScanStatus.FAILED)  # not a result
    audit(region.a, "alpha.local", {"Windows Server 2012 R2 Standard|6.3 (9600)": 3})

    report = services.sync()

    assert report["inventory_created"] == 2 and report["inventory_deactivated"] == 0
    found = lines(region.a)
    assert set(found) == {
        "exposure:vpn.alpha.test:443",
        "directory:alpha.local:Windows Server 2012 R2 Standard|6.3 (9600)",
    }
    vpn = found["exposure:vpn.alpha.test:443"]
    assert vpn.origin == LineOrigin.EXPOSURE and vpn.active
    assert vpn.product == "FortiOS" and vpn.version == "7.0.12"
    assert vpn.cpe == "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"
    assert vpn.location == "vpn.alpha.test:443" and vpn.asset_id is not None
    system = found["directory:alpha.local:Windows Server 2012 R2 Standard|6.3 (9600)"]
    assert system.origin == LineOrigin.DIRECTORY and system.machines == 3
    assert system.vendor == "Microsoft" and system.location == "alpha.local"
    assert not lines(region.b)


def test_sync_is_idempotent(region):
    scan(region.a, {"vpn.alpha.test": [FORTI, SSH]})
    first = services.sync()
    before = {row.pk: row.first_seen for row in SoftwareLine.objects.all()}
    second = services.sync()
    assert first["inventory_created"] == 2
    assert second == {
        "inventory_created": 0,
        "inventory_updated": 0,
        "inventory_seen": 2,
        "inventory_deactivated": 0,
        "inventory_ignored": 0,
    }
    assert {row.pk: row.first_seen for row in SoftwareLine.objects.all()} == before


def test_a_new_version_updates_the_line_in_place(region):
    scan(region.a, {"vpn.alpha.test": [FORTI]})
    services.sync()
    line = SoftwareLine.objects.get(structure=region.a)
    scan(region.a, {"vpn.alpha.test": [{**FORTI, "version": "7.2.8"}]})
    report = services.sync()
    assert report["inventory_updated"] == 1 and report["inventory_created"] == 0
    line.refresh_from_db()
    assert line.version == "7.2.8" and ":7.2.8:" in line.cpe and line.active
    assert SoftwareLine.objects.filter(structure=region.a).count() == 1


def test_what_the_latest_result_no_longer_shows_is_kept_inactive(region):
    scan(region.a, {"vpn.alpha.test": [FORTI, SSH]})
    audit(region.a, "alpha.local", {"Windows 10 Pro|10.0 (19045)": 40})
    services.sync()
    scan(region.a, {"vpn.alpha.test": [FORTI]})
    audit(region.a, "alpha.local", {"Windows 11 Pro|10.0 (22631)": 40})
    report = services.sync()
    assert report["inventory_deactivated"] == 2 and report["inventory_created"] == 1
    found = lines(region.a)
    assert not found["exposure:vpn.alpha.test:22"].active  # kept: the history
    assert not found["directory:alpha.local:Windows 10 Pro|10.0 (19045)"].active
    assert found["exposure:vpn.alpha.test:443"].active
    # Seen again later: the same line comes back.
    scan(region.a, {"vpn.alpha.test": [FORTI, SSH]})
    services.sync()
    assert lines(region.a)["exposure:vpn.alpha.test:22"].active
    assert SoftwareLine.objects.filter(structure=region.a).count() == 4


def test_sync_of_some_structures_leaves_the_others_alone(region):
    scan(region.a, {"vpn.alpha.test": [FORTI]})
    scan(region.b, {"vpn.beta.test": [SSH]})
    services.sync()
    Scan.objects.filter(structure=region.b).delete()  # B's result would now show nothing
    report = services.sync([region.a.pk])
    assert report["inventory_deactivated"] == 0 and report["inventory_seen"] == 1
    assert lines(region.b)["exposure:vpn.beta.test:22"].active
    assert services.sync([region.b.pk])["inventory_deactivated"] == 1


def test_declared_lines_are_never_touched_by_sync(region):
    declared = services.create_line(
        region.users["director"], region.a, {"product": "Titan Soins", "hosting": "saas"}
    )
    scan(region.a, {"vpn.alpha.test": [FORTI]})
    services.sync()
    Scan.objects.filter(structure=region.a).delete()
    services.sync()
    declared.refresh_from_db()
    assert declared.active and declared.origin == LineOrigin.DECLARED


def test_sync_runs_in_a_fixed_number_of_queries(region):
    hosts = {f"h{i}.alpha.test": [{**FORTI, "version": f"7.0.{i}"}, SSH] for i in range(30)}
    scan(region.a, hosts)
    with CaptureQueriesContext(connection) as first:
        assert services.sync()["inventory_created"] == 60
    hosts = {f"h{i}.alpha.test": [{**FORTI, "version": f"7.2.{i}"}] for i in range(30)}
    scan(region.a, hosts)
    with CaptureQueriesContext(connection) as second:
        report = services.sync()
    assert report["inventory_updated"] == 30 and report["inventory_deactivated"] == 30
    # No query per line: the providers, one read, bulk writes (a few batches).
    assert len(first.captured_queries) < 20, len(first.captured_queries)
    assert len(second.captured_queries) < 20, len(second.captured_queries)


# --- The providers ----------------------------------------------------------------------------


def test_exposure_provider_survives_a_truncated_services_list(region):
    """``services_run._bounded`` stores an over-long list as {"tronqué", "extrait"}."""
    scan(region.a, {"big.alpha.test": {"tronqué": True, "extrait": "[{...}]"}})  # type: ignore[dict-item]
    scan(region.a2, {"odd.alpha.test": ["text", {"port": 22, "product": 5}, SSH]})
    found = list(exposure_provide(None))
    assert [(p.structure_id, p.product) for p in found] == [(region.a2.pk, "OpenSSH")]
    assert services.sync()["inventory_created"] == 1


def test_directory_provider_ignores_audits_without_counted_systems(region):
    """A PingCastle report counts no operating systems: the snapshot's stay current."""
    audit(region.a, "alpha.local", {"Windows Server 2019 Standard|10.0 (17763)": 2})
    services.sync()
    audit(region.a, "alpha.local", None, origin="pingcastle")
    audit(region.a, "alpha.local", {"Windows 7|6.1": 1}, status=AuditStatus.FAILED)
    report = services.sync()
    assert report["inventory_deactivated"] == 0 and report["inventory_seen"] == 1
    assert [p.product for p in directory_provide([region.a.pk])] == ["Windows Server 2019 Standard"]


def test_directory_provider_skips_malformed_counts(region):
    audit(region.a, "alpha.local", {"|": 3, "Windows 10 Pro|": "many", "Debian|12": 0})
    audit(region.a2, "ehpad.local", {"Windows 10 Pro|10.0": 4})
    found = list(directory_provide(None))
    assert [(p.structure_id, p.product, p.version, p.machines) for p in found] == [
        (region.a2.pk, "Windows 10 Pro", "10.0", 4)
    ]


@pytest.mark.parametrize("domains", [("alpha.local", "soins.alpha.local")])
def test_each_domain_of_a_structure_keeps_its_own_lines(region, domains):
    for domain in domains:
        audit(region.a, domain, {"Windows 10 Pro|10.0": 5})
    services.sync()
    assert sorted(line.location for line in SoftwareLine.objects.filter(structure=region.a)) == [
        "alpha.local",
        "soins.alpha.local",
    ]


def test_demo_declares_applications_once_then_syncs(region):
    from carbet.community import demo_inventory

    structures = {"ch-anse-bleue": region.a, "ehpad-hibiscus": region.a2, "other": region.b}
    scan(region.b, {"vpn.beta.test": [FORTI]})
    made = demo_inventory.load(structures, [], dt.date.today())
    assert made == 6 + 1  # three applications for each of the two demo structures, one scan line
    assert demo_inventory.load(structures, [], dt.date.today()) == 0
    vpn = SoftwareLine.objects.get(structure=region.a, product="FortiOS")
    assert vpn.cpe == "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"
    assert SoftwareLine.objects.filter(structure=region.b, origin=LineOrigin.EXPOSURE).exists()
