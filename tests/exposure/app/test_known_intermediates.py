"""The platform's known intermediates: learnt from trusted chains after each scan, handed to the
next scans, imported by ``carbet intermediates import``, listed, audited.

End to end with real ``openssl s_server`` processes on loopback (the chain lab's builders): a
first scan of a server sending its full, trusted chain teaches the platform the intermediate;
a later scan of a server sending its leaf only is then judged an incomplete chain, while the
authority's address in the leaf's AIA (a counting listener on another loopback address) is
never contacted. The other tests feed engine-shaped results (``TargetResult``) directly.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command
from django.utils import timezone

from carbet.audit.models import AuditEntry
from carbet.core.models import Asset
from carbet.engines.exposure.core import TargetResult
from carbet.engines.exposure.tls.intermediates import describe
from carbet.exposure import intermediates, services
from carbet.exposure.models import KnownIntermediate, ScanObservation, ScanStatus, ScanTarget
from tests.conftest import proven
from tests.exposure.engine_tls.servers import LoopbackServers, make_ca, make_leaf
from tests.exposure.engine_tls.sserver import SServers, make_chain_leaf, make_intermediate

ROOT = make_ca("Platform Root")
INTER = make_intermediate(ROOT, "Platform Intermediate")
STRANGER = make_intermediate(make_ca("Platform Stranger Root"), "Platform Stranger Intermediate")
FULL, LEAF_ONLY, UNTRUSTED, FOREIGN = "127.77.3.1", "127.77.3.2", "127.77.3.3", "127.77.3.9"


def der(issued) -> bytes:  # type: ignore[no-untyped-def]
    return issued.certificate.public_bytes(serialization.Encoding.DER)


def pem(issued) -> bytes:  # type: ignore[no-untyped-def]
    return issued.certificate.public_bytes(serialization.Encoding.PEM)


def reported(*issued) -> TargetResult:  # type: ignore[no-untyped-def]
    """An engine result reporting ``issued`` as intermediates of a trusted chain."""
    result = TargetResult(target="127.77.3.50")
    result.evidence["trusted_intermediates"] = [
        {**describe(der(item)).as_evidence()} for item in issued
    ]
    return result


@pytest.fixture(autouse=True)
def fresh_store_cache():
    """The process cache of the store is keyed by row count and last id: test transactions
    rolled back can give the same key to other rows, which production never does."""
    intermediates._CACHE.clear()
    yield
    intermediates._CACHE.clear()


# -- learning ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_learning_is_bulk_idempotent_and_keeps_only_intermediates():
    first = reported(INTER, ROOT, make_leaf(INTER, ["x.test"]))
    first.evidence["trusted_intermediates"].append({"sha256": "x", "der": "%%% not base64"})
    assert intermediates.learn([first, reported(INTER)]) == 1
    (row,) = KnownIntermediate.objects.all()
    assert row.source == "learned" and row.seen_count == 1
    assert row.sha256 == describe(der(INTER)).sha256 and "Platform Intermediate" in row.subject
    assert bytes(row.der) == der(INTER) and row.subject_key_id
    # The DER is dropped from the evidence once learnt (the pages show subject and fingerprint).
    assert all("der" not in entry for entry in first.evidence["trusted_intermediates"])
    assert intermediates.learn([reported(INTER)]) == 0
    row.refresh_from_db()
    assert row.seen_count == 2 and KnownIntermediate.objects.count() == 1


@pytest.mark.django_db
def test_the_store_given_to_a_scan_leaves_out_expired_certificates():
    intermediates.learn([reported(INTER, STRANGER)])
    KnownIntermediate.objects.filter(subject__contains="Stranger").update(
        not_after=timezone.now() - dt.timedelta(days=1)
    )
    store = intermediates.load_store()
    assert len(store) == 1 and store.issuers_of(der(make_chain_leaf(INTER, ["y.test"])))
    assert intermediates.load_store() is store  # unchanged rows: indexed once per process
    intermediates.learn([reported(make_intermediate(ROOT, "Platform Second"))])
    assert len(intermediates.load_store()) == 2


# -- the command -------------------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("intermediates", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_import_accepts_intermediate_cas_reports_the_rest_by_line_and_is_audited(tmp_path):
    leaf = make_leaf(INTER, ["z.test"])
    text = b"# bundle\n" + pem(INTER) + pem(STRANGER) + pem(ROOT) + pem(leaf)
    bundle = tmp_path / "intermediates.pem"
    bundle.write_bytes(text)
    out, err = run("import", str(bundle))
    assert "2 certificat(s) intermédiaire(s) ajouté(s)" in out and "2 bloc(s) refusé(s)" in out
    root_line = 2 + len(pem(INTER).splitlines()) + len(pem(STRANGER).splitlines())
    assert text.decode().splitlines()[root_line - 1].startswith("-----BEGIN CERTIFICATE")
    assert f"intermediates.pem, ligne {root_line} :" in err and "racine" in err
    assert "basicConstraints" in err
    assert set(KnownIntermediate.objects.values_list("source", flat=True)) == {"imported"}
    entry = AuditEntry.objects.get(action="exposure.intermediates.import")
    assert entry.changes["added"] == 2 and entry.changes["refused"] == 2
    # Again: nothing added, still audited.
    out, _err = run("import", str(bundle))
    assert "0 certificat(s) intermédiaire(s) ajouté(s), 2 déjà connu(s)" in out
    assert KnownIntermediate.objects.count() == 2
    assert AuditEntry.objects.filter(action="exposure.intermediates.import").count() == 2


@pytest.mark.django_db
def test_import_refuses_a_file_that_is_not_pem_with_a_clear_error(tmp_path):
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(os.urandom(300))
    with pytest.raises(CommandError, match="rien n'a été importé"):
        run("import", str(garbage))
    with pytest.raises(CommandError, match="Fichier illisible"):
        run("import", str(tmp_path / "missing.pem"))
    assert not KnownIntermediate.objects.exists()


@pytest.mark.django_db
def test_list_counts_by_origin_and_names_what_expires_soon(tmp_path):
    intermediates.learn([reported(INTER)])
    bundle = tmp_path / "b.pem"
    bundle.write_bytes(pem(STRANGER))
    run("import", str(bundle))
    KnownIntermediate.objects.filter(source="imported").update(
        not_after=timezone.now() + dt.timedelta(days=10)
    )
    out, _err = run("list")
    assert "1 appris de chaînes reconnues, 1 importés" in out
    assert "1 expirent dans les 90 jours" in out and "Platform Stranger Intermediate" in out
    json_out, _err = run("list", "--json")
    assert '"learned": 1' in json_out and '"expiring": 1' in json_out


# -- end to end, real servers ------------------------------------------------------------------


class PlatformLab:
    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="carbet-platform-chain-")
        self.ca_file = os.path.join(self.directory, "ca.pem")
        with open(self.ca_file, "wb") as handle:
            handle.write(pem(ROOT))
        self.sservers = SServers(self.directory)
        self.loopback = LoopbackServers()
        self.foreign_requests: list[str] = []
        self.ports: dict[str, int] = {}

    def start(self) -> None:
        async def counting(reader, writer) -> None:  # type: ignore[no-untyped-def]
            self.foreign_requests.append("connection")
            writer.close()

        endpoint = self.loopback.add("authority", FOREIGN, counting)
        aia = f"http://{FOREIGN}:{endpoint.port}/platform-intermediate.der"
        for name, address, leaf, chain in (
            ("full", FULL, make_chain_leaf(INTER, ["full.test"], aia=aia), (INTER,)),
            ("leafonly", LEAF_ONLY, make_chain_leaf(INTER, ["leaf.test"], aia=aia), ()),
            ("untrusted", UNTRUSTED, make_chain_leaf(STRANGER, ["u.test"]), (STRANGER,)),
        ):
            self.ports[name] = self.sservers.start(name, leaf, chain=chain, address=address).port

    def close(self) -> None:
        self.sservers.close()
        self.loopback.close()


@pytest.fixture(scope="module")
def platform_lab():
    lab = PlatformLab()
    try:
        lab.start()
        yield lab
    finally:
        lab.close()


def _scan_assets(region, callbacks, values: list[str]):  # type: ignore[no-untyped-def]
    Asset.objects.filter(structure=region.a).delete()
    for value in values:
        Asset.objects.create(structure=region.a, kind="ipv4", value=value, **proven())
    with callbacks(execute=True):
        scan = services.request_structure_scan(region.a, region.users["centre_analyst"])
    scan.refresh_from_db()
    assert scan.status == ScanStatus.SUCCEEDED, scan.error
    return scan


@pytest.mark.realserver
def test_the_platform_learns_from_a_trusted_chain_then_completes_a_short_one(
    region, fast_profile, platform_lab, settings, django_capture_on_commit_callbacks
):
    settings.CARBET_EXPOSURE_CA_FILE = platform_lab.ca_file
    fast_profile.ports = sorted(platform_lab.ports.values())
    fast_profile.tls = True
    fast_profile.save()
    callbacks = django_capture_on_commit_callbacks
    # Before anything is known: the leaf-only server looks like an unknown authority.
    before = _scan_assets(region, callbacks, [LEAF_ONLY])
    checks = set(before.observations.values_list("check_id", flat=True))
    assert "tls.cert.untrusted" in checks and "tls.cert.chain_incomplete" not in checks
    # A server sending its full chain (trusted) and one whose authority is unknown.
    _scan_assets(region, callbacks, [FULL, UNTRUSTED])
    (known,) = KnownIntermediate.objects.all()
    assert known.source == "learned" and "Platform Intermediate" in known.subject
    assert not KnownIntermediate.objects.filter(subject__contains="Stranger").exists()
    stored = ScanTarget.objects.get(target=FULL, scan__status=ScanStatus.SUCCEEDED).evidence
    assert stored["trusted_intermediates"][0]["sha256"] == known.sha256
    assert "der" not in stored["trusted_intermediates"][0]
    # Now the same leaf-only server: an incomplete chain, the intermediate named, not fetched.
    after = _scan_assets(region, callbacks, [LEAF_ONLY])
    incomplete = ScanObservation.objects.get(scan=after, check_id="tls.cert.chain_incomplete")
    assert "Platform Intermediate" in incomplete.detail and incomplete.evidence["source"] == "known"
    assert not after.observations.filter(check_id="tls.cert.untrusted").exists()
    assert platform_lab.foreign_requests == []
