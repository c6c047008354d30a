"""Exports for peers: STIX 2.1 and MISP, read back by the libraries that read them (``stix2``,
``pymisp``); TLP:RED never leaves; nothing of any structure is in the files; audited."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
import stix2
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from pymisp import MISPEvent

from carbet.audit.models import AuditEntry
from carbet.community import services_exchange as services
from carbet.community.models import Bulletin, SoftwareLine, StructureAlert, Vulnerability
from carbet.core.tenancy import SYSTEM
from tests.api.conftest import assert_error, token_client

pytestmark = pytest.mark.django_db

NOW = timezone.now()
RED_TITLE = "Compromission en cours chez un adhérent"
HOST = "vpn.alpha.test"


def make_bulletin(title: str, *, tlp: str = "green", days: int = 1, **extra) -> Bulletin:
    return Bulletin.objects.create(
        title=title,
        summary=f"Résumé de {title}",
        body=f"## Que faire\n\nAppliquez le correctif. ({title})",
        severity=extra.pop("severity", "high"),
        tlp=tlp,
        references=["https://www.cert.ssi.gouv.fr/alerte/CERTFR-2024-ALE-006/"],
        cves=extra.pop("cves", ["CVE-2024-3400"]),
        status=extra.pop("status", "published"),
        published_at=NOW - dt.timedelta(days=days),
        **extra,
    )


@pytest.fixture
def ex(region):
    """Bulletins of every TLP, one targeted at structure A by name, and two vulnerabilities
    matched in A's and B's inventories (host names and versions that must never leave)."""
    region.green = make_bulletin("Correctif PAN-OS", structures=[region.a.pk])
    region.amber = make_bulletin("Citrix Bleed", tlp="amber", cves=["cve-2023-4966"], days=40)
    region.strict = make_bulletin("Campagne d'hameçonnage", tlp="amber+strict", cves=[])
    region.red = make_bulletin(RED_TITLE, tlp="red", cves=["CVE-2024-21762"])
    region.draft = make_bulletin("Brouillon", status="draft")
    region.pan = Vulnerability.objects.create(
        vuln_id="CVE-2024-3400",
        title="Palo Alto Networks PAN-OS GlobalProtect command injection",
        description="OS command injection in GlobalProtect.",
        cvss=10.0,
        kev=True,
        sources=["nvd", "kev"],
        advisories=["CERTFR-2024-ALE-006"],
        required_action="Apply mitigations per vendor instructions.",
        fixed_in="10.2.9-h1",
    )
    region.citrix = Vulnerability.objects.create(
        vuln_id="CVE-2023-4966", title="Citrix Bleed", cvss=7.5, sources=["nvd"]
    )
    region.citrix.first_matched_at = NOW - dt.timedelta(days=40)
    region.citrix.save()
    for structure, host in ((region.a, HOST), (region.b, "vpn.beta.test")):
        line = SoftwareLine.objects.create(
            structure=structure,
            origin="exposure",
            vendor="Palo Alto Networks",
            product="PAN-OS",
            version="10.2.8",
            cpe="cpe:2.3:o:paloaltonetworks:pan-os:10.2.8:*:*:*:*:*:*:*",
            location=f"{host}:443",
        )
        alert = StructureAlert.objects.create(
            structure=structure,
            vulnerability=region.pan,
            products=[f"PAN-OS 10.2.8 sur {host}"],
            certainty="version",
        )
        alert.lines.add(line)
    return region


def _secrets(region) -> list[str]:
    """What must never be in an export: the structures, their hosts and versions."""
    found = [HOST, "vpn.beta.test", "alpha.test", "beta.test", "10.2.8", "sur vpn"]
    for structure in (region.a, region.a2, region.b):
        found += [structure.name, structure.finess_et, structure.organisation.name]
    return found


def _assert_nothing_of_structures(text: str, region) -> None:
    for secret in _secrets(region):
        assert secret not in text, secret
    assert '"structure' not in text.lower()
    assert RED_TITLE not in text


def _export(region, **kwargs) -> services.Download:
    return services.export(region.users["centre_analyst"], services.ExportRequest(**kwargs))


def test_stix_bundle_is_read_back_by_stix2(ex):
    download = _export(ex, fmt="stix")
    text = download.data.decode()
    bundle = stix2.parse(text, allow_custom=False)
    assert bundle.type == "bundle"
    reports = {o.name: o for o in bundle.objects if o.type == "report"}
    # green, amber and amber+strict bulletins, and both vulnerabilities; never the red one.
    assert download.bulletins == 3 and download.vulnerabilities == 2
    assert "Correctif PAN-OS" in reports and "Campagne d'hameçonnage" in reports
    assert not any(RED_TITLE in name for name in reports)
    assert "Brouillon" not in reports
    pan = next(r for name, r in reports.items() if name.startswith("CVE-2024-3400"))
    assert stix2.TLP_AMBER.id in pan.object_marking_refs  # the default for vulnerabilities
    assert "Exploitée activement" in pan.description
    software = [o for o in bundle.objects if o.type == "software"]
    # The product, merged across structures, cut to vendor and product: no version.
    assert [s.cpe for s in software] == ["cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*"]
    vulns = {o.name for o in bundle.objects if o.type == "vulnerability"}
    assert {"CVE-2024-3400", "CVE-2023-4966"} <= vulns
    green = reports["Correctif PAN-OS"]
    assert stix2.TLP_GREEN.id in green.object_marking_refs
    _assert_nothing_of_structures(text, ex)
    entry = AuditEntry.objects.get(action="community.exchange.export")
    assert entry.changes["format"] == "stix" and entry.changes["bulletins"] == 3


def test_misp_collection_is_read_back_by_pymisp(ex):
    download = _export(ex, fmt="misp", vulnerability_tlp="green")
    text = download.data.decode()
    events = json.loads(text)["response"]
    assert len(events) == 5
    loaded = []
    for item in events:
        event = MISPEvent()
        event.load(item)
        loaded.append(event)
    by_info = {e.info: e for e in loaded}
    amber = by_info["Citrix Bleed"]
    assert "tlp:amber" in {t.name for t in amber.tags}
    assert {a.value for a in amber.attributes if a.type == "vulnerability"} == {"CVE-2023-4966"}
    pan = next(e for e in loaded if e.info.startswith("CVE-2024-3400"))
    assert "tlp:green" in {t.name for t in pan.tags}
    assert "cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*" in {a.value for a in pan.attributes}
    _assert_nothing_of_structures(text, ex)


def test_misp_feed_zip_is_a_feed_pymisp_and_our_import_read(ex):
    download = _export(ex, fmt="misp_feed", since=(NOW - dt.timedelta(days=7)).date())
    assert download.filename.endswith(".zip") and download.content_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        texts = {name: archive.read(name).decode() for name in names}
    # Since a week ago: the green and amber+strict bulletins and the PAN-OS vulnerability.
    assert download.bulletins == 2 and download.vulnerabilities == 1
    assert names == {"manifest.json", *(f"{uuid}.json" for uuid in manifest)}
    for uuid in manifest:
        event = MISPEvent()
        event.load(json.loads(texts[f"{uuid}.json"]))
        assert event.uuid == uuid
    for text in texts.values():
        _assert_nothing_of_structures(text, ex)
    # The same feed read back by Carbet's own import (what a peer running Carbet does).
    events = services.parse_archive(download.data)
    assert {e.tlp for e in events} == {"green", "amber+strict", "amber"}
    assert any("CVE-2024-3400" in e.cves for e in events)


def test_red_bulletins_never_leave_even_when_chosen(ex):
    with pytest.raises(ValidationError):
        _export(ex, fmt="stix", bulletin_ids=(ex.red.pk,), vulnerabilities=False)
    download = _export(ex, fmt="misp", bulletin_ids=(ex.red.pk, ex.green.pk), vulnerabilities=False)
    assert download.bulletins == 1
    assert RED_TITLE not in download.data.decode()
    with pytest.raises(ValueError):
        services.bulletin_export(ex.red)
    with pytest.raises(ValidationError):
        _export(ex, fmt="stix", vulnerability_tlp="red")


def test_dates_select_bulletins_and_vulnerabilities(ex):
    old = (NOW - dt.timedelta(days=41)).date()
    download = _export(ex, fmt="stix", since=old, until=(NOW - dt.timedelta(days=39)).date())
    bundle = stix2.parse(download.data.decode(), allow_custom=False)
    names = sorted(o.name for o in bundle.objects if o.type == "report")
    assert names == ["CVE-2023-4966 — Citrix Bleed", "Citrix Bleed"]
    with pytest.raises(ValidationError):
        _export(ex, fmt="stix", since=dt.date(2000, 1, 1), until=dt.date(2000, 1, 2))


def test_only_the_centre_exports(ex):
    for role in ("director", "referent", "it_provider", "director_b", "ars_viewer", "nobody"):
        with pytest.raises(PermissionDenied):
            _export_as(ex, role)
    assert services.export(SYSTEM, services.ExportRequest(fmt="stix")).bulletins == 3
    assert not AuditEntry.objects.filter(actor_id=ex.users["director"].pk).exists()


def _export_as(region, role: str) -> None:
    services.export(region.users[role], services.ExportRequest(fmt="stix"))


def test_the_page_downloads_and_refuses_structures(ex):
    client = ex.client("centre_analyst")
    page = client.get("/communaute/echanges/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "TLP:RED ne sont jamais exportés" in body
    assert RED_TITLE not in body  # not offered in the choice of bulletins
    response = client.post(
        "/communaute/echanges/exporter/",
        {"fmt": "stix", "bulletins": [ex.green.pk], "vulnerability_tlp": "amber"},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    bundle = stix2.parse(response.content.decode(), allow_custom=False)
    assert [o.name for o in bundle.objects if o.type == "report"] == ["Correctif PAN-OS"]
    # A red bulletin's id posted by hand is refused by the form (not among the choices).
    response = client.post(
        "/communaute/echanges/exporter/", {"fmt": "misp", "bulletins": [ex.red.pk]}
    )
    assert response.status_code == 400
    empty = client.post(
        "/communaute/echanges/exporter/",
        {"fmt": "stix", "since": "2000-01-01", "until": "2000-01-02", "vulnerability_tlp": "amber"},
    )
    assert empty.status_code == 400 and "Rien à exporter" in empty.content.decode()
    assert client.get("/communaute/echanges/exporter/").status_code == 302
    for role in ("director", "referent", "it_provider", "director_b", "ars_viewer", "nobody"):
        other = ex.client(role)
        assert other.get("/communaute/echanges/").status_code == 403, role
        assert other.post("/communaute/echanges/exporter/", {"fmt": "stix"}).status_code == 403


def test_the_api_exports_for_the_centre_only(ex):
    def api(role: str):
        return token_client(ex.users[role])

    response = api("centre_analyst").get("/community/exchange/stix", vulnerabilities="false")
    assert response.status_code == 200
    bundle = stix2.parse(response.content.decode(), allow_custom=False)
    assert len([o for o in bundle.objects if o.type == "report"]) == 3
    response = api("centre_admin").get("/community/exchange/misp", bulletins=[ex.amber.pk])
    assert response.status_code == 200
    events = response.json()["response"]
    assert [e["Event"]["info"] for e in events[:1]] == ["Citrix Bleed"]
    _assert_nothing_of_structures(response.content.decode(), ex)
    nothing = api("centre_analyst").get(
        "/community/exchange/stix", since="1999-01-01", until="1999-01-02"
    )
    assert_error(nothing, 422)
    for role in ("director", "director_b", "referent", "it_provider", "ars_viewer"):
        for route in ("/community/exchange/stix", "/community/exchange/misp"):
            assert_error(api(role).get(route), 403)
