"""The MISP feed import: a real feed written with pymisp (as a MISP instance publishes it),
from a directory (the command) and a ``.zip`` (the page), idempotent; hostile archives give one
French error and save nothing; the CVEs the region tracks are pointed out."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from pymisp import MISPEvent, MISPOrganisation

from carbet.audit.models import AuditEntry
from carbet.community import services_exchange as services
from carbet.community.models import FeedImport, SharedEvent, Vulnerability
from carbet.core.tenancy import SYSTEM

pytestmark = pytest.mark.django_db

PEER = "CERT Santé"
EVENT_A = "6f1c3c2e-0d4b-4f5a-9a51-0c8e4c7f1a01"
EVENT_B = "6f1c3c2e-0d4b-4f5a-9a51-0c8e4c7f1a02"


def misp_event(uid: str, info: str, *, tlp: str, cves: list[str], domain: str = "") -> MISPEvent:
    event = MISPEvent()
    event.uuid = uid
    event.info = info
    event.set_date("2026-11-30")
    event.threat_level_id = 1
    event.analysis = 2
    # pymisp's to_feed(with_distribution=True), once called in a process (the engine's
    # misp_event does), requires a distribution on every event and attribute it writes later.
    event.distribution = 1
    org = MISPOrganisation()
    org.name = PEER
    org.uuid = "0b9e6b4a-2f0e-4b54-8c2e-3d1c5e7a9b11"
    event.Orgc = org
    event.add_tag(f"tlp:{tlp}")
    for cve in cves:
        event.add_attribute("vulnerability", cve, comment="exploitée", distribution=5)
    if domain:
        event.add_attribute(
            "domain", domain, category="Network activity", to_ids=True, distribution=5
        )
    return event


def feed_files(events: list[MISPEvent]) -> dict[str, bytes]:
    """A MISP feed as a MISP instance writes it: manifest.json, hashes.csv, <uuid>.json."""
    manifest: dict = {}
    files: dict[str, bytes] = {}
    hashes = []
    for event in events:
        feed = event.to_feed(with_meta=True)
        meta = feed["Event"].pop("_manifest")
        hashes += [f"{h},{event.uuid}" for h in feed["Event"].pop("_hashes")]
        manifest.update(meta)
        files[f"{event.uuid}.json"] = json.dumps(feed).encode()
    files["manifest.json"] = json.dumps(manifest).encode()
    files["hashes.csv"] = "\n".join(hashes).encode()
    return files


def two_events(info_a: str = "Campagne VPN contre les hôpitaux") -> dict[str, bytes]:
    return feed_files(
        [
            misp_event(
                EVENT_A,
                info_a,
                tlp="amber",
                cves=["CVE-2024-3400", "CVE-2099-0001"],
                domain="c2.example.net",
            ),
            misp_event(EVENT_B, "Rançongiciel LockBit", tlp="green", cves=[]),
        ]
    )


def write_dir(path: Path, files: dict[str, bytes]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


def zipped(files: dict[str, bytes], prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(prefix + name, data)
    return buffer.getvalue()


@pytest.fixture
def tracked(region):
    region.pan = Vulnerability.objects.create(
        vuln_id="CVE-2024-3400", title="PAN-OS GlobalProtect", kev=True, cvss=10.0
    )
    return region


def test_a_feed_directory_is_imported_and_pointed_at_tracked_cves(tracked, tmp_path):
    folder = write_dir(tmp_path / "feed", two_events())
    feed = services.import_misp_directory(SYSTEM, folder)
    assert (feed.events, feed.attributes) == (2, 3)
    a = SharedEvent.objects.get(uuid=EVENT_A)
    assert a.info == "Campagne VPN contre les hôpitaux" and a.org == PEER
    assert a.tlp == "amber" and a.threat_level == 1 and str(a.date) == "2026-11-30"
    assert a.cves == ["CVE-2024-3400", "CVE-2099-0001"]
    assert {
        "type": "domain",
        "value": "c2.example.net",
        "category": "Network activity",
        "comment": "",
    } in a.attributes
    assert a.attributes[0]["comment"] == "exploitée"
    assert SharedEvent.objects.get(uuid=EVENT_B).tlp == "green"
    entry = AuditEntry.objects.get(action="community.exchange.import")
    assert entry.changes == {"events": 2, "new": 2, "updated": 0, "attributes": 3}

    client = tracked.client("centre_analyst")
    listing = client.get("/communaute/echanges/evenements/").content.decode()
    assert "Campagne VPN contre les hôpitaux" in listing and "CVE-2024-3400" in listing
    page = client.get(f"/communaute/echanges/evenements/{a.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "PAN-OS GlobalProtect" in body  # the tracked vulnerability, pointed out
    assert "c2.example.net" in body and "TLP:AMBER" in body and "Network activity" in body
    assert "CVE-2099-0001" not in body.split("Attributs")[0].split("déjà suivies")[1]


def test_re_import_updates_and_never_duplicates(region, tmp_path):
    services.import_misp_directory(SYSTEM, write_dir(tmp_path / "one", two_events()))
    changed = two_events(info_a="Campagne VPN : mise à jour")
    feed = services.import_misp_directory(SYSTEM, write_dir(tmp_path / "two", changed))
    assert SharedEvent.objects.count() == 2
    assert SharedEvent.objects.get(uuid=EVENT_A).info == "Campagne VPN : mise à jour"
    assert SharedEvent.objects.get(uuid=EVENT_A).feed == feed
    last = AuditEntry.objects.filter(action="community.exchange.import").order_by("sequence").last()
    assert last.changes["updated"] == 2
    assert FeedImport.objects.count() == 2


def test_the_command_imports_a_directory(region, tmp_path):
    folder = write_dir(tmp_path / "feed", two_events())
    out = io.StringIO()
    call_command("community", "import-misp", str(folder), stdout=out)
    assert "events: 2" in out.getvalue()
    with pytest.raises(CommandError, match=r"manifest\.json"):
        call_command("community", "import-misp", str(write_dir(tmp_path / "empty", {})))
    with pytest.raises(CommandError, match="dossier"):
        call_command("community", "import-misp", str(tmp_path / "missing"))


def test_the_page_imports_a_zip_and_refuses_structures(tracked):
    client = tracked.client("centre_admin")
    data = zipped(two_events(), prefix="feed/")
    upload = SimpleUploadedFile("cert-sante.zip", data, content_type="application/zip")
    response = client.post("/communaute/echanges/importer/", {"archive": upload})
    assert response.status_code == 302 and response["Location"].endswith("/echanges/evenements/")
    feed = FeedImport.objects.get()
    assert feed.name == "cert-sante.zip" and feed.imported_by == tracked.users["centre_admin"]
    home = client.get("/communaute/echanges/").content.decode()
    assert "cert-sante.zip" in home
    event = SharedEvent.objects.get(uuid=EVENT_A)
    for role in ("director", "referent", "it_provider", "director_b", "ars_viewer", "nobody"):
        other = tracked.client(role)
        for path in (
            "/communaute/echanges/",
            "/communaute/echanges/evenements/",
            f"/communaute/echanges/evenements/{event.pk}/",
            "/communaute/echanges/importer/",
            "/communaute/echanges/exporter/",
        ):
            assert other.get(path).status_code == 403, (role, path)
        upload = SimpleUploadedFile("x.zip", data, content_type="application/zip")
        assert other.post("/communaute/echanges/importer/", {"archive": upload}).status_code == 403
    assert FeedImport.objects.count() == 1
    assert client.get("/communaute/echanges/evenements/999999/").status_code == 404
    with pytest.raises(PermissionDenied):
        services.import_misp_archive(tracked.users["director"], SimpleUploadedFile("x.zip", data))


def _manifest_for(uid: str) -> bytes:
    return json.dumps({uid: {"info": "x"}}).encode()


def _event(uid: str, **extra) -> bytes:
    event = {"uuid": uid, "info": "Événement", "date": "2026-11-30", "threat_level_id": "2"}
    return json.dumps({"Event": {**event, **extra}}).encode()


def _bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", _manifest_for(EVENT_A))
        with archive.open(f"{EVENT_A}.json", "w", force_zip64=True) as member:
            block = b" " * (1 << 20)
            for _ in range(size >> 20):
                member.write(block)
    return buffer.getvalue()


def _many_members(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for _ in range(count):
            archive.writestr(f"{uuid.uuid4()}.json", b"{}")
    return buffer.getvalue()


HOSTILE = {
    "not a zip": (b"MZ\x90\x00 this is an executable", "renommé"),
    "broken zip": (b"PK\x03\x04" + b"\x00" * 64, "illisible"),
    "traversal": (zipped({"../manifest.json": b"{}"}), "Nom de fichier refusé"),
    "absolute": (zipped({"/etc/manifest.json": b"{}"}), "Nom de fichier refusé"),
    "backslash": (zipped({"..\\manifest.json": b"{}"}), "Nom de fichier refusé"),
    "unexpected file": (zipped({"manifest.json": b"{}", "run.sh": b"x"}), "Fichier inattendu"),
    "no manifest": (zipped({f"{EVENT_A}.json": _event(EVENT_A)}), "manifest.json"),
    "manifest not JSON": (zipped({"manifest.json": b"\xff\xfe<html>"}), "forme attendue"),
    "manifest a list": (zipped({"manifest.json": b"[1, 2]"}), "forme attendue"),
    "event missing": (zipped({"manifest.json": _manifest_for(EVENT_A)}), "forme attendue"),
    "event not an event": (
        zipped({"manifest.json": _manifest_for(EVENT_A), f"{EVENT_A}.json": b'{"a": 1}'}),
        "forme attendue",
    ),
    "deep nesting": (
        zipped({"manifest.json": b"[" * 100000 + b"]" * 100000}),
        "forme attendue",
    ),
    "uuid mismatch": (
        zipped({"manifest.json": _manifest_for(EVENT_A), f"{EVENT_A}.json": _event(EVENT_B)}),
        "forme attendue",
    ),
    "bad threat level": (
        zipped(
            {
                "manifest.json": _manifest_for(EVENT_A),
                f"{EVENT_A}.json": _event(EVENT_A, threat_level_id="9"),
            }
        ),
        "forme attendue",
    ),
    "empty feed": (zipped({"manifest.json": b"{}"}), "aucun événement"),
    "too many members": (_many_members(services.MAX_MEMBERS + 1), "découpez"),
    "member expands too far": (_bomb(services.MAX_FILE_BYTES + (1 << 20)), "découpez"),
    "twice the same name": (
        zipped({"a/manifest.json": b"{}", "b/manifest.json": b"{}"}),
        "deux fois",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_give_one_french_error_and_save_nothing(region, case):
    data, expected = HOSTILE[case]
    upload = SimpleUploadedFile("flux.zip", data, content_type="application/zip")
    with pytest.raises(services.ExchangeImportError, match=expected):
        services.import_misp_archive(SYSTEM, upload)
    assert not FeedImport.objects.exists() and not SharedEvent.objects.exists()


def test_the_page_shows_the_refusal_and_saves_nothing(region):
    client = region.client("centre_analyst")
    upload = SimpleUploadedFile("flux.zip", HOSTILE["traversal"][0])
    response = client.post("/communaute/echanges/importer/", {"archive": upload})
    assert response.status_code == 400
    assert "Nom de fichier refusé dans l&#x27;archive" in response.content.decode()
    renamed = SimpleUploadedFile("flux.zip", b"%PDF-1.7 not a zip")
    response = client.post("/communaute/echanges/importer/", {"archive": renamed})
    assert response.status_code == 400
    assert not FeedImport.objects.exists() and not SharedEvent.objects.exists()


def test_a_too_large_upload_is_refused_before_reading(region, settings):
    big = b"PK\x03\x04" + b"\x00" * (services.MAX_ARCHIVE_BYTES + 1)
    with pytest.raises(services.ExchangeImportError, match="dépasse 20 Mo"):
        services.import_misp_archive(SYSTEM, SimpleUploadedFile("flux.zip", big))
    with pytest.raises(services.ExchangeImportError, match=r"archive \.zip"):
        services.import_misp_archive(SYSTEM, SimpleUploadedFile("flux.pdf", b"%PDF-1.7"))
    with pytest.raises(services.ExchangeImportError, match="dépasse"):
        services.read_archive(big)
